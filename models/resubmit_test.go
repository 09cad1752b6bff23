package models_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"gorm.io/gorm"

	"focalpoint/models"
	"focalpoint/models/modeltest"
)

// TestResubmitReplacesOnlyChangedQuestions: a resubmission keeps the
// submitted rows of unchanged answers (same ids, still found by search),
// rewrites those of changed closed answers in place (same ids, new
// values; surplus rows deleted) and gives changed text new rows; what was
// submitted reads back as the new answers, search finds the new text and
// not the old, and the tallies equal a recount, on both databases.
func TestResubmitReplacesOnlyChangedQuestions(t *testing.T) {
	modeltest.Stores(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		c, qs, tok := openRoundWith(t, s, models.QuestionInput{Kind: models.QLongText, Prompt: "Why?"},
			models.QuestionInput{Kind: models.QMultiChoice, Prompt: "Groups", Options: []models.Choice{{Value: "a"}, {Value: "b"}, {Value: "c"}}},
			models.QuestionInput{Kind: models.QNumber, Prompt: "How many?"})
		text, multi, num := qs[0], qs[1], qs[2]
		submit := func(answers string) (*models.Journey, map[int64][]int64) {
			t.Helper()
			j, sub := submitJSON(t, s, tok, answers)
			rows, _ := s.SubmittedRows(ctx, sub.Response.ID)
			ids := map[int64][]int64{}
			for _, r := range rows {
				ids[r.QuestionID] = append(ids[r.QuestionID], r.ID)
			}
			got := models.RebuildAnswers(j.Questions, rows)
			for q, v := range sub.Answers {
				if got[q] != v {
					t.Fatalf("question %d reads back %s, submitted %s", q, got[q], v)
				}
			}
			return j, ids
		}
		search := func(q string) int64 {
			t.Helper()
			_, total, err := s.ListAnswers(ctx, c.ID, models.AnswerFilter{Q: q}, 0, 10)
			if err != nil {
				t.Fatal(err)
			}
			return total
		}
		clock := time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)
		s.Now = func() time.Time { return clock }
		invitationSubmittedAt := func() time.Time {
			t.Helper()
			inv, err := s.FindInvitationByToken(ctx, tok)
			if err != nil || inv.SubmittedAt == nil {
				t.Fatalf("invitation after a submit: %+v, %v", inv, err)
			}
			return inv.SubmittedAt.UTC()
		}
		firstJ, first := submit(fmt.Sprintf(`{"%d":"Water matters most","%d":["a","b"],"%d":7}`, text.ID, multi.ID, num.ID))
		if at := invitationSubmittedAt(); !at.Equal(clock) {
			t.Fatalf("invitation submitted_at %v after the first submit at %v", at, clock)
		}
		clock = clock.Add(time.Hour)
		_, second := submit(fmt.Sprintf(`{"%d":"Water matters most","%d":["a","c"],"%d":7.5}`, text.ID, multi.ID, num.ID))
		if fmt.Sprint(first[text.ID]) != fmt.Sprint(second[text.ID]) {
			t.Fatalf("the unchanged text got new rows: %v → %v", first[text.ID], second[text.ID])
		}
		if fmt.Sprint(first[multi.ID]) != fmt.Sprint(second[multi.ID]) || fmt.Sprint(first[num.ID]) != fmt.Sprint(second[num.ID]) {
			t.Fatalf("changed closed answers were not rewritten in place: multi %v → %v, number %v → %v", first[multi.ID], second[multi.ID], first[num.ID], second[num.ID])
		}
		// The invitation keeps its first submission; the response has the last.
		if at := invitationSubmittedAt(); !at.Equal(clock.Add(-time.Hour)) {
			t.Fatalf("invitation submitted_at moved to %v on a resubmission (first was %v)", at, clock.Add(-time.Hour))
		}
		if j := loadJourney(t, s, tok); j.Response.SubmittedAt == nil || !j.Response.SubmittedAt.UTC().Equal(clock) || j.Response.ID != firstJ.Response.ID {
			t.Fatalf("response after the resubmission: %+v", j.Response)
		}
		if n := search("water"); n != 1 {
			t.Fatalf("search after the resubmission found %d answers, want 1", n)
		}
		// New text is rewritten in its row (its answer_id stays), and the
		// search index, which held the old text, follows; a shorter
		// multi-choice keeps its first row.
		_, third := submit(fmt.Sprintf(`{"%d":"Clean air matters most","%d":["b"],"%d":7.5}`, text.ID, multi.ID, num.ID))
		if fmt.Sprint(third[text.ID]) != fmt.Sprint(second[text.ID]) {
			t.Fatalf("changed text was not rewritten in its row: %v → %v", second[text.ID], third[text.ID])
		}
		if fmt.Sprint(third[multi.ID]) != fmt.Sprint(second[multi.ID][:1]) {
			t.Fatalf("multi-choice from two options to one: rows %v → %v", second[multi.ID], third[multi.ID])
		}
		if n, m := search("air"), search("water"); n != 1 || m != 0 {
			t.Fatalf("search after the text changed: %d for the new text, %d for the old", n, m)
		}
		assertTalliesEqualRecount(t, s, c.ID)
		// Clearing an answer removes its rows.
		_, fourth := submit(fmt.Sprintf(`{"%d":null}`, multi.ID))
		if len(fourth[multi.ID]) != 0 || len(fourth[text.ID]) != 1 {
			t.Fatalf("after clearing the multi-choice: %v", fourth)
		}
		assertTalliesEqualRecount(t, s, c.ID)
	})
}

