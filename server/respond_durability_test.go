package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"focalpoint/models"
)

// startBinary runs the built server on dbURL and returns its base URL
// and the process.
func startBinary(t *testing.T, bin, dbURL string) (string, *exec.Cmd) {
	t.Helper()
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(), "FOCAL_DATABASE_URL="+dbURL, "FOCAL_ADDR=127.0.0.1:0", "FOCAL_BASE_URL=http://localhost",
		"FOCAL_SMTP_URL=", "FOCAL_METRICS_ADDR=")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if i := strings.Index(sc.Text(), "listening on http://"); i >= 0 {
				addr := strings.Fields(sc.Text()[i+len("listening on http://"):])[0]
				found <- addr
				break
			}
		}
		_, _ = io.Copy(io.Discard, out)
	}()
	select {
	case u := <-found:
		return u, cmd
	case <-time.After(30 * time.Second):
		t.Fatal("the server did not start")
	}
	return "", nil
}

func call(t *testing.T, method, url string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, rd)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp.StatusCode, out
}

// TestRespondSurvivesKill9 builds the real program, saves and submits over
// HTTP, kills the process with SIGKILL the instant each 2xx arrives, and
// finds the answers after a restart.
func TestRespondSurvivesKill9(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "focal")
	build := exec.Command("go", "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	dbURL := "sqlite:" + filepath.Join(dir, "focal.db")

	// Seed the database with the store, as an organizer and the
	// invitations area would.
	ctx := context.Background()
	s, err := models.Open(ctx, dbURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	c, err := s.CreateConsultation(ctx, models.NewConsultation{Title: "Durable", Unit: models.UnitPerson}, nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.CreateRound(ctx, c.ID, models.NewRound{Title: "R1"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	q, err := s.CreateQuestion(ctx, r.ID, models.QuestionInput{Kind: models.QLongText, Prompt: "Tell us", Required: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.OpenRound(ctx, r.ID, nil); err != nil {
		t.Fatal(err)
	}
	var tok string
	err = s.Write(ctx, func(tx *gorm.DB) error {
		now := s.Now()
		p := models.Participant{Name: "Kill Nine", Email: "kill9@example.org", Kind: models.KindExpert, Language: "en", CreatedAt: now, UpdatedAt: now}
		if err := tx.Create(&p).Error; err != nil {
			return err
		}
		tok, _, err = models.IssueInvitation(tx, now, c.ID, p.ID)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()

	text := "Durable answer — إجابة دائمة 🗄️"
	qid := fmt.Sprint(q.ID)
	base, cmd := startBinary(t, bin, dbURL)
	status, out := call(t, "PUT", "http://"+base+"/api/v1/respond/"+tok+"/answers", map[string]any{"version": 0, "answers": map[string]any{qid: text}})
	if status != http.StatusOK {
		t.Fatalf("save: %d %v", status, out)
	}
	_ = cmd.Process.Kill() // SIGKILL, right after the 2xx
	_ = cmd.Wait()

	base, cmd = startBinary(t, bin, dbURL)
	status, out = call(t, "GET", "http://"+base+"/api/v1/respond/"+tok, nil)
	if status != http.StatusOK || out["answers"].(map[string]any)[qid] != text || out["version"] != 1.0 {
		t.Fatalf("after kill -9 the saved answer is gone: %d %v", status, out)
	}
	status, out = call(t, "POST", "http://"+base+"/api/v1/respond/"+tok+"/submit", nil)
	if status != http.StatusOK {
		t.Fatalf("submit: %d %v", status, out)
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()

	s, err = models.Open(ctx, dbURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var got struct {
		Status  string
		Receipt string
	}
	s.R.Raw("SELECT status, receipt FROM responses").Scan(&got)
	var value string
	s.R.Raw("SELECT value FROM submitted_answers WHERE question_id = ?", q.ID).Scan(&value)
	var mails int64
	s.R.Raw("SELECT COUNT(*) FROM outbox WHERE kind = 'respond_receipt'").Scan(&mails)
	if got.Status != models.ResponseSubmitted || got.Receipt != out["receipt"] || value != text || mails != 1 {
		t.Fatalf("after kill -9 the submission is not whole: %+v value %q mails %d", got, value, mails)
	}
}
