package models_test

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"focalpoint/models"
	"focalpoint/models/modeltest"
)

// The synthesis benchmark (issue 6): a generated consultation of
// FOCAL_BENCH_N respondents (default 100,000) × 20 questions on SQLite;
// the synthesis call (reading tallies) against the same aggregation run
// directly in SQLite with GROUP BY over the answer rows. Run:
//
//	go test ./models -run XXX -bench BenchmarkSynthesis -benchtime 20x
//
// (Building the data takes a minute or two; it is built once per run.)

type benchData struct {
	s     *models.Store
	cid   int64
	round int64
	rows  int64
	build time.Duration
}

var (
	benchOnce sync.Once
	bench     *benchData
	benchErr  error
)

func benchN() int {
	if v, err := strconv.Atoi(os.Getenv("FOCAL_BENCH_N")); err == nil && v > 0 {
		return v
	}
	return 100000
}

func buildBench(b *testing.B) *benchData {
	benchOnce.Do(func() {
		t0 := time.Now()
		s := modeltest.Open(b, "sqlite:"+b.TempDir()+"/bench.db")
		d := &benchData{s: s}
		bench, benchErr = d, generateBench(s, d, benchN())
		d.build = time.Since(t0)
	})
	if benchErr != nil {
		b.Fatal(benchErr)
	}
	return bench
}

