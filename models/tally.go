package models

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"

	"gorm.io/gorm"
)

// Tallies: the counts synthesis reads, kept up to date inside the submit
// transaction so that a synthesis call does not grow with the number of
// answers (issue 8). Every count is kept per demographic cell (gender ×
// institution type × country); synthesis sums the cells its filters match.
//
//	tally_cells     respondents with a submitted response, per round
//	                (round_id 0: with a submitted response in any round)
//	tally_answers   per question, matrix row and value: how many submitted
//	                rows (one per respondent for every kind but multi_choice,
//	                where it is one per chosen option, i.e. per respondent
//	                again); number questions keep value '' with the count
//	                of answers and their sum in total
//	tally_answered  per question and row: respondents with a non-blank
//	                answer (row_key '' of a matrix: any row answered)
//
// They always equal RecountTallies' full recount from submitted_answers
// (tested with random submissions and resubmissions on both databases).
// Each row also has a shard (migration 610, models/scale.go): readers sum
// over shards, and on PostgreSQL count the full cells of shards other
// than 0 in the marginal rows too, until CompactTallies folds them.
func init() {
	Register(Migration{Version: 400, Name: "synthesis tallies", SQL: `
CREATE TABLE tally_cells (
	consultation_id {{BIGINT}} NOT NULL,
	round_id {{BIGINT}} NOT NULL,
	gender TEXT NOT NULL,
	institution_type TEXT NOT NULL,
	country TEXT NOT NULL,
	respondents {{BIGINT}} NOT NULL DEFAULT 0,
	PRIMARY KEY (consultation_id, round_id, gender, institution_type, country)
);
CREATE TABLE tally_answers (
	consultation_id {{BIGINT}} NOT NULL,
	round_id {{BIGINT}} NOT NULL,
	question_id {{BIGINT}} NOT NULL,
	row_key TEXT NOT NULL,
	value TEXT NOT NULL,
	gender TEXT NOT NULL,
	institution_type TEXT NOT NULL,
	country TEXT NOT NULL,
	count {{BIGINT}} NOT NULL DEFAULT 0,
	total DOUBLE PRECISION NOT NULL DEFAULT 0,
	PRIMARY KEY (question_id, row_key, value, gender, institution_type, country)
);
CREATE INDEX tally_answers_round ON tally_answers (round_id);
CREATE INDEX tally_answers_consultation ON tally_answers (consultation_id);
CREATE TABLE tally_answered (
	consultation_id {{BIGINT}} NOT NULL,
	round_id {{BIGINT}} NOT NULL,
	question_id {{BIGINT}} NOT NULL,
	row_key TEXT NOT NULL,
	gender TEXT NOT NULL,
	institution_type TEXT NOT NULL,
	country TEXT NOT NULL,
	count {{BIGINT}} NOT NULL DEFAULT 0,
	PRIMARY KEY (question_id, row_key, gender, institution_type, country)
);
CREATE INDEX tally_answered_round ON tally_answered (round_id);
CREATE INDEX tally_answered_consultation ON tally_answered (consultation_id);
`})
}

// TallyChange describes what a submission changes in the counts that
// synthesis reads.
//
// Before is nil on the first submission of this response (the response
// was not submitted until now); on a resubmission it is the respondent as
// the previous submission was counted, and Old holds that submission's
// rows. After is the respondent now and New the rows now submitted. Rows
// need not have IDs. The order of the caller's writes inside the
// transaction does not matter.
type TallyChange struct {
	ConsultationID int64
	RoundID        int64
	Before, After  *Respondent
	Old, New       []SubmittedAnswer
	// Kinds, when set, is the kind of every question of the round (the
	// caller has them at hand); otherwise they are read.
	Kinds map[int64]string
}

// cell is a demographic cell.
type cell struct{ Gender, InstitutionType, Country string }

// Any is the value of a dimension in a marginal tally row: tally_answers
// and tally_answered keep, beside the full cells, the sums over all cells
// (*,*,*) and over one dimension only ((g,*,*), (*,i,*), (*,*,c)), so that
// an unfiltered or one-dimension synthesis reads a few hundred rows
// however many cells there are. No demographic value is "*".
const Any = "*"

// scopes are the tally rows a cell's counts go to: the cell itself and
// its four marginals.
func scopes(c cell) [5]cell {
	return [5]cell{c, {Any, Any, Any}, {c.Gender, Any, Any}, {Any, c.InstitutionType, Any}, {Any, Any, c.Country}}
}

func cellOf(r *Respondent) cell {
	c := cell{Gender: r.Gender, InstitutionType: r.InstitutionType, Country: r.Country}
	if c.Country == "" && r.StateCountry != nil {
		c.Country = *r.StateCountry
	}
	return c
}

