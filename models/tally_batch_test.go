package models_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"focalpoint/models"
	"focalpoint/models/modeltest"
)

// TestBatchedTalliesEqualRecount: on SQLite the group-commit writer adds
// up the tally changes of the submissions in one transaction and writes
// them once. Many concurrent submits and resubmits (so batches hold
// several), some refused inside the transaction after their changes were
// counted (those must not be written), and recounts and demographic moves interleaved (writes that are
// not deferred and must see the earlier changes first) leave tallies equal
// to a full recount, and the submits did share transactions.
func TestBatchedTalliesEqualRecount(t *testing.T) {
	s := modeltest.SQLite(t)
	s.Linger = 5 * time.Millisecond
	ctx := context.Background()
	c, _ := s.CreateConsultation(ctx, models.NewConsultation{Title: "T", Unit: models.UnitPerson}, nil)
	r, _ := s.CreateRound(ctx, c.ID, models.NewRound{Title: "R"}, nil)
	q1, _ := s.CreateQuestion(ctx, r.ID, models.QuestionInput{Kind: models.QYesNo, Prompt: "Policy?", Required: true}, nil)
	q2, _ := s.CreateQuestion(ctx, r.ID, models.QuestionInput{Kind: models.QMultiChoice, Prompt: "Groups",
		Options: []models.Choice{{Value: "a"}, {Value: "b"}, {Value: "c"}}}, nil)
	if _, err := s.OpenRound(ctx, r.ID, nil); err != nil {
		t.Fatal(err)
	}
	const n = 24
	genders := []string{"female", "male", "prefer_not_to_say"}
	countries := []string{"KE", "BR", "FR", "IN"}
	var journeys []*models.Journey
	for i := 0; i < n; i++ {
		var tok string
		if err := s.Write(ctx, func(tx *gorm.DB) error {
			p := models.Participant{Name: "P", Email: fmt.Sprintf("p%d@example.org", i), Kind: models.KindExpert, Language: "en", CreatedAt: s.Now(), UpdatedAt: s.Now()}
			if err := tx.Create(&p).Error; err != nil {
				return err
			}
			var err error
			tok, _, err = models.IssueInvitation(tx, s.Now(), c.ID, p.ID)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		inv, _ := s.FindInvitationByToken(ctx, tok)
		j, err := s.LoadJourney(ctx, inv)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.SaveDemographics(ctx, j, models.RespondentDemographics{Gender: genders[i%3], InstitutionType: "ngo", Country: countries[i%4], Consent: true}); err != nil {
			t.Fatal(err)
		}
		journeys = append(journeys, j)
	}
	save := func(j *models.Journey, answers string) error {
		var in map[string]json.RawMessage
		json.Unmarshal([]byte(answers), &in)
		vals, err := j.ParseAnswers(in)
		if err != nil {
			return err
		}
		_, err = s.SaveAnswers(ctx, j, j.Version(), vals)
		return err
	}
	batches0 := s.Batches()
	var submitted, refused int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i, j := range journeys {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for cycle := 0; cycle < 3; cycle++ {
				answers := fmt.Sprintf(`{"%d":"yes","%d":["a","c"]}`, q1.ID, q2.ID)
				if (i+cycle)%2 == 1 {
					answers = fmt.Sprintf(`{"%d":"no","%d":["b"]}`, q1.ID, q2.ID)
				}
				if err := save(j, answers); err != nil {
					t.Error(err)
					return
				}
				var mail models.ReceiptMail
				if i%6 == 5 && cycle == 2 {
					// Another tab saves in between, so the receipt is
					// rendered again inside the transaction, after the
					// tallies were counted, and that fails: the submit is
					// refused and its counts must not be written.
					other, err := s.LoadJourney(ctx, j.Invitation)
					if err == nil {
						err = save(other, fmt.Sprintf(`{"%d":"no","%d":["a"]}`, q1.ID, q2.ID))
					}
					if err != nil {
						t.Error(err)
						return
					}
					calls := 0
					mail = func(sub *models.Submission) (*models.OutboxMessage, error) {
						if calls++; calls > 1 {
							return nil, models.FieldErrors{"mail": "test.refused"}
						}
						return &models.OutboxMessage{Kind: "respond_receipt", ToAddress: "p@example.org", Subject: "s", TextBody: "b"}, nil
					}
				}
				_, err := s.SubmitResponse(ctx, j, mail)
				mu.Lock()
				var fe models.FieldErrors
				switch {
				case err == nil:
					submitted++
				case errors.As(err, &fe):
					refused++
				default:
					t.Error(err)
				}
				mu.Unlock()
				if i%8 == 0 && cycle == 1 {
					if err := s.RecountTallies(ctx, c.ID); err != nil {
						t.Error(err)
					}
				}
				if i%5 == 0 && cycle == 0 {
					if err := s.SaveDemographics(ctx, j, models.RespondentDemographics{Gender: "male", InstitutionType: "academia", Country: "BR", Consent: true}); err != nil {
						t.Error(err)
					}
				}
			}
		}()
	}
	wg.Wait()
	if refused == 0 || submitted == 0 {
		t.Fatalf("submitted %d, refused %d: the test should exercise both", submitted, refused)
	}
	// Each submit and save is one write; far fewer transactions means the
	// submits shared them.
	if b := s.Batches() - batches0; b >= int64(2*submitted) {
		t.Fatalf("%d transactions for %d submits and as many saves: no group commit", b, submitted)
	}
	assertTalliesEqualRecount(t, s, c.ID)
}

// assertTalliesEqualRecount fails t unless the running tallies of a
// consultation (non-empty) equal a full recount.
func assertTalliesEqualRecount(t *testing.T, s *models.Store, cid int64) {
	t.Helper()
	ctx := context.Background()
	live, err := s.TallySnapshot(ctx, cid)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.RecountTallies(ctx, cid); err != nil {
		t.Fatal(err)
	}
	recount, _ := s.TallySnapshot(ctx, cid)
	if len(live) == 0 || !reflect.DeepEqual(live, recount) {
		t.Fatalf("tallies differ from a recount:\n live    %v\n recount %v", live, recount)
	}
}
