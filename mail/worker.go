package mail

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/url"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	gomail "github.com/wneessen/go-mail"
	"golang.org/x/time/rate"

	"focalpoint/models"
)

// Config tunes the outbox worker. Zero values take the defaults.
type Config struct {
	// SMTPURL is smtp://user:pass@host:port (STARTTLS when offered) or
	// smtps://... (TLS from the start). Empty: messages are held.
	SMTPURL string
	// From is the sender, e.g. "Focal Point <noreply@example.org>".
	From string
	// Concurrency is the number of parallel SMTP connections (default 4).
	Concurrency int
	// Rate bounds messages per second over all connections (default 20;
	// negative: unbounded).
	Rate float64
	// Batch is how many messages one connection claims at a time (default 10).
	Batch int
	// Poll is how often an idle worker looks for due messages (default 2 s).
	Poll time.Duration
	// Timeout bounds one SMTP exchange (default 30 s).
	Timeout time.Duration
	// Backoff is the first retry delay after a temporary failure, doubled
	// each time up to 6 h (default 1 min).
	Backoff time.Duration
	// MaxAttempts before a temporary failure counts as permanent (default 8).
	MaxAttempts int
}

func (c *Config) defaults() {
	if c.Concurrency <= 0 {
		c.Concurrency = 4
	}
	if c.Rate == 0 {
		c.Rate = 20
	}
	if c.Batch <= 0 {
		c.Batch = 10
	}
	if c.Poll <= 0 {
		c.Poll = 2 * time.Second
	}
	if c.Timeout <= 0 {
		c.Timeout = 30 * time.Second
	}
	if c.Backoff <= 0 {
		c.Backoff = time.Minute
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 8
	}
}

// Worker sends the outbox. Delivery is at most once, even with several
// instances on one PostgreSQL and crashes mid-batch:
//
//   - a connection claims a small batch (status sending, claimed_by naming
//     this claim, a lease) and that claim is committed before any SMTP;
//   - it sends the batch in id order, one message at a time, and records
//     each outcome (sent, retry later, failed) before starting the next;
//   - so when a sender dies, of its claim only the lowest id still
//     `sending` may have reached the server: when the lease runs out that
//     one is marked failed ("interrupted during delivery; check before
//     resending", staff may retry it) and the rest, never handed to SMTP,
//     are queued again.
type Worker struct {
	Store *models.Store
	Log   *slog.Logger
	cfg   Config
	id    string
	lim   *rate.Limiter
	seq   atomic.Int64
	// AfterSend, when set (tests), runs after the server accepted a
	// message and before it is marked sent; returning true makes the
	// connection stop right there, as if the process had been killed.
	AfterSend func(m *models.OutboxMessage) bool
}

// ErrKilled is what Drain returns when AfterSend stopped a connection.
var ErrKilled = errors.New("mail worker stopped abruptly (test hook)")

// NewWorker builds a worker; cfg.SMTPURL is checked here.
func NewWorker(store *models.Store, cfg Config, log *slog.Logger) (*Worker, error) {
	cfg.defaults()
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if cfg.SMTPURL != "" {
		if _, err := parseSMTPURL(cfg.SMTPURL); err != nil {
			return nil, err
		}
	}
	host, _ := os.Hostname()
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	w := &Worker{Store: store, Log: log, cfg: cfg, id: fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b))}
	if cfg.Rate > 0 {
		w.lim = rate.NewLimiter(rate.Limit(cfg.Rate), max(1, int(math.Ceil(cfg.Rate))))
	}
	return w, nil
}

// Enabled reports whether an SMTP server is configured.
func (w *Worker) Enabled() bool { return w.cfg.SMTPURL != "" }

// lease is how long a claim may last: every message of a batch at the
// longest exchange, plus a margin.
func (w *Worker) lease() time.Duration {
	return time.Duration(w.cfg.Batch)*w.cfg.Timeout + time.Minute
}

