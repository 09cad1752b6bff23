package models_test

import (
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"

	"gorm.io/gorm"

	"focalpoint/models"
	"focalpoint/models/modeltest"
)

func TestParseAnswerAndExplodeRoundTrip(t *testing.T) {
	lo, hi := 1.0, 5.0
	qs := []models.Question{
		{ID: 1, Kind: models.QLongText},
		{ID: 2, Kind: models.QSingleChoice, Options: `[{"value":"a","label":"A"},{"value":"b","label":"B"}]`},
		{ID: 3, Kind: models.QMultiChoice, Options: `[{"value":"a","label":"A"},{"value":"b","label":"B"},{"value":"c","label":"C"}]`},
		{ID: 4, Kind: models.QMatrixYesNo, RowsJSON: `[{"value":"r1","label":"R1"},{"value":"r2","label":"R2"}]`},
		{ID: 5, Kind: models.QScale, MinValue: &lo, MaxValue: &hi},
		{ID: 6, Kind: models.QNumber},
		{ID: 7, Kind: models.QYesNo},
		{ID: 8, Kind: models.QCountry},
	}
	good := map[int64]string{1: `"text ✓"`, 2: `"b"`, 3: `["c","a"]`, 4: `{"r2":"no","r1":"yes"}`, 5: `3`, 6: `-2.5`, 7: `"no"`, 8: `"KE"`}
	bad := map[int64]string{1: `5`, 2: `"z"`, 3: `["a","z"]`, 4: `{"r9":"yes"}`, 5: `2.5`, 6: `"x"`, 7: `"maybe"`, 8: `"XX"`}
	stored := map[int64]string{}
	for i := range qs {
		q := &qs[i]
		v, msg := models.ParseAnswerJSON(q, json.RawMessage(good[q.ID]))
		if msg != "" || v.Clear {
			t.Fatalf("q%d %s: %s", q.ID, good[q.ID], msg)
		}
		stored[q.ID] = v.JSON
		if _, msg := models.ParseAnswerJSON(q, json.RawMessage(bad[q.ID])); msg == "" {
			t.Errorf("q%d accepted %s", q.ID, bad[q.ID])
		}
		if v, msg := models.ParseAnswerJSON(q, json.RawMessage(`null`)); msg != "" || !v.Clear {
			t.Errorf("q%d null does not clear", q.ID)
		}
	}
	if stored[3] != `["a","c"]` {
		t.Errorf("multi-choice kept in option order: %s", stored[3])
	}
	// Exploding (submit) and rebuilding (read-only page) give the same values.
	var rows []models.SubmittedAnswer
	for i := range qs {
		rows = append(rows, models.ExplodeForTest(&qs[i], stored[qs[i].ID])...)
	}
	if len(rows) != 10 {
		t.Fatalf("%d rows", len(rows))
	}
	if got := models.RebuildAnswers(qs, rows); !reflect.DeepEqual(got, stored) {
		t.Fatalf("rebuilt %v\n want %v", got, stored)
	}
}

