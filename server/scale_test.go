package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"focalpoint/bench"
	"focalpoint/models"
	"focalpoint/models/modeltest"
)

// Scale (issue 8): small, fast runs of the bench tooling against the real
// application, the kill -9 durability test under load, and two instances
// on one PostgreSQL. The heavy runs are `go run ./bench/run` only.

// ackCheck compares what the load driver was told (2xx) with the
// database: every acknowledged save and submit is there. A write the
// driver attempted without an answer (cut off by a kill or a deadline) may
// or may not be there, so a token's stored cycle must lie between its last
// acknowledged write and its last attempted one.
type ackCheck struct {
	submitted int // tokens with at least one acknowledged submit
	saved     int // tokens with at least one acknowledged save
}

func checkAcked(t *testing.T, s *models.Store, res *bench.GenResult, log map[string][]bench.Write) ackCheck {
	t.Helper()
	ctx := context.Background()
	var textQ int64
	for _, q := range res.Questions {
		if q.Kind == models.QLongText {
			textQ = q.ID
		}
	}
	var out ackCheck
	toks := make([]string, 0, len(log))
	for tok := range log {
		toks = append(toks, tok)
	}
	sort.Strings(toks)
	for _, tok := range toks {
		writes := log[tok]
		lastAck := map[string]int{"save": -1, "submit": -1}
		lastTry := map[string]int{"save": -1, "submit": -1}
		var ackedSubmit bench.Write
		for _, w := range writes {
			lastTry[w.Op] = w.Cycle
			if w.Acked {
				lastAck[w.Op] = w.Cycle
				if w.Op == "submit" {
					ackedSubmit = w
				}
			}
		}
		inv, err := s.FindInvitationByToken(ctx, tok)
		if err != nil {
			t.Fatalf("token of the run: %v", err)
		}
		var resp struct {
			ID     int64
			Status string
		}
		err = s.ReadDB(ctx).Raw(`SELECT r.id, r.status FROM responses r JOIN respondents rs ON rs.id = r.respondent_id
			WHERE rs.participant_id = ? AND r.round_id = ?`, inv.ParticipantID, res.RoundID).Scan(&resp).Error
		if err != nil {
			t.Fatal(err)
		}
		if lastAck["save"] >= 0 {
			out.saved++
			var raw string
			s.ReadDB(ctx).Raw("SELECT value FROM answers WHERE response_id = ? AND question_id = ?", resp.ID, textQ).Scan(&raw)
			var text string
			_ = json.Unmarshal([]byte(raw), &text)
			if c := cycleOf(text); c < lastAck["save"] || c > lastTry["save"] {
				t.Errorf("token %d…: acknowledged save of cycle %d (last attempted %d) but the draft holds cycle %d",
					len(tok), lastAck["save"], lastTry["save"], c)
			}
		}
		if lastAck["submit"] < 0 {
			continue
		}
		out.submitted++
		if resp.Status != models.ResponseSubmitted {
			t.Errorf("acknowledged submit lost: response %d is %q", resp.ID, resp.Status)
			continue
		}
		var rows []models.SubmittedAnswer
		if err := s.ReadDB(ctx).Where("response_id = ?", resp.ID).Find(&rows).Error; err != nil {
			t.Fatal(err)
		}
		cycle, qs := -1, map[string]bool{}
		for _, r := range rows {
			qs[fmt.Sprint(r.QuestionID)] = true
			if r.QuestionID == textQ {
				cycle = cycleOf(r.Value)
			}
		}
		if cycle < lastAck["submit"] || cycle > lastTry["submit"] {
			t.Errorf("acknowledged submit of cycle %d (last attempted %d) but the submitted answers are of cycle %d",
				lastAck["submit"], lastTry["submit"], cycle)
		}
		if cycle == lastAck["submit"] {
			for q := range ackedSubmit.Answers {
				if !qs[q] {
					t.Errorf("acknowledged submit of cycle %d: question %s missing from the submitted answers", cycle, q)
				}
			}
		}
	}
	return out
}

// cycleOf reads the driver's "cycle N. " prefix of a long text.
func cycleOf(text string) int {
	var n int
	if _, err := fmt.Sscanf(text, "cycle %d.", &n); err != nil {
		return -1
	}
	return n
}

