package models_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"math/rand"
	"reflect"
	"strings"
	"testing"

	"gorm.io/gorm"

	"focalpoint/models"
	"focalpoint/models/modeltest"
)

// recountedRates is the response-rate definition the invitation tallies
// replace, as the dashboard computed it before: a COUNT(DISTINCT
// participant_id) over the live invitations joined to participants.
func recountedRates(t *testing.T, s *models.Store, consultationID int64, col string) []models.RateRow {
	t.Helper()
	var rows []models.RateRow
	err := s.R.Raw(`SELECT p.`+col+` AS value, COUNT(DISTINCT i.participant_id) AS invited,
			COUNT(DISTINCT CASE WHEN i.submitted_at IS NOT NULL OR i.status = ? THEN i.participant_id END) AS submitted
			FROM invitations i JOIN participants p ON p.id = i.participant_id
			WHERE i.consultation_id = ? AND i.revoked_at IS NULL AND i.status <> ?
			GROUP BY p.`+col+` ORDER BY p.`+col, models.InvSubmitted, consultationID, models.InvRevoked).Scan(&rows).Error
	if err != nil {
		t.Fatal(err)
	}
	out := []models.RateRow{}
	for _, r := range rows {
		if r.Invited > 0 {
			r.Rate = math.Round(float64(r.Submitted)*1000/float64(r.Invited)) / 10
		}
		if col == "kind" || strings.TrimSpace(r.Value) != "" {
			out = append(out, r)
		}
	}
	return out
}