// isBlank reports whether a submitted value counts as no reply. The same
// characters are trimmed by the recount's SQL (blankSQL).
func isBlank(v string) bool { return strings.Trim(v, " \t\n\r") == "" }

// Kinds whose values are counted one by one.
var countedKinds = map[string]bool{QSingleChoice: true, QMultiChoice: true, QYesNo: true, QMatrixYesNo: true, QScale: true, QCountry: true}

type answerKey struct {
	Question int64
	Row      string
	Value    string
	cell
}

type answeredKey struct {
	Question int64
	Row      string
	cell
}

type tallyDelta struct {
	count int64
	total float64
}

// tallyDeltas gathers the changes of one or more submissions before they
// are written with one upsert per table.
type tallyDeltas struct {
	consultation int64
	// shard is the tally shard the rows go to (see newTallyShard); 0 on
	// SQLite. In a shard other than 0 only the full cells are written
	// (fullOnly): CompactTallies derives their marginal rows.
	shard    int64
	fullOnly bool
	// spreadLater (SQLite, with fullOnly): the marginal rows are left to
	// whoever writes the changes: the tally log's fold spreads them when
	// it decodes them (tallyLogSpread), a direct write first (spread).
	spreadLater bool
	cells       map[[2]int64]map[cell]int64 // (round, _) → cell → respondents
	answers     map[int64]map[answerKey]tallyDelta
	answered    map[int64]map[answeredKey]int64
	// encoded, when set, is encode() of these changes, worked out before
	// the write (see prepareSubmit); set it only once they are final.
	encoded []byte
}

func newTallyDeltas(consultation int64) *tallyDeltas {
	return &tallyDeltas{consultation: consultation, cells: map[[2]int64]map[cell]int64{},
		answers: map[int64]map[answerKey]tallyDelta{}, answered: map[int64]map[answeredKey]int64{}}
}

func (d *tallyDeltas) addCell(round int64, c cell, n int64) {
	k := [2]int64{round, 0}
	if d.cells[k] == nil {
		d.cells[k] = map[cell]int64{}
	}
	d.cells[k][c] += n
}

// addRows counts (sign +1) or uncounts (−1) one response's rows.
func (d *tallyDeltas) addRows(round int64, c cell, rows []SubmittedAnswer, kinds map[int64]string, sign int64) {
	rc := newRowCounts()
	rc.add(rows, kinds, sign)
	d.addCounts(round, c, rc)
}

// rowCounts are the counts of one or more responses' rows before they go
// to a cell: the keys' cells are left empty.
type rowCounts struct {
	answers  map[answerKey]tallyDelta
	answered map[answeredKey]int64
}

func newRowCounts() rowCounts {
	return rowCounts{answers: map[answerKey]tallyDelta{}, answered: map[answeredKey]int64{}}
}

// add counts (sign +1) or uncounts (−1) one response's rows.
func (rc rowCounts) add(rows []SubmittedAnswer, kinds map[int64]string, sign int64) {
	seen := map[answeredKey]bool{}
	for _, r := range rows {
		if isBlank(r.Value) {
			continue
		}
		switch kind := kinds[r.QuestionID]; {
		case countedKinds[kind]:
			k := answerKey{Question: r.QuestionID, Row: r.RowKey, Value: r.Value}
			v := rc.answers[k]
			v.count += sign
			rc.answers[k] = v
		case kind == QNumber:
			k := answerKey{Question: r.QuestionID}
			v := rc.answers[k]
			v.count += sign
			if r.Num != nil {
				v.total += float64(sign) * *r.Num
			}
			rc.answers[k] = v
		}
		for _, row := range [2]string{r.RowKey, ""} {
			k := answeredKey{Question: r.QuestionID, Row: row}
			if !seen[k] {
				seen[k] = true
				rc.answered[k] += sign
			}
		}
	}
}

// addCounts adds rc's counts that are not zero to cell c in round and,
// unless fullOnly, to its marginals (scopes).
func (d *tallyDeltas) addCounts(round int64, c cell, rc rowCounts) {
	d.ensureRound(round)
	ans, answered := d.answers[round], d.answered[round]
	scs := scopes(c)
	n := len(scs)
	if d.fullOnly {
		n = 1 // the full cell; its marginals come with compaction
	}
	for k, v := range rc.answers {
		if v.count == 0 && v.total == 0 {
			continue
		}
		for _, sc := range scs[:n] {
			k.cell = sc
			w := ans[k]
			w.count += v.count
			w.total += v.total
			ans[k] = w
		}
	}
	for k, v := range rc.answered {
		if v == 0 {
			continue
		}
		for _, sc := range scs[:n] {
			k.cell = sc
			answered[k] += v
		}
	}
}

