package main

import (
	"context"
	"errors"
	"io"
	"net"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"gorm.io/gorm"

	"focalpoint/mail"
	"focalpoint/models"
)

// testSMTP is a real SMTP server (emersion/go-smtp) on 127.0.0.1:0 that
// keeps every message it accepted. refuse makes it answer the next
// messages' DATA with the given SMTP error.
type testSMTP struct {
	URL    string
	mu     sync.Mutex
	msgs   []receivedMail
	refuse []*smtp.SMTPError
}

type receivedMail struct {
	From string
	To   []string
	Data string
}

func newTestSMTP(t testing.TB) *testSMTP {
	t.Helper()
	ts := &testSMTP{}
	s := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) { return &smtpSession{ts: ts}, nil }))
	s.Domain = "localhost"
	s.AllowInsecureAuth = true
	s.ReadTimeout, s.WriteTimeout = 10*time.Second, 10*time.Second
	s.MaxMessageBytes = 1 << 20
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve(ln)
	t.Cleanup(func() { s.Close() })
	ts.URL = "smtp://" + ln.Addr().String()
	return ts
}

// refuseNext makes the next n messages fail with err at DATA.
func (ts *testSMTP) refuseNext(n int, err *smtp.SMTPError) {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	for range n {
		ts.refuse = append(ts.refuse, err)
	}
}

func (ts *testSMTP) received() []receivedMail {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]receivedMail(nil), ts.msgs...)
}

type smtpSession struct {
	ts   *testSMTP
	from string
	to   []string
}

func (s *smtpSession) Reset()        { s.from, s.to = "", nil }
func (s *smtpSession) Logout() error { return nil }
func (s *smtpSession) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}
func (s *smtpSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}
func (s *smtpSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.ts.mu.Lock()
	defer s.ts.mu.Unlock()
	if len(s.ts.refuse) > 0 {
		e := s.ts.refuse[0]
		s.ts.refuse = s.ts.refuse[1:]
		return e
	}
	s.ts.msgs = append(s.ts.msgs, receivedMail{From: s.from, To: append([]string(nil), s.to...), Data: string(b)})
	return nil
}

var linkRe = regexp.MustCompile(`http://focal\.test/r/([A-Za-z0-9_-]{43})`)

// tokenIn returns the one personal link token of a message.
func tokenIn(t testing.TB, data string) string {
	t.Helper()
	toks := map[string]bool{}
	for _, m := range linkRe.FindAllStringSubmatch(data, -1) {
		toks[m[1]] = true
	}
	if len(toks) != 1 {
		t.Fatalf("want one distinct link in the message, got %d:\n%s", len(toks), data)
	}
	for k := range toks {
		return k
	}
	return ""
}

// mailWorker is an outbox worker for smtpURL ("" = none) with no rate bound.
func (ta *testApp) mailWorker(smtpURL string, batch int) *mail.Worker {
	ta.t.Helper()
	w, err := mail.NewWorker(ta.Store, mail.Config{SMTPURL: smtpURL, From: "Focal Point <noreply@focal.test>",
		Concurrency: 1, Rate: -1, Batch: batch, Timeout: 5 * time.Second}, nil)
	if err != nil {
		ta.t.Fatal(err)
	}
	return w
}

// runJobs runs every pending invitation/reminder job to its end.
func (ta *testApp) runJobs() {
	ta.t.Helper()
	r, err := mail.NewRenderer(ta.App.Handler.I18n, ta.App.Config.BaseURL)
	if err != nil {
		ta.t.Fatal(err)
	}
	runner := &mail.Runner{Store: ta.Store, Renderer: r, From: ta.App.Config.MailFrom, BatchSize: 2}
	if _, err := runner.RunPending(context.Background()); err != nil {
		ta.t.Fatal(err)
	}
}

func outboxOf(t testing.TB, s *models.Store) []models.OutboxMessage {
	t.Helper()
	var out []models.OutboxMessage
	if err := s.R.Order("id").Find(&out).Error; err != nil {
		t.Fatal(err)
	}
	return composed(t, out)
}

// composed renders the messages stored as a payload, as the mail worker
// and the outbox list do.
func composed(t testing.TB, ms []models.OutboxMessage) []models.OutboxMessage {
	t.Helper()
	for i := range ms {
		if err := ms[i].Compose(); err != nil {
			t.Fatal(err)
		}
	}
	return ms
}

