package bench

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"html/template"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/labstack/echo/v4"
	_ "github.com/mattn/go-sqlite3" // the bare baseline talks to SQLite without GORM

	"focalpoint/models"
)

// SQLiteDSN is the connection string of the store's SQLite writer: the
// bare baseline uses exactly the same durability settings (WAL,
// synchronous=FULL).
func SQLiteDSN(path string) string {
	return "file:" + path + "?_foreign_keys=on&_busy_timeout=10000&_journal_mode=WAL&_synchronous=FULL&_cache_size=-32000&_txlock=immediate"
}

// InsertResult is the bare insert baseline.
type InsertResult struct {
	Submissions int
	Elapsed     time.Duration
	Rate        float64
	P50, P99    time.Duration
	RowsPerSub  float64
	// CPU is the process CPU time the timed loop used.
	CPU time.Duration
}

func (r InsertResult) String() string {
	return fmt.Sprintf("bare insert, one transaction per submission (WAL, synchronous=FULL): %d submissions in %.1f s = %.0f/s, p50 %s, p99 %s, %.1f rows each",
		r.Submissions, r.Elapsed.Seconds(), r.Rate, ms(r.P50), ms(r.P99), r.RowsPerSub)
}

// InsertBaseline inserts n submissions (a respondent, its response, its
// answers and its exploded submitted answers: the rows the generator
// writes per respondent, and the open answers' full-text index entries)
// by a bare Go program, database/sql with prepared statements on one
// connection, one transaction per submission, into a fresh SQLite file
// with the application's schema. Bounded by d.
//
// The index entries: until 27 Nov the schema's triggers wrote them in
// each submit's transaction; the application now writes them in the
// background, many submissions at a time (models/search_index.go), while
// the baseline goes on writing them in each submission's transaction, so
// that it still writes everything the application writes, and its figure
// stays comparable with the earlier ones.
func InsertBaseline(ctx context.Context, path string, n int, d time.Duration) (InsertResult, error) {
	b, err := NewBareInsert(ctx, path, n)
	if err != nil {
		return InsertResult{}, err
	}
	defer b.Close()
	if err := b.Run(ctx, d); err != nil {
		return InsertResult{}, err
	}
	return b.Result(), nil
}

// BareInsert is the bare insert baseline ready to run, in one go or a
// slice at a time (Run again goes on with the next submissions).
type BareInsert struct {
	db      *sql.DB
	stmts   map[string]*sql.Stmt
	fts     *sql.Stmt
	open    map[int64]bool
	per     []map[string][][]any
	next    int
	total   int
	lat     []time.Duration
	elapsed time.Duration
	cpu     time.Duration
}

// NewBareInsert prepares the baseline of InsertBaseline: a fresh SQLite
// file at path with the application's schema and the rows of up to n
// submissions, built beforehand.
func NewBareInsert(ctx context.Context, path string, n int) (*BareInsert, error) {
	res := &BareInsert{}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(path + suffix)
	}
	s, err := models.Open(ctx, "sqlite:"+path, nil)
	if err != nil {
		return nil, err
	}
	if err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	// The consultation, participants and invitations exist beforehand, as
	// they do when respondents submit through the application.
	g, err := Generate(ctx, s, GenConfig{Fresh: n, Seed: 42})
	if err != nil {
		s.Close()
		return nil, err
	}
	ids := map[string]int64{"participants": g.FirstParticipant}
	for _, t := range []string{"invitations", "respondents", "responses", "submitted_answers"} {
		if ids[t], err = s.NextID(ctx, t); err != nil {
			s.Close()
			return nil, err
		}
	}
	s.Close()
	gs := &genState{cfg: GenConfig{Respondents: n, Seed: 43}, res: g, ids: ids, qs: g.Questions,
		opens: time.Now().Add(-time.Hour), now: time.Now(), countries: countryWeights(43)}
	rows := gs.build(0, n)

	db, err := sql.Open("sqlite3", SQLiteDSN(path))
	if err != nil {
		return nil, err
	}
	res.db = db
	db.SetMaxOpenConns(1)
	res.stmts = map[string]*sql.Stmt{}
	for _, t := range tableOrder[2:] {
		ph := strings.TrimSuffix(strings.Repeat("?,", len(t.cols)), ",")
		st, err := db.PrepareContext(ctx, "INSERT INTO "+t.name+" ("+strings.Join(t.cols, ",")+") VALUES ("+ph+")")
		if err != nil {
			res.Close()
			return nil, err
		}
		res.stmts[t.name] = st
	}
	if res.fts, err = db.PrepareContext(ctx, "INSERT INTO answer_fts (docid, body) VALUES (?, ?)"); err != nil {
		res.Close()
		return nil, err
	}
	res.open = map[int64]bool{}
	for _, q := range g.Questions {
		res.open[q.ID] = q.Kind == models.QLongText || q.Kind == models.QShortText
	}
	// Group the rows per submission (respondent i owns response i).
	per := make([]map[string][][]any, n)
	for i := range per {
		per[i] = map[string][][]any{}
	}
	respIdx := map[int64]int{}
	for i, r := range rows.rows["responses"] {
		respIdx[r[0].(int64)] = i
		per[i]["respondents"] = [][]any{rows.rows["respondents"][i]}
		per[i]["responses"] = [][]any{r}
	}
	for _, t := range []string{"answers", "submitted_answers"} {
		col := 0
		if t == "submitted_answers" {
			col = 1
		}
		for _, r := range rows.rows[t] {
			i := respIdx[r[col].(int64)]
			per[i][t] = append(per[i][t], r)
		}
	}
	res.per = per
	return res, nil
}

