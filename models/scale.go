package models

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"

	"gorm.io/gorm"
)

// Scale (issue 8): schema changes the scale proof showed were needed.
func init() {
	// submitted_answers_question indexed the answer text itself: on
	// PostgreSQL a submitted open answer over ~2.7 kB failed ("index row
	// size exceeds btree maximum"), and on SQLite the index was larger
	// than the table. No query looks answers up by their text (search has
	// its own full-text index; synthesis reads tallies), so the index
	// keeps only the question and matrix row.
	Register(Migration{Version: 600, Name: "scale: submitted_answers_question without the answer text", SQL: `
DROP INDEX submitted_answers_question;
CREATE INDEX submitted_answers_question ON submitted_answers (question_id, row_key);
`})
}

// Tally deltas (issue 8). On PostgreSQL every submit upserted the same
// marginal tally rows ('*' cells shared by every submission), and row
// locks are held until commit (including its WAL flush), so concurrent
// submits queued behind each other on those rows: two app instances were
// slower than one. Sharding the rows 16 ways still left most submits
// waiting. Now each tally row has a shard, part of its primary key: a
// PostgreSQL submit INSERTs its changes as rows of a shard of its own (a
// random positive number, see newTallyShard), full cells only (a fifth of
// the rows), so it never waits on another submit's tally rows;
// CompactTallies (a background loop, one instance at a time) folds those
// rows into shard 0, full cells and their marginal rows, in one statement
// per table. SQLite (one writer, no row contention) and RecountTallies
// write shard 0 only, marginals included.
//
// So every reader sums over shards, and on PostgreSQL a reader of marginal
// rows ('*') adds the full cells of shards other than 0 (see Synthesis):
// a count is the same before and after a compaction.
func init() {
	Register(Migration{Version: 610, Name: "scale: tally rows gain a shard in their primary key", Up: func(tx *gorm.DB, d Dialect) error {
		tables := []struct{ name, cols, pk, colsDDL string }{
			{"tally_cells", "consultation_id, round_id, gender, institution_type, country, respondents",
				"consultation_id, round_id, gender, institution_type, country, shard", `
	consultation_id {{BIGINT}} NOT NULL,
	round_id {{BIGINT}} NOT NULL,
	gender TEXT NOT NULL,
	institution_type TEXT NOT NULL,
	country TEXT NOT NULL,
	respondents {{BIGINT}} NOT NULL DEFAULT 0,`},
			{"tally_answers", "consultation_id, round_id, question_id, row_key, value, gender, institution_type, country, count, total",
				"question_id, row_key, value, gender, institution_type, country, shard", `
	consultation_id {{BIGINT}} NOT NULL,
	round_id {{BIGINT}} NOT NULL,
	question_id {{BIGINT}} NOT NULL,
	row_key TEXT NOT NULL,
	value TEXT NOT NULL,
	gender TEXT NOT NULL,
	institution_type TEXT NOT NULL,
	country TEXT NOT NULL,
	count {{BIGINT}} NOT NULL DEFAULT 0,
	total DOUBLE PRECISION NOT NULL DEFAULT 0,`},
			{"tally_answered", "consultation_id, round_id, question_id, row_key, gender, institution_type, country, count",
				"question_id, row_key, gender, institution_type, country, shard", `
	consultation_id {{BIGINT}} NOT NULL,
	round_id {{BIGINT}} NOT NULL,
	question_id {{BIGINT}} NOT NULL,
	row_key TEXT NOT NULL,
	gender TEXT NOT NULL,
	institution_type TEXT NOT NULL,
	country TEXT NOT NULL,
	count {{BIGINT}} NOT NULL DEFAULT 0,`},
		}
		var stmts []string
		for _, t := range tables {
			if d == Postgres {
				stmts = append(stmts,
					"ALTER TABLE "+t.name+" ADD COLUMN shard BIGINT NOT NULL DEFAULT 0",
					"ALTER TABLE "+t.name+" DROP CONSTRAINT "+t.name+"_pkey",
					"ALTER TABLE "+t.name+" ADD PRIMARY KEY ("+t.pk+")",
					// CompactTallies finds the rows to fold through it.
					"CREATE INDEX "+t.name+"_delta ON "+t.name+" (shard) WHERE shard <> 0")
				continue
			}
			// SQLite cannot change a primary key: rebuild the table (its
			// indexes go with it and are made again below).
			stmts = append(stmts,
				dialectSQL(d, "CREATE TABLE "+t.name+"_new ("+t.colsDDL+"\n\tshard INTEGER NOT NULL DEFAULT 0,\n\tPRIMARY KEY ("+t.pk+")\n)"),
				"INSERT INTO "+t.name+"_new ("+t.cols+") SELECT "+t.cols+" FROM "+t.name,
				"DROP TABLE "+t.name,
				"ALTER TABLE "+t.name+"_new RENAME TO "+t.name)
		}
		if d != Postgres {
			stmts = append(stmts,
				"CREATE INDEX tally_answers_round ON tally_answers (round_id)",
				"CREATE INDEX tally_answers_consultation ON tally_answers (consultation_id)",
				"CREATE INDEX tally_answered_round ON tally_answered (round_id)",
				"CREATE INDEX tally_answered_consultation ON tally_answered (consultation_id)",
				"CREATE INDEX tally_answers_scope ON tally_answers (consultation_id, gender, institution_type, country, round_id)",
				"CREATE INDEX tally_answered_scope ON tally_answered (consultation_id, gender, institution_type, country, round_id)")
		}
		for _, st := range stmts {
			if err := tx.Exec(st).Error; err != nil {
				return fmt.Errorf("%s: %w", firstLine(st), err)
			}
		}
		return nil
	}})
}

