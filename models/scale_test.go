package models_test

import (
	"context"
	"encoding/json"
	"math/rand"
	"reflect"
	"sync"
	"testing"

	"gorm.io/gorm"

	"focalpoint/models"
	"focalpoint/models/modeltest"
)

// Many respondents submitting (and resubmitting, some with new
// demographics) at once, while tallies are compacted: every submit
// succeeds, and the tallies summed over shards equal a full recount before
// and after the last compaction. On PostgreSQL the submits write rows of
// their own shards (no submit waits on another's tally rows) and a
// compaction folds them all into shard 0.
func TestConcurrentSubmitsTalliesEqualRecount(t *testing.T) {
	modeltest.Stores(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		f := newFixture(t, s, models.UnitPerson, 2)
		const workers, each = 8, 4
		rs := make([][]*models.Respondent, workers)
		rng := rand.New(rand.NewSource(11))
		for w := range rs {
			for i := 0; i < each; i++ {
				rs[w] = append(rs[w], f.respondent(t, s, models.Genders[rng.Intn(4)], models.InstitutionTypes[rng.Intn(8)], []string{"AT", "KE", "BR"}[rng.Intn(3)]))
			}
		}
		var wg sync.WaitGroup
		errs := make(chan error, workers*each*3)
		stop := make(chan struct{})
		compacted := make(chan int64, 1)
		go func() { // a compactor racing the submits
			var n int64
			defer func() { compacted <- n }()
			for {
				select {
				case <-stop:
					return
				default:
				}
				k, err := s.CompactTallies(ctx)
				if err != nil {
					errs <- err
					return
				}
				n += k
			}
		}()
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				rng := rand.New(rand.NewSource(int64(100 + w)))
				for pass := 0; pass < 3; pass++ {
					for _, r := range rs[w] {
						if pass == 2 && rng.Intn(2) == 0 {
							cp := *r
							cp.Country = "FR"
							r = &cp
						}
						round := f.Rounds[rng.Intn(2)]
						rows := randomRows(rng, f.Qs[round.ID])
						if err := s.Write(ctx, func(tx *gorm.DB) error {
							_, err := s.SeedSubmission(tx, r, round.ID, rows, t0)
							return err
						}); err != nil {
							errs <- err
						}
					}
				}
			}(w)
		}
		wg.Wait()
		close(stop)
		folded := <-compacted
		close(errs)
		for err := range errs {
			t.Errorf("submit or compaction failed: %v", err)
		}
		if t.Failed() {
			return
		}
		// A few more, left for the readers to find uncompacted.
		for i, r := range rs[0] {
			submit(t, s, r, f.Rounds[i%2].ID, randomRows(rng, f.Qs[f.Rounds[i%2].ID]))
		}
		running, err := s.TallySnapshot(ctx, f.C.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(running) < 50 {
			t.Fatalf("only %d tally lines: the test exercises too little", len(running))
		}
		// What the readers show, for filters that read marginal rows and
		// full cells.
		filters := []models.SynthesisFilter{{}, {RoundID: f.Rounds[1].ID}, {Gender: models.Genders[0]},
			{InstitutionType: models.InstitutionTypes[1]}, {Country: "FR"}, {Region: models.RegionOf("KE")},
			{Gender: models.Genders[1], Country: "AT"}}
		show := func() string {
			var out []any
			for _, fl := range filters {
				syn, err := s.Synthesis(ctx, f.C.ID, fl)
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, syn)
				q := f.Qs[f.Rounds[0].ID][0] // yes/no
				xt, _, err := s.QuestionCrossTab(ctx, f.C.ID, models.SynthesisFilter{RoundID: f.Rounds[0].ID, Gender: fl.Gender, Country: fl.Country}, q.ID, "gender")
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, xt)
			}
			b, err := json.Marshal(out)
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		}
		before := show()
		deltas := func() int64 {
			var n int64
			if err := s.ReadDB(ctx).Raw("SELECT (SELECT COUNT(*) FROM tally_cells WHERE shard <> 0) + (SELECT COUNT(*) FROM tally_answers WHERE shard <> 0) + (SELECT COUNT(*) FROM tally_answered WHERE shard <> 0)").Scan(&n).Error; err != nil {
				t.Fatal(err)
			}
			return n
		}
		if s.Dialect == models.Postgres {
			if folded == 0 || deltas() == 0 {
				t.Fatalf("submits wrote no shards of their own (%d compacted, %d left)", folded, deltas())
			}
			if _, err := s.CompactTallies(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if n := deltas(); n != 0 {
			t.Fatalf("%d tally rows outside shard 0 after compaction", n)
		}
		compact, err := s.TallySnapshot(ctx, f.C.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(running, compact) {
			diff(t, running, compact)
		}
		if after := show(); after != before {
			t.Fatalf("synthesis changed with the compaction:\n%s\n%s", before, after)
		}
		if err := s.RecountTallies(ctx, f.C.ID); err != nil {
			t.Fatal(err)
		}
		recount, err := s.TallySnapshot(ctx, f.C.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(running, recount) {
			diff(t, running, recount)
		}
		if after := show(); after != before {
			t.Fatalf("synthesis differs from the recount's:\n%s\n%s", before, after)
		}
	})
}

// Migration 610 keeps the tally rows and indexes of a database that has
// them, and makes the shard part of the key.
func TestTallyShardMigrationKeepsRows(t *testing.T) {
	modeltest.Dialects(t, func(t *testing.T, u string) {
		ctx := context.Background()
		s, err := models.Open(ctx, u, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		var before []models.Migration
		for _, m := range models.Migrations() {
			if m.Version < 610 {
				before = append(before, m)
			}
		}
		if err := s.MigrateList(ctx, before); err != nil {
			t.Fatal(err)
		}
		old := []string{
			"INSERT INTO tally_cells (consultation_id, round_id, gender, institution_type, country, respondents) VALUES (1, 2, 'female', 'ngo', 'AT', 3)",
			"INSERT INTO tally_answers (consultation_id, round_id, question_id, row_key, value, gender, institution_type, country, count, total) VALUES (1, 2, 3, '', 'yes', '*', '*', '*', 4, 0)",
			"INSERT INTO tally_answered (consultation_id, round_id, question_id, row_key, gender, institution_type, country, count) VALUES (1, 2, 3, '', '*', '*', '*', 5)",
		}
		for _, st := range old {
			if err := s.WriterDB().Exec(st).Error; err != nil {
				t.Fatal(err)
			}
		}
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		var n int64
		if err := s.ReadDB(ctx).Raw(`SELECT (SELECT SUM(respondents) FROM tally_cells WHERE shard = 0) * 100 + (SELECT SUM(count) FROM tally_answers WHERE shard = 0) * 10
			+ (SELECT SUM(count) FROM tally_answered WHERE shard = 0)`).Scan(&n).Error; err != nil {
			t.Fatal(err)
		}
		if n != 345 {
			t.Fatalf("rows after the migration sum to %d, want 345", n)
		}
		// The same key in another shard is another row.
		for _, st := range []string{
			"INSERT INTO tally_cells (consultation_id, round_id, gender, institution_type, country, shard, respondents) VALUES (1, 2, 'female', 'ngo', 'AT', 7, 1)",
			"INSERT INTO tally_answers (consultation_id, round_id, question_id, row_key, value, gender, institution_type, country, shard, count, total) VALUES (1, 2, 3, '', 'yes', '*', '*', '*', 7, 1, 0)",
			"INSERT INTO tally_answered (consultation_id, round_id, question_id, row_key, gender, institution_type, country, shard, count) VALUES (1, 2, 3, '', '*', '*', '*', 7, 1)",
		} {
			if err := s.WriterDB().Exec(st).Error; err != nil {
				t.Fatal(err)
			}
		}
		if s.Dialect == models.SQLite {
			var idx []string
			if err := s.ReadDB(ctx).Raw("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name LIKE 'tally_answer%' AND sql IS NOT NULL ORDER BY name").Scan(&idx).Error; err != nil {
				t.Fatal(err)
			}
			want := []string{"tally_answered_consultation", "tally_answered_round", "tally_answered_scope", "tally_answers_consultation", "tally_answers_round", "tally_answers_scope"}
			if !reflect.DeepEqual(idx, want) {
				t.Fatalf("indexes %v, want %v", idx, want)
			}
		}
	})
}