// Close closes the baseline's database.
func (b *BareInsert) Close() error {
	for _, st := range b.stmts {
		st.Close()
	}
	if b.fts != nil {
		b.fts.Close()
	}
	return b.db.Close()
}

// Run inserts the next submissions, one transaction each, for d (or
// until the prepared ones run out).
func (b *BareInsert) Run(ctx context.Context, d time.Duration) error {
	deadline := time.Now().Add(d)
	cpu0 := processCPU()
	start := time.Now()
	defer func() {
		b.elapsed += time.Since(start)
		b.cpu += processCPU() - cpu0
	}()
	for ; b.next < len(b.per) && time.Now().Before(deadline); b.next++ {
		sub := b.per[b.next]
		t0 := time.Now()
		tx, err := b.db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		for _, t := range tableOrder[2:] {
			st := tx.StmtContext(ctx, b.stmts[t.name])
			for _, r := range sub[t.name] {
				if _, err := st.ExecContext(ctx, r...); err != nil {
					tx.Rollback()
					return fmt.Errorf("insert into %s: %w", t.name, err)
				}
				b.total++
			}
		}
		// submitted_answers columns: id, response_id, respondent_id,
		// round_id, question_id, row_key, value, num.
		fts := tx.StmtContext(ctx, b.fts)
		for _, r := range sub["submitted_answers"] {
			if b.open[r[4].(int64)] {
				if _, err := fts.ExecContext(ctx, r[0], r[6]); err != nil {
					tx.Rollback()
					return fmt.Errorf("insert into answer_fts: %w", err)
				}
			}
		}
		if err := tx.Commit(); err != nil {
			return err
		}
		b.lat = append(b.lat, time.Since(t0))
	}
	return nil
}

// Result sums up the runs so far.
func (b *BareInsert) Result() InsertResult {
	lat := slices.Clone(b.lat)
	slices.Sort(lat)
	res := InsertResult{Submissions: len(lat), Elapsed: b.elapsed, CPU: b.cpu,
		RowsPerSub: float64(b.total) / float64(max(1, len(lat)))}
	if b.elapsed > 0 {
		res.Rate = float64(len(lat)) / b.elapsed.Seconds()
	}
	res.P50, res.P99 = pct(lat, 0.5), pct(lat, 0.99)
	return res
}

