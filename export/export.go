// Package export writes the rows of an export (models.StreamExport) as
// CSV, NDJSON or XLSX while they stream from the database: a writer holds
// one row at a time, so memory stays flat however many rows there are.
// Every text cell goes through anonymize.Neutralize, so no cell can be read
// as a spreadsheet formula.
package export

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"focalpoint/anonymize"
	"focalpoint/models"
)

// Formats of an export.
const (
	CSV    = "csv"
	XLSX   = "xlsx"
	NDJSON = "ndjson"
)

// Formats lists the formats in the order pages offer them.
var Formats = []string{CSV, XLSX, NDJSON}

// Valid reports whether f is a known format.
func Valid(f string) bool { return f == CSV || f == XLSX || f == NDJSON }

// ContentType returns the media type of a format.
func ContentType(f string) string {
	switch f {
	case XLSX:
		return "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
	case NDJSON:
		return "application/x-ndjson"
	}
	return "text/csv; charset=utf-8"
}

// MaxXLSXRows is how many data rows a worksheet holds (one is the header).
const MaxXLSXRows = 1048575

// ErrTooManyRows is returned when an XLSX sheet would overflow.
var ErrTooManyRows = errors.New("too many rows for one XLSX sheet")

// Options tune a writer.
type Options struct {
	// BOM starts a CSV with a UTF-8 byte order mark (for Excel).
	BOM bool
}

// Writer writes a header and rows, then Close finishes the file.
type Writer interface {
	Row(cells []string) error
	Close() error
}

// New returns a writer of format f to w for cols, having written the header.
func New(f string, w io.Writer, cols []models.ExportColumn, opt Options) (Writer, error) {
	switch f {
	case CSV:
		return newCSV(w, cols, opt)
	case NDJSON:
		return newNDJSON(w, cols), nil
	case XLSX:
		return newXLSX(w, cols)
	}
	return nil, errors.New("unknown export format " + strconv.Quote(f))
}