// questionKinds returns the kind of every question of a round.
func questionKinds(tx *gorm.DB, round int64) (map[int64]string, error) {
	var qs []struct {
		ID   int64
		Kind string
	}
	if err := tx.Raw("SELECT id, kind FROM questions WHERE round_id = ?", round).Scan(&qs).Error; err != nil {
		return nil, err
	}
	m := make(map[int64]string, len(qs))
	for _, q := range qs {
		m[q.ID] = q.Kind
	}
	return m, nil
}

// applyTallies keeps the synthesis tallies equal to a full recount; the
// submit path calls it inside the submit transaction. A resubmission
// moves its counts: Old is subtracted under Before, New added under After.
// When the demographics changed between Before and After, the respondent's
// other rounds move too (see MoveRespondentTallies).
func (s *Store) applyTallies(tx *gorm.DB, ch TallyChange) error {
	if ch.After == nil {
		return fmt.Errorf("applyTallies: After is required")
	}
	kinds := ch.Kinds
	if kinds == nil {
		var err error
		if kinds, err = questionKinds(tx, ch.RoundID); err != nil {
			return err
		}
	}
	after := cellOf(ch.After)
	if ch.Before != nil && cellOf(ch.Before) == after {
		ch.Kinds = kinds
		return applyDeltas(tx, s.resubmitDeltas(ch))
	}
	d := s.newDeltas(ch.ConsultationID)
	if ch.Before != nil {
		before := cellOf(ch.Before)
		if err := s.moveOtherRounds(tx, d, ch.After.ID, ch.RoundID, before, after); err != nil {
			return err
		}
		d.addCell(ch.RoundID, before, -1)
		d.addRows(ch.RoundID, before, ch.Old, kinds, -1)
	} else {
		// First submission of this round: the respondent joins the
		// any-round count unless another round already counted them.
		other, err := otherSubmitted(tx, ch.After.ID, ch.RoundID)
		if err != nil {
			return err
		}
		if !other {
			d.addCell(0, after, 1)
		}
	}
	d.addCell(ch.RoundID, after, 1)
	d.addRows(ch.RoundID, after, ch.New, kinds, 1)
	return applyDeltas(tx, d)
}

func (s *Store) newDeltas(consultationID int64) *tallyDeltas {
	d := newTallyDeltas(consultationID)
	d.shard = s.newTallyShard()
	d.fullOnly = d.shard != 0
	if s.Dialect == SQLite {
		d.fullOnly, d.spreadLater = true, true
	}
	return d
}

// spread returns d with its counts added to their cells' marginals too,
// when d left them for later (spreadLater), ready for write.
func (d *tallyDeltas) spread() (*tallyDeltas, error) {
	if !d.spreadLater {
		return d, nil
	}
	out := newTallyDeltas(d.consultation)
	out.shard = d.shard
	return out, tallyBatch{d.consultation: out}.decode(d.consultation, d.encode())
}

// resubmitDeltas is the tally change of a resubmission by a respondent
// whose cell (demographics) did not change: its old rows out, its new
// rows in. It needs no database, so the submit works it out before the
// write transaction. ch.Kinds must be set.
//
// The old and new rows are counted against each other first: what is on
// both sides cancels before it would be spread over the cell's five tally
// rows, and so does the cell's respondent count.
func (s *Store) resubmitDeltas(ch TallyChange) *tallyDeltas {
	d := s.newDeltas(ch.ConsultationID)
	rc := newRowCounts()
	rc.add(ch.Old, ch.Kinds, -1)
	rc.add(ch.New, ch.Kinds, 1)
	d.addCounts(ch.RoundID, cellOf(ch.After), rc)
	return d
}

// applyDeltas hands d to the group-commit writer's batch (it is logged
// with the rest of the batch) or, outside it, writes it in tx.
func applyDeltas(tx *gorm.DB, d *tallyDeltas) error {
	if b, ok := tx.Statement.Context.Value(tallyBatchKey{}).(tallyLog); ok {
		b.add(d)
		return nil
	}
	d, err := d.spread()
	if err != nil {
		return err
	}
	return d.write(tx)
}

// tallyBatchKey marks the context of a fn run by writeDeferringTallies;
// its value is the tallyLog that gathers the fn's changes.
type tallyBatchKey struct{}

// tallyBatch adds up tally changes per consultation (the tally log's
// fold, and the PostgreSQL compaction).
type tallyBatch map[int64]*tallyDeltas