// checkInvitationTallies compares the running invitation tallies of a
// consultation with the definitions they replace (synthesis's invited
// count and the dashboard's response-rate tables) and with a recount.
func checkInvitationTallies(t *testing.T, s *models.Store, consultationID int64, step string) {
	t.Helper()
	ctx := context.Background()
	sy, err := s.Synthesis(ctx, consultationID, models.SynthesisFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var live int64
	if err := s.R.Raw("SELECT COUNT(DISTINCT participant_id) FROM invitations WHERE consultation_id = ? AND revoked_at IS NULL", consultationID).Scan(&live).Error; err != nil {
		t.Fatal(err)
	}
	if sy.Invited != live {
		t.Errorf("%s: synthesis invited %d, recount %d", step, sy.Invited, live)
	}
	byKind, byState, err := s.ResponseRates(ctx, consultationID)
	if err != nil {
		t.Fatal(err)
	}
	if byKind == nil {
		byKind = []models.RateRow{}
	}
	if byState == nil {
		byState = []models.RateRow{}
	}
	if want := recountedRates(t, s, consultationID, "kind"); !reflect.DeepEqual(byKind, want) {
		t.Errorf("%s: rates by kind %+v, recount %+v", step, byKind, want)
	}
	if want := recountedRates(t, s, consultationID, "nominated_by"); !reflect.DeepEqual(byState, want) {
		t.Errorf("%s: rates by State %+v, recount %+v", step, byState, want)
	}
	running, err := s.InvitationTallySnapshot(ctx, consultationID)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RecountInvitationTallies(ctx, consultationID); err != nil {
		t.Fatal(err)
	}
	recount, _ := s.InvitationTallySnapshot(ctx, consultationID)
	if !reflect.DeepEqual(running, recount) {
		t.Errorf("%s: invitation tallies differ from a recount:\n running %v\n recount %v", step, running, recount)
	}
}

// TestInvitationTalliesEqualRecount issues, revokes, reissues and submits
// invitations, changes participants' kind and nominating State, and
// checks after each step that the invited/submitted counts kept by the
// triggers equal the COUNT(DISTINCT …) definitions they replace, on both
// databases.
func TestInvitationTalliesEqualRecount(t *testing.T) {
	modeltest.Stores(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		c, err := s.CreateConsultation(ctx, models.NewConsultation{Title: "T", Unit: models.UnitPerson}, nil)
		if err != nil {
			t.Fatal(err)
		}
		other, _ := s.CreateConsultation(ctx, models.NewConsultation{Title: "Other", Unit: models.UnitPerson}, nil)
		r, _ := s.CreateRound(ctx, c.ID, models.NewRound{Title: "R"}, nil)
		q, _ := s.CreateQuestion(ctx, r.ID, models.QuestionInput{Kind: models.QYesNo, Prompt: "Policy?"}, nil)
		if _, err := s.OpenRound(ctx, r.ID, nil); err != nil {
			t.Fatal(err)
		}
		kinds := []string{models.KindExpert, models.KindNGO, models.KindResearcher, models.KindObserver}
		states := []string{"", "", "FR", "KE", "BR"}
		rng := rand.New(rand.NewSource(8))
		var people []int64
		tokens := map[int64]string{} // invitation id → token
		err = s.Write(ctx, func(tx *gorm.DB) error {
			for i := 0; i < 24; i++ {
				p := models.Participant{Name: "P", Email: fmt.Sprintf("inv-tally-%d@example.org", i), Kind: kinds[i%len(kinds)],
					NominatedBy: states[i%len(states)], Language: "en", CreatedAt: s.Now(), UpdatedAt: s.Now()}
				if err := tx.Create(&p).Error; err != nil {
					return err
				}
				people = append(people, p.ID)
			}
			for i, id := range people {
				tok, inv, err := models.IssueInvitation(tx, s.Now(), c.ID, id)
				if err != nil {
					return err
				}
				tokens[inv.ID] = tok
				if i%3 == 0 { // a second consultation must not mix in
					if _, _, err := models.IssueInvitation(tx, s.Now(), other.ID, id); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		checkInvitationTallies(t, s, c.ID, "issued")
		checkInvitationTallies(t, s, other.ID, "issued (other)")

		submit := func(invID int64) {
			inv, err := s.FindInvitationByToken(ctx, tokens[invID])
			if err != nil {
				t.Fatal(err)
			}
			j, err := s.LoadJourney(ctx, inv)
			if err != nil {
				t.Fatal(err)
			}
			var in map[string]json.RawMessage
			json.Unmarshal([]byte(fmt.Sprintf(`{"%d":"yes"}`, q.ID)), &in)
			vals, err := j.ParseAnswers(in)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := s.SaveAnswers(ctx, j, j.Version(), vals); err != nil {
				t.Fatal(err)
			}
			if _, err := s.SubmitResponse(ctx, j, nil); err != nil {
				t.Fatal(err)
			}
		}
		var invs []int64
		for id := range tokens {
			invs = append(invs, id)
		}
		// Deterministic order.
		for i := 1; i < len(invs); i++ {
			for k := i; k > 0 && invs[k] < invs[k-1]; k-- {
				invs[k], invs[k-1] = invs[k-1], invs[k]
			}
		}
		for _, id := range invs[:10] {
			submit(id)
		}
		submit(invs[0]) // a resubmission counts once
		checkInvitationTallies(t, s, c.ID, "submitted")

		// Revoke a submitted and a fresh invitation; reissue a submitted one
		// (its status carries over) and a revoked one.
		for _, id := range []int64{invs[1], invs[15]} {
			if _, err := s.RevokeInvitation(ctx, nil, id); err != nil {
				t.Fatal(err)
			}
		}
		checkInvitationTallies(t, s, c.ID, "revoked")
		render := func(kind string, inv *models.Invitation, p *models.Participant, tok string) (*models.OutboxMessage, error) {
			return &models.OutboxMessage{Kind: kind, ToAddress: p.Email, Subject: "s", TextBody: tok}, nil
		}
		for _, id := range []int64{invs[2], invs[15]} {
			if _, err := s.ReissueInvitation(ctx, nil, id, render); err != nil {
				t.Fatal(err)
			}
		}
		checkInvitationTallies(t, s, c.ID, "reissued")

		// Participants change kind (roster) and nominating State (nomination
		// flow writes the column directly), one of them a submitter.
		for i, id := range []int64{people[0], people[3], people[12], people[20]} {
			k := kinds[(i+1)%len(kinds)]
			if _, err := s.UpdateParticipant(ctx, id, models.ParticipantInput{Kind: &k}, nil); err != nil {
				t.Fatal(err)
			}
		}
		err = s.Write(ctx, func(tx *gorm.DB) error {
			for _, id := range []int64{people[0], people[5], people[7]} {
				if err := tx.Exec("UPDATE participants SET nominated_by = ? WHERE id = ?", states[rng.Intn(len(states))]+"X", id).Error; err != nil {
					return err
				}
			}
			// Raw status edits and a deletion reach the counts too.
			if err := tx.Exec("UPDATE invitations SET status = ?, submitted_at = NULL WHERE id = ?", models.InvOpened, invs[4]).Error; err != nil {
				return err
			}
			if err := tx.Exec("UPDATE invitations SET submitted_at = ? WHERE id = ?", s.Now(), invs[20]).Error; err != nil {
				return err
			}
			if err := tx.Exec("DELETE FROM outbox WHERE invitation_id = ?", invs[22]).Error; err != nil {
				return err
			}
			return tx.Exec("DELETE FROM invitations WHERE id = ?", invs[22]).Error
		})
		if err != nil {
			t.Fatal(err)
		}
		checkInvitationTallies(t, s, c.ID, "participants changed")
		checkInvitationTallies(t, s, other.ID, "participants changed (other)")
	})
}
