package models

import (
	"context"
	"encoding/json"
	"fmt"

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

// tallyLogEntry is the stored form of one consultation's tallyDeltas.
type tallyLogEntry struct {
	Cells    [][]any `json:"c,omitempty"` // round, gender, institution, country, n
	Answers  [][]any `json:"a,omitempty"` // round, question, row, value, gender, institution, country, count, total
	Answered [][]any `json:"w,omitempty"` // round, question, row, gender, institution, country, n
}

func (d *tallyDeltas) encode() (string, error) {
	var e tallyLogEntry
	for k, m := range d.cells {
		for c, n := range m {
			if n != 0 {
				e.Cells = append(e.Cells, []any{k[0], c.Gender, c.InstitutionType, c.Country, n})
			}
		}
	}
	for round, m := range d.answers {
		for k, v := range m {
			if v.count != 0 || v.total != 0 {
				e.Answers = append(e.Answers, []any{round, k.Question, k.Row, k.Value, k.Gender, k.InstitutionType, k.Country, v.count, v.total})
			}
		}
	}
	for round, m := range d.answered {
		for k, n := range m {
			if n != 0 {
				e.Answered = append(e.Answered, []any{round, k.Question, k.Row, k.Gender, k.InstitutionType, k.Country, n})
			}
		}
	}
	b, err := json.Marshal(e)
	return string(b), err
}

// decodeTallyLog adds a stored entry of consultation cid to b.
func (b tallyBatch) decode(cid int64, raw string) error {
	var e struct {
		Cells    []json.RawMessage `json:"c"`
		Answers  []json.RawMessage `json:"a"`
		Answered []json.RawMessage `json:"w"`
	}
	if err := json.Unmarshal([]byte(raw), &e); err != nil {
		return fmt.Errorf("tally log: %w", err)
	}
	d := newTallyDeltas(cid)
	for _, r := range e.Cells {
		var round, n int64
		var c cell
		if err := json.Unmarshal(r, &[]any{&round, &c.Gender, &c.InstitutionType, &c.Country, &n}); err != nil {
			return fmt.Errorf("tally log: %w", err)
		}
		d.addCell(round, c, n)
	}
	for _, r := range e.Answers {
		var round int64
		var k answerKey
		var v tallyDelta
		if err := json.Unmarshal(r, &[]any{&round, &k.Question, &k.Row, &k.Value, &k.Gender, &k.InstitutionType, &k.Country, &v.count, &v.total}); err != nil {
			return fmt.Errorf("tally log: %w", err)
		}
		d.ensureRound(round)
		w := d.answers[round][k]
		w.count += v.count
		w.total += v.total
		d.answers[round][k] = w
	}
	for _, r := range e.Answered {
		var round, n int64
		var k answeredKey
		if err := json.Unmarshal(r, &[]any{&round, &k.Question, &k.Row, &k.Gender, &k.InstitutionType, &k.Country, &n}); err != nil {
			return fmt.Errorf("tally log: %w", err)
		}
		d.ensureRound(round)
		d.answered[round][k] += n
	}
	b.add(d)
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
		raw, err := b[id].encode()
		if err != nil {
			return err
		}
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
		var raw string
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
