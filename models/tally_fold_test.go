package models_test

import (
	"context"
	"fmt"
	"testing"

	"focalpoint/models"
	"focalpoint/models/modeltest"
)

// TestTallyFoldFromAnOldReadCountsOnce: the tally log is read and added
// up on a read connection, then folded in a write. When another fold (or
// a recount) took those rows in between, the write must not add them a
// second time: it reads the log again and folds only what is there.
func TestTallyFoldFromAnOldReadCountsOnce(t *testing.T) {
	s := modeltest.SQLite(t)
	ctx := context.Background()
	c, qs, _ := openRoundWith(t, s, models.QuestionInput{Kind: models.QSingleChoice, Prompt: "Pick",
		Options: []models.Choice{{Value: "a"}, {Value: "b"}}})
	submit := func(answer string) {
		t.Helper()
		submitJSON(t, s, inviteOne(t, s, c.ID), fmt.Sprintf(`{"%d":%q}`, qs[0].ID, answer))
	}
	submit("a")
	submit("b")
	old, err := s.TallyLogRead(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := s.CompactTallies(ctx); err != nil || n == 0 {
		t.Fatalf("compact: %d rows, %v", n, err)
	}
	submit("a")
	n, err := s.FoldTallyLogWith(ctx, old)
	if err != nil {
		t.Fatal(err)
	}
	if n != 1 {
		t.Fatalf("the fold from an old read folded %d log rows, want the 1 written since", n)
	}
	assertTalliesEqualRecount(t, s, c.ID)
	// With the log empty, the fold (every second on a server) does not
	// write.
	before := s.Batches()
	if n, err := s.CompactTallies(ctx); err != nil || n != 0 || s.Batches() != before {
		t.Fatalf("a fold of an empty log: %d rows, %v, %d transactions", n, err, s.Batches()-before)
	}
}