// TestSubmitKeepsTalliesEqualToRecount submits, resubmits and changes
// demographics after submitting, and checks the tallies synthesis reads
// equal a full recount, on both databases.
func TestSubmitKeepsTalliesEqualToRecount(t *testing.T) {
	modeltest.Stores(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		c, err := s.CreateConsultation(ctx, models.NewConsultation{Title: "T", Unit: models.UnitPerson}, nil)
		if err != nil {
			t.Fatal(err)
		}
		r, _ := s.CreateRound(ctx, c.ID, models.NewRound{Title: "R"}, nil)
		q1, _ := s.CreateQuestion(ctx, r.ID, models.QuestionInput{Kind: models.QYesNo, Prompt: "Policy?"}, nil)
		q2, _ := s.CreateQuestion(ctx, r.ID, models.QuestionInput{Kind: models.QMultiChoice, Prompt: "Groups",
			Options: []models.Choice{{Value: "a"}, {Value: "b"}, {Value: "c"}}}, nil)
		if _, err := s.OpenRound(ctx, r.ID, nil); err != nil {
			t.Fatal(err)
		}
		journey := func(n int) *models.Journey {
			var tok string
			err := s.Write(ctx, func(tx *gorm.DB) error {
				p := models.Participant{Name: "P", Email: fmt.Sprintf("p%d@example.org", n), Kind: models.KindExpert, Language: "en", CreatedAt: s.Now(), UpdatedAt: s.Now()}
				if err := tx.Create(&p).Error; err != nil {
					return err
				}
				var err error
				tok, _, err = models.IssueInvitation(tx, s.Now(), c.ID, p.ID)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			return loadJourney(t, s, tok)
		}
		save := func(j *models.Journey, answers string) {
			saveJSON(t, s, j, answers)
			if _, err := s.SubmitResponse(ctx, j, nil); err != nil {
				t.Fatal(err)
			}
		}
		a, b := journey(1), journey(2)
		if err := s.SaveDemographics(ctx, a, models.RespondentDemographics{Gender: "female", InstitutionType: "ngo", Country: "KE", Consent: true}); err != nil {
			t.Fatal(err)
		}
		save(a, fmt.Sprintf(`{"%d":"yes","%d":["a","b"]}`, q1.ID, q2.ID))
		save(b, fmt.Sprintf(`{"%d":"no"}`, q1.ID))
		save(a, fmt.Sprintf(`{"%d":"no","%d":["c"]}`, q1.ID, q2.ID))
		if err := s.SaveDemographics(ctx, a, models.RespondentDemographics{Gender: "male", InstitutionType: "academia", Country: "BR", Consent: true}); err != nil {
			t.Fatal(err)
		}
		assertTalliesEqualRecount(t, s, c.ID)
	})
}

// TestReceiptMailFollowsCommittedAnswers: the receipt is rendered before
// the transaction from the answers read then; if they changed in between,
// it is rendered again from what is actually submitted.
func TestReceiptMailFollowsCommittedAnswers(t *testing.T) {
	s := modeltest.SQLite(t)
	ctx := context.Background()
	c, _ := s.CreateConsultation(ctx, models.NewConsultation{Title: "T", Unit: models.UnitPerson}, nil)
	r, _ := s.CreateRound(ctx, c.ID, models.NewRound{Title: "R"}, nil)
	q, _ := s.CreateQuestion(ctx, r.ID, models.QuestionInput{Kind: models.QShortText, Prompt: "Q"}, nil)
	s.OpenRound(ctx, r.ID, nil)
	var tok string
	s.Write(ctx, func(tx *gorm.DB) error {
		p := models.Participant{Name: "P", Email: "p@example.org", Kind: models.KindExpert, Language: "en", CreatedAt: s.Now(), UpdatedAt: s.Now()}
		tx.Create(&p)
		tok, _, _ = models.IssueInvitation(tx, s.Now(), c.ID, p.ID)
		return nil
	})
	inv, _ := s.FindInvitationByToken(ctx, tok)
	j, _ := s.LoadJourney(ctx, inv)
	vals, _ := j.ParseAnswers(map[string]json.RawMessage{fmt.Sprint(q.ID): json.RawMessage(`"stale copy"`)})
	if _, err := s.SaveAnswers(ctx, j, 0, vals); err != nil {
		t.Fatal(err)
	}
	// Another tab saves after this request read: j still holds the stale
	// copy at the old version.
	j2, _ := s.LoadJourney(ctx, inv)
	vals2, _ := j2.ParseAnswers(map[string]json.RawMessage{fmt.Sprint(q.ID): json.RawMessage(`"committed"`)})
	if _, err := s.SaveAnswers(ctx, j2, j2.Version(), vals2); err != nil {
		t.Fatal(err)
	}
	var rendered []string
	mail := func(sub *models.Submission) (*models.OutboxMessage, error) {
		body := sub.Answers[q.ID]
		rendered = append(rendered, body)
		return &models.OutboxMessage{Kind: "respond_receipt", ToAddress: "p@example.org", Subject: "s", TextBody: body}, nil
	}
	if _, err := s.SubmitResponse(ctx, j, mail); err != nil {
		t.Fatal(err)
	}
	var body string
	s.R.Raw("SELECT text_body FROM outbox").Scan(&body)
	if body != `"committed"` || len(rendered) != 2 {
		t.Fatalf("mail says %s (rendered %v)", body, rendered)
	}
}
