package models

import (
	"context"

	"gorm.io/gorm"
)

// MigrateList applies the given migrations (tests of the migrator use
// their own throw-away migrations, not the registry).
func (s *Store) MigrateList(ctx context.Context, list []Migration) error { return s.migrate(ctx, list) }

// SetWALSyncHook makes the syncer call fn just before each fsync of the
// WAL; an error from fn stands for a failed fsync.
func (s *Store) SetWALSyncHook(fn func() error) { s.walSyncHook = fn }

// WriteRerunnable exposes writeRerunnable to the tests of the writer.
func (s *Store) WriteRerunnable(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return s.writeRerunnable(ctx, fn)
}

// TallyLogRead reads and adds up the tally log on the read pool, as
// CompactTallies does before its write.
func (s *Store) TallyLogRead(ctx context.Context) (any, error) {
	return readTallyLog(s.R.WithContext(ctx))
}

// FoldTallyLogWith folds the tally log in a write, given a read of it
// taken earlier (by TallyLogRead).
func (s *Store) FoldTallyLogWith(ctx context.Context, read any) (folded int64, err error) {
	err = s.Write(ctx, func(tx *gorm.DB) error {
		folded, err = foldTallyLog(tx, read.(*loggedTallies))
		return err
	})
	return folded, err
}

// SubmittedRead returns the submitted rows read with a journey
// (JourneyToSubmit) and whether they were.
func (j *Journey) SubmittedRead() ([]SubmittedAnswer, bool) { return j.submitted, j.submittedLoaded }

// ResponseMemo returns the response memo's entry of a respondent in a
// round (ok false when none, or without a memo).
func (s *Store) ResponseMemo(respondentID, roundID int64) (resp Response, receipt string, answers map[int64]string, rows []SubmittedAnswer, ok bool) {
	if s.memo == nil {
		return resp, "", nil, nil, false
	}
	s.memo.mu.Lock()
	e := s.memo.cur[memoKey{respondentID, roundID}]
	if e == nil {
		e = s.memo.old[memoKey{respondentID, roundID}]
	}
	s.memo.mu.Unlock()
	if e == nil {
		return resp, "", nil, nil, false
	}
	return e.resp, e.receipt, e.answers, e.submitted, true
}