// Stream writes the export planned by p to w in format f and returns how
// many rows it wrote. It builds the roster scrubber (unless the export is
// identified), then runs two stages at once: one goroutine reads the
// ordered query and pivots its rows, the caller's goroutine scrubs the free
// text and writes. They pass batches of rows through a small bounded
// channel, so memory stays flat and the database cursor never waits for
// the scrubber on a machine with a second core.
func Stream(ctx context.Context, s *models.Store, p *models.ExportPlan, f string, w io.Writer, opt Options) (int64, error) {
	var sc *anonymize.Scrubber
	if !p.Identified {
		var err error
		if sc, err = RosterScrubber(ctx, s); err != nil {
			return 0, err
		}
	}
	wr, err := New(f, w, p.Columns, opt)
	if err != nil {
		return 0, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	const batchRows = 256
	batches := make(chan []models.ExportRow, 4)
	free := make(chan []models.ExportRow, 6)
	var readErr error
	go func() {
		defer close(batches)
		batch := make([]models.ExportRow, 0, batchRows)
		_, readErr = s.StreamExport(ctx, p, func(r *models.ExportRow) error {
			batch = append(batch, models.ExportRow{Cells: append([]string(nil), r.Cells...), OwnName: r.OwnName, OwnEmail: r.OwnEmail})
			if len(batch) < batchRows {
				return nil
			}
			select {
			case batches <- batch:
			case <-ctx.Done():
				return ctx.Err()
			}
			select {
			case batch = <-free:
				batch = batch[:0]
			default:
				batch = make([]models.ExportRow, 0, batchRows)
			}
			return nil
		})
		if readErr == nil && len(batch) > 0 {
			select {
			case batches <- batch:
			case <-ctx.Done():
				readErr = ctx.Err()
			}
		}
	}()
	text := p.TextColumns()
	var rows int64
	var writeErr error
	for batch := range batches {
		if writeErr != nil {
			continue // drain until the reader sees the cancellation
		}
		for i := range batch {
			r := &batch[i]
			if sc != nil {
				for _, c := range text {
					r.Cells[c] = sc.Scrub(r.Cells[c], anonymize.Person{Name: r.OwnName, Email: r.OwnEmail})
				}
			}
			if writeErr = wr.Row(r.Cells); writeErr != nil {
				cancel()
				break
			}
			rows++
		}
		select {
		case free <- batch:
		default:
		}
	}
	if writeErr != nil {
		return rows, writeErr
	}
	if readErr != nil {
		return rows, readErr
	}
	return rows, wr.Close()
}

// RosterScrubber builds the matcher of every roster name for one export
// (a few bytes a name; see anonymize.Scrubber).
func RosterScrubber(ctx context.Context, s *models.Store) (*anonymize.Scrubber, error) {
	n, err := s.CountRoster(ctx)
	if err != nil {
		return nil, err
	}
	sc := anonymize.NewScrubber(int(n))
	if err := s.EachRosterName(ctx, sc.Add); err != nil {
		return nil, err
	}
	return sc.Build(), nil
}

// CSV -------------------------------------------------------------------

type csvWriter struct {
	buf *bufio.Writer
	cw  *csv.Writer
	row []string
}

func newCSV(w io.Writer, cols []models.ExportColumn, opt Options) (*csvWriter, error) {
	buf := bufio.NewWriterSize(w, 64<<10)
	if opt.BOM {
		buf.WriteString("\uFEFF")
	}
	c := &csvWriter{buf: buf, cw: csv.NewWriter(buf), row: make([]string, len(cols))}
	for i, col := range cols {
		c.row[i] = anonymize.Neutralize(col.Name)
	}
	return c, c.cw.Write(c.row)
}

func (c *csvWriter) Row(cells []string) error {
	for i, v := range cells {
		c.row[i] = anonymize.Neutralize(validUTF8(v))
	}
	return c.cw.Write(c.row)
}

func (c *csvWriter) Close() error {
	c.cw.Flush()
	if err := c.cw.Error(); err != nil {
		return err
	}
	return c.buf.Flush()
}

func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

// NDJSON ----------------------------------------------------------------

type ndjsonWriter struct {
	buf  *bufio.Writer
	keys [][]byte // `"name":` per column, with the separator
	cols []models.ExportColumn
	line []byte
}

func newNDJSON(w io.Writer, cols []models.ExportColumn) *ndjsonWriter {
	n := &ndjsonWriter{buf: bufio.NewWriterSize(w, 64<<10), cols: cols}
	for i, c := range cols {
		k, _ := json.Marshal(c.Name)
		sep := ","
		if i == 0 {
			sep = "{"
		}
		n.keys = append(n.keys, append([]byte(sep), append(k, ':')...))
	}
	return n
}

func (n *ndjsonWriter) Row(cells []string) error {
	b := n.line[:0]
	for i, v := range cells {
		b = append(b, n.keys[i]...)
		switch {
		case v == "":
			b = append(b, "null"...)
		case (n.cols[i].Type == models.ColNumber || n.cols[i].Type == models.ColInteger) && isJSONNumber(v):
			b = append(b, v...)
		default:
			b = appendJSONString(b, anonymize.Neutralize(v))
		}
	}
	if len(cells) == 0 {
		b = append(b, '{')
	}
	b = append(b, '}', '\n')
	n.line = b
	_, err := n.buf.Write(b)
	return err
}

func (n *ndjsonWriter) Close() error { return n.buf.Flush() }

// isJSONNumber reports whether s is a number as JSON writes it.
func isJSONNumber(s string) bool {
	if _, err := strconv.ParseFloat(s, 64); err != nil {
		return false
	}
	return json.Valid([]byte(s))
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string (valid UTF-8, control
// characters and <, >, & escaped).
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// ValuesText shows allowed values as "value = label; ...".
func ValuesText(vs []models.Choice) string {
	var b strings.Builder
	for i, v := range vs {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(v.Value)
		if v.Label != "" && v.Label != v.Value {
			b.WriteString(" = ")
			b.WriteString(v.Label)
		}
	}
	return b.String()
}