func TestMailRetryAfterTemporaryRefusal(t *testing.T) {
	eachDB(t, func(t *testing.T, ta *testApp) {
		_, tok := ta.newStaff("organizer")
		cid := ta.consultation("Retry test", models.UnitPerson)
		pid := ta.participant("Ana", "ana@example.org", "AT", "")
		srv := newTestSMTP(t)
		srv.refuseNext(1, &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"})
		ta.mustAPI(202, "POST", ta.path("/api/v1/consultations/%d/invitations", cid), tok, map[string]any{"participant_ids": []int64{pid}})
		ta.runJobs()
		w := ta.mailWorker(srv.URL, 10)
		if err := w.Drain(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n := len(srv.received()); n != 0 {
			t.Fatalf("refused message counted as received: %d", n)
		}
		ob := outboxOf(t, ta.Store)
		if ob[0].Status != models.MailQueued || ob[0].Attempts != 1 || !strings.Contains(ob[0].Error, "451") {
			t.Fatalf("after a 4xx: status %q attempts %d error %q", ob[0].Status, ob[0].Attempts, ob[0].Error)
		}
		// Not due yet: nothing is sent before the backoff.
		if err := w.Drain(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n := len(srv.received()); n != 0 {
			t.Fatalf("retried before the backoff: %d", n)
		}
		ta.Clock.Advance(2 * time.Minute)
		if err := w.Drain(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n := len(srv.received()); n != 1 {
			t.Fatalf("after the backoff the server got %d messages, want 1", n)
		}
		ob = outboxOf(t, ta.Store)
		if ob[0].Status != models.MailSent || ob[0].SentAt == nil {
			t.Fatalf("status %q", ob[0].Status)
		}
		list := ta.mustAPI(200, "GET", ta.path("/api/v1/consultations/%d/invitations", cid), tok, nil)
		if st := list["items"].([]any)[0].(map[string]any)["status"]; st != "sent" {
			t.Fatalf("invitation status %v", st)
		}
	})
}

func TestMailPermanentFailure(t *testing.T) {
	ta := sqliteApp(t)
	_, tok := ta.newStaff("organizer")
	cid := ta.consultation("Permanent", models.UnitPerson)
	pid := ta.participant("Bo", "bo@example.org", "FR", "")
	srv := newTestSMTP(t)
	srv.refuseNext(1, &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"})
	ta.mustAPI(202, "POST", ta.path("/api/v1/consultations/%d/invitations", cid), tok, map[string]any{"participant_ids": []int64{pid}})
	ta.runJobs()
	if err := ta.mailWorker(srv.URL, 10).Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	ob := outboxOf(t, ta.Store)
	if ob[0].Status != models.MailFailed || !strings.Contains(ob[0].Error, "550") {
		t.Fatalf("status %q error %q", ob[0].Status, ob[0].Error)
	}
	list := ta.mustAPI(200, "GET", ta.path("/api/v1/consultations/%d/invitations?status=failed", cid), tok, nil)
	if list["total"].(float64) != 1 {
		t.Fatalf("failed invitations: %v", list)
	}
}

func TestMailNoDoubleSendAfterKill(t *testing.T) {
	eachDB(t, func(t *testing.T, ta *testApp) {
		_, tok := ta.newStaff("organizer")
		cid := ta.consultation("Crash test", models.UnitPerson)
		var ids []int64
		for i := range 6 {
			ids = append(ids, ta.participant("P", "p"+string(rune('a'+i))+"@example.org", "AT", ""))
		}
		srv := newTestSMTP(t)
		ta.mustAPI(202, "POST", ta.path("/api/v1/consultations/%d/invitations", cid), tok, map[string]any{"participant_ids": ids})
		ta.runJobs()

		// The worker dies after the server accepted the 3rd message and
		// before it could record it.
		w := ta.mailWorker(srv.URL, 6)
		sent := 0
		w.AfterSend = func(*models.OutboxMessage) bool { sent++; return sent == 3 }
		if err := w.Drain(context.Background()); !errors.Is(err, mail.ErrKilled) {
			t.Fatalf("Drain: %v", err)
		}
		if n := len(srv.received()); n != 3 {
			t.Fatalf("server got %d before the crash, want 3", n)
		}
		// A restarted worker leaves the dead claim alone while its lease runs.
		w2 := ta.mailWorker(srv.URL, 6)
		if err := w2.Drain(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n := len(srv.received()); n != 3 {
			t.Fatalf("server got %d during the lease, want 3", n)
		}
		ta.Clock.Advance(time.Hour)
		if err := w2.Drain(context.Background()); err != nil {
			t.Fatal(err)
		}
		got := srv.received()
		if len(got) != 6 {
			t.Fatalf("server got %d messages in all, want 6 (each once)", len(got))
		}
		seen := map[string]int{}
		for _, m := range got {
			seen[m.To[0]]++
		}
		for to, n := range seen {
			if n != 1 {
				t.Fatalf("%s received %d times", to, n)
			}
		}
		ob := outboxOf(t, ta.Store)
		var interrupted []models.OutboxMessage
		for _, m := range ob {
			if m.Status == models.MailFailed {
				interrupted = append(interrupted, m)
			} else if m.Status != models.MailSent {
				t.Fatalf("message %d left %q", m.ID, m.Status)
			}
		}
		if len(interrupted) != 1 || interrupted[0].Error != models.InterruptedError {
			t.Fatalf("want exactly the in-flight message marked interrupted, got %+v", interrupted)
		}
		// Staff see it and may send it again on purpose.
		r := ta.mustAPI(200, "GET", "/api/v1/outbox?status=failed", tok, nil)
		if r["total"].(float64) != 1 {
			t.Fatalf("outbox failed: %v", r)
		}
		ta.mustAPI(200, "POST", ta.path("/api/v1/outbox/%d/retry", interrupted[0].ID), tok, nil)
		if err := w2.Drain(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n := len(srv.received()); n != 7 {
			t.Fatalf("after the staff retry the server got %d, want 7", n)
		}
	})
}

func TestOutboxHeldWithoutSMTP(t *testing.T) {
	eachDB(t, func(t *testing.T, ta *testApp) {
		_, tok := ta.newStaff("organizer")
		cid := ta.consultation("Held", models.UnitPerson)
		other := ta.consultation("Other", models.UnitPerson)
		a := ta.participant("Ana", "ana@example.org", "AT", "")
		b := ta.participant("Bo", "bo@example.org", "FR", "")
		ta.mustAPI(202, "POST", ta.path("/api/v1/consultations/%d/invitations", cid), tok, map[string]any{"participant_ids": []int64{a, b}})
		ta.mustAPI(202, "POST", ta.path("/api/v1/consultations/%d/invitations", other), tok, map[string]any{"participant_ids": []int64{a}})
		ta.runJobs()
		if err := ta.mailWorker("", 10).Drain(context.Background()); err != nil {
			t.Fatal(err)
		}
		r := ta.mustAPI(200, "GET", "/api/v1/outbox?to=ana@example.org", tok, nil)
		if r["total"].(float64) != 2 {
			t.Fatalf("outbox to ana: %v", r)
		}
		r = ta.mustAPI(200, "GET", ta.path("/api/v1/outbox?to=ANA@example.org&consultation=%d", cid), tok, nil)
		items := r["items"].([]any)
		if len(items) != 1 {
			t.Fatalf("outbox filtered: %v", r)
		}
		m := items[0].(map[string]any)
		if m["status"] != "held" || m["sent_at"] != nil || !strings.Contains(m["text"].(string), "http://focal.test/r/") ||
			!strings.Contains(m["html"].(string), "http://focal.test/r/") || m["subject"] != "Invitation: Held" {
			t.Fatalf("held message: %v", m)
		}
		for _, k := range []string{"id", "to", "subject", "text", "html", "status", "error", "created_at", "sent_at"} {
			if _, ok := m[k]; !ok {
				t.Fatalf("outbox item lacks %q", k)
			}
		}
		// A held link works: the message was produced, just not sent.
		if _, err := ta.Store.FindInvitationByToken(context.Background(), tokenIn(t, m["text"].(string))); err != nil {
			t.Fatal(err)
		}
		if r := ta.api("GET", "/api/v1/outbox?consultation=x", tok, nil); r.Status != 422 {
			t.Fatalf("bad filter: %d", r.Status)
		}
		_, atok := ta.newStaff("analyst")
		if r := ta.api("GET", "/api/v1/outbox", atok, nil); r.Status != 403 {
			t.Fatalf("analyst reads the outbox: %d", r.Status)
		}
	})
}

func TestMailTwoInstancesSendEachOnce(t *testing.T) {
	eachDB(t, func(t *testing.T, ta *testApp) {
		_, tok := ta.newStaff("organizer")
		cid := ta.consultation("Two senders", models.UnitPerson)
		var ids []int64
		for i := range 24 {
			ids = append(ids, ta.participant("P", "q"+strings.Repeat("x", i)+"@example.org", "AT", ""))
		}
		srv := newTestSMTP(t)
		ta.mustAPI(202, "POST", ta.path("/api/v1/consultations/%d/invitations", cid), tok, map[string]any{"participant_ids": ids})
		ta.runJobs()
		// Two workers (as two app instances would run), two connections each.
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i := range 2 {
			w, err := mail.NewWorker(ta.Store, mail.Config{SMTPURL: srv.URL, From: "noreply@focal.test", Concurrency: 2, Rate: -1, Batch: 3}, nil)
			if err != nil {
				t.Fatal(err)
			}
			wg.Add(1)
			go func() { defer wg.Done(); errs[i] = w.Drain(context.Background()) }()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			t.Fatal(err)
		}
		got := srv.received()
		seen := map[string]int{}
		for _, m := range got {
			seen[m.To[0]]++
		}
		if len(got) != 24 || len(seen) != 24 {
			t.Fatalf("server got %d messages for %d recipients, want 24 each once", len(got), len(seen))
		}
	})
}

// TestReceiptComposedWhenSent: the receipt is stored as what it says and
// rendered by the mail worker when it sends it, text and HTML; a receipt
// whose payload cannot be read fails for staff to see, and does not stop
// the others.
func TestReceiptComposedWhenSent(t *testing.T) {
	ta := sqliteApp(t)
	f := ta.makeFixture("person", true)
	tok, _ := ta.invite(f.ConsultationID, "")
	base := "/api/v1/respond/" + tok
	ta.mustAPI(200, "PUT", base+"/demographics", "", map[string]any{"gender": "female", "institution_type": "ngo", "country": "KE", "consent": true})
	ta.mustAPI(200, "PUT", base+"/answers", "", map[string]any{"version": 0, "answers": fullAnswers(f, "Harm reduction saves lives.")})
	sub := ta.mustAPI(200, "POST", base+"/submit", "", nil)
	bad := &models.OutboxMessage{Kind: "respond_receipt", ToAddress: "x@example.org", Subject: "s", Payload: "{"}
	if err := ta.Store.Write(context.Background(), func(tx *gorm.DB) error { return models.QueueMail(tx, ta.Store.Now(), bad) }); err != nil {
		t.Fatal(err)
	}
	// Listed, the unreadable one says why instead of failing the list.
	listed, _, err := ta.Store.ListOutbox(context.Background(), models.OutboxFilter{Kind: "respond_receipt"})
	if err != nil || len(listed) != 2 || listed[0].ID != bad.ID || !strings.Contains(listed[0].Error, "receipt payload") ||
		!strings.Contains(listed[1].TextBody, "Harm reduction saves lives.") {
		t.Fatalf("the outbox list: %v, %+v", err, listed)
	}
	srv := newTestSMTP(t)
	if err := ta.mailWorker(srv.URL, 10).Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := srv.received()
	if len(got) != 1 {
		t.Fatalf("%d messages sent, want the one receipt", len(got))
	}
	data := got[0].Data
	if !strings.Contains(data, sub["receipt"].(string)) || !strings.Contains(data, "Harm reduction saves lives.") ||
		!strings.Contains(data, "text/plain") || !strings.Contains(data, "text/html") {
		t.Fatalf("the receipt as sent:\n%s", data)
	}
	var st models.OutboxMessage
	if err := ta.Store.R.First(&st, bad.ID).Error; err != nil || st.Status != models.MailFailed || !strings.Contains(st.Error, "cannot build the message") {
		t.Fatalf("the unreadable receipt: %q %q %v", st.Status, st.Error, err)
	}
}
