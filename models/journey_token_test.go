package models_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"testing"

	"gorm.io/gorm"

	"focalpoint/models"
	"focalpoint/models/modeltest"
)

// journeySummary is what a respondent request uses of a journey.
func journeySummary(j *models.Journey) map[string]any {
	m := map[string]any{"invitation": j.Invitation.ID, "expires": j.Invitation.ExpiresAt, "opened": j.Invitation.OpenedAt,
		"consultation": j.Consultation.ID, "title": j.Consultation.Title, "unit": j.Consultation.Unit, "answers": j.Answers}
	if j.Respondent != nil {
		m["respondent"], m["code"], m["state"], m["country"] = j.Respondent.ID, j.Respondent.Code, j.Respondent.StateCountry, j.Respondent.Country
	}
	if j.Round != nil {
		m["round"], m["questions"] = j.Round.ID, len(j.Questions)
	}
	if j.Response != nil {
		m["response"], m["version"], m["status"] = j.Response.ID, j.Response.Version, j.Response.Status
	}
	return m
}

// TestJourneyByTokenMatchesTwoSteps: the one-query JourneyByToken reads
// the same journey (and participant) as FindInvitationByToken then
// LoadJourney (or LoadJourneyToSave), before and after the opening, with saved answers, in
// a State consultation (whose respondent is the State's, whichever of its
// participants holds the link), through a later link, and turns away
// unknown and revoked links alike.
func TestJourneyByTokenMatchesTwoSteps(t *testing.T) {
	modeltest.Stores(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		same := func(tok, when string) *models.Journey {
			t.Helper()
			inv, err := s.FindInvitationByToken(ctx, tok)
			if err != nil {
				t.Fatalf("%s: two steps: %v", when, err)
			}
			for _, reads := range []models.JourneyReads{models.JourneyFull, models.JourneyToSave, models.JourneyToSubmit} {
				want, err := s.LoadJourney(ctx, inv)
				if reads == models.JourneyToSave {
					want, err = s.LoadJourneyToSave(ctx, inv)
				}
				if err != nil {
					t.Fatal(err)
				}
				got, err := s.JourneyByToken(ctx, tok, reads)
				if err != nil {
					t.Fatalf("%s: JourneyByToken: %v", when, err)
				}
				gp, err1 := s.JourneyParticipant(ctx, got)
				wp, err2 := s.JourneyParticipant(ctx, want)
				if err1 != nil || err2 != nil || *gp != *wp || gp.Email == "" {
					t.Fatalf("%s: the participant read with the journey %+v (%v), by itself %+v (%v)", when, gp, err1, wp, err2)
				}
				if g, w := journeySummary(got), journeySummary(want); !reflect.DeepEqual(g, w) {
					t.Fatalf("%s (reads %d): JourneyByToken read\n%v\nthe two steps\n%v", when, reads, g, w)
				}
			}
			j, _ := s.JourneyByToken(ctx, tok, models.JourneyFull)
			return j
		}

		_, qs, tok := openRoundWith(t, s, models.QuestionInput{Kind: models.QShortText, Prompt: "Q"})
		if j := same(tok, "person, not opened"); j.Respondent != nil {
			t.Fatal("a respondent before the opening")
		}
		j, _ := s.JourneyByToken(ctx, tok, models.JourneyFull)
		if err := s.OpenJourney(ctx, j); err != nil {
			t.Fatal(err)
		}
		j = same(tok, "person, opened")
		vals, err := j.ParseAnswers(map[string]json.RawMessage{fmt.Sprint(qs[0].ID): json.RawMessage(`"saved"`)})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.SaveAnswers(ctx, j, 0, vals); err != nil {
			t.Fatal(err)
		}
		if j := same(tok, "person, saved"); j.Response == nil || j.Answers[qs[0].ID] != `"saved"` && j.Answers[qs[0].ID] != "saved" {
			t.Fatalf("saved answers not read: %+v %v", j.Response, j.Answers)
		}
		// Submitted: a journey to submit holds the submitted rows, as
		// they are in the table; a draft's does not.
		if _, ok := mustJourney(t, s, tok, models.JourneyToSubmit).SubmittedRead(); ok {
			t.Fatal("submitted rows read for a draft")
		}
		sub, err := s.SubmitResponse(ctx, mustJourney(t, s, tok, models.JourneyToSubmit), nil)
		if err != nil {
			t.Fatal(err)
		}
		same(tok, "person, submitted")
		rows, ok := mustJourney(t, s, tok, models.JourneyToSubmit).SubmittedRead()
		stored, _ := s.SubmittedRows(ctx, sub.Response.ID)
		if !ok || len(stored) == 0 || !reflect.DeepEqual(rows, stored) {
			t.Fatalf("submitted rows read with the journey (%v) %+v, in the table %+v", ok, rows, stored)
		}
		// A later link of the same invitation.
		var later string
		if err := s.Write(ctx, func(tx *gorm.DB) error {
			var e error
			later, e = models.AddInvitationLink(tx, s.Now(), j.Invitation.ID, "test")
			return e
		}); err != nil {
			t.Fatal(err)
		}
		if l := same(later, "later link"); l.Invitation.ID != j.Invitation.ID || l.Respondent.ID != j.Respondent.ID {
			t.Fatal("the later link reads another journey")
		}
		for _, bad := range []string{"", "no-such-token", tok + "x"} {
			if _, err := s.JourneyByToken(ctx, bad, models.JourneyFull); !errors.Is(err, models.ErrNotFound) {
				t.Fatalf("token %q: %v, want ErrNotFound", bad, err)
			}
		}
		revoke := func(id int64) {
			t.Helper()
			if err := s.Write(ctx, func(tx *gorm.DB) error {
				return tx.Model(&models.Invitation{}).Where("id = ?", id).Update("revoked_at", s.Now()).Error
			}); err != nil {
				t.Fatal(err)
			}
		}
		revoke(j.Invitation.ID)
		for _, l := range []string{tok, later} {
			if _, err := s.JourneyByToken(ctx, l, models.JourneyFull); !errors.Is(err, models.ErrNotFound) {
				t.Fatalf("revoked link: %v, want ErrNotFound", err)
			}
		}

		// A State consultation: the respondent is the State's.
		sc, err := s.CreateConsultation(ctx, models.NewConsultation{Title: "S", Unit: models.UnitState}, nil)
		if err != nil {
			t.Fatal(err)
		}
		r, _ := s.CreateRound(ctx, sc.ID, models.NewRound{Title: "R"}, nil)
		s.CreateQuestion(ctx, r.ID, models.QuestionInput{Kind: models.QShortText, Prompt: "Q"}, nil)
		s.OpenRound(ctx, r.ID, nil)
		invite := func(name string) string {
			t.Helper()
			var tok string
			if err := s.Write(ctx, func(tx *gorm.DB) error {
				p := models.Participant{Name: name, Email: name + "@example.org", Kind: models.KindExpert, Country: "KE", Language: "en", CreatedAt: s.Now(), UpdatedAt: s.Now()}
				if err := tx.Create(&p).Error; err != nil {
					return err
				}
				var err error
				tok, _, err = models.IssueInvitation(tx, s.Now(), sc.ID, p.ID)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			return tok
		}
		first := invite("first")
		fj, _ := s.JourneyByToken(ctx, first, models.JourneyFull)
		if err := s.OpenJourney(ctx, fj); err != nil {
			t.Fatal(err)
		}
		fj = same(first, "State, opened")
		if fj.Respondent == nil || fj.Respondent.StateCountry == nil || *fj.Respondent.StateCountry != "KE" {
			t.Fatalf("State respondent: %+v", fj.Respondent)
		}
		revoke(fj.Invitation.ID)
		second := same(invite("second"), "State, second participant")
		if second.Respondent == nil || second.Respondent.ID != fj.Respondent.ID {
			t.Fatalf("the State's second participant reads respondent %+v, want the State's %d", second.Respondent, fj.Respondent.ID)
		}
	})
}

func mustJourney(t *testing.T, s *models.Store, tok string, reads models.JourneyReads) *models.Journey {
	t.Helper()
	j, err := s.JourneyByToken(context.Background(), tok, reads)
	if err != nil {
		t.Fatal(err)
	}
	return j
}
