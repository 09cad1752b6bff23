package models

import "gorm.io/gorm"

// TallyChange describes what a submission changes in the counts that
// synthesis reads: the respondent's demographics and submitted answer rows
// before and after (Old is empty on a first submission).
type TallyChange struct {
	ConsultationID int64
	RoundID        int64
	Before, After  *Respondent
	Old, New       []SubmittedAnswer
}

// applyTallies keeps the synthesis tallies equal to a full recount; it is
// called by the submit path inside the submit transaction. (The synthesis
// area owns this function.)
func (s *Store) applyTallies(tx *gorm.DB, ch TallyChange) error { return nil }
