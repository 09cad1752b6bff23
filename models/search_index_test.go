package models_test

import (
	"context"
	"fmt"
	"testing"

	"focalpoint/models"
	"focalpoint/models/modeltest"
)

// TestSearchIndexFollowsSubmits: on SQLite a submit no longer tokenizes
// its open answers in the writer; they enter the full-text index later,
// yet a search finds every answer submitted before it, never one that a
// resubmission replaced, and the indexer leaves the index holding exactly
// the current open answers, chunk after chunk.
func TestSearchIndexFollowsSubmits(t *testing.T) {
	s := modeltest.SQLite(t)
	ctx := context.Background()
	c, qs, tok := openRoundWith(t, s, models.QuestionInput{Kind: models.QLongText, Prompt: "Why?"},
		models.QuestionInput{Kind: models.QShortText, Prompt: "Name it"},
		models.QuestionInput{Kind: models.QSingleChoice, Prompt: "Pick", Options: []models.Choice{{Value: "a"}, {Value: "b"}}})
	long, short, pick := qs[0], qs[1], qs[2]
	submit := func(tok, answers string) { t.Helper(); submitJSON(t, s, tok, answers) }
	indexed := func(word string) int64 {
		t.Helper()
		var n int64
		if err := s.R.Raw("SELECT COUNT(*) FROM answer_fts WHERE answer_fts MATCH ?", word).Scan(&n).Error; err != nil {
			t.Fatal(err)
		}
		return n
	}
	search := func(word string) []string {
		t.Helper()
		found, total, err := s.ListAnswers(ctx, c.ID, models.AnswerFilter{Q: word}, 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		if int(total) != len(found) {
			t.Fatalf("search %q: total %d, %d items", word, total, len(found))
		}
		var out []string
		for _, a := range found {
			out = append(out, a.Text)
		}
		return out
	}
	submit(tok, fmt.Sprintf(`{"%d":"Glaciers are melting","%d":"glaciers","%d":"a"}`, long.ID, short.ID, pick.ID))
	if n := indexed("glaciers"); n != 0 {
		t.Fatalf("the submit indexed %d answers itself; the indexer should", n)
	}
	if got := search("glaciers"); fmt.Sprint(got) != "[Glaciers are melting glaciers]" {
		t.Fatalf("search right after the submit: %q", got)
	}
	if n := indexed("glaciers"); n != 2 {
		t.Fatalf("after the search caught up, %d indexed answers, want 2", n)
	}
	// A resubmission replaces the long answer: the old row is gone from
	// the results at once, and from the index once the indexer runs.
	submit(tok, fmt.Sprintf(`{"%d":"Rivers are drying","%d":"glaciers","%d":"b"}`, long.ID, short.ID, pick.ID))
	if got := search("melting"); len(got) != 0 {
		t.Fatalf("the replaced answer is still found: %q", got)
	}
	if got := search("rivers"); fmt.Sprint(got) != "[Rivers are drying]" {
		t.Fatalf("search for the new answer: %q", got)
	}
	if _, err := s.IndexSearch(ctx); err != nil {
		t.Fatal(err)
	}
	var drops int64
	s.R.Raw("SELECT COUNT(*) FROM search_index_drops").Scan(&drops)
	if n := indexed("melting"); n != 0 || drops != 0 {
		t.Fatalf("after the indexer: %d replaced answers still indexed, %d drops queued", n, drops)
	}
	// Many respondents, indexed in chunks of two submitted rows each.
	old, oldIdle := models.SearchIndexChunk, models.SearchIndexIdleChunk
	models.SearchIndexChunk, models.SearchIndexIdleChunk = 2, 2
	t.Cleanup(func() { models.SearchIndexChunk, models.SearchIndexIdleChunk = old, oldIdle })
	var forests []string
	for i := range 5 {
		forests = append(forests, inviteOne(t, s, c.ID))
		submit(forests[i], fmt.Sprintf(`{"%d":"Forests number %d","%d":"b"}`, long.ID, i, pick.ID))
	}
	added, err := s.IndexSearch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if added != 5 || indexed("forests") != 5 {
		t.Fatalf("the chunked indexer added %d, %d found in the index; want 5", added, indexed("forests"))
	}
	// Their texts rewritten: five queued rows, re-indexed two at a time.
	for i, tok := range forests {
		submit(tok, fmt.Sprintf(`{"%d":"Oceans number %d","%d":"b"}`, long.ID, i, pick.ID))
	}
	before := s.Batches()
	if _, err := s.IndexSearch(ctx); err != nil {
		t.Fatal(err)
	}
	s.R.Raw("SELECT COUNT(*) FROM search_index_drops").Scan(&drops)
	if indexed("forests") != 0 || indexed("oceans") != 5 || drops != 0 || s.Batches()-before < 3 {
		t.Fatalf("rewritten in chunks of two: %d old texts and %d new ones indexed, %d drops left, %d transactions (want 0, 5, 0, at least 3)",
			indexed("forests"), indexed("oceans"), drops, s.Batches()-before)
	}
	// With no respondent's write waiting, the indexer takes the idle
	// chunk: all five in one transaction.
	models.SearchIndexIdleChunk = 1000
	for i, tok := range forests {
		submit(tok, fmt.Sprintf(`{"%d":"Lakes number %d","%d":"b"}`, long.ID, i, pick.ID))
	}
	before = s.Batches()
	if _, err := s.IndexSearch(ctx); err != nil {
		t.Fatal(err)
	}
	if indexed("oceans") != 0 || indexed("lakes") != 5 || s.Batches()-before != 1 {
		t.Fatalf("rewritten with an idle writer: %d old texts and %d new ones indexed in %d transactions (want 0, 5, 1)",
			indexed("oceans"), indexed("lakes"), s.Batches()-before)
	}
	var inIndex, open int64
	s.R.Raw("SELECT COUNT(*) FROM answer_fts").Scan(&inIndex)
	s.R.Raw(`SELECT COUNT(*) FROM submitted_answers sa JOIN questions q ON q.id = sa.question_id
		WHERE q.kind IN ('long_text','short_text')`).Scan(&open)
	if inIndex != open || open != 7 {
		t.Fatalf("the index holds %d documents for %d open answers (want 7)", inIndex, open)
	}
	// A text rewritten before the indexer ever saw it is indexed once,
	// with its last wording.
	late := inviteOne(t, s, c.ID)
	submit(late, fmt.Sprintf(`{"%d":"Deserts first draft","%d":"a"}`, long.ID, pick.ID))
	submit(late, fmt.Sprintf(`{"%d":"Deserts final wording","%d":"a"}`, long.ID, pick.ID))
	if got := search("deserts"); fmt.Sprint(got) != "[Deserts final wording]" || indexed("deserts") != 1 || indexed("draft") != 0 {
		t.Fatalf("a text rewritten before indexing: search %q, %d indexed, %d with the draft", got, indexed("deserts"), indexed("draft"))
	}
	s.R.Raw("SELECT COUNT(*) FROM answer_fts").Scan(&inIndex)
	if inIndex != open+1 {
		t.Fatalf("the index holds %d documents for %d open answers", inIndex, open+1)
	}
	// With nothing to index, the indexer (every second on a server) does
	// not write.
	before = s.Batches()
	if n, err := s.IndexSearch(ctx); err != nil || n != 0 || s.Batches() != before {
		t.Fatalf("an idle indexer run: added %d, %v, %d transactions", n, err, s.Batches()-before)
	}
}
