package models

import (
	"context"
	"encoding/json"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Background jobs (table in migration 200): long work a request starts and
// a runner does in batches, with progress (done of total) that survives a
// crash: each batch commits its work together with the new `done`, and a
// job whose runner died is picked up again when its lease runs out.

// Job states.
const (
	JobQueued  = "queued"
	JobRunning = "running"
	JobDone    = "done"
	JobFailed  = "failed"
)

// Job kinds.
const (
	JobInvite = "invite"
	JobRemind = "remind"
)

// MaxJobAttempts bounds how often a job is claimed again after failing.
const MaxJobAttempts = 5

// Job is one background job.
type Job struct {
	ID             int64      `gorm:"primaryKey" json:"id"`
	Kind           string     `json:"kind"`
	ConsultationID *int64     `json:"consultation_id,omitempty"`
	State          string     `json:"state"`
	Done           int        `json:"done"`
	Total          int        `json:"total"`
	Params         string     `json:"-"`
	Error          string     `json:"error,omitempty"`
	Attempts       int        `json:"-"`
	CreatedBy      *int64     `json:"-"`
	ClaimedBy      string     `json:"-"`
	ClaimedUntil   *time.Time `json:"-"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
	FinishedAt     *time.Time `json:"finished_at,omitempty"`
}

// JobParams is the JSON of a job's work list.
type JobParams struct {
	ParticipantIDs []int64 `json:"participant_ids,omitempty"`
	InvitationIDs  []int64 `json:"invitation_ids,omitempty"`
	ContactName    string  `json:"contact_name,omitempty"`
	ContactEmail   string  `json:"contact_email,omitempty"`
}

// DecodeParams reads the job's work list.
func (j *Job) DecodeParams() (JobParams, error) {
	var p JobParams
	err := json.Unmarshal([]byte(j.Params), &p)
	return p, err
}

// createJob inserts a queued job inside tx.
func createJob(tx *gorm.DB, now time.Time, kind string, consultationID int64, total int, p JobParams, actor *Staff) (*Job, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	cid := consultationID
	j := &Job{Kind: kind, ConsultationID: &cid, State: JobQueued, Total: total, Params: string(b), CreatedAt: now, UpdatedAt: now}
	if actor != nil {
		id := actor.ID
		j.CreatedBy = &id
	}
	if total == 0 {
		j.State = JobDone
		j.FinishedAt = &now
	}
	return j, tx.Create(j).Error
}

// FindJob returns a job by id.
func (s *Store) FindJob(ctx context.Context, id int64) (*Job, error) {
	var j Job
	if err := s.R.WithContext(ctx).Take(&j, id).Error; err != nil {
		return nil, translate(err)
	}
	return &j, nil
}

// JobsWaiting reports, with a read, whether a job can be claimed.
func (s *Store) JobsWaiting(ctx context.Context) (bool, error) {
	var ids []int64
	err := s.R.WithContext(ctx).Model(&Job{}).Where("state = ? OR (state = ? AND claimed_until < ?)", JobQueued, JobRunning, s.Now()).
		Limit(1).Pluck("id", &ids).Error
	return len(ids) > 0, err
}

// ClaimJob takes the oldest runnable job (queued, or running with an
// expired lease: its runner died) for runner until the lease ends. Nil
// when there is none.
func (s *Store) ClaimJob(ctx context.Context, runner string, lease time.Duration) (*Job, error) {
	now := s.Now()
	var job *Job
	err := s.Write(ctx, func(tx *gorm.DB) error {
		q := tx.Model(&Job{}).Select("id").
			Where("state = ? OR (state = ? AND claimed_until < ?)", JobQueued, JobRunning, now).
			Order("id").Limit(1)
		if s.Dialect == Postgres {
			q = q.Clauses(clause.Locking{Strength: "UPDATE", Options: "SKIP LOCKED"})
		}
		var ids []int64
		if err := q.Pluck("id", &ids).Error; err != nil || len(ids) == 0 {
			return err
		}
		var j Job
		if err := tx.Take(&j, ids[0]).Error; err != nil {
			return err
		}
		if j.Attempts >= MaxJobAttempts {
			return tx.Model(&Job{}).Where("id = ?", j.ID).Updates(map[string]any{
				"state": JobFailed, "error": "gave up after repeated failures", "finished_at": now, "updated_at": now, "claimed_by": ""}).Error
		}
		until := now.Add(lease)
		if err := tx.Model(&Job{}).Where("id = ?", j.ID).Updates(map[string]any{
			"state": JobRunning, "claimed_by": runner, "claimed_until": until, "attempts": j.Attempts + 1, "updated_at": now}).Error; err != nil {
			return err
		}
		j.State, j.ClaimedBy, j.ClaimedUntil, j.Attempts = JobRunning, runner, &until, j.Attempts+1
		job = &j
		return nil
	})
	return job, err
}

// advanceJob records progress inside the batch's transaction and extends
// the lease; ErrConflict when runner no longer holds the job (the batch
// then rolls back).
func advanceJob(tx *gorm.DB, now time.Time, j *Job, runner string, done int, lease time.Duration) error {
	upd := map[string]any{"done": done, "updated_at": now, "claimed_until": now.Add(lease)}
	if done >= j.Total {
		upd["state"], upd["finished_at"], upd["claimed_by"], upd["claimed_until"] = JobDone, now, "", nil
	}
	res := tx.Model(&Job{}).Where("id = ? AND claimed_by = ? AND state = ?", j.ID, runner, JobRunning).Updates(upd)
	if res.Error != nil {
		return res.Error
	}
	if res.RowsAffected != 1 {
		return ErrConflict
	}
	return nil
}

// FailJob marks a job failed (an error that retrying cannot fix).
func (s *Store) FailJob(ctx context.Context, j *Job, runner, msg string) error {
	now := s.Now()
	return s.Write(ctx, func(tx *gorm.DB) error {
		return tx.Model(&Job{}).Where("id = ? AND claimed_by = ?", j.ID, runner).Updates(map[string]any{
			"state": JobFailed, "error": msg, "finished_at": now, "updated_at": now, "claimed_by": "", "claimed_until": nil}).Error
	})
}