// addAnswer adds v to the answer count of key k in round.
func (d *tallyDeltas) addAnswer(round int64, k answerKey, v tallyDelta) {
	d.ensureRound(round)
	w := d.answers[round][k]
	w.count += v.count
	w.total += v.total
	d.answers[round][k] = w
}

// addAnswered adds n to the answered count of key k in round.
func (d *tallyDeltas) addAnswered(round int64, k answeredKey, n int64) {
	d.ensureRound(round)
	d.answered[round][k] += n
}

// write writes the gathered changes, consultations in id order.
func (b tallyBatch) write(tx *gorm.DB) error {
	for _, id := range slices.Sorted(maps.Keys(b)) {
		if err := b[id].write(tx); err != nil {
			return err
		}
	}
	return nil
}

// ApplyTallies is applyTallies for the other packages' bulk and seed
// paths (bench generator, demo); request paths use the submit path.
func (s *Store) ApplyTallies(tx *gorm.DB, ch TallyChange) error { return s.applyTallies(tx, ch) }

// otherSubmitted reports whether the respondent has a submitted response
// in a round other than round.
func otherSubmitted(tx *gorm.DB, respondent, round int64) (bool, error) {
	var n int64
	err := tx.Raw("SELECT COUNT(*) FROM responses WHERE respondent_id = ? AND round_id <> ? AND status = ?",
		respondent, round, ResponseSubmitted).Scan(&n).Error
	return n > 0, err
}

// moveOtherRounds moves the counts of the respondent's submitted rounds
// other than except (and the any-round count) from one cell to another.
func (s *Store) moveOtherRounds(tx *gorm.DB, d *tallyDeltas, respondent, except int64, from, to cell) error {
	var rounds []int64
	if err := tx.Raw("SELECT round_id FROM responses WHERE respondent_id = ? AND status = ? AND round_id <> ?",
		respondent, ResponseSubmitted, except).Scan(&rounds).Error; err != nil {
		return err
	}
	// The any-round count holds the respondent if any round is submitted;
	// this round is (or was) submitted since Before is set.
	d.addCell(0, from, -1)
	d.addCell(0, to, 1)
	for _, round := range rounds {
		kinds, err := questionKinds(tx, round)
		if err != nil {
			return err
		}
		var rows []SubmittedAnswer
		if err := tx.Where("respondent_id = ? AND round_id = ?", respondent, round).Find(&rows).Error; err != nil {
			return err
		}
		d.addCell(round, from, -1)
		d.addCell(round, to, 1)
		d.addRows(round, from, rows, kinds, -1)
		d.addRows(round, to, rows, kinds, 1)
	}
	return nil
}

// MoveRespondentTallies moves every count of a respondent from its old
// demographics to its new ones. The respond area calls it in the same
// transaction when a respondent with a submitted response changes their
// demographics outside a submit. It is a no-op when the cell is unchanged
// or nothing is submitted yet.
func (s *Store) MoveRespondentTallies(tx *gorm.DB, before, after *Respondent) error {
	from, to := cellOf(before), cellOf(after)
	if from == to {
		return nil
	}
	var n int64
	if err := tx.Raw("SELECT COUNT(*) FROM responses WHERE respondent_id = ? AND status = ?", after.ID, ResponseSubmitted).Scan(&n).Error; err != nil {
		return err
	}
	if n == 0 {
		return nil
	}
	d := newTallyDeltas(after.ConsultationID)
	d.shard = s.newTallyShard()
	d.fullOnly = d.shard != 0
	if err := s.moveOtherRounds(tx, d, after.ID, 0, from, to); err != nil {
		return err
	}
	return d.write(tx)
}

// upsertChunk bounds the rows of one multi-row upsert.
const upsertChunk = 200

