package models

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"

	"gorm.io/gorm"
)

// The tally log (SQLite). The group-commit writer adds up the tally
// changes of a batch's submissions (tallyBatch), but writing them into the
// tally tables still cost the single writer a few dozen B-tree upserts per
// submission: every demographic cell and marginal row that a submission
// touches. Instead, a batch's changes are appended as ONE row of
// tally_log, in the same transaction as the submissions (so they commit
// or fail together, and a 2xx means both are on disk). CompactTallies —
// every second in the background, and before any read of the tallies —
// folds the logged changes into the tally tables in one transaction, where
// a second's worth of submissions share their rows. Readers therefore
// always see every committed submission, and the tallies still equal a
// full recount (RecountTallies clears the consultation's log rows: the
// recount already includes them). PostgreSQL does not use the log: its
// submits write tally rows of their own shard (models/scale.go).
func init() {
	Register(Migration{Version: 96, Name: "tally log: batched tally changes waiting to be folded in (SQLite)", SQL: `
CREATE TABLE tally_log (
	id {{ID}},
	consultation_id {{BIGINT}} NOT NULL,
	deltas TEXT NOT NULL
);
CREATE INDEX tally_log_consultation ON tally_log (consultation_id);
`})
}

// A log row holds one consultation's tallyDeltas in a compact binary form
// (the writer encodes one a batch, the fold decodes them all, so it must
// be cheap): a format byte, then the cells, answers and answered changes,
// each list as a count followed by its items; integers as varints,
// strings as length-prefixed bytes, totals as float64 bits.
const tallyLogFormat = 1

type logWriter struct{ b []byte }

func (w *logWriter) int(v int64)   { w.b = binary.AppendVarint(w.b, v) }
func (w *logWriter) uint(v uint64) { w.b = binary.AppendUvarint(w.b, v) }
func (w *logWriter) str(v string) {
	w.uint(uint64(len(v)))
	w.b = append(w.b, v...)
}
func (w *logWriter) cell(c cell) { w.str(c.Gender); w.str(c.InstitutionType); w.str(c.Country) }

func (d *tallyDeltas) encode() []byte {
	out := []byte{tallyLogFormat}
	// Each list is written to its own buffer while counted, then appended
	// as count and items.
	section := func(write func(w *logWriter) uint64) {
		var w logWriter
		n := write(&w)
		out = binary.AppendUvarint(out, n)
		out = append(out, w.b...)
	}
	section(func(w *logWriter) (n uint64) {
		for k, m := range d.cells {
			for c, v := range m {
				if v != 0 {
					w.int(k[0])
					w.cell(c)
					w.int(v)
					n++
				}
			}
		}
		return n
	})
	section(func(w *logWriter) (n uint64) {
		for round, m := range d.answers {
			for k, v := range m {
				if v.count != 0 || v.total != 0 {
					w.int(round)
					w.int(k.Question)
					w.str(k.Row)
					w.str(k.Value)
					w.cell(k.cell)
					w.int(v.count)
					w.uint(math.Float64bits(v.total))
					n++
				}
			}
		}
		return n
	})
	section(func(w *logWriter) (n uint64) {
		for round, m := range d.answered {
			for k, v := range m {
				if v != 0 {
					w.int(round)
					w.int(k.Question)
					w.str(k.Row)
					w.cell(k.cell)
					w.int(v)
					n++
				}
			}
		}
		return n
	})
	return out
}

var errTallyLog = errors.New("tally log: malformed entry")

type logReader struct {
	b   []byte
	err error
}

func (r *logReader) int() int64 {
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err, r.b = errTallyLog, nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *logReader) uint() uint64 {
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err, r.b = errTallyLog, nil
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *logReader) str() string {
	n := r.uint()
	if n > uint64(len(r.b)) {
		r.err, r.b = errTallyLog, nil
		return ""
	}
	v := string(r.b[:n])
	r.b = r.b[n:]
	return v
}

