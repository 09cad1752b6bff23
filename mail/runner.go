package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"focalpoint/models"
)

// Runner does the invitation and reminder jobs: it claims a job, then
// issues links and renders and queues messages in batches, each batch in
// one transaction with the job's progress, so a crash resumes exactly
// where the last batch committed.
type Runner struct {
	Store    *models.Store
	Renderer *Renderer
	Log      *slog.Logger
	// From is the sender, named as the contact when a job has none.
	From string
	// BatchSize is how many invitations one transaction handles (default 1000).
	BatchSize int
	// Poll is how often an idle runner looks for jobs (default 1 s).
	Poll time.Duration
	// Lease is how long a batch may take before another runner may take
	// the job over (default 2 min).
	Lease time.Duration
	id    string
}

func (r *Runner) init() {
	if r.BatchSize <= 0 {
		r.BatchSize = 1000
	}
	if r.Poll <= 0 {
		r.Poll = time.Second
	}
	if r.Lease <= 0 {
		r.Lease = 2 * time.Minute
	}
	if r.Log == nil {
		r.Log = slog.New(slog.DiscardHandler)
	}
	if r.id == "" {
		host, _ := os.Hostname()
		r.id = fmt.Sprintf("%s-%d-%s", host, os.Getpid(), models.NewToken(4))
	}
}

// Run does jobs until ctx ends.
func (r *Runner) Run(ctx context.Context) {
	r.init()
	t := time.NewTicker(r.Poll)
	defer t.Stop()
	for {
		if _, err := r.RunPending(ctx); err != nil && ctx.Err() == nil {
			r.Log.Error("job runner", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// RunPending does every runnable job to its end and returns how many it
// finished.
func (r *Runner) RunPending(ctx context.Context) (int, error) {
	r.init()
	n := 0
	for ctx.Err() == nil {
		if ok, err := r.Store.JobsWaiting(ctx); err != nil || !ok {
			return n, err
		}
		j, err := r.Store.ClaimJob(ctx, r.id, r.Lease)
		if err != nil || j == nil {
			return n, err
		}
		if err := r.runJob(ctx, j); err != nil {
			return n, err
		}
		n++
	}
	return n, ctx.Err()
}

func (r *Runner) runJob(ctx context.Context, j *models.Job) error {
	p, err := j.DecodeParams()
	if err != nil || j.ConsultationID == nil {
		return r.Store.FailJob(ctx, j, r.id, "unreadable job")
	}
	info, err := r.Store.InvitationMailInfo(ctx, *j.ConsultationID)
	if errors.Is(err, models.ErrNotFound) {
		return r.Store.FailJob(ctx, j, r.id, "the consultation no longer exists")
	}
	if err != nil {
		return err
	}
	contactName, contactEmail := p.ContactName, p.ContactEmail
	if contactEmail == "" {
		contactName, contactEmail = r.fromContact()
	}
	render := r.Renderer.ForConsultation(info, contactName, contactEmail)
	for {
		done, err := r.Store.RunJobBatch(ctx, j, r.id, r.BatchSize, r.Lease, render)
		if errors.Is(err, models.ErrConflict) {
			r.Log.Warn("job taken over by another runner", "job_id", j.ID)
			return nil
		}
		if err != nil {
			// Left running: the lease runs out and the job is claimed
			// again (up to models.MaxJobAttempts times).
			r.Log.Error("job batch failed", "job_id", j.ID, "err", err)
			return nil
		}
		if done {
			r.Log.Info("job done", "job_id", j.ID, "kind", j.Kind, "items", j.Total)
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
	}
}

func (r *Runner) fromContact() (string, string) {
	return ParseFrom(r.From)
}
