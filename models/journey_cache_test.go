package models_test

import (
	"context"
	"encoding/json"
	"fmt"
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
		tok := inviteOne(t, a, c.ID)
		load := func() *models.Journey { t.Helper(); return loadJourney(t, a, tok) }
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

// TestSubmitAfterLightSave: a journey loaded only to save (without the
// draft answers) and then submitted in the same request submits every
// saved answer, not only those of that request's save.
func TestSubmitAfterLightSave(t *testing.T) {
	s := modeltest.SQLite(t)
	ctx := context.Background()
	_, qs, tok := openRoundWith(t, s, models.QuestionInput{Kind: models.QShortText, Prompt: "One"}, models.QuestionInput{Kind: models.QShortText, Prompt: "Two"})
	q1, q2 := qs[0], qs[1]
	inv, _ := s.FindInvitationByToken(ctx, tok)
	j, _ := s.LoadJourney(ctx, inv)
	vals, _ := j.ParseAnswers(map[string]json.RawMessage{fmt.Sprint(q1.ID): json.RawMessage(`"first visit"`)})
	v, err := s.SaveAnswers(ctx, j, 0, vals)
	if err != nil {
		t.Fatal(err)
	}
	inv, _ = s.FindInvitationByToken(ctx, tok)
	light, err := s.LoadJourneyToSave(ctx, inv)
	if err != nil {
		t.Fatal(err)
	}
	vals, _ = light.ParseAnswers(map[string]json.RawMessage{fmt.Sprint(q2.ID): json.RawMessage(`"second visit"`)})
	if _, err := s.SaveAnswers(ctx, light, v, vals); err != nil {
		t.Fatal(err)
	}
	sub, err := s.SubmitResponse(ctx, light, nil)
	if err != nil {
		t.Fatal(err)
	}
	if sub.Answers[q1.ID] != `"first visit"` || sub.Answers[q2.ID] != `"second visit"` {
		t.Fatalf("submitted %v, want both visits' answers", sub.Answers)
	}
	rows, _ := s.SubmittedRows(ctx, sub.Response.ID)
	if len(rows) != 2 {
		t.Fatalf("%d submitted rows, want 2", len(rows))
	}
}
