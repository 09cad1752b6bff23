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

// gateWriter holds its first Write until released, and records how many
// read connections were busy at that moment.
type gateWriter struct {
	buf     bytes.Buffer
	once    sync.Once
	first   chan struct{}
	release chan struct{}
	busy    func() int
	inUse   int
}

func (g *gateWriter) Write(p []byte) (int, error) {
	g.once.Do(func() {
		g.inUse = g.busy()
		close(g.first)
		<-g.release
	})
	return g.buf.Write(p)
}

// The export streams (issue 8: memory flat whatever the row count): its
// first bytes leave while the database query is still open, and a client
// that stops reading stops the query after a bounded number of rows (the
// query's connection stays busy, waiting), in CSV and NDJSON. A version
// that gathered the rows first would have closed its query before writing.
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
	for _, f := range []string{export.CSV, export.NDJSON} {
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
			lines := strings.Count(w.buf.String(), "\n")
			if f == export.CSV {
				recs, err := csv.NewReader(&w.buf).ReadAll()
				if err != nil {
					t.Fatal(err)
				}
				lines = len(recs) - 1 // the header
			}
			if lines != n {
				t.Errorf("%d records in the output, want %d", lines, n)
			}
			if got := db.Stats().InUse; got != 0 {
				t.Errorf("%d read connections still busy after the export", got)
			}
		})
	}
	// XLSX cannot leave before its end (a zip's sheet is written whole),
	// but it must not be held whole in memory either: it reaches the
	// client in buffer-sized writes, not as one finished file.
	t.Run(export.XLSX, func(t *testing.T) {
		plan, err := s.PlanExport(ctx, res.ConsultationID, models.ExportOptions{RoundID: res.RoundID})
		if err != nil {
			t.Fatal(err)
		}
		var w maxWriter
		rows, err := export.Stream(ctx, s, plan, export.XLSX, &w, export.Options{})
		if err != nil {
			t.Fatal(err)
		}
		if rows != n {
			t.Fatalf("%d rows exported, want %d", rows, n)
		}
		if w.total < 256<<10 {
			t.Fatalf("the file is only %d bytes: too small to tell", w.total)
		}
		if w.max > 64<<10 {
			t.Errorf("a single write of %d bytes (file %d bytes): the file was built in memory", w.max, w.total)
		}
		f, err := excelize.OpenReader(bytes.NewReader(w.buf.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		got, err := f.GetRows(export.DataSheet)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != n+1 {
			t.Errorf("%d rows in the sheet, want %d and the header", len(got), n)
		}
	})
}

// maxWriter keeps what it is given and the largest single write.
type maxWriter struct {
	buf        bytes.Buffer
	max, total int
}

func (m *maxWriter) Write(p []byte) (int, error) {
	m.max = max(m.max, len(p))
	m.total += len(p)
	return m.buf.Write(p)
}