// write applies the gathered deltas with one multi-row upsert per table
// and chunk, to the rows of shard d.shard, keys sorted so concurrent
// PostgreSQL transactions lock rows in the same order.
func (d *tallyDeltas) write(tx *gorm.DB) error {
	type cellRow struct {
		round int64
		c     cell
		n     int64
	}
	var cells []cellRow
	for k, m := range d.cells {
		for c, n := range m {
			if n != 0 {
				cells = append(cells, cellRow{k[0], c, n})
			}
		}
	}
	sort.Slice(cells, func(i, j int) bool {
		a, b := cells[i], cells[j]
		if a.round != b.round {
			return a.round < b.round
		}
		return lessCell(a.c, b.c)
	})
	for start := 0; start < len(cells); start += upsertChunk {
		part := cells[start:min(start+upsertChunk, len(cells))]
		var sb strings.Builder
		args := make([]any, 0, len(part)*6)
		sb.WriteString("INSERT INTO tally_cells (consultation_id, round_id, gender, institution_type, country, shard, respondents) VALUES ")
		for i, r := range part {
			if i > 0 {
				sb.WriteString(",")
			}
			sb.WriteString("(?,?,?,?,?,?,?)")
			args = append(args, d.consultation, r.round, r.c.Gender, r.c.InstitutionType, r.c.Country, d.shard, r.n)
		}
		sb.WriteString(" ON CONFLICT (consultation_id, round_id, gender, institution_type, country, shard) DO UPDATE SET respondents = tally_cells.respondents + excluded.respondents")
		if err := tx.Exec(sb.String(), args...).Error; err != nil {
			return fmt.Errorf("tally cells: %w", err)
		}
	}

	type ansRow struct {
		round int64
		k     answerKey
		v     tallyDelta
	}
	var ans []ansRow
	for round, m := range d.answers {
		for k, v := range m {
			if v.count != 0 || v.total != 0 {
				ans = append(ans, ansRow{round, k, v})
			}
		}
	}
	sort.Slice(ans, func(i, j int) bool {
		a, b := ans[i].k, ans[j].k
		if a.Question != b.Question {
			return a.Question < b.Question
		}
		if a.Row != b.Row {
			return a.Row < b.Row
		}
		if a.Value != b.Value {
			return a.Value < b.Value
		}
		return lessCell(a.cell, b.cell)
	})
	for start := 0; start < len(ans); start += upsertChunk {
		part := ans[start:min(start+upsertChunk, len(ans))]
		var sb strings.Builder
		args := make([]any, 0, len(part)*10)
		sb.WriteString("INSERT INTO tally_answers (consultation_id, round_id, question_id, row_key, value, gender, institution_type, country, shard, count, total) VALUES ")
		for i, r := range part {
			if i > 0 {
				sb.WriteString(",")
			}
			sb.WriteString("(?,?,?,?,?,?,?,?,?,?,?)")
			args = append(args, d.consultation, r.round, r.k.Question, r.k.Row, r.k.Value, r.k.Gender, r.k.InstitutionType, r.k.Country, d.shard, r.v.count, r.v.total)
		}
		sb.WriteString(" ON CONFLICT (question_id, row_key, value, gender, institution_type, country, shard) DO UPDATE SET count = tally_answers.count + excluded.count, total = tally_answers.total + excluded.total")
		if err := tx.Exec(sb.String(), args...).Error; err != nil {
			return fmt.Errorf("tally answers: %w", err)
		}
	}

	type answeredRow struct {
		round int64
		k     answeredKey
		n     int64
	}
	var aw []answeredRow
	for round, m := range d.answered {
		for k, n := range m {
			if n != 0 {
				aw = append(aw, answeredRow{round, k, n})
			}
		}
	}
	sort.Slice(aw, func(i, j int) bool {
		a, b := aw[i].k, aw[j].k
		if a.Question != b.Question {
			return a.Question < b.Question
		}
		if a.Row != b.Row {
			return a.Row < b.Row
		}
		return lessCell(a.cell, b.cell)
	})
	for start := 0; start < len(aw); start += upsertChunk {
		part := aw[start:min(start+upsertChunk, len(aw))]
		var sb strings.Builder
		args := make([]any, 0, len(part)*8)
		sb.WriteString("INSERT INTO tally_answered (consultation_id, round_id, question_id, row_key, gender, institution_type, country, shard, count) VALUES ")
		for i, r := range part {
			if i > 0 {
				sb.WriteString(",")
			}
			sb.WriteString("(?,?,?,?,?,?,?,?,?)")
			args = append(args, d.consultation, r.round, r.k.Question, r.k.Row, r.k.Gender, r.k.InstitutionType, r.k.Country, d.shard, r.n)
		}
		sb.WriteString(" ON CONFLICT (question_id, row_key, gender, institution_type, country, shard) DO UPDATE SET count = tally_answered.count + excluded.count")
		if err := tx.Exec(sb.String(), args...).Error; err != nil {
			return fmt.Errorf("tally answered: %w", err)
		}
	}
	return nil
}

func lessCell(a, b cell) bool {
	if a.Gender != b.Gender {
		return a.Gender < b.Gender
	}
	if a.InstitutionType != b.InstitutionType {
		return a.InstitutionType < b.InstitutionType
	}
	return a.Country < b.Country
}

// blankSQL is the SQL twin of isBlank: true when the value is not blank.
func (s *Store) notBlankSQL(col string) string {
	if s.Dialect == Postgres {
		return "btrim(" + col + ", E' \\t\\n\\r') <> ''"
	}
	return "trim(" + col + ", ' ' || char(9) || char(10) || char(13)) <> ''"
}

