package bench

import (
	"context"
	"reflect"
	"slices"
	"testing"

	"focalpoint/models"
	"focalpoint/models/modeltest"
)

// The fast load path (indexes and triggers deferred, tallies counted in
// Go while generating, synchronous=OFF while loading) leaves the same
// database a plain load would: tallies equal RecountTallies, invitation
// tallies equal their recount, every open answer in the full-text index
// and findable, the triggers back in place, the writer's synchronous mode restored.
func TestGenerateFastPathEqualsRecount(t *testing.T) {
	old := deferMin
	deferMin = 0
	defer func() { deferMin = old }()
	modeltest.Stores(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		res, err := Generate(ctx, s, GenConfig{Respondents: 300, Fresh: 20, AllKinds: true, Seed: 11, Chunk: 70})
		if err != nil {
			t.Fatal(err)
		}
		running, err := s.TallySnapshot(ctx, res.ConsultationID)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.RecountTallies(ctx, res.ConsultationID); err != nil {
			t.Fatal(err)
		}
		recount, _ := s.TallySnapshot(ctx, res.ConsultationID)
		if len(running) == 0 || !reflect.DeepEqual(running, recount) {
			for i := range running {
				if i < len(recount) && running[i] != recount[i] {
					t.Errorf("line %d: running %s, recount %s", i, running[i], recount[i])
					break
				}
			}
			t.Fatalf("tallies counted while generating differ from a recount (%d and %d lines)", len(running), len(recount))
		}
		inv, _ := s.InvitationTallySnapshot(ctx, res.ConsultationID)
		if err := s.RecountInvitationTallies(ctx, res.ConsultationID); err != nil {
			t.Fatal(err)
		}
		invRecount, _ := s.InvitationTallySnapshot(ctx, res.ConsultationID)
		if len(inv) == 0 || !reflect.DeepEqual(inv, invRecount) {
			t.Fatalf("invitation tallies %v, recount %v", inv, invRecount)
		}
		sy, err := s.Synthesis(ctx, res.ConsultationID, models.SynthesisFilter{})
		if err != nil || sy.Invited != 320 || sy.Respondents != 300 {
			t.Fatalf("synthesis: %v, invited %d, respondents %d", err, sy.Invited, sy.Respondents)
		}
		if s.Dialect != models.SQLite {
			return
		}
		var open, indexed, triggers, sync int64
		db := s.ReadDB(ctx)
		db.Raw("SELECT COUNT(*) FROM submitted_answers sa JOIN questions q ON q.id = sa.question_id WHERE q.kind IN ('long_text','short_text')").Scan(&open)
		db.Raw("SELECT COUNT(*) FROM answer_fts").Scan(&indexed)
		db.Raw("SELECT COUNT(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ('invitations', 'submitted_answers')").Scan(&triggers)
		if open == 0 || indexed != open {
			t.Fatalf("%d open answers, %d in the full-text index", open, indexed)
		}
		var idx []string
		db.Raw("SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ('participants', 'invitations', 'respondents', 'responses', 'answers', 'submitted_answers') ORDER BY name").Scan(&idx)
		for _, want := range append([]string{"participants_name", "respondents_consultation_code"}, appendIndexes...) {
			if !slices.Contains(idx, want) {
				t.Errorf("index %s missing after the load (have %v)", want, idx)
			}
		}
		// Three keep the invitation tallies, two the search index.
		if triggers != 5 {
			t.Fatalf("%d triggers on invitations and submitted_answers after the load, want 5", triggers)
		}
		var word string
		db.Raw("SELECT value FROM submitted_answers sa JOIN questions q ON q.id = sa.question_id WHERE q.kind = 'long_text' ORDER BY sa.id LIMIT 1").Scan(&word)
		var found int64
		db.Raw("SELECT COUNT(*) FROM answer_fts WHERE answer_fts MATCH ?", firstWord(word)).Scan(&found)
		if found == 0 {
			t.Fatalf("the word %q of an open answer is not found", firstWord(word))
		}
		s.WriterDB().Raw("PRAGMA synchronous").Scan(&sync)
		if sync != 1 {
			t.Fatalf("synchronous = %d after the load, want 1 (NORMAL, models.WriterSynchronous; the syncer fsyncs)", sync)
		}
		// Triggers work again: a new invitation is counted.
		before := sy.Invited
		if _, err := Generate(ctx, s, GenConfig{Respondents: 3, Fresh: 2, Seed: 12}); err != nil {
			t.Fatal(err)
		}
		sy, _ = s.Synthesis(ctx, res.ConsultationID, models.SynthesisFilter{})
		if sy.Invited != before {
			t.Fatalf("another consultation's load changed this one's invited count: %d → %d", before, sy.Invited)
		}
	})
}

func firstWord(s string) string {
	for i, r := range s {
		if r == ' ' || r == ',' || r == '.' {
			return s[:i]
		}
	}
	return s
}
