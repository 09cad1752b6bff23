// Package invite benchmarks the invitation pipeline (issue 4): 10,000
// invitations queued (the API's model call plus the job that mints links
// and renders and queues the messages), then delivered by the outbox
// worker to an in-process SMTP server (emersion/go-smtp).
//
//	go test ./bench/invite -run '^$' -bench . -benchtime 1x
//
// Each figure comes with a baseline measured in the same run: for
// queueing, a bare batched INSERT of the same 10,000 outbox rows (already
// rendered); for delivery, go-mail sending the same messages over one
// kept-open connection with no database at all.
package invite

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	gomail "github.com/wneessen/go-mail"
	"gorm.io/gorm"

	"focalpoint/i18n"
	"focalpoint/mail"
	"focalpoint/models"
	"focalpoint/models/modeltest"
)

const invitees = 10000

type countingBackend struct{ n atomic.Int64 }

func (b *countingBackend) NewSession(*smtp.Conn) (smtp.Session, error) {
	return &countingSession{b}, nil
}

type countingSession struct{ b *countingBackend }

func (s *countingSession) Reset()                               {}
func (s *countingSession) Logout() error                        { return nil }
func (s *countingSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *countingSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *countingSession) Data(r io.Reader) error {
	_, err := io.Copy(io.Discard, r)
	s.b.n.Add(1)
	return err
}
func startSMTP(b *testing.B) (*countingBackend, string) {
	be := &countingBackend{}
	s := smtp.NewServer(be)
	s.Domain = "localhost"
	s.ReadTimeout, s.WriteTimeout = time.Minute, time.Minute
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go s.Serve(ln)
	b.Cleanup(func() { s.Close() })
	return be, ln.Addr().String()
}

func seed(b *testing.B, s *models.Store) (int64, []int64) {
	now := time.Now().UTC()
	closes := now.Add(30 * 24 * time.Hour)
	c := &models.Consultation{Title: "Benchmark consultation", Unit: models.UnitPerson, Languages: `["en"]`, MinCellSize: 5, CreatedAt: now, UpdatedAt: now}
	ps := make([]models.Participant, invitees)
	for i := range ps {
		ps[i] = models.Participant{Name: fmt.Sprintf("Person %d", i), Email: fmt.Sprintf("p%d@example.org", i), Kind: models.KindNGO,
			Country: "AT", Language: "en", CreatedAt: now, UpdatedAt: now}
	}
	err := s.Write(context.Background(), func(tx *gorm.DB) error {
		if err := tx.Create(c).Error; err != nil {
			return err
		}
		if err := tx.Create(&models.Round{ConsultationID: c.ID, Title: "R1", ClosesAt: &closes, State: models.RoundOpen, CreatedAt: now, UpdatedAt: now}).Error; err != nil {
			return err
		}
		return tx.CreateInBatches(&ps, 500).Error
	})
	if err != nil {
		b.Fatal(err)
	}
	ids := make([]int64, len(ps))
	for i := range ps {
		ids[i] = ps[i].ID
	}
	return c.ID, ids
}

func BenchmarkInvite10k(b *testing.B) {
	dbs := map[string]func(testing.TB) string{"sqlite": modeltest.SQLiteURL}
	if os.Getenv(modeltest.EnvPostgres) != "" {
		dbs["postgres"] = modeltest.PostgresURL
	}
	for name, url := range dbs {
		b.Run(name, func(b *testing.B) {
			for range b.N {
				runOnce(b, modeltest.Open(b, url(b)))
			}
		})
	}
}