// cellCountrySQL is the SQL twin of cellOf's country.
const cellCountrySQL = "CASE WHEN rs.country = '' THEN COALESCE(rs.state_country, '') ELSE rs.country END"

// RecountTallies rebuilds every tally of a consultation from
// submitted_answers with INSERT ... SELECT ... GROUP BY: for bulk loads
// (the bench generator) and to check the running tallies.
func (s *Store) RecountTallies(ctx context.Context, consultationID int64) error {
	return s.Write(ctx, func(tx *gorm.DB) error { return s.recountTallies(tx, consultationID) })
}

// RecountTalliesTx is RecountTallies inside the caller's transaction (bulk
// tools that hold the writer themselves).
func (s *Store) RecountTalliesTx(tx *gorm.DB, consultationID int64) error {
	return s.recountTallies(tx, consultationID)
}

func (s *Store) recountTallies(tx *gorm.DB, cid int64) error {
	if s.Dialect == Postgres {
		// Not while CompactTallies folds shards into the rows rewritten
		// here (the same advisory lock).
		if err := tx.Exec("SELECT pg_advisory_xact_lock(727275)").Error; err != nil {
			return err
		}
	}
	return recountTallies(tx, s.Dialect, cid, true)
}

// recountTalliesTx is the recount of the migrations before the shard
// column existed (403, 411).
// recountAllTalliesTx recounts the tallies of every consultation that has
// any (migrations that change how tallies are kept).
func recountAllTalliesTx(tx *gorm.DB, d Dialect) error {
	var ids []int64
	if err := tx.Raw("SELECT DISTINCT consultation_id FROM tally_cells").Scan(&ids).Error; err != nil {
		return err
	}
	for _, id := range ids {
		if err := recountTalliesTx(tx, d, id); err != nil {
			return err
		}
	}
	return nil
}

func recountTalliesTx(tx *gorm.DB, d Dialect, cid int64) error {
	return recountTallies(tx, d, cid, false)
}

