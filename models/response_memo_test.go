package models_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"focalpoint/models"
	"focalpoint/models/modeltest"
)

// memoQuestions are questions of every shape a submit writes rows for: an
// open text (one row), a multi-choice (a row per option, so a change
// inserts or deletes rows), a number and a matrix (a row per matrix row).
func memoQuestions() []models.QuestionInput {
	return []models.QuestionInput{
		{Kind: models.QLongText, Prompt: "Why?"},
		{Kind: models.QMultiChoice, Prompt: "Groups", Options: []models.Choice{{Value: "a"}, {Value: "b"}, {Value: "c"}}},
		{Kind: models.QNumber, Prompt: "How many?"},
		{Kind: models.QMatrixYesNo, Prompt: "Trained", Rows: []models.Choice{{Value: "police"}, {Value: "doctors"}}},
	}
}

// respond saves answers (the API's JSON object) at version as a save
// request does (a journey to save), then, if submit, submits as a submit
// request does (a journey to submit); it returns the version after.
func respond(t *testing.T, s *models.Store, tok string, version int, answers string, submit bool) int {
	t.Helper()
	ctx := context.Background()
	j := mustJourney(t, s, tok, models.JourneyToSave)
	version, err := s.SaveAnswers(ctx, j, version, answerValues(t, j, answers))
	if err != nil {
		t.Fatal(err)
	}
	if !submit {
		return version
	}
	sub, err := s.SubmitResponse(ctx, mustJourney(t, s, tok, models.JourneyToSubmit), nil)
	if err != nil {
		t.Fatal(err)
	}
	return sub.Response.Version
}

// assertMemoMatches fails t unless the memo's entry of the link's
// response is exactly what the tables hold: the response (version,
// status, times), receipt, draft answers and submitted rows with their
// ids.
func assertMemoMatches(t *testing.T, s *models.Store, tok, when string) {
	t.Helper()
	ctx := context.Background()
	want := loadJourney(t, s, tok)
	resp, receipt, answers, rows, ok := s.ResponseMemo(want.Respondent.ID, want.Round.ID)
	if !ok {
		t.Fatalf("%s: the memo holds no entry", when)
	}
	w := *want.Response
	if resp.ID != w.ID || resp.Version != w.Version || resp.Status != w.Status || resp.UnsubmittedChanges != w.UnsubmittedChanges ||
		!resp.UpdatedAt.Equal(w.UpdatedAt) || !resp.CreatedAt.Equal(w.CreatedAt) || (resp.SubmittedAt == nil) != (w.SubmittedAt == nil) ||
		(w.SubmittedAt != nil && !resp.SubmittedAt.Equal(*w.SubmittedAt)) {
		t.Fatalf("%s: memo response %+v, tables %+v", when, resp, w)
	}
	if receipt != want.Receipt {
		t.Fatalf("%s: memo receipt %q, tables %q", when, receipt, want.Receipt)
	}
	if !reflect.DeepEqual(answers, want.Answers) {
		t.Fatalf("%s: memo answers %v, tables %v", when, answers, want.Answers)
	}
	stored, err := s.SubmittedRows(ctx, w.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) == 0 && len(stored) == 0 {
		return
	}
	if !reflect.DeepEqual(rows, stored) {
		t.Fatalf("%s: memo submitted rows\n %+v\ntables\n %+v", when, rows, stored)
	}
}