func (r *logReader) cell() cell { return cell{r.str(), r.str(), r.str()} }

// decode adds a stored entry of consultation cid to b.
func (b tallyBatch) decode(cid int64, raw []byte) error {
	if len(raw) == 0 || raw[0] != tallyLogFormat {
		return errTallyLog
	}
	r := &logReader{b: raw[1:]}
	// Straight into the batch's changes for cid (on error the whole fold
	// fails, so a half-added entry is never written).
	d := b[cid]
	if d == nil {
		d = newTallyDeltas(cid)
		b[cid] = d
	}
	for i, n := uint64(0), r.uint(); i < n && r.err == nil; i++ {
		round := r.int()
		c := r.cell()
		d.addCell(round, c, r.int())
	}
	for i, n := uint64(0), r.uint(); i < n && r.err == nil; i++ {
		round := r.int()
		k := answerKey{Question: r.int(), Row: r.str(), Value: r.str()}
		k.cell = r.cell()
		count := r.int()
		d.addAnswer(round, k, tallyDelta{count: count, total: math.Float64frombits(r.uint())})
	}
	for i, n := uint64(0), r.uint(); i < n && r.err == nil; i++ {
		round := r.int()
		k := answeredKey{Question: r.int(), Row: r.str()}
		k.cell = r.cell()
		d.addAnswered(round, k, r.int())
	}
	if r.err != nil || len(r.b) != 0 {
		return errTallyLog
	}
	return nil
}

func (d *tallyDeltas) ensureRound(round int64) {
	if d.answers[round] == nil {
		d.answers[round] = map[answerKey]tallyDelta{}
	}
	if d.answered[round] == nil {
		d.answered[round] = map[answeredKey]int64{}
	}
}

// log appends the batch's changes to tally_log, one row per consultation.
func (b tallyBatch) log(tx *gorm.DB) error {
	for _, id := range b.ids() {
		raw := b[id].encode()
		if err := tx.Exec("INSERT INTO tally_log (consultation_id, deltas) VALUES (?, ?)", id, raw).Error; err != nil {
			return fmt.Errorf("tally log: %w", err)
		}
	}
	return nil
}

// foldTallyLog folds every logged change into the tally tables and
// empties the log, inside tx; it returns how many log rows it folded.
func foldTallyLog(tx *gorm.DB) (int64, error) {
	rows, err := tx.Raw("SELECT id, consultation_id, deltas FROM tally_log ORDER BY id").Rows()
	if err != nil {
		return 0, err
	}
	b := tallyBatch{}
	var last, n int64
	for rows.Next() {
		var id, cid int64
		var raw []byte
		if err := rows.Scan(&id, &cid, &raw); err != nil {
			rows.Close()
			return 0, err
		}
		if err := b.decode(cid, raw); err != nil {
			rows.Close()
			return 0, err
		}
		last, n = id, n+1
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, nil
	}
	if err := b.write(tx); err != nil {
		return 0, err
	}
	return n, tx.Exec("DELETE FROM tally_log WHERE id <= ?", last).Error
}

// foldTallies makes the tally tables current before a read (SQLite: folds
// the log when it holds anything; a no-op on PostgreSQL, whose readers sum
// over shards).
func (s *Store) foldTallies(ctx context.Context) error {
	if s.Dialect != SQLite {
		return nil
	}
	pending := func() (bool, error) {
		var n int64
		err := s.R.WithContext(ctx).Raw("SELECT COUNT(*) FROM (SELECT 1 FROM tally_log LIMIT 1) x").Scan(&n).Error
		return n > 0, err
	}
	if ok, err := pending(); err != nil || !ok {
		return err
	}
	// Concurrent readers wait for one fold instead of queueing one each.
	s.foldMu.Lock()
	defer s.foldMu.Unlock()
	if ok, err := pending(); err != nil || !ok {
		return err
	}
	_, err := s.CompactTallies(ctx)
	return err
}