// newTallyShard is the shard one submit's tally changes go to: 0 on
// SQLite; on PostgreSQL a random positive number, so that no two
// concurrent transactions write the same row (were two to draw the same
// number, the upsert still adds up; one would wait for the other).
func (s *Store) newTallyShard() int64 {
	if s.Dialect != Postgres {
		return 0
	}
	return rand.Int64N(math.MaxInt64-1) + 1
}

// CompactTallies folds the PostgreSQL tally rows written by submits
// (shard <> 0, full cells) into shard 0, full cells and marginal rows, and
// returns how many shard-0 rows it wrote; no count that readers see
// changes. One instance compacts at a time
// (an advisory lock; the others skip). On SQLite it folds the tally log
// instead (tally_log.go).
func (s *Store) CompactTallies(ctx context.Context) (int64, error) {
	if s.Dialect == SQLite {
		// SQLite: fold the tally log (tally_log.go), read and added up
		// on a read connection first.
		read, err := readTallyLog(s.R.WithContext(ctx))
		if err != nil || read.n == 0 {
			return 0, err
		}
		var folded int64
		// Rerunnable, as the indexer's write (search_index.go).
		err = s.writeRerunnable(ctx, func(tx *gorm.DB) error {
			var err error
			folded, err = foldTallyLog(tx, read)
			return err
		})
		return folded, err
	}
	var folded int64
	err := s.Write(ctx, func(tx *gorm.DB) error {
		folded = 0
		var ok bool
		if err := tx.Raw("SELECT pg_try_advisory_xact_lock(727275)").Scan(&ok).Error; err != nil {
			return err
		}
		if !ok {
			return nil
		}
		for _, t := range []struct{ table, key, conflict, vals, sums, set string }{
			{"tally_cells", "consultation_id, round_id", "consultation_id, round_id, gender, institution_type, country",
				"respondents", "SUM(m.respondents)",
				"respondents = tally_cells.respondents + excluded.respondents"},
			{"tally_answers", "consultation_id, round_id, question_id, row_key, value", "question_id, row_key, value, gender, institution_type, country",
				"count, total", "SUM(m.count), SUM(m.total)",
				"count = tally_answers.count + excluded.count, total = tally_answers.total + excluded.total"},
			{"tally_answered", "consultation_id, round_id, question_id, row_key", "question_id, row_key, gender, institution_type, country",
				"count", "SUM(m.count)",
				"count = tally_answered.count + excluded.count"},
		} {
			// A submit's rows are full cells only (tally_cells has no
			// others): each goes to its own cell and, in the tables that
			// keep them, to its four marginal rows (see scopes).
			scopes := "(VALUES (0, m.gender, m.institution_type, m.country)) AS v(k, g, i, c)"
			if t.table != "tally_cells" {
				scopes = `(VALUES (0, m.gender, m.institution_type, m.country), (1, '*', '*', '*'),
	(2, m.gender, '*', '*'), (3, '*', m.institution_type, '*'), (4, '*', '*', m.country)) AS v(k, g, i, c)`
			}
			mkey := "m." + strings.ReplaceAll(t.key, ", ", ", m.")
			res := tx.Exec(`WITH moved AS (DELETE FROM ` + t.table + ` WHERE shard <> 0
	RETURNING ` + t.key + `, gender, institution_type, country, ` + t.vals + `)
INSERT INTO ` + t.table + ` (` + t.key + `, gender, institution_type, country, shard, ` + t.vals + `)
SELECT ` + mkey + `, v.g, v.i, v.c, 0, ` + t.sums + `
FROM moved m CROSS JOIN LATERAL ` + scopes + `
WHERE v.k = 0 OR (m.gender <> '*' AND m.institution_type <> '*' AND m.country <> '*')
GROUP BY ` + mkey + `, v.g, v.i, v.c
ON CONFLICT (` + t.conflict + `, shard) DO UPDATE SET ` + t.set)
			if res.Error != nil {
				return fmt.Errorf("compact %s: %w", t.table, res.Error)
			}
			folded += res.RowsAffected
		}
		return nil
	})
	return folded, err
}
