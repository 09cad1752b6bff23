package models_test

import (
	"context"
	"testing"

	"gorm.io/gorm"

	"focalpoint/models"
	"focalpoint/models/modeltest"
)

// TestJourneyCacheFollowsChanges: a journey's rounds and questions come
// from a per-process cache, which must follow every change at once — made
// through another store on the same database (another app instance), and
// made by plain SQL that bypasses the store (the revision is bumped by
// triggers) — on both databases.
func TestJourneyCacheFollowsChanges(t *testing.T) {
	modeltest.Dialects(t, func(t *testing.T, dbURL string) {
		a := modeltest.Open(t, dbURL)
		b := modeltest.Open(t, dbURL) // the second instance
		ctx := context.Background()
		c, _ := a.CreateConsultation(ctx, models.NewConsultation{Title: "T", Unit: models.UnitPerson}, nil)
		r, _ := a.CreateRound(ctx, c.ID, models.NewRound{Title: "R"}, nil)
		q, err := a.CreateQuestion(ctx, r.ID, models.QuestionInput{Kind: models.QShortText, Prompt: "First wording"}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := a.OpenRound(ctx, r.ID, nil); err != nil {
			t.Fatal(err)
		}
		var tok string
		if err := a.Write(ctx, func(tx *gorm.DB) error {
			p := models.Participant{Name: "P", Email: "p@example.org", Kind: models.KindExpert, Language: "en", CreatedAt: a.Now(), UpdatedAt: a.Now()}
			if err := tx.Create(&p).Error; err != nil {
				return err
			}
			tok, _, err = models.IssueInvitation(tx, a.Now(), c.ID, p.ID)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		load := func() *models.Journey {
			t.Helper()
			inv, err := a.FindInvitationByToken(ctx, tok)
			if err != nil {
				t.Fatal(err)
			}
			j, err := a.LoadJourney(ctx, inv)
			if err != nil {
				t.Fatal(err)
			}
			return j
		}
		if j := load(); len(j.Questions) != 1 || j.Questions[0].Prompt != "First wording" || j.Round.StateAt(a.Now()) != models.RoundOpen {
			t.Fatalf("first load: %+v", j.Questions)
		}
		// Another instance rewords the question and adds one.
		if _, err := b.UpdateQuestion(ctx, q.ID, models.QuestionInput{Kind: models.QShortText, Prompt: "Second wording"}, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := b.CreateQuestion(ctx, r.ID, models.QuestionInput{Kind: models.QYesNo, Prompt: "Added"}, nil); err != nil {
			t.Fatal(err)
		}
		if j := load(); len(j.Questions) != 2 || j.Questions[0].Prompt != "Second wording" || j.Questions[1].Prompt != "Added" {
			t.Fatalf("after another instance's changes: %+v", j.Questions)
		}
		// Plain SQL, past the store: the triggers bump the revision.
		if err := b.Write(ctx, func(tx *gorm.DB) error {
			return tx.Exec("UPDATE questions SET prompt = ? WHERE id = ?", "Third wording", q.ID).Error
		}); err != nil {
			t.Fatal(err)
		}
		if j := load(); j.Questions[0].Prompt != "Third wording" {
			t.Fatalf("after a plain UPDATE: %q", j.Questions[0].Prompt)
		}
		// Another instance closes the round: the journey is closed at once.
		if _, err := b.CloseRound(ctx, r.ID, nil); err != nil {
			t.Fatal(err)
		}
		j := load()
		if j.Round.StateAt(a.Now()) != models.RoundClosed {
			t.Fatalf("round state after close elsewhere: %s", j.Round.StateAt(a.Now()))
		}
		if _, err := a.SaveAnswers(ctx, j, 0, nil); err != models.ErrRoundClosed {
			t.Fatalf("save in a round closed by another instance: %v", err)
		}
		if err := b.Write(ctx, func(tx *gorm.DB) error {
			return tx.Exec("DELETE FROM questions WHERE id = ?", q.ID).Error
		}); err != nil {
			t.Fatal(err)
		}
		if j := load(); len(j.Questions) != 1 || j.Questions[0].Prompt != "Added" {
			t.Fatalf("after a plain DELETE: %+v", j.Questions)
		}
	})
}
