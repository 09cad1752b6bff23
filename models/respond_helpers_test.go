package models_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"

	"gorm.io/gorm"

	"focalpoint/models"
)

// openRoundWith creates a person consultation with one open round holding
// the given questions, and one participant's personal link to it; it
// returns the consultation, the questions and the link's token.
func openRoundWith(t *testing.T, s *models.Store, inputs ...models.QuestionInput) (*models.Consultation, []*models.Question, string) {
	t.Helper()
	ctx := context.Background()
	c, err := s.CreateConsultation(ctx, models.NewConsultation{Title: "T", Unit: models.UnitPerson}, nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.CreateRound(ctx, c.ID, models.NewRound{Title: "R"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var qs []*models.Question
	for _, in := range inputs {
		q, err := s.CreateQuestion(ctx, r.ID, in, nil)
		if err != nil {
			t.Fatal(err)
		}
		qs = append(qs, q)
	}
	if _, err := s.OpenRound(ctx, r.ID, nil); err != nil {
		t.Fatal(err)
	}
	return c, qs, inviteOne(t, s, c.ID)
}

// inviteOne adds a participant (each with an address of their own) and
// returns their personal link's token.
func inviteOne(t *testing.T, s *models.Store, consultationID int64) string {
	t.Helper()
	var tok string
	if err := s.Write(context.Background(), func(tx *gorm.DB) error {
		p := models.Participant{Name: "P", Email: fmt.Sprintf("p%d@example.org", invited.Add(1)), Kind: models.KindExpert, Language: "en", CreatedAt: s.Now(), UpdatedAt: s.Now()}
		if err := tx.Create(&p).Error; err != nil {
			return err
		}
		var err error
		tok, _, err = models.IssueInvitation(tx, s.Now(), consultationID, p.ID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	return tok
}

var invited atomic.Int64