func countRows(t *testing.T, s *models.Store, q string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := s.ReadDB(context.Background()).Raw(q, args...).Scan(&n).Error; err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// The CI smoke run: the generator fills a small consultation through the
// bulk path, the driver plays 8 respondents at once through the real
// router, and the database holds exactly what the driver was told.
func TestScaleSmoke(t *testing.T) {
	ta := sqliteApp(t)
	ctx := context.Background()
	res, err := bench.Generate(ctx, ta.Store, bench.GenConfig{Respondents: 200, Fresh: 32, AllKinds: true, Seed: 11, Now: ta.Clock.Now()})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := bench.RunLoad(ctx, bench.LoadConfig{BaseURL: ta.Srv.URL, Tokens: res.FreshTokens(32), Flow: "save-submit",
		Concurrency: 8, Max: 64, Duration: time.Minute, Seed: 12, Record: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Errors != 0 || rep.Units != 64 {
		t.Fatalf("driver: %d submissions, %d errors: %v", rep.Units, rep.Errors, rep.ErrorSample)
	}
	acked := checkAcked(t, ta.Store, res, rep.Log)
	if acked.submitted != 32 {
		t.Fatalf("%d tokens with an acknowledged submit, want all 32 (64 submissions over 32 tokens)", acked.submitted)
	}
	// The database counts what was acknowledged: the generated 200 plus
	// the 32 driven, every one submitted (twice, the last counting).
	if n := countRows(t, ta.Store, "SELECT COUNT(*) FROM responses WHERE round_id = ? AND status = 'submitted'", res.RoundID); n != 232 {
		t.Fatalf("%d submitted responses, want 200 generated + 32 driven", n)
	}
	if n := countRows(t, ta.Store, "SELECT COUNT(*) FROM invitations WHERE consultation_id = ? AND status = 'submitted'", res.ConsultationID); n != 232 {
		t.Fatalf("%d submitted invitations, want 232", n)
	}
	// The tallies moved with every submission (bulk recount + submit path;
	// on SQLite the submits' changes are folded in from the tally log).
	if _, err := ta.Store.CompactTallies(ctx); err != nil {
		t.Fatal(err)
	}
	if n := countRows(t, ta.Store, "SELECT COALESCE(SUM(respondents), 0) FROM tally_cells WHERE round_id = ?", res.RoundID); n != 232 {
		t.Fatalf("tally_cells count %d respondents, want 232", n)
	}
	// The journey flow and the personal-link page flow work too.
	page, err := bench.RunLoad(ctx, bench.LoadConfig{BaseURL: ta.Srv.URL, Tokens: res.AnsweredTokens(8), Flow: "page",
		Concurrency: 4, Max: 16, Duration: time.Minute})
	if err != nil || page.Errors != 0 || page.Units != 16 {
		t.Fatalf("page flow: %v %+v", err, page)
	}
}

// A kill -9 in the middle of a load run loses no acknowledged save or
// submit: the real binary on a SQLite file, 16 respondents saving and
// submitting, killed once submissions flow; then every acknowledged write
// is in the database.
func TestScaleKillDuringLoad(t *testing.T) {
	bin := buildServer(t)
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "focal.db")
	ctx := context.Background()
	s, err := models.Open(ctx, "sqlite:"+dbPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	res, err := bench.Generate(ctx, s, bench.GenConfig{Respondents: 50, Fresh: 64, Seed: 21})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	p := startProcess(t, bin, dir, map[string]string{"FOCAL_DATABASE_URL": "sqlite:" + dbPath, "FOCAL_ADDR": "127.0.0.1:0",
		"FOCAL_BOOTSTRAP_ADMIN_EMAIL": "admin@example.org", "FOCAL_BOOTSTRAP_ADMIN_PASSWORD": testPassword})
	base := p.waitLine(listenRe)[1]

	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var rep *bench.LoadReport
	var lerr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		rep, lerr = bench.RunLoad(lctx, bench.LoadConfig{BaseURL: base, Tokens: res.FreshTokens(64), Flow: "save-submit",
			Concurrency: 16, Duration: time.Minute, Seed: 22, Record: true})
	}()
	// Kill once a few dozen submissions have committed (watched through a
	// read-only connection), while the others are in flight.
	ro, err := sql.Open("sqlite3", "file:"+dbPath+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(time.Minute)
	for {
		var n int
		ro.QueryRow("SELECT COUNT(*) FROM outbox WHERE kind = 'respond_receipt'").Scan(&n)
		if n >= 40 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("submissions did not flow (%d receipts); stderr: %s", n, p.stderr)
		}
		time.Sleep(5 * time.Millisecond)
	}
	ro.Close()
	if err := p.cmd.Process.Kill(); err != nil { // SIGKILL: no drain, no clean close
		t.Fatal(err)
	}
	p.wait()
	time.Sleep(50 * time.Millisecond) // let replies already on the wire arrive
	cancel()
	<-done
	if lerr != nil {
		t.Fatal(lerr)
	}
	var acked, attempted int
	for _, ws := range rep.Log {
		for _, w := range ws {
			attempted++
			if w.Acked {
				acked++
			}
		}
	}
	if acked == 0 || acked == attempted {
		t.Fatalf("the kill did not land mid-run: %d of %d writes acknowledged", acked, attempted)
	}
	// Reopen the database as the next start would (WAL recovery) and check.
	s2, err := models.Open(ctx, "sqlite:"+dbPath, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	got := checkAcked(t, s2, res, rep.Log)
	if got.submitted == 0 {
		t.Fatal("no acknowledged submit to check")
	}
	// The tally changes of the acknowledged submits survived with them (in
	// the tally log or folded): the tallies equal a full recount.
	live, err := s2.TallySnapshot(ctx, res.ConsultationID)
	if err != nil {
		t.Fatal(err)
	}
	if err := s2.RecountTallies(ctx, res.ConsultationID); err != nil {
		t.Fatal(err)
	}
	if recount, _ := s2.TallySnapshot(ctx, res.ConsultationID); len(live) == 0 || !reflect.DeepEqual(live, recount) {
		t.Fatalf("after kill -9 the tallies differ from a recount (%d against %d lines)", len(live), len(recount))
	}
	t.Logf("killed mid-run: %d of %d writes acknowledged; %d tokens with acknowledged submits all present; tallies equal a recount", acked, attempted, got.submitted)
}

// Two app instances (separate Store objects, separate servers) on one
// PostgreSQL: load split between them loses no save; a session started
// on A works on B and ends everywhere; rate limits are shared.
func TestScaleOutPostgres(t *testing.T) {
	u := modeltest.PostgresURL(t)
	a, b := newTestApp(t, u), newTestApp(t, u)
	if a.Store == b.Store {
		t.Fatal("the instances share a Store")
	}
	ctx := context.Background()
	res, err := bench.Generate(ctx, a.Store, bench.GenConfig{Respondents: 20, Fresh: 32, Seed: 31, Now: a.Clock.Now()})
	if err != nil {
		t.Fatal(err)
	}
	toks := res.FreshTokens(32)

	t.Run("load split between instances loses no save", func(t *testing.T) {
		var wg sync.WaitGroup
		reps := make([]*bench.LoadReport, 2)
		errs := make([]error, 2)
		for i, ta := range []*testApp{a, b} {
			wg.Add(1)
			go func(i int, ta *testApp) {
				defer wg.Done()
				reps[i], errs[i] = bench.RunLoad(ctx, bench.LoadConfig{BaseURL: ta.Srv.URL, Tokens: toks[i*16 : (i+1)*16],
					Flow: "save-submit", Concurrency: 4, Max: 32, Duration: time.Minute, Seed: uint64(40 + i), Record: true})
			}(i, ta)
		}
		wg.Wait()
		log := map[string][]bench.Write{}
		for i := range reps {
			if errs[i] != nil {
				t.Fatal(errs[i])
			}
			if reps[i].Errors != 0 || reps[i].Units != 32 {
				t.Fatalf("instance %d: %d submissions, %d errors: %v", i, reps[i].Units, reps[i].Errors, reps[i].ErrorSample)
			}
			for k, v := range reps[i].Log {
				log[k] = v
			}
		}
		// Read back through the other instance's store.
		if got := checkAcked(t, b.Store, res, log); got.submitted != 32 {
			t.Fatalf("%d tokens with acknowledged submits, want 32", got.submitted)
		}
		if n := countRows(t, a.Store, "SELECT COUNT(*) FROM responses WHERE round_id = ? AND status = 'submitted'", res.RoundID); n != 52 {
			t.Fatalf("%d submitted responses, want 20 + 32", n)
		}
	})

	t.Run("a save on one instance is seen by the other; a stale version is refused across them", func(t *testing.T) {
		tok := toks[0]
		doc := a.mustAPI(http.StatusOK, "GET", "/api/v1/respond/"+tok, "", nil)
		v := doc["version"]
		var qid string
		for _, q := range res.Questions {
			if q.Kind == models.QLongText {
				qid = fmt.Sprint(q.ID)
			}
		}
		saved := b.mustAPI(http.StatusOK, "PUT", "/api/v1/respond/"+tok+"/answers", "", map[string]any{"version": v, "answers": map[string]any{qid: "saved on B"}})
		if r := a.api("PUT", "/api/v1/respond/"+tok+"/answers", "", map[string]any{"version": v, "answers": map[string]any{qid: "stale on A"}}); r.Status != http.StatusConflict {
			t.Fatalf("stale save on A after a save on B: status %d, want 409", r.Status)
		}
		doc = a.mustAPI(http.StatusOK, "GET", "/api/v1/respond/"+tok, "", nil)
		if doc["version"] != saved["version"] || !strings.Contains(fmt.Sprint(doc["answers"]), "saved on B") {
			t.Fatalf("A does not see B's save: %v", doc)
		}
	})

	t.Run("a session started on A works on B and ends everywhere", func(t *testing.T) {
		st, _ := a.newStaff(models.RoleOrganizer)
		ba := a.browser()
		ba.login(st.Email, testPassword)
		bb := &browser{ta: b, client: ba.client} // the same cookies, the other instance
		if status, _ := bb.get("/staff"); status != http.StatusOK {
			t.Fatalf("the session from A on B: status %d", status)
		}
		if status, loc, _ := bb.post("/logout", nil); status != http.StatusSeeOther {
			t.Fatalf("logout on B: status %d (%s)", status, loc)
		}
		if status, _ := ba.get("/staff"); status == http.StatusOK {
			t.Fatal("the session still works on A after logging out on B")
		}
	})

	t.Run("rate limits are shared", func(t *testing.T) {
		st, _ := a.newStaff(models.RoleAnalyst)
		body := map[string]string{"email": st.Email, "password": "wrong password, wrong"}
		var statuses []int
		for i := 0; i < 11; i++ {
			ta := a
			if i%2 == 1 {
				ta = b
			}
			statuses = append(statuses, ta.api("POST", "/api/v1/auth/token", "", body).Status)
		}
		for i, s := range statuses[:10] {
			if s != http.StatusUnauthorized {
				t.Fatalf("attempt %d: status %d, want 401 (%v)", i+1, s, statuses)
			}
		}
		if statuses[10] != http.StatusTooManyRequests {
			t.Fatalf("the 11th attempt, after 5 on A and 5 on B: status %d, want 429 (the per-account limit of 10 is shared)", statuses[10])
		}
	})
}

// A long open answer (far over PostgreSQL's 2.7 kB b-tree row limit) is
// saved and submitted on both databases: the bench generator found that
// the index on submitted_answers (question_id, row_key, value) refused it
// on PostgreSQL (migration 600).
func TestScaleLongAnswerSubmits(t *testing.T) {
	eachDB(t, func(t *testing.T, ta *testApp) {
		res, err := bench.Generate(context.Background(), ta.Store, bench.GenConfig{Fresh: 1, Seed: 51, Now: ta.Clock.Now()})
		if err != nil {
			t.Fatal(err)
		}
		tok := res.FreshTokens(1)[0]
		ta.mustAPI(http.StatusOK, "GET", "/api/v1/respond/"+tok, "", nil)
		ta.mustAPI(http.StatusOK, "PUT", "/api/v1/respond/"+tok+"/demographics", "", map[string]any{
			"gender": "female", "institution_type": "ngo", "country": "KE", "consent": true})
		answers := map[string]any{}
		// ~20 kB that does not compress (PostgreSQL compresses index rows).
		r := rand.New(rand.NewPCG(1, 2))
		var sb strings.Builder
		for sb.Len() < 20000 {
			sb.WriteString([]string{"Долгий", "ответ", "طويل", "很长的回答", "answer"}[r.IntN(5)])
			sb.WriteString(strconv.Itoa(r.IntN(1000000)))
			sb.WriteByte(' ')
		}
		long := sb.String()
		for _, q := range res.Questions {
			id := fmt.Sprint(q.ID)
			switch q.Kind {
			case models.QLongText:
				answers[id] = long
			case models.QSingleChoice:
				answers[id] = "outreach"
			case models.QYesNo:
				answers[id] = "yes"
			}
		}
		ta.mustAPI(http.StatusOK, "PUT", "/api/v1/respond/"+tok+"/answers", "", map[string]any{"version": 0, "answers": answers})
		ta.mustAPI(http.StatusOK, "POST", "/api/v1/respond/"+tok+"/submit", "", nil)
		var got string
		ta.Store.ReadDB(context.Background()).Raw("SELECT value FROM submitted_answers WHERE question_id = ?", res.Questions[0].ID).Scan(&got)
		if got != long {
			t.Fatalf("the submitted long answer did not round-trip (%d bytes, want %d)", len(got), len(long))
		}
	})
}