func runOnce(b *testing.B, s *models.Store) {
	ctx := context.Background()
	bundle, err := i18n.New()
	if err != nil {
		b.Fatal(err)
	}
	r, err := mail.NewRenderer(bundle, "https://consult.example.org")
	if err != nil {
		b.Fatal(err)
	}
	cid, ids := seed(b, s)

	// Queue: the API's call, then the job to its end.
	t0 := time.Now()
	job, n, err := s.StartInvitations(ctx, nil, models.InviteRequest{ConsultationID: cid, ParticipantIDs: ids, ContactEmail: "sec@example.org"})
	if err != nil || n != invitees {
		b.Fatalf("start: %v (%d)", err, n)
	}
	started := time.Since(t0)
	runner := &mail.Runner{Store: s, Renderer: r, From: "noreply@example.org"}
	if _, err := runner.RunPending(ctx); err != nil {
		b.Fatal(err)
	}
	queue := time.Since(t0)
	if j, _ := s.FindJob(ctx, job.ID); j.State != models.JobDone || j.Done != invitees {
		b.Fatalf("job %+v", j)
	}

	// Baseline for queueing: the same rows, already rendered, inserted in batches.
	var msgs []models.OutboxMessage
	if err := s.ReadDB(ctx).Order("id").Find(&msgs).Error; err != nil {
		b.Fatal(err)
	}
	copies := make([]models.OutboxMessage, len(msgs))
	for i, m := range msgs {
		m.ID, m.Status = 0, models.MailHeld
		copies[i] = m
	}
	t0 = time.Now()
	if err := s.Write(ctx, func(tx *gorm.DB) error { return tx.CreateInBatches(&copies, 500).Error }); err != nil {
		b.Fatal(err)
	}
	bareInsert := time.Since(t0)

	// Deliver with the worker.
	be, addr := startSMTP(b)
	w, err := mail.NewWorker(s, mail.Config{SMTPURL: "smtp://" + addr, From: "noreply@example.org", Concurrency: 4, Rate: -1, Batch: 50}, nil)
	if err != nil {
		b.Fatal(err)
	}
	t0 = time.Now()
	if err := w.Drain(ctx); err != nil {
		b.Fatal(err)
	}
	deliver := time.Since(t0)
	if got := be.n.Load(); got != invitees {
		b.Fatalf("server received %d, want %d", got, invitees)
	}

	// Baseline for delivery: go-mail alone, one kept-open connection.
	be2, addr2 := startSMTP(b)
	host, port, _ := net.SplitHostPort(addr2)
	var p int
	fmt.Sscan(port, &p)
	c, err := gomail.NewClient(host, gomail.WithPort(p), gomail.WithTLSPolicy(gomail.NoTLS))
	if err != nil {
		b.Fatal(err)
	}
	t0 = time.Now()
	sc, err := c.DialToSMTPClientWithContext(ctx)
	if err != nil {
		b.Fatal(err)
	}
	for _, m := range msgs {
		gm := gomail.NewMsg()
		_ = gm.From("noreply@example.org")
		_ = gm.To(m.ToAddress)
		gm.Subject(m.Subject)
		gm.SetBodyString(gomail.TypeTextPlain, m.TextBody)
		gm.AddAlternativeString(gomail.TypeTextHTML, m.HTMLBody)
		if err := c.SendWithSMTPClient(sc, gm); err != nil {
			b.Fatal(err)
		}
	}
	bare := time.Since(t0)
	_ = c.CloseWithSMTPClient(sc)
	if be2.n.Load() != invitees {
		b.Fatal("baseline lost messages")
	}

	b.ReportMetric(queue.Seconds(), "queue_s")
	b.ReportMetric(started.Seconds(), "start_s")
	b.ReportMetric(bareInsert.Seconds(), "bare_insert_s")
	b.ReportMetric(float64(invitees)/deliver.Seconds(), "sent/s")
	b.ReportMetric(float64(invitees)/bare.Seconds(), "bare_gomail/s")
	b.Logf("%s: queue 10k %.2fs (bare insert of the rendered rows %.2fs, ratio %.1fx); deliver %.0f msg/s (go-mail alone, one connection, %.0f msg/s, ratio %.2f)",
		s.Dialect, queue.Seconds(), bareInsert.Seconds(), queue.Seconds()/bareInsert.Seconds(),
		float64(invitees)/deliver.Seconds(), float64(invitees)/bare.Seconds(), bare.Seconds()/deliver.Seconds())
}