func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// PageBaseline serves GET / with a bare Echo handler rendering an
// html/template page of about size bytes (no database, session or
// translation), on addr (e.g. 127.0.0.1:0). It returns the address and a
// stop function.
func PageBaseline(addr string, size int) (string, func(), error) {
	tpl := template.Must(template.New("page").Parse(baselinePage))
	data := pageData(size)
	// Trim to size: render once and shrink the item count to fit.
	for {
		var b bytes.Buffer
		if err := tpl.Execute(&b, data); err != nil {
			return "", nil, err
		}
		if b.Len() <= size || len(data.Questions) <= 1 {
			break
		}
		data.Questions = data.Questions[:len(data.Questions)-1]
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.GET("/", func(c echo.Context) error {
		var b bytes.Buffer
		if err := tpl.Execute(&b, data); err != nil {
			return err
		}
		return c.HTMLBlob(http.StatusOK, b.Bytes())
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), func() { srv.Close() }, nil
}

type basePageData struct {
	Title     string
	Questions []baseQuestion
}

type baseQuestion struct {
	ID      int
	Prompt  string
	Help    string
	Answer  string
	Options []string
}

func pageData(size int) basePageData {
	r := rand.New(rand.NewPCG(1, 2))
	d := basePageData{Title: "Consultation on services — Round 1"}
	// Each question renders to roughly 600 bytes; make more than needed.
	for i := 0; i < size/200+2; i++ {
		d.Questions = append(d.Questions, baseQuestion{ID: i + 1, Prompt: "What has worked in your country, and why?",
			Help: "Please give examples.", Answer: Text(r, Latin, 30), Options: []string{"yes", "no", "prefer_not_to_say"}})
	}
	return d
}

const baselinePage = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{.Title}}</title>
<link rel="stylesheet" href="/static/css/app.css"></head>
<body><main id="main"><h1>{{.Title}}</h1>
<form method="post" action="/r/save">
{{range .Questions}}<fieldset class="question" id="q{{.ID}}"><legend>{{.Prompt}}</legend>
<p class="help">{{.Help}}</p>
<label for="a{{.ID}}">Your answer</label><textarea id="a{{.ID}}" name="q{{.ID}}">{{.Answer}}</textarea>
{{range .Options}}<label><input type="radio" name="o{{$.Title}}" value="{{.}}"> {{.}}</label>{{end}}
</fieldset>
{{end}}<button type="submit">Save</button></form></main></body></html>
`

// AggregateResult is the direct-SQL synthesis baseline.
type AggregateResult struct {
	Plain, Filtered time.Duration
	Groups          int
}

func (r AggregateResult) String() string {
	return fmt.Sprintf("direct SQL aggregation: %s unfiltered, %s filtered (gender=female), %d groups", ms(r.Plain), ms(r.Filtered), r.Groups)
}

// AggregateBaseline runs the synthesis aggregation straight in SQLite
// (GROUP BY over the submitted answers and the demographics of the
// submitted respondents), unfiltered and with a gender filter.
func AggregateBaseline(ctx context.Context, path string, roundID int64) (AggregateResult, error) {
	var res AggregateResult
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro&_query_only=on&_cache_size=-32000")
	if err != nil {
		return res, err
	}
	defer db.Close()
	run := func(filter string, args ...any) (time.Duration, int, error) {
		join := ""
		if filter != "" {
			join = " JOIN respondents rs ON rs.id = sa.respondent_id"
		}
		t0 := time.Now()
		groups := 0
		qs := []string{
			`SELECT rs.gender, COUNT(*) FROM responses p JOIN respondents rs ON rs.id = p.respondent_id
			 WHERE p.round_id = ? AND p.status = 'submitted'` + filter + ` GROUP BY rs.gender`,
			`SELECT rs.institution_type, COUNT(*) FROM responses p JOIN respondents rs ON rs.id = p.respondent_id
			 WHERE p.round_id = ? AND p.status = 'submitted'` + filter + ` GROUP BY rs.institution_type`,
			`SELECT rs.country, COUNT(*) FROM responses p JOIN respondents rs ON rs.id = p.respondent_id
			 WHERE p.round_id = ? AND p.status = 'submitted'` + filter + ` GROUP BY rs.country`,
			// One row per text, chosen option or matrix row: COUNT(*) is the
			// count per value (a multi-choice option once per respondent).
			`SELECT sa.question_id, sa.row_key, CASE WHEN q.kind IN ('long_text','short_text') THEN '' ELSE sa.value END v, COUNT(*)
			 FROM submitted_answers sa JOIN questions q ON q.id = sa.question_id` + join + `
			 WHERE sa.round_id = ?` + filter + ` GROUP BY sa.question_id, sa.row_key, v`,
		}
		for _, q := range qs {
			rows, err := db.QueryContext(ctx, q, append([]any{roundID}, args...)...)
			if err != nil {
				return 0, 0, err
			}
			for rows.Next() {
				groups++
			}
			if err := rows.Close(); err != nil {
				return 0, 0, err
			}
		}
		return time.Since(t0), groups, nil
	}
	if res.Plain, res.Groups, err = run(""); err != nil {
		return res, err
	}
	res.Filtered, _, err = run(" AND rs.gender = ?", "female")
	return res, err
}

// DumpResult is the sqlite3 -csv baseline.
type DumpResult struct {
	Elapsed time.Duration
	Bytes   int64
}

func (r DumpResult) String() string {
	return fmt.Sprintf("sqlite3 -csv dump of the submitted answers: %.1f s, %.0f MB", r.Elapsed.Seconds(), float64(r.Bytes)/1e6)
}

// DumpBaseline times the sqlite3 command-line shell dumping every
// submitted answer with its respondent's code and demographics as CSV.
func DumpBaseline(ctx context.Context, path, out string) (DumpResult, error) {
	var res DumpResult
	f, err := os.Create(out)
	if err != nil {
		return res, err
	}
	defer f.Close()
	cmd := exec.CommandContext(ctx, "sqlite3", "-readonly", "-csv", "-header", path,
		`SELECT rs.code, rs.gender, rs.institution_type, rs.country, sa.question_id, sa.row_key, sa.value
		 FROM submitted_answers sa JOIN respondents rs ON rs.id = sa.respondent_id ORDER BY rs.code`)
	cmd.Stdout = f
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	t0 := time.Now()
	if err := cmd.Run(); err != nil {
		return res, fmt.Errorf("sqlite3: %v: %s", err, stderr.String())
	}
	res.Elapsed = time.Since(t0)
	st, err := f.Stat()
	if err == nil {
		res.Bytes = st.Size()
	}
	return res, err
}
