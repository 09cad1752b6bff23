package export_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"focalpoint/bench"
	"focalpoint/export"
	"focalpoint/models"
	"focalpoint/models/modeltest"
)

// gateWriter holds its first Write until released, records how many read
// connections were busy at that moment, and the largest single write.
type gateWriter struct {
	buf     bytes.Buffer
	once    sync.Once
	first   chan struct{}
	release chan struct{}
	busy    func() int
	inUse   int
	max     int
}

func (g *gateWriter) Write(p []byte) (int, error) {
	g.once.Do(func() {
		g.inUse = g.busy()
		close(g.first)
		<-g.release
	})
	g.max = max(g.max, len(p))
	return g.buf.Write(p)
}

// The export streams (issue 8: memory flat whatever the row count), in
// every format: its first bytes leave while the database query is still
// open, a client that stops reading stops the query after a bounded number
// of rows (the query's connection stays busy, waiting), and the file
// reaches the client in buffer-sized writes, never as one finished file.
// A version that gathered the rows (or the file) first would have closed
// its query before writing.
func TestExportStreamsWhileReading(t *testing.T) {
	if testing.Short() {
		t.Skip("generates 2,500 respondents")
	}
	s := modeltest.SQLite(t)
	ctx := context.Background()
	const n = 2500 // more than the pipeline holds: 6 batches of 256 rows and 64 KB of output
	res, err := bench.Generate(ctx, s, bench.GenConfig{Respondents: n, Seed: 5, Chunk: 1250})
	if err != nil {
		t.Fatal(err)
	}
	db, err := s.R.DB()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{export.CSV, export.NDJSON, export.XLSX} {
		t.Run(f, func(t *testing.T) {
			plan, err := s.PlanExport(ctx, res.ConsultationID, models.ExportOptions{RoundID: res.RoundID})
			if err != nil {
				t.Fatal(err)
			}
			w := &gateWriter{first: make(chan struct{}), release: make(chan struct{}), busy: func() int { return db.Stats().InUse }}
			type result struct {
				rows int64
				err  error
			}
			done := make(chan result, 1)
			go func() {
				rows, err := export.Stream(ctx, s, plan, f, w, export.Options{})
				done <- result{rows, err}
			}()
			<-w.first
			if w.inUse != 1 {
				t.Errorf("%d read connections busy when the first bytes left, want 1 (the export's query, still open)", w.inUse)
			}
			// While the client reads nothing the query must wait, not run on
			// into memory. (A correct export always passes this; one that
			// buffers without bound fails it unless the machine stalls.)
			for i := 0; i < 30; i++ {
				if db.Stats().InUse == 0 {
					t.Fatal("the export read every row while its client read nothing: it buffers without bound")
				}
				time.Sleep(10 * time.Millisecond)
			}
			close(w.release)
			r := <-done
			if r.err != nil {
				t.Fatal(r.err)
			}
			if r.rows != n {
				t.Fatalf("%d rows exported, want %d", r.rows, n)
			}
			if w.max > 64<<10 || w.buf.Len() < 256<<10 {
				t.Errorf("largest write %d bytes of a %d-byte file: want writes of at most 64 KiB", w.max, w.buf.Len())
			}
			var records int
			switch f {
			case export.CSV:
				recs, err := csv.NewReader(&w.buf).ReadAll()
				if err != nil {
					t.Fatal(err)
				}
				records = len(recs) - 1 // the header
			case export.NDJSON:
				records = strings.Count(w.buf.String(), "\n")
			case export.XLSX:
				x, err := excelize.OpenReader(bytes.NewReader(w.buf.Bytes()))
				if err != nil {
					t.Fatal(err)
				}
				defer x.Close()
				got, err := x.GetRows(export.DataSheet)
				if err != nil {
					t.Fatal(err)
				}
				records = len(got) - 1
			}
			if records != n {
				t.Errorf("%d records in the output, want %d", records, n)
			}
			if got := db.Stats().InUse; got != 0 {
				t.Errorf("%d read connections still busy after the export", got)
			}
		})
	}
}
