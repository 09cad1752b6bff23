package models

import (
	"fmt"

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

// Sharded tallies (issue 8). On PostgreSQL every submit upserts the same
// marginal tally rows ('*' cells shared by every submission), and row locks
// are held until commit, so concurrent submits queued behind each other on
// those rows: two app instances were slower than one. Each tally row now
// has a shard: a PostgreSQL submit writes to shard (respondent id mod
// TallyShards), so concurrent submits of different respondents mostly
// touch different rows; SQLite (one writer, no row contention) and
// RecountTallies always write shard 0. Readers sum over shards.
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
					"ALTER TABLE "+t.name+" ADD COLUMN shard SMALLINT NOT NULL DEFAULT 0",
					"ALTER TABLE "+t.name+" DROP CONSTRAINT "+t.name+"_pkey",
					"ALTER TABLE "+t.name+" ADD PRIMARY KEY ("+t.pk+")")
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

// TallyShards is how many shards a PostgreSQL submit spreads its tally
// rows over.
const TallyShards = 16

// tallyShard is the shard a respondent's tally changes go to.
func (s *Store) tallyShard(respondent int64) int {
	if s.Dialect != Postgres {
		return 0
	}
	return int(respondent % TallyShards)
}