// TestResponseMemoMatchesTables: on SQLite the store remembers each
// response as its last save or submit left it, and a submit that follows
// takes it from there instead of reading it. After every save and submit
// of a respondent's journey (a first save, a first submit, resubmissions
// that rewrite, insert and delete rows, a cleared answer) the memo holds
// exactly what the tables hold, submitted rows' ids included; the
// submits were served by it; and the tallies equal a recount.
func TestResponseMemoMatchesTables(t *testing.T) {
	s := modeltest.SQLite(t)
	c, qs, tok := openRoundWith(t, s, memoQuestions()...)
	text, multi, num, matrix := qs[0].ID, qs[1].ID, qs[2].ID, qs[3].ID
	steps := []struct {
		answers string
		submit  bool
	}{
		{fmt.Sprintf(`{"%d":"Water first","%d":["a"]}`, text, multi), false},
		{fmt.Sprintf(`{"%d":7,"%d":{"police":"yes","doctors":"no"}}`, num, matrix), true},
		{fmt.Sprintf(`{"%d":"Water first","%d":["a","c"],"%d":7.5}`, text, multi, num), true},
		{fmt.Sprintf(`{"%d":"Clean air first","%d":["b"]}`, text, multi), false},
		{fmt.Sprintf(`{"%d":{"police":"no","doctors":"no"}}`, matrix), true},
		{fmt.Sprintf(`{"%d":null}`, multi), true},
		{fmt.Sprintf(`{"%d":["a","b","c"],"%d":null}`, multi, num), true},
	}
	version, submits := 0, int64(0)
	for i, st := range steps {
		hits := memoHits(s)
		version = respond(t, s, tok, version, st.answers, st.submit)
		assertMemoMatches(t, s, tok, fmt.Sprintf("step %d (%s, submit %v)", i+1, st.answers, st.submit))
		if st.submit {
			submits++
			if got := memoHits(s) - hits; got != 1 {
				t.Fatalf("step %d: the submit was served by the memo %d times, want 1", i+1, got)
			}
		}
	}
	if submits < 4 {
		t.Fatal("too few submits to mean anything")
	}
	assertTalliesEqualRecount(t, s, c.ID)
}

// TestResponseMemoStaleEntryIsCaught: another store on the same database
// file (another process: a second instance, a command-line tool) moves a
// response on, so this store's memo is behind. Its submit must notice (the
// version no longer matches) and submit the draft as the tables hold it,
// with the tallies still equal to a recount and the memo put right.
func TestResponseMemoStaleEntryIsCaught(t *testing.T) {
	url := modeltest.SQLiteURL(t)
	a := modeltest.Open(t, url)
	b := modeltest.Open(t, url)
	ctx := context.Background()
	c, qs, tok := openRoundWith(t, a, memoQuestions()...)
	text, multi := qs[0].ID, qs[1].ID
	version := respond(t, a, tok, 0, fmt.Sprintf(`{"%d":"from a","%d":["a"]}`, text, multi), true)
	// b saves twice (its own memo knows nothing of the response).
	version = respond(t, b, tok, version, fmt.Sprintf(`{"%d":"from b","%d":["b","c"]}`, text, multi), false)
	version = respond(t, b, tok, version, fmt.Sprintf(`{"%d":"from b again"}`, text), false)
	j := mustJourney(t, a, tok, models.JourneyToSubmit)
	if j.Version() >= version {
		t.Fatalf("a's journey to submit is at version %d, the tables at %d: the memo was not used, nothing is tested", j.Version(), version)
	}
	sub, err := a.SubmitResponse(ctx, j, nil)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := a.SubmittedRows(ctx, sub.Response.ID)
	if err != nil {
		t.Fatal(err)
	}
	got := models.RebuildAnswers(j.Questions, rows)
	if got[text] != `"from b again"` || got[multi] != `["b","c"]` {
		t.Fatalf("submitted from a stale memo: %v, want b's draft (from b again, [b c])", got)
	}
	if sub.Response.Version != version+1 {
		t.Fatalf("the submit left version %d, want %d", sub.Response.Version, version+1)
	}
	assertMemoMatches(t, a, tok, "after the submit from a stale entry")
	assertTalliesEqualRecount(t, a, c.ID)
}

// TestNoResponseMemoOnPostgres: on PostgreSQL (several instances, ids
// from a shared sequence) a journey to submit always reads the response.
func TestNoResponseMemoOnPostgres(t *testing.T) {
	s := modeltest.Open(t, modeltest.PostgresURL(t))
	_, _, tok := openRoundWith(t, s, memoQuestions()...)
	respond(t, s, tok, 0, `{}`, false)
	j := mustJourney(t, s, tok, models.JourneyToSubmit)
	if _, _, _, _, ok := s.ResponseMemo(j.Respondent.ID, j.Round.ID); ok || memoHits(s) != 0 {
		t.Fatal("a PostgreSQL store keeps a response memo")
	}
}

func memoHits(s *models.Store) int64 { hits, _ := s.ResponseMemoStats(); return hits }