// saveJSON saves answers given as the API's JSON object (question id →
// value) at the journey's version.
func saveJSON(t *testing.T, s *models.Store, j *models.Journey, answers string) {
	t.Helper()
	if _, err := s.SaveAnswers(context.Background(), j, j.Version(), answerValues(t, j, answers)); err != nil {
		t.Fatal(err)
	}
}

// answerValues parses answers given as the API's JSON object against
// the journey's questions.
func answerValues(t *testing.T, j *models.Journey, answers string) []models.AnswerValue {
	t.Helper()
	var in map[string]json.RawMessage
	if err := json.Unmarshal([]byte(answers), &in); err != nil {
		t.Fatal(err)
	}
	vals, err := j.ParseAnswers(in)
	if err != nil {
		t.Fatal(err)
	}
	return vals
}

// loadJourney loads the journey of the link tok as it is now.
func loadJourney(t *testing.T, s *models.Store, tok string) *models.Journey {
	t.Helper()
	ctx := context.Background()
	inv, err := s.FindInvitationByToken(ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	j, err := s.LoadJourney(ctx, inv)
	if err != nil {
		t.Fatal(err)
	}
	return j
}

// submitJSON loads the journey of the link tok, saves answers (as
// saveJSON) and submits them.
func submitJSON(t *testing.T, s *models.Store, tok, answers string) (*models.Journey, *models.Submission) {
	t.Helper()
	j := loadJourney(t, s, tok)
	saveJSON(t, s, j, answers)
	sub, err := s.SubmitResponse(context.Background(), j, nil)
	if err != nil {
		t.Fatal(err)
	}
	return j, sub
}

// TestSubmitFromStaleJourneySubmitsCurrentDraft: a submit prepares its
// rows and tally change from the journey as read, before the write; when
// other saves and submits came in between (another tab), the writer must
// drop that preparation and submit the draft as it is, with the tallies
// still equal to a recount.
func TestSubmitFromStaleJourneySubmitsCurrentDraft(t *testing.T) {
	modeltest.Stores(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		c, qs, tok := openRoundWith(t, s, models.QuestionInput{Kind: models.QLongText, Prompt: "Why?"},
			models.QuestionInput{Kind: models.QSingleChoice, Prompt: "Pick", Options: []models.Choice{{Value: "a"}, {Value: "b"}}})
		text, pick := qs[0], qs[1]
		load := func() *models.Journey { t.Helper(); return loadJourney(t, s, tok) }
		save := func(j *models.Journey, answers string) { t.Helper(); saveJSON(t, s, j, answers) }
		first := load()
		save(first, fmt.Sprintf(`{"%d":"first text","%d":"a"}`, text.ID, pick.ID))
		if _, err := s.SubmitResponse(ctx, first, nil); err != nil {
			t.Fatal(err)
		}
		stale := load() // a tab opened now, answers and version as of now
		other := load()
		save(other, fmt.Sprintf(`{"%d":"second text","%d":"b"}`, text.ID, pick.ID))
		if _, err := s.SubmitResponse(ctx, other, nil); err != nil {
			t.Fatal(err)
		}
		save(other, fmt.Sprintf(`{"%d":"third text","%d":"b"}`, text.ID, pick.ID))
		sub, err := s.SubmitResponse(ctx, stale, nil)
		if err != nil {
			t.Fatal(err)
		}
		rows, _ := s.SubmittedRows(ctx, sub.Response.ID)
		got := models.RebuildAnswers(stale.Questions, rows)
		if got[text.ID] != `"third text"` || got[pick.ID] != `"b"` {
			t.Fatalf("submitted from the stale tab: %v, want the current draft (third text, b)", got)
		}
		if len(rows) != 2 {
			t.Fatalf("%d submitted rows, want 2 (old rows left behind?)", len(rows))
		}
		assertTalliesEqualRecount(t, s, c.ID)
	})
}

// TestQueueMailSetsID: a queued message gets its row's id, on both
// databases.
func TestQueueMailSetsID(t *testing.T) {
	modeltest.Stores(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		var ids []int64
		for i := 0; i < 2; i++ {
			m := &models.OutboxMessage{Kind: "test", ToAddress: fmt.Sprintf("p%d@example.org", i), Subject: "s", TextBody: "t"}
			if err := s.Write(ctx, func(tx *gorm.DB) error { return models.QueueMail(tx, s.Now(), m) }); err != nil {
				t.Fatal(err)
			}
			var to string
			s.R.Raw("SELECT to_address FROM outbox WHERE id = ?", m.ID).Scan(&to)
			if m.ID == 0 || to != m.ToAddress {
				t.Fatalf("message id %d names %q, want %q", m.ID, to, m.ToAddress)
			}
			ids = append(ids, m.ID)
		}
		if ids[0] == ids[1] {
			t.Fatalf("two messages, one id %d", ids[0])
		}
	})
}
