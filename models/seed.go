package models

import (
	"fmt"
	"time"

	"gorm.io/gorm"
)

// SeedSubmission records a submission of respondent to a round without
// the respondent journey: the demo command, fixtures and bulk tools use
// it. It replaces the response's submitted rows with rows, marks the
// response submitted, and moves the tallies exactly as the submit path
// does. When demo (the respondent's demographics to record) differs from
// what is stored, the respondent is updated in the same transaction.
func (s *Store) SeedSubmission(tx *gorm.DB, respondent *Respondent, roundID int64, rows []SubmittedAnswer, now time.Time) (*Response, error) {
	var stored Respondent
	if err := tx.First(&stored, respondent.ID).Error; err != nil {
		return nil, fmt.Errorf("seed submission: respondent: %w", translate(err))
	}
	var resp Response
	err := tx.Where("respondent_id = ? AND round_id = ?", respondent.ID, roundID).First(&resp).Error
	if err != nil && translate(err) != ErrNotFound {
		return nil, err
	}
	ch := TallyChange{ConsultationID: stored.ConsultationID, RoundID: roundID, After: respondent, New: rows}
	if resp.ID != 0 && resp.Status == ResponseSubmitted {
		before := stored
		ch.Before = &before
		if err := tx.Where("response_id = ?", resp.ID).Order("id").Find(&ch.Old).Error; err != nil {
			return nil, err
		}
	}
	if stored.Gender != respondent.Gender || stored.InstitutionType != respondent.InstitutionType || stored.Country != respondent.Country {
		if err := tx.Model(&Respondent{}).Where("id = ?", respondent.ID).Updates(map[string]any{
			"gender": respondent.Gender, "institution_type": respondent.InstitutionType, "country": respondent.Country, "updated_at": now}).Error; err != nil {
			return nil, err
		}
		if ch.Before == nil {
			// Not a resubmission of this round, but other rounds may be
			// counted under the old demographics.
			if err := s.MoveRespondentTallies(tx, &stored, respondent); err != nil {
				return nil, err
			}
		}
	}
	if resp.ID == 0 {
		resp = Response{RespondentID: respondent.ID, RoundID: roundID, Status: ResponseSubmitted, Version: 1, SubmittedAt: &now, CreatedAt: now, UpdatedAt: now}
		if err := tx.Create(&resp).Error; err != nil {
			return nil, err
		}
	} else {
		if err := tx.Model(&Response{}).Where("id = ?", resp.ID).Updates(map[string]any{
			"status": ResponseSubmitted, "submitted_at": now, "updated_at": now, "version": resp.Version + 1}).Error; err != nil {
			return nil, err
		}
		if err := tx.Where("response_id = ?", resp.ID).Delete(&SubmittedAnswer{}).Error; err != nil {
			return nil, err
		}
	}
	for i := range rows {
		rows[i].ID = 0
		rows[i].ResponseID, rows[i].RespondentID, rows[i].RoundID = resp.ID, respondent.ID, roundID
	}
	if len(rows) > 0 {
		if err := tx.CreateInBatches(&rows, 200).Error; err != nil {
			return nil, err
		}
	}
	ch.New = rows
	if err := s.applyTallies(tx, ch); err != nil {
		return nil, err
	}
	return &resp, nil
}