// Run sends (or, without SMTP, holds) the outbox until ctx ends.
func (w *Worker) Run(ctx context.Context) {
	t := time.NewTicker(w.cfg.Poll)
	defer t.Stop()
	for {
		if err := w.Drain(ctx); err != nil && ctx.Err() == nil {
			w.Log.Error("mail worker", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Drain handles every message due now and returns: without SMTP it marks
// them held; with SMTP it first settles expired leases, then sends with
// Concurrency connections until nothing is due.
func (w *Worker) Drain(ctx context.Context) error {
	if !w.Enabled() {
		if due, err := w.Store.MailWaiting(ctx); err != nil || !due {
			return err
		}
		n, err := w.Store.HoldMail(ctx)
		if n > 0 {
			w.Log.Info("no SMTP server configured (FOCAL_SMTP_URL): messages held in the outbox", "messages", n)
		}
		return err
	}
	if due, err := w.Store.MailWaiting(ctx); err != nil || !due {
		return err
	}
	if n, err := w.Store.ExpireMailLeases(ctx); err != nil {
		return err
	} else if n > 0 {
		w.Log.Warn("messages interrupted during delivery marked failed; check before resending", "messages", n)
	}
	var wg sync.WaitGroup
	errs := make([]error, w.cfg.Concurrency)
	for i := range w.cfg.Concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = w.connection(ctx, i)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// connection is one SMTP connection's loop: claim, send, record, until
// nothing is due.
func (w *Worker) connection(ctx context.Context, n int) error {
	s := &smtpConn{w: w}
	defer s.close()
	for ctx.Err() == nil {
		claim := fmt.Sprintf("%s/%d/%d", w.id, n, w.seq.Add(1))
		batch, err := w.Store.ClaimMail(ctx, claim, w.cfg.Batch, w.lease())
		if err != nil {
			return err
		}
		if len(batch) == 0 {
			return nil
		}
		sortByID(batch)
		for i := range batch {
			if ctx.Err() == nil && w.lim != nil {
				_ = w.lim.Wait(ctx)
			}
			if ctx.Err() != nil {
				// Not handed to SMTP: give them back for another sender.
				ids := make([]int64, 0, len(batch)-i)
				for _, m := range batch[i:] {
					ids = append(ids, m.ID)
				}
				rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
				err := w.Store.ReleaseMail(rctx, ids, claim)
				cancel()
				return err
			}
			killed, err := w.deliver(ctx, s, &batch[i], claim)
			if killed {
				return ErrKilled
			}
			if err != nil {
				// The outcome could not be recorded: stop this claim here;
				// its lease will settle it (this message counts as
				// interrupted, the rest are queued again).
				return err
			}
		}
	}
	return nil
}

// deliver sends one claimed message and records the outcome.
func (w *Worker) deliver(ctx context.Context, s *smtpConn, m *models.OutboxMessage, claim string) (bool, error) {
	// Record with a context that outlives a shutdown: the server has been
	// talked to, so the outcome must be written.
	rec, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	msg, err := w.build(m)
	if err != nil {
		return false, w.Store.MarkMailFailed(rec, m, claim, "cannot build the message: "+err.Error())
	}
	err = s.send(ctx, msg)
	if err == nil || msg.IsDelivered() {
		if w.AfterSend != nil && w.AfterSend(m) {
			return true, nil
		}
		return false, w.Store.MarkMailSent(rec, m, claim)
	}
	s.close() // start the next message on a fresh connection
	switch classify(err) {
	case permanent:
		w.Log.Warn("mail refused permanently", "outbox_id", m.ID, "smtp", smtpCode(err))
		return false, w.Store.MarkMailFailed(rec, m, claim, err.Error())
	case ambiguous:
		w.Log.Warn("mail perhaps delivered: connection lost at the end of DATA", "outbox_id", m.ID)
		return false, w.Store.MarkMailFailed(rec, m, claim, models.InterruptedError+": "+err.Error())
	}
	if m.Attempts >= w.cfg.MaxAttempts {
		return false, w.Store.MarkMailFailed(rec, m, claim, fmt.Sprintf("gave up after %d attempts: %v", m.Attempts, err))
	}
	delay := w.cfg.Backoff << min(m.Attempts-1, 20)
	delay = min(delay, 6*time.Hour)
	w.Log.Info("mail deferred", "outbox_id", m.ID, "attempt", m.Attempts, "retry_in", delay, "smtp", smtpCode(err))
	return false, w.Store.MarkMailRetry(rec, m, claim, err.Error(), w.Store.Now().Add(delay))
}

func (w *Worker) build(m *models.OutboxMessage) (*gomail.Msg, error) {
	if err := m.Compose(); err != nil {
		return nil, err
	}
	msg := gomail.NewMsg()
	if err := msg.From(w.cfg.From); err != nil {
		return nil, fmt.Errorf("sender: %w", err)
	}
	if err := msg.To(m.ToAddress); err != nil {
		return nil, fmt.Errorf("recipient: %w", err)
	}
	msg.Subject(HeaderSafe(m.Subject))
	msg.SetMessageID()
	msg.SetDate()
	msg.SetGenHeader("Auto-Submitted", "auto-generated")
	msg.SetGenHeader("X-Focal-Outbox-Id", strconv.FormatInt(m.ID, 10))
	msg.SetBodyString(gomail.TypeTextPlain, m.TextBody)
	if m.HTMLBody != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTMLBody)
	}
	return msg, nil
}

type outcome int

const (
	temporary outcome = iota
	permanent
	ambiguous
)

// classify sorts a send error: a 5xx answer is permanent; a failure to
// read the server's answer to the end of DATA may hide a delivery; the
// rest (4xx, connection trouble before DATA) is temporary.
func classify(err error) outcome {
	var se *gomail.SendError
	if errors.As(err, &se) {
		code := se.ErrorCode()
		switch {
		case code >= 500:
			return permanent
		case code >= 400:
			return temporary
		case se.Reason == gomail.ErrSMTPDataClose:
			return ambiguous
		case se.Reason == gomail.ErrGetSender || se.Reason == gomail.ErrGetRcpts || se.Reason == gomail.ErrNoUnencoded:
			return permanent
		}
	}
	return temporary
}

// smtpCode is what the logs say of a send error: the SMTP code and stage,
// never the text (it may name the recipient; the outbox keeps it for staff).
func smtpCode(err error) string {
	var se *gomail.SendError
	if errors.As(err, &se) {
		return fmt.Sprintf("%d (%s)", se.ErrorCode(), se.Reason)
	}
	return "connection error"
}

func sortByID(b []models.OutboxMessage) {
	for i := 1; i < len(b); i++ {
		for j := i; j > 0 && b[j].ID < b[j-1].ID; j-- {
			b[j], b[j-1] = b[j-1], b[j]
		}
	}
}

// smtpConn is one kept-open SMTP connection, redialled after an error.
type smtpConn struct {
	w      *Worker
	client *gomail.Client
	conn   interface{ Close() error }
	send_  func(*gomail.Msg) error
}

type smtpSettings struct {
	host       string
	port       int
	ssl        bool
	user, pass string
}

func parseSMTPURL(raw string) (*smtpSettings, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" {
		return nil, errors.New("FOCAL_SMTP_URL must look like smtp://user:pass@host:587 or smtps://user:pass@host:465")
	}
	s := &smtpSettings{host: u.Hostname(), ssl: u.Scheme == "smtps", port: 587}
	if s.ssl {
		s.port = 465
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n <= 0 || n > 65535 {
			return nil, errors.New("FOCAL_SMTP_URL has a bad port")
		}
		s.port = n
	}
	if u.User != nil {
		s.user = u.User.Username()
		s.pass, _ = u.User.Password()
	}
	return s, nil
}

func (s *smtpConn) dial(ctx context.Context) error {
	set, err := parseSMTPURL(s.w.cfg.SMTPURL)
	if err != nil {
		return err
	}
	// No NOOP before each message: a stale kept-open connection shows at
	// MAIL FROM, before anything of the message is sent, and is redialled.
	opts := []gomail.Option{gomail.WithPort(set.port), gomail.WithTimeout(s.w.cfg.Timeout), gomail.WithoutNoop()}
	if set.ssl {
		opts = append(opts, gomail.WithSSL())
	} else {
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSOpportunistic))
	}
	if set.user != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover), gomail.WithUsername(set.user), gomail.WithPassword(set.pass))
	}
	c, err := gomail.NewClient(set.host, opts...)
	if err != nil {
		return err
	}
	sc, err := c.DialToSMTPClientWithContext(ctx)
	if err != nil {
		return err
	}
	s.client = c
	s.conn = closerFunc(func() error { return c.CloseWithSMTPClient(sc) })
	s.send_ = func(m *gomail.Msg) error { return c.SendWithSMTPClient(sc, m) }
	return nil
}

type closerFunc func() error

func (f closerFunc) Close() error { return f() }

func (s *smtpConn) send(ctx context.Context, m *gomail.Msg) error {
	reused := s.client != nil
	if !reused {
		if err := s.dial(ctx); err != nil {
			return err
		}
	}
	err := s.send_(m)
	var se *gomail.SendError
	if reused && errors.As(err, &se) && (se.Reason == gomail.ErrConnCheck || (se.Reason == gomail.ErrSMTPMailFrom && se.ErrorCode() == 0)) {
		// The kept-open connection went stale (nothing of this message was
		// sent yet): dial again once.
		s.close()
		if err := s.dial(ctx); err != nil {
			return err
		}
		err = s.send_(m)
	}
	return err
}

func (s *smtpConn) close() {
	if s.conn != nil {
		_ = s.conn.Close()
	}
	s.client, s.conn, s.send_ = nil, nil, nil
}