// recountTallies rewrites the consultation's tallies in shard 0; sharded
// says the tables have the shard column (migration 610), and then the
// marginal rows are summed from shard 0's full cells only.
func recountTallies(tx *gorm.DB, d Dialect, cid int64, sharded bool) error {
	s := &Store{Dialect: d}
	kinds := make([]string, 0, len(countedKinds))
	for k := range countedKinds {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	stmts := []struct {
		sql  string
		args []any
	}{
		// Logged changes not yet folded in are counted by the recount.
		{"DELETE FROM tally_log WHERE consultation_id = ?", []any{cid}},
		{"DELETE FROM tally_cells WHERE consultation_id = ?", []any{cid}},
		{"DELETE FROM tally_answers WHERE consultation_id = ?", []any{cid}},
		{"DELETE FROM tally_answered WHERE consultation_id = ?", []any{cid}},
		{`INSERT INTO tally_cells (consultation_id, round_id, gender, institution_type, country, respondents)
SELECT rs.consultation_id, r.round_id, rs.gender, rs.institution_type, ` + cellCountrySQL + `, COUNT(*)
FROM responses r JOIN respondents rs ON rs.id = r.respondent_id
WHERE rs.consultation_id = ? AND r.status = ?
GROUP BY rs.consultation_id, r.round_id, rs.gender, rs.institution_type, ` + cellCountrySQL, []any{cid, ResponseSubmitted}},
		{`INSERT INTO tally_cells (consultation_id, round_id, gender, institution_type, country, respondents)
SELECT rs.consultation_id, 0, rs.gender, rs.institution_type, ` + cellCountrySQL + `, COUNT(*)
FROM respondents rs
WHERE rs.consultation_id = ? AND EXISTS (SELECT 1 FROM responses r WHERE r.respondent_id = rs.id AND r.status = ?)
GROUP BY rs.consultation_id, rs.gender, rs.institution_type, ` + cellCountrySQL, []any{cid, ResponseSubmitted}},
		{`INSERT INTO tally_answers (consultation_id, round_id, question_id, row_key, value, gender, institution_type, country, count, total)
SELECT rs.consultation_id, sa.round_id, sa.question_id, sa.row_key, sa.value, rs.gender, rs.institution_type, ` + cellCountrySQL + `, COUNT(*), 0
FROM submitted_answers sa JOIN respondents rs ON rs.id = sa.respondent_id JOIN questions q ON q.id = sa.question_id
WHERE rs.consultation_id = ? AND q.kind IN ? AND ` + s.notBlankSQL("sa.value") + `
GROUP BY rs.consultation_id, sa.round_id, sa.question_id, sa.row_key, sa.value, rs.gender, rs.institution_type, ` + cellCountrySQL, []any{cid, kinds}},
		{`INSERT INTO tally_answers (consultation_id, round_id, question_id, row_key, value, gender, institution_type, country, count, total)
SELECT rs.consultation_id, sa.round_id, sa.question_id, '', '', rs.gender, rs.institution_type, ` + cellCountrySQL + `, COUNT(*), COALESCE(SUM(sa.num), 0)
FROM submitted_answers sa JOIN respondents rs ON rs.id = sa.respondent_id JOIN questions q ON q.id = sa.question_id
WHERE rs.consultation_id = ? AND q.kind = ? AND ` + s.notBlankSQL("sa.value") + `
GROUP BY rs.consultation_id, sa.round_id, sa.question_id, rs.gender, rs.institution_type, ` + cellCountrySQL, []any{cid, QNumber}},
		{`INSERT INTO tally_answered (consultation_id, round_id, question_id, row_key, gender, institution_type, country, count)
SELECT rs.consultation_id, sa.round_id, sa.question_id, sa.row_key, rs.gender, rs.institution_type, ` + cellCountrySQL + `, COUNT(DISTINCT sa.respondent_id)
FROM submitted_answers sa JOIN respondents rs ON rs.id = sa.respondent_id
WHERE rs.consultation_id = ? AND ` + s.notBlankSQL("sa.value") + `
GROUP BY rs.consultation_id, sa.round_id, sa.question_id, sa.row_key, rs.gender, rs.institution_type, ` + cellCountrySQL, []any{cid}},
		// A matrix's row_key '' counts respondents who answered any row.
		{`INSERT INTO tally_answered (consultation_id, round_id, question_id, row_key, gender, institution_type, country, count)
SELECT rs.consultation_id, sa.round_id, sa.question_id, '', rs.gender, rs.institution_type, ` + cellCountrySQL + `, COUNT(DISTINCT sa.respondent_id)
FROM submitted_answers sa JOIN respondents rs ON rs.id = sa.respondent_id
WHERE rs.consultation_id = ? AND sa.row_key <> '' AND ` + s.notBlankSQL("sa.value") + `
GROUP BY rs.consultation_id, sa.round_id, sa.question_id, rs.gender, rs.institution_type, ` + cellCountrySQL, []any{cid}},
	}
	// The marginal rows, summed from the full cells just written.
	full := "consultation_id = ? AND gender <> '*' AND institution_type <> '*' AND country <> '*'"
	if sharded {
		full += " AND shard = 0"
	}
	for _, m := range []struct{ g, i, c, group string }{
		{"'*'", "'*'", "'*'", ""}, {"gender", "'*'", "'*'", ", gender"},
		{"'*'", "institution_type", "'*'", ", institution_type"}, {"'*'", "'*'", "country", ", country"},
	} {
		group := m.group
		stmts = append(stmts,
			struct {
				sql  string
				args []any
			}{`INSERT INTO tally_answers (consultation_id, round_id, question_id, row_key, value, gender, institution_type, country, count, total)
SELECT consultation_id, round_id, question_id, row_key, value, ` + m.g + `, ` + m.i + `, ` + m.c + `, SUM(count), SUM(total)
FROM tally_answers WHERE ` + full + ` GROUP BY consultation_id, round_id, question_id, row_key, value` + group, []any{cid}},
			struct {
				sql  string
				args []any
			}{`INSERT INTO tally_answered (consultation_id, round_id, question_id, row_key, gender, institution_type, country, count)
SELECT consultation_id, round_id, question_id, row_key, ` + m.g + `, ` + m.i + `, ` + m.c + `, SUM(count)
FROM tally_answered WHERE ` + full + ` GROUP BY consultation_id, round_id, question_id, row_key` + group, []any{cid}})
	}
	for _, st := range stmts {
		if err := tx.Exec(st.sql, st.args...).Error; err != nil {
			return fmt.Errorf("recount tallies: %w", err)
		}
	}
	return nil
}

func init() {
	Register(Migration{Version: 403, Name: "marginal tally rows and their index", Up: func(tx *gorm.DB, d Dialect) error {
		for _, st := range []string{
			"CREATE INDEX tally_answers_scope ON tally_answers (consultation_id, gender, institution_type, country, round_id)",
			"CREATE INDEX tally_answered_scope ON tally_answered (consultation_id, gender, institution_type, country, round_id)",
		} {
			if err := tx.Exec(st).Error; err != nil {
				return err
			}
		}
		return recountAllTalliesTx(tx, d)
	}})
}

// TallySnapshot is every non-zero tally of a consultation as text lines,
// sorted: tests compare the running tallies with a recount through it.
func (s *Store) TallySnapshot(ctx context.Context, consultationID int64) ([]string, error) {
	if err := s.foldTallies(ctx); err != nil {
		return nil, err
	}
	db := s.ReadDB(ctx)
	var out []string
	var cells []struct {
		RoundID                          int64
		Gender, InstitutionType, Country string
		Respondents                      int64
	}
	if err := db.Raw("SELECT round_id, gender, institution_type, country, SUM(respondents) AS respondents FROM tally_cells WHERE consultation_id = ? GROUP BY round_id, gender, institution_type, country HAVING SUM(respondents) <> 0", consultationID).Scan(&cells).Error; err != nil {
		return nil, err
	}
	for _, c := range cells {
		out = append(out, fmt.Sprintf("cell r%d %s/%s/%s = %d", c.RoundID, c.Gender, c.InstitutionType, c.Country, c.Respondents))
	}
	// Rows of a shard other than 0 are full cells whose marginal rows
	// are not written yet (see CompactTallies): count them there too, as
	// the readers do.
	expand := func(delta int64, c cell) []cell {
		if delta == 0 || c.Gender == Any || c.InstitutionType == Any || c.Country == Any {
			return []cell{c}
		}
		sc := scopes(c)
		return sc[:]
	}
	type ansKey struct {
		round int64
		answerKey
	}
	var ansOrder []ansKey
	ansSum := map[ansKey]tallyDelta{}
	var ans []struct {
		RoundID, QuestionID                             int64
		RowKey, Value, Gender, InstitutionType, Country string
		Delta, Count                                    int64
		Total                                           float64
	}
	if err := db.Raw(`SELECT round_id, question_id, row_key, value, gender, institution_type, country, CASE WHEN shard = 0 THEN 0 ELSE 1 END AS delta,
	SUM(count) AS count, SUM(total) AS total FROM tally_answers WHERE consultation_id = ?
	GROUP BY round_id, question_id, row_key, value, gender, institution_type, country, CASE WHEN shard = 0 THEN 0 ELSE 1 END`, consultationID).Scan(&ans).Error; err != nil {
		return nil, err
	}
	for _, a := range ans {
		for _, c := range expand(a.Delta, cell{a.Gender, a.InstitutionType, a.Country}) {
			k := ansKey{a.RoundID, answerKey{a.QuestionID, a.RowKey, a.Value, c}}
			v, ok := ansSum[k]
			if !ok {
				ansOrder = append(ansOrder, k)
			}
			v.count += a.Count
			v.total += a.Total
			ansSum[k] = v
		}
	}
	for _, k := range ansOrder {
		if v := ansSum[k]; v.count != 0 || v.total != 0 {
			out = append(out, fmt.Sprintf("answer r%d q%d %q=%q %s/%s/%s = %d (%.4f)", k.round, k.Question, k.Row, k.Value, k.Gender, k.InstitutionType, k.Country, v.count, v.total))
		}
	}
	type awKey struct {
		round int64
		answeredKey
	}
	var awOrder []awKey
	awSum := map[awKey]int64{}
	var aw []struct {
		RoundID, QuestionID                      int64
		RowKey, Gender, InstitutionType, Country string
		Delta, Count                             int64
	}
	if err := db.Raw(`SELECT round_id, question_id, row_key, gender, institution_type, country, CASE WHEN shard = 0 THEN 0 ELSE 1 END AS delta,
	SUM(count) AS count FROM tally_answered WHERE consultation_id = ?
	GROUP BY round_id, question_id, row_key, gender, institution_type, country, CASE WHEN shard = 0 THEN 0 ELSE 1 END`, consultationID).Scan(&aw).Error; err != nil {
		return nil, err
	}
	for _, a := range aw {
		for _, c := range expand(a.Delta, cell{a.Gender, a.InstitutionType, a.Country}) {
			k := awKey{a.RoundID, answeredKey{a.QuestionID, a.RowKey, c}}
			if _, ok := awSum[k]; !ok {
				awOrder = append(awOrder, k)
			}
			awSum[k] += a.Count
		}
	}
	for _, k := range awOrder {
		if n := awSum[k]; n != 0 {
			out = append(out, fmt.Sprintf("answered r%d q%d %q %s/%s/%s = %d", k.round, k.Question, k.Row, k.Gender, k.InstitutionType, k.Country, n))
		}
	}
	sort.Strings(out)
	return out, nil
}
