package models

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"

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
//
// In format 1 the answer counts are spread over their cell's scopes (the
// cell and its four marginals) already; in format 2 (tallyLogSpread, what
// SQLite submits write, see newDeltas) they hold the full cell only, and
// decoding spreads them: a fifth of the bytes and map entries per submit.
// A log row may hold entries of both formats.
const (
	tallyLogFormat = 1
	tallyLogSpread = 2
)

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
	if d.spreadLater {
		out[0] = tallyLogSpread
	}
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

// decode adds a stored log row of consultation cid to b: one entry, or
// several written one after the other (a batch appends its writes'
// entries as they come, see tallyLog).
func (b tallyBatch) decode(cid int64, raw []byte) error {
	if len(raw) == 0 {
		return errTallyLog
	}
	// Straight into the batch's changes for cid (on error the whole fold
	// fails, so a half-added entry is never written).
	d := b[cid]
	if d == nil {
		d = newTallyDeltas(cid)
		b[cid] = d
	}
	for len(raw) > 0 {
		if raw[0] != tallyLogFormat && raw[0] != tallyLogSpread {
			return errTallyLog
		}
		r := &logReader{b: raw[1:]}
		if err := d.decodeEntry(r, raw[0] == tallyLogSpread); err != nil {
			return err
		}
		raw = r.b
	}
	return nil
}

// decodeEntry reads one entry (after its format byte) into d and leaves r
// at the byte after it; spread adds each answer count to its cell's
// scopes (format 2).
func (d *tallyDeltas) decodeEntry(r *logReader, spread bool) error {
	nScopes := 1
	if spread {
		nScopes = len(scopes(cell{}))
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
		v := tallyDelta{count: count, total: math.Float64frombits(r.uint())}
		scs := scopes(k.cell)
		for _, sc := range scs[:nScopes] {
			k.cell = sc
			d.addAnswer(round, k, v)
		}
	}
	for i, n := uint64(0), r.uint(); i < n && r.err == nil; i++ {
		round := r.int()
		k := answeredKey{Question: r.int(), Row: r.str()}
		k.cell = r.cell()
		v := r.int()
		scs := scopes(k.cell)
		for _, sc := range scs[:nScopes] {
			k.cell = sc
			d.addAnswered(round, k, v)
		}
	}
	if r.err != nil {
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

// tallyLog gathers a batch's tally changes in the writer, per
// consultation, as encoded log entries one after the other: adding a
// write's changes is an append, and adding them up is left to the fold,
// which runs on a read connection (readTallyLog). Merging them into maps
// in the writer cost the single writer about 8 % of its time.
type tallyLog map[int64][]byte

// add appends d's changes (its cached encoding when it has one).
func (b tallyLog) add(d *tallyDeltas) {
	raw := d.encoded
	if raw == nil {
		raw = d.encode()
	}
	b[d.consultation] = append(b[d.consultation], raw...)
}

// merge appends o's entries.
func (b tallyLog) merge(o tallyLog) {
	for id, raw := range o {
		b[id] = append(b[id], raw...)
	}
}

// write appends the batch's changes to tally_log, one row per
// consultation, in id order.
func (b tallyLog) write(tx *gorm.DB) error {
	for _, id := range slices.Sorted(maps.Keys(b)) {
		if _, err := execDirect(tx, "INSERT INTO tally_log (consultation_id, deltas) VALUES (?, ?)", id, b[id]); err != nil {
			return fmt.Errorf("tally log: %w", err)
		}
	}
	return nil
}

// loggedTallies is the tally log as read: the sum of its rows' changes,
// how many rows, and the last row's id.
type loggedTallies struct {
	sum     tallyBatch
	n, last int64
}

// readTallyLog reads and adds up the whole tally log from db.
func readTallyLog(db *gorm.DB) (*loggedTallies, error) {
	rows, err := db.Raw("SELECT id, consultation_id, deltas FROM tally_log ORDER BY id").Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	l := &loggedTallies{sum: tallyBatch{}}
	for rows.Next() {
		var id, cid int64
		var raw []byte
		if err := rows.Scan(&id, &cid, &raw); err != nil {
			return nil, err
		}
		if err := l.sum.decode(cid, raw); err != nil {
			return nil, err
		}
		l.last, l.n = id, l.n+1
	}
	return l, rows.Err()
}

// foldTallyLog folds the logged changes into the tally tables and deletes
// their rows, inside tx; it returns how many log rows it folded. read is
// the log as read beforehand on a read connection, so the single writer
// need not decode and add it up: it holds when the rows up to read.last
// are still the read.n rows read (ids are never reused, and the writer
// commits them in order, so no row at or below read.last can appear
// later). Otherwise (another fold or a recount took some), or when read
// is nil, the log is read again inside tx.
func foldTallyLog(tx *gorm.DB, read *loggedTallies) (int64, error) {
	if read != nil {
		var n int64
		if err := tx.Raw("SELECT COUNT(*) FROM tally_log WHERE id <= ?", read.last).Row().Scan(&n); err != nil {
			return 0, err
		}
		if n != read.n {
			read = nil
		}
	}
	if read == nil {
		var err error
		if read, err = readTallyLog(tx); err != nil {
			return 0, err
		}
	}
	if read.n == 0 {
		return 0, nil
	}
	if err := read.sum.write(tx); err != nil {
		return 0, err
	}
	return read.n, tx.Exec("DELETE FROM tally_log WHERE id <= ?", read.last).Error
}

// foldTallies makes the tally tables current before a read (SQLite: folds
// the log when it holds anything; a no-op on PostgreSQL, whose readers sum
// over shards).
func (s *Store) foldTallies(ctx context.Context) error {
	if s.Dialect != SQLite {
		return nil
	}
	return catchUp(&s.foldMu, func() (bool, error) {
		var n int64
		err := s.R.WithContext(ctx).Raw("SELECT COUNT(*) FROM (SELECT 1 FROM tally_log LIMIT 1) x").Scan(&n).Error
		return n > 0, err
	}, func() error {
		_, err := s.CompactTallies(ctx)
		return err
	})
}