func generateBench(s *models.Store, d *benchData, n int) error {
	ctx := context.Background()
	db, err := s.WriterDB().DB()
	if err != nil {
		return err
	}
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	res, err := db.Exec(`INSERT INTO consultations (title, unit, min_cell_size, created_at, updated_at) VALUES ('Bench', 'person', 5, ?, ?)`, now, now)
	if err != nil {
		return err
	}
	d.cid, _ = res.LastInsertId()
	res, err = db.Exec(`INSERT INTO rounds (consultation_id, title, state, created_at, updated_at) VALUES (?, 'R1', 'open', ?, ?)`, d.cid, now, now)
	if err != nil {
		return err
	}
	d.round, _ = res.LastInsertId()
	type q struct {
		id   int64
		kind string
		opts []string
		rows []string
	}
	kinds := []string{"long_text", "long_text", "long_text", "long_text", "short_text",
		"single_choice", "single_choice", "single_choice", "single_choice",
		"multi_choice", "multi_choice", "multi_choice",
		"yes_no", "yes_no", "yes_no", "yes_no", "matrix_yes_no", "matrix_yes_no", "scale", "country"}
	var qs []q
	for i, k := range kinds {
		qq := q{kind: k}
		opts := "[]"
		rows := "[]"
		switch k {
		case "single_choice", "multi_choice":
			qq.opts = []string{"a", "b", "c", "d", "e"}
			opts = `[{"value":"a","label":"A"},{"value":"b","label":"B"},{"value":"c","label":"C"},{"value":"d","label":"D"},{"value":"e","label":"E"}]`
		case "matrix_yes_no":
			qq.rows = []string{"r1", "r2", "r3"}
			rows = `[{"value":"r1","label":"R1"},{"value":"r2","label":"R2"},{"value":"r3","label":"R3"}]`
		}
		res, err := db.Exec(`INSERT INTO questions (round_id, position, kind, prompt, options, rows_json, min_value, max_value, created_at, updated_at)
			VALUES (?, ?, ?, ?, ?, ?, 1, 5, ?, ?)`, d.round, i, k, "Question "+strconv.Itoa(i), opts, rows, now, now)
		if err != nil {
			return err
		}
		qq.id, _ = res.LastInsertId()
		qs = append(qs, qq)
	}
	var countries []string
	for _, c := range models.Countries() {
		countries = append(countries, c.Code)
	}
	rng := rand.New(rand.NewSource(1))
	words := strings.Fields("stigma services police training funding families prisons treatment peers harm reduction community health justice youth women")
	const chunk = 2000
	for lo := 0; lo < n; lo += chunk {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		var sa []any
		flush := func() error {
			if len(sa) == 0 {
				return nil
			}
			_, err := tx.Exec("INSERT INTO submitted_answers (response_id, respondent_id, round_id, question_id, row_key, value, num) VALUES "+
				strings.TrimSuffix(strings.Repeat("(?,?,?,?,?,?,?),", len(sa)/7), ","), sa...)
			sa = sa[:0]
			return err
		}
		for i := lo; i < min(lo+chunk, n); i++ {
			g := models.Genders[rng.Intn(4)]
			inst := models.InstitutionTypes[rng.Intn(8)]
			co := countries[rng.Intn(len(countries))]
			r, err := tx.Exec(`INSERT INTO respondents (consultation_id, code, gender, institution_type, country, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
				d.cid, fmt.Sprintf("b%09d", i), g, inst, co, now, now)
			if err != nil {
				return err
			}
			rid, _ := r.LastInsertId()
			r, err = tx.Exec(`INSERT INTO responses (respondent_id, round_id, status, version, submitted_at, created_at, updated_at) VALUES (?, ?, 'submitted', 1, ?, ?, ?)`,
				rid, d.round, now, now, now)
			if err != nil {
				return err
			}
			pid, _ := r.LastInsertId()
			add := func(qid int64, row, v string, num any) {
				sa = append(sa, pid, rid, d.round, qid, row, v, num)
				d.rows++
			}
			for _, qq := range qs {
				if rng.Intn(10) == 0 {
					continue
				}
				switch qq.kind {
				case "long_text", "short_text":
					var sb strings.Builder
					for w := 0; w < 8+rng.Intn(30); w++ {
						sb.WriteString(words[rng.Intn(len(words))] + " ")
					}
					add(qq.id, "", sb.String(), nil)
				case "single_choice":
					add(qq.id, "", qq.opts[rng.Intn(5)], nil)
				case "multi_choice":
					for _, o := range qq.opts {
						if rng.Intn(3) == 0 {
							add(qq.id, "", o, nil)
						}
					}
				case "yes_no":
					add(qq.id, "", []string{"yes", "no"}[rng.Intn(2)], nil)
				case "matrix_yes_no":
					for _, row := range qq.rows {
						add(qq.id, row, []string{"yes", "no"}[rng.Intn(2)], nil)
					}
				case "scale":
					v := 1 + rng.Intn(5)
					add(qq.id, "", strconv.Itoa(v), float64(v))
				case "country":
					add(qq.id, "", countries[rng.Intn(len(countries))], nil)
				}
				if len(sa) >= 7*120 {
					if err := flush(); err != nil {
						return err
					}
				}
			}
		}
		if err := flush(); err != nil {
			return err
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	if err := s.RecountTallies(ctx, d.cid); err != nil {
		return err
	}
	_, err = db.Exec("ANALYZE")
	return err
}

// directGroupBy is the same aggregation straight in SQLite: respondents
// by demographics, and every value of every question, with an optional
// gender filter.
func directGroupBy(b *testing.B, d *benchData, gender string) {
	ctx := context.Background()
	db, err := d.s.R.DB()
	if err != nil {
		b.Fatal(err)
	}
	filter, args := "", []any{d.round}
	if gender != "" {
		filter, args = " AND rs.gender = ?", []any{d.round, gender}
	}
	for _, q := range []string{
		`SELECT rs.gender, rs.institution_type, rs.country, COUNT(*) FROM responses p JOIN respondents rs ON rs.id = p.respondent_id
		 WHERE p.round_id = ? AND p.status = 'submitted'` + filter + ` GROUP BY rs.gender, rs.institution_type, rs.country`,
		`SELECT sa.question_id, sa.row_key, CASE WHEN q.kind IN ('long_text','short_text') THEN '' ELSE sa.value END v, COUNT(*)
		 FROM submitted_answers sa JOIN questions q ON q.id = sa.question_id JOIN respondents rs ON rs.id = sa.respondent_id
		 WHERE sa.round_id = ?` + filter + ` GROUP BY sa.question_id, sa.row_key, v`,
	} {
		rows, err := db.QueryContext(ctx, q, args...)
		if err != nil {
			b.Fatal(err)
		}
		for rows.Next() {
		}
		rows.Close()
	}
}

func BenchmarkSynthesis(b *testing.B) {
	d := buildBench(b)
	b.Logf("%d respondents × 20 questions, %d answer rows, built in %.1f s", benchN(), d.rows, d.build.Seconds())
	ctx := context.Background()
	b.Run("api_tallies", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			sy, err := d.s.Synthesis(ctx, d.cid, models.SynthesisFilter{RoundID: d.round})
			if err != nil || sy.Respondents != int64(benchN()) {
				b.Fatal(err, sy.Respondents)
			}
		}
	})
	b.Run("api_tallies_filtered", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := d.s.Synthesis(ctx, d.cid, models.SynthesisFilter{RoundID: d.round, Gender: "female", Region: models.RegionAfrican}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("direct_groupby", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			directGroupBy(b, d, "")
		}
	})
	b.Run("direct_groupby_filtered", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			directGroupBy(b, d, "female")
		}
	})
}
