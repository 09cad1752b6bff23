package models

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"

	"gorm.io/gorm"
)

// The anonymised export (API.md, "Anonymised export"): one row per
// respondent and round, built in a single pass over one ordered query
// (respondent code, then round) that joins each response to its submitted
// answer rows. No per-row queries; memory holds one row at a time.

// Export column types, for the writers (XLSX numbers, NDJSON numbers).
const (
	ColString  = "string"
	ColNumber  = "number"
	ColInteger = "integer"
	ColDate    = "date"
)

// Suppressed replaces the region and country of a respondent whose region
// has fewer submitted respondents than the consultation's min_cell_size.
const Suppressed = "suppressed"

// ExportColumn is one column of the export and its codebook entry.
type ExportColumn struct {
	Name       string   `json:"name"`
	Label      string   `json:"label"`
	Type       string   `json:"type"`
	Kind       string   `json:"kind,omitempty"` // the question kind, for question columns
	QuestionID int64    `json:"question_id,omitempty"`
	RoundID    int64    `json:"round_id,omitempty"`
	Values     []Choice `json:"values,omitempty"`
	Note       string   `json:"note,omitempty"`
	// Text marks free text, which is scrubbed of personal data.
	Text bool `json:"free_text,omitempty"`
}

// ExportPlan is what an export will contain: the consultation, the rounds
// in scope, the columns, and how each country is shown.
type ExportPlan struct {
	Consultation Consultation
	Rounds       []Round
	RoundID      int64 // 0: every round
	Columns      []ExportColumn
	Identified   bool

	questions map[int64]*exportQuestion
	multis    []*exportQuestion
	place     map[string][2]string // country code -> {region cell, country cell}
}

type exportQuestion struct {
	kind string
	col  int            // first column
	opts map[string]int // option or row value -> column offset
	n    int            // number of columns
}

// Fixed leading columns of the anonymised export, in API.md's order.
const (
	colRespondent = iota
	colRound
	colGender
	colInstitution
	colRegion
	colCountry
	colSubmitted
	nFixed
)

// ExportOptions are the caller's choices for an export.
type ExportOptions struct {
	// RoundID limits the export to one round (0: all rounds).
	RoundID int64
	// Identified adds name, email and organisation, keeps exact countries,
	// submission times and unscrubbed text (admins only, audited).
	Identified bool
}

// PlanExport checks the consultation and round and computes the columns
// and the country generalisation of an export.
func (s *Store) PlanExport(ctx context.Context, consultationID int64, opt ExportOptions) (*ExportPlan, error) {
	db := s.ReadDB(ctx)
	p := &ExportPlan{RoundID: opt.RoundID, Identified: opt.Identified}
	if err := db.Where("id = ?", consultationID).First(&p.Consultation).Error; err != nil {
		return nil, translate(err)
	}
	if err := db.Where("consultation_id = ?", consultationID).Order("position, id").Find(&p.Rounds).Error; err != nil {
		return nil, err
	}
	if opt.RoundID != 0 {
		var keep []Round
		for _, r := range p.Rounds {
			if r.ID == opt.RoundID {
				keep = append(keep, r)
			}
		}
		if len(keep) == 0 {
			return nil, FieldErrors{"round": "export.error_round"}
		}
		p.Rounds = keep
	}
	var qs []Question
	if len(p.Rounds) > 0 {
		ids := make([]int64, len(p.Rounds))
		pos := map[int64]int{}
		for i, r := range p.Rounds {
			ids[i] = r.ID
			pos[r.ID] = i
		}
		if err := db.Where("round_id IN ?", ids).Find(&qs).Error; err != nil {
			return nil, err
		}
		sort.SliceStable(qs, func(i, j int) bool {
			a, b := qs[i], qs[j]
			if pos[a.RoundID] != pos[b.RoundID] {
				return pos[a.RoundID] < pos[b.RoundID]
			}
			if a.Position != b.Position {
				return a.Position < b.Position
			}
			return a.ID < b.ID
		})
	}
	p.Columns = exportFixedColumns(p)
	p.questions = make(map[int64]*exportQuestion, len(qs))
	for _, q := range qs {
		eq := &exportQuestion{kind: q.Kind, col: len(p.Columns)}
		base := "q" + strconv.FormatInt(q.ID, 10)
		c := ExportColumn{Name: base, Label: q.Prompt, Kind: q.Kind, QuestionID: q.ID, RoundID: q.RoundID, Type: ColString}
		switch q.Kind {
		case QMultiChoice:
			eq.opts = map[string]int{}
			for i, o := range parseChoices(q.Options) {
				eq.opts[o.Value] = i
				p.Columns = append(p.Columns, ExportColumn{Name: base + "_" + o.Value, Label: q.Prompt + " — " + o.Label,
					Kind: q.Kind, QuestionID: q.ID, RoundID: q.RoundID, Type: ColInteger,
					Values: []Choice{{Value: "1", Label: "chosen"}, {Value: "0", Label: "not chosen"}},
					Note:   "empty when the respondent chose no option"})
			}
			eq.n = len(eq.opts)
			p.multis = append(p.multis, eq)
		case QMatrixYesNo:
			eq.opts = map[string]int{}
			for i, r := range parseChoices(q.RowsJSON) {
				eq.opts[r.Value] = i
				p.Columns = append(p.Columns, ExportColumn{Name: base + "_" + r.Value, Label: q.Prompt + " — " + r.Label,
					Kind: q.Kind, QuestionID: q.ID, RoundID: q.RoundID, Type: ColString,
					Values: []Choice{{Value: "yes", Label: "Yes"}, {Value: "no", Label: "No"}}})
			}
			eq.n = len(eq.opts)
		case QSingleChoice:
			c.Values = parseChoices(q.Options)
			eq.n = 1
			p.Columns = append(p.Columns, c)
		case QYesNo:
			c.Values = []Choice{{Value: "yes", Label: "Yes"}, {Value: "no", Label: "No"}}
			eq.n = 1
			p.Columns = append(p.Columns, c)
		case QScale, QNumber:
			c.Type = ColNumber
			if q.MinValue != nil || q.MaxValue != nil {
				c.Note = rangeNote(q.MinValue, q.MaxValue)
			}
			eq.n = 1
			p.Columns = append(p.Columns, c)
		case QCountry:
			c.Note = "ISO 3166-1 alpha-2 code"
			eq.n = 1
			p.Columns = append(p.Columns, c)
		default: // long_text, short_text and any text kind
			c.Text = true
			if !p.Identified {
				c.Note = "names, email addresses, phone numbers and URLs replaced by [redacted]"
			}
			eq.n = 1
			p.Columns = append(p.Columns, c)
		}
		p.questions[q.ID] = eq
	}
	if err := s.planPlaces(ctx, p); err != nil {
		return nil, err
	}
	return p, nil
}

func rangeNote(lo, hi *float64) string {
	f := func(v *float64) string {
		if v == nil {
			return "…"
		}
		return strconv.FormatFloat(*v, 'f', -1, 64)
	}
	return "from " + f(lo) + " to " + f(hi)
}

func parseChoices(js string) []Choice {
	var out []Choice
	if js == "" {
		return nil
	}
	_ = json.Unmarshal([]byte(js), &out)
	return out
}

func exportFixedColumns(p *ExportPlan) []ExportColumn {
	genders := make([]Choice, 0, len(Genders))
	for _, g := range Genders {
		genders = append(genders, Choice{Value: g, Label: g})
	}
	insts := make([]Choice, 0, len(InstitutionTypes))
	for _, g := range InstitutionTypes {
		insts = append(insts, Choice{Value: g, Label: g})
	}
	regions := make([]Choice, 0, len(Regions)+2)
	for _, r := range Regions {
		regions = append(regions, Choice{Value: r, Label: r})
	}
	rounds := make([]Choice, 0, len(p.Rounds))
	for _, r := range p.Rounds {
		rounds = append(rounds, Choice{Value: strconv.FormatInt(r.ID, 10), Label: r.Title})
	}
	countryNote := "ISO 3166-1 alpha-2 code"
	if p.Consultation.Unit == UnitPerson && !p.Identified {
		countryNote = fmt.Sprintf("ISO 3166-1 alpha-2 code; a country with fewer than %d respondents shows its region instead, and where the region has fewer too, region and country are %q",
			p.Consultation.MinCellSize, Suppressed)
		regions = append(regions, Choice{Value: Suppressed, Label: Suppressed})
	}
	if p.Consultation.Unit == UnitPerson {
		regions = append(regions, Choice{Value: PreferNotToSay, Label: PreferNotToSay})
	}
	cols := []ExportColumn{
		{Name: "respondent", Label: "Respondent code (random, stable within the consultation)", Type: ColString},
		{Name: "round", Label: "Round", Type: ColInteger, Values: rounds},
		{Name: "gender", Label: "Gender", Type: ColString, Values: genders},
		{Name: "institution_type", Label: "Kind of institution", Type: ColString, Values: insts},
		{Name: "region", Label: "UN regional group", Type: ColString, Values: regions},
		{Name: "country", Label: "Country", Type: ColString, Note: countryNote},
		{Name: "submitted_on", Label: "Date of the last submission (UTC)", Type: ColDate, Note: "YYYY-MM-DD"},
	}
	if p.Consultation.Unit == UnitState {
		cols[colGender].Values, cols[colInstitution].Values = nil, nil
		cols[colGender].Note = "not asked in a consultation of States"
		cols[colInstitution].Note = cols[colGender].Note
	}
	if p.Identified {
		cols[colSubmitted] = ExportColumn{Name: "submitted_at", Label: "Time of the last submission (UTC)", Type: ColString, Note: "RFC 3339"}
		cols = append(cols,
			ExportColumn{Name: "name", Label: "Name", Type: ColString},
			ExportColumn{Name: "email", Label: "Email", Type: ColString},
			ExportColumn{Name: "organization", Label: "Organisation", Type: ColString})
	}
	return cols
}

// planPlaces decides how each country is shown: in a person consultation a
// country with fewer than min_cell_size submitted respondents (in the
// export's scope) shows its region, and where the region has fewer too,
// both cells are suppressed.
func (s *Store) planPlaces(ctx context.Context, p *ExportPlan) error {
	p.place = map[string][2]string{}
	if p.Consultation.Unit == UnitState || p.Identified {
		return nil
	}
	q := `SELECT r.country, COUNT(*) FROM respondents r WHERE r.consultation_id = ? AND EXISTS (
		SELECT 1 FROM responses rs WHERE rs.respondent_id = r.id AND rs.status = 'submitted'`
	args := []any{p.Consultation.ID}
	if p.RoundID != 0 {
		q += ` AND rs.round_id = ?`
		args = append(args, p.RoundID)
	}
	q += `) GROUP BY r.country`
	rows, err := s.ReadDB(ctx).Raw(q, args...).Rows()
	if err != nil {
		return err
	}
	defer rows.Close()
	countries := map[string]int{}
	regions := map[string]int{}
	for rows.Next() {
		var c string
		var n int
		if err := rows.Scan(&c, &n); err != nil {
			return err
		}
		if c == "" || c == PreferNotToSay {
			continue
		}
		countries[c] += n
		regions[RegionOf(c)] += n
	}
	if err := rows.Err(); err != nil {
		return err
	}
	k := p.Consultation.MinCellSize
	for c, n := range countries {
		region := RegionOf(c)
		switch {
		case n >= k:
			p.place[c] = [2]string{region, c}
		case regions[region] >= k:
			p.place[c] = [2]string{region, region}
		default:
			p.place[c] = [2]string{Suppressed, Suppressed}
		}
	}
	return nil
}

// placeCells returns the region and country cells of a respondent.
func (p *ExportPlan) placeCells(country string) (string, string) {
	switch country {
	case "":
		return "", ""
	case PreferNotToSay:
		return PreferNotToSay, PreferNotToSay
	}
	if c, ok := p.place[country]; ok {
		return c[0], c[1]
	}
	// State consultations and identified exports keep the country.
	return RegionOf(country), country
}

// ExportRow is one finished row of an export: the cells in the plan's
// column order, and the author's own name and email, which the free-text
// cells (ExportPlan.TextColumns) are scrubbed of before they leave.
type ExportRow struct {
	Cells    []string
	OwnName  string
	OwnEmail string
}

// TextColumns returns the indexes of the free-text columns.
func (p *ExportPlan) TextColumns() []int {
	var out []int
	for i, c := range p.Columns {
		if c.Text {
			out = append(out, i)
		}
	}
	return out
}

// CountExportRows returns how many rows the export has (submitted
// responses in scope), for formats with a row limit.
func (s *Store) CountExportRows(ctx context.Context, p *ExportPlan) (int64, error) {
	q := `SELECT COUNT(*) FROM responses rs JOIN respondents r ON r.id = rs.respondent_id
		WHERE r.consultation_id = ? AND rs.status = 'submitted'`
	args := []any{p.Consultation.ID}
	if p.RoundID != 0 {
		q += ` AND rs.round_id = ?`
		args = append(args, p.RoundID)
	}
	var n int64
	err := s.ReadDB(ctx).Raw(q, args...).Scan(&n).Error
	return n, err
}

// ExportQuery returns the one ordered query behind an export and its
// arguments (also used by the benchmark's sqlite3 baseline).
func (s *Store) ExportQuery(p *ExportPlan) (string, []any) {
	date := "date(rs.submitted_at)"
	if s.Dialect == Postgres {
		date = "to_char(rs.submitted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
	}
	if p.Identified {
		date = "strftime('%Y-%m-%dT%H:%M:%SZ', rs.submitted_at)"
		if s.Dialect == Postgres {
			date = `to_char(rs.submitted_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`
		}
	}
	extra := ", ''"
	join := ""
	if p.Identified {
		extra = ", COALESCE(o.name, '')"
		join = " LEFT JOIN organizations o ON o.id = p.organization_id"
	}
	q := `SELECT r.code, rs.round_id, r.gender, r.institution_type, COALESCE(r.state_country, r.country), ` + date + `,
		COALESCE(p.name, ''), COALESCE(p.email, '')` + extra + `, sa.question_id, sa.row_key, sa.value
	FROM respondents r
	JOIN responses rs ON rs.respondent_id = r.id
	LEFT JOIN participants p ON p.id = r.participant_id` + join + `
	LEFT JOIN submitted_answers sa ON sa.response_id = rs.id
	WHERE r.consultation_id = ? AND rs.status = 'submitted'`
	args := []any{p.Consultation.ID}
	if p.RoundID != 0 {
		q += ` AND rs.round_id = ?`
		args = append(args, p.RoundID)
	}
	// r.id makes the order unique, so SQLite walks (consultation_id, code,
	// rowid) and then each respondent's responses by (respondent_id,
	// round_id) with no sorting at all: one ordered pass.
	q += ` ORDER BY r.code, r.id, rs.round_id`
	return q, args
}

// StreamExport runs the export's query and calls emit with each finished
// row (emit must not keep the row or its cells). It returns the number of
// rows emitted. Free text comes as written: the caller scrubs it (package
// export does, except in an identified export).
func (s *Store) StreamExport(ctx context.Context, p *ExportPlan, emit func(row *ExportRow) error) (int64, error) {
	q, args := s.ExportQuery(p)
	if s.Dialect != SQLite {
		rows, err := s.ReadDB(ctx).Raw(q, args...).Rows()
		if err != nil {
			return 0, err
		}
		defer rows.Close()
		return p.assemble(rows, emit)
	}
	// On SQLite the export walks the whole database once in code order; a
	// big page cache would only fill up without hits, and a reader's is
	// small (ReaderCacheKiB), so memory stays flat whatever the size.
	db, err := s.R.DB()
	if err != nil {
		return 0, err
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	// Both cursors read in one transaction, so they see the same snapshot
	// and list the same responses in the same order.
	if _, err := conn.ExecContext(ctx, "BEGIN"); err != nil {
		return 0, err
	}
	defer func() {
		// A connection that could not end its transaction must not go back
		// to the pool (it would serve later reads from an old snapshot).
		if _, err := conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK"); err != nil {
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
		}
	}()
	hq, aq, args := s.exportMergedQueries(p)
	heads, err := conn.QueryContext(ctx, hq, args...)
	if err != nil {
		return 0, err
	}
	defer heads.Close()
	answers, err := conn.QueryContext(ctx, aq, args...)
	if err != nil {
		return 0, err
	}
	defer answers.Close()
	return p.assembleMerged(heads, answers, emit)
}

// exportMergedQueries are the two cursors of the SQLite export: the
// responses with their respondent's columns, and their answer rows, both
// in (code, respondent, round) order.
func (s *Store) exportMergedQueries(p *ExportPlan) (heads, answers string, args []any) {
	date := "date(rs.submitted_at)"
	if p.Identified {
		date = "strftime('%Y-%m-%dT%H:%M:%SZ', rs.submitted_at)"
	}
	org, join := "''", ""
	if p.Identified {
		org, join = "COALESCE(o.name, '')", " LEFT JOIN organizations o ON o.id = p.organization_id"
	}
	where := ` WHERE r.consultation_id = ? AND rs.status = 'submitted'`
	args = []any{p.Consultation.ID}
	if p.RoundID != 0 {
		where += ` AND rs.round_id = ?`
		args = append(args, p.RoundID)
	}
	order := ` ORDER BY r.code, r.id, rs.round_id`
	heads = `SELECT r.code, rs.id, rs.round_id, r.gender, r.institution_type, COALESCE(r.state_country, r.country), ` + date + `,
		COALESCE(p.name, ''), COALESCE(p.email, ''), ` + org + `
	FROM respondents r JOIN responses rs ON rs.respondent_id = r.id
	LEFT JOIN participants p ON p.id = r.participant_id` + join + where + order
	answers = `SELECT sa.response_id, sa.question_id, sa.row_key, sa.value
	FROM respondents r JOIN responses rs ON rs.respondent_id = r.id
	JOIN submitted_answers sa ON sa.response_id = rs.id` + where + order
	return heads, answers, args
}

// assembler builds one export row at a time.
type assembler struct {
	p      *ExportPlan
	row    ExportRow
	chosen map[*exportQuestion]bool
	n      int64
}

func newAssembler(p *ExportPlan) *assembler {
	return &assembler{p: p, row: ExportRow{Cells: make([]string, len(p.Columns))}, chosen: make(map[*exportQuestion]bool, len(p.multis))}
}

// start begins the row of a response with its fixed columns.
func (a *assembler) start(code []byte, roundID int64, gender, inst, country, date, name, email, org []byte) {
	cells := a.row.Cells
	clear(cells)
	clear(a.chosen)
	cells[colRespondent] = string(code)
	cells[colRound] = strconv.FormatInt(roundID, 10)
	cells[colGender] = string(gender)
	cells[colInstitution] = string(inst)
	cells[colRegion], cells[colCountry] = a.p.placeCells(string(country))
	cells[colSubmitted] = normalizeDate(string(date), a.p.Identified)
	a.row.OwnName, a.row.OwnEmail = string(name), string(email)
	if a.p.Identified {
		cells[nFixed], cells[nFixed+1], cells[nFixed+2] = a.row.OwnName, a.row.OwnEmail, string(org)
	}
}

// answer puts one submitted answer row into the current row.
func (a *assembler) answer(qid int64, rowKey, value []byte) {
	eq := a.p.questions[qid]
	if eq == nil {
		return
	}
	cells := a.row.Cells
	switch eq.kind {
	case QMultiChoice:
		if off, ok := eq.opts[string(value)]; ok {
			cells[eq.col+off] = "1"
			a.chosen[eq] = true
		}
	case QMatrixYesNo:
		if off, ok := eq.opts[string(rowKey)]; ok {
			cells[eq.col+off] = string(value)
		}
	default:
		cells[eq.col] = string(value)
	}
}

// flush completes the current row (0 for unchosen options of a
// multi-choice that has a choice) and emits it.
func (a *assembler) flush(emit func(row *ExportRow) error) error {
	cells := a.row.Cells
	for _, mq := range a.p.multis {
		if !a.chosen[mq] {
			continue
		}
		for i := mq.col; i < mq.col+mq.n; i++ {
			if cells[i] == "" {
				cells[i] = "0"
			}
		}
	}
	a.n++
	return emit(&a.row)
}

// assemble pivots the rows of the single ordered query into one row per
// response.
func (p *ExportPlan) assemble(rows *sql.Rows, emit func(row *ExportRow) error) (int64, error) {
	a := newAssembler(p)
	var (
		code, gender, inst, country, date, name, email, org sql.RawBytes
		roundID                                             int64
		qid                                                 sql.NullInt64
		rowKey, value                                       sql.RawBytes
		curCode                                             []byte
		curRound                                            int64
		open                                                bool
	)
	for rows.Next() {
		if err := rows.Scan(&code, &roundID, &gender, &inst, &country, &date, &name, &email, &org, &qid, &rowKey, &value); err != nil {
			return a.n, err
		}
		if !open || roundID != curRound || string(code) != string(curCode) {
			if open {
				if err := a.flush(emit); err != nil {
					return a.n, err
				}
			}
			open = true
			curCode = append(curCode[:0], code...)
			curRound = roundID
			a.start(code, roundID, gender, inst, country, date, name, email, org)
		}
		if qid.Valid {
			a.answer(qid.Int64, rowKey, value)
		}
	}
	if err := rows.Err(); err != nil {
		return a.n, err
	}
	if open {
		if err := a.flush(emit); err != nil {
			return a.n, err
		}
	}
	return a.n, nil
}

// assembleMerged walks two cursors in the same order and the same
// snapshot: heads (one row per response, with the respondent's columns)
// and answers (response id, question, row key, value). The respondent's
// columns cross from SQLite to Go once per response instead of once per
// answer.
func (p *ExportPlan) assembleMerged(heads, answers *sql.Rows, emit func(row *ExportRow) error) (int64, error) {
	a := newAssembler(p)
	var (
		code, gender, inst, country, date, name, email, org sql.RawBytes
		respID, roundID                                     int64
		aResp, aQ                                           int64
		rowKey, value                                       sql.RawBytes
		pending                                             bool // an answer row read but not used yet
		ansDone                                             bool
	)
	for heads.Next() {
		if err := heads.Scan(&code, &respID, &roundID, &gender, &inst, &country, &date, &name, &email, &org); err != nil {
			return a.n, err
		}
		a.start(code, roundID, gender, inst, country, date, name, email, org)
		for !ansDone {
			if !pending {
				if !answers.Next() {
					ansDone = true
					break
				}
				if err := answers.Scan(&aResp, &aQ, &rowKey, &value); err != nil {
					return a.n, err
				}
				pending = true
			}
			if aResp != respID {
				break // the next response's answers
			}
			a.answer(aQ, rowKey, value)
			pending = false
		}
		if err := a.flush(emit); err != nil {
			return a.n, err
		}
	}
	if err := heads.Err(); err != nil {
		return a.n, err
	}
	return a.n, answers.Err()
}

// normalizeDate keeps the date of a submission (the query gives the date;
// identified exports show the full time in RFC 3339).
func normalizeDate(s string, full bool) string {
	if !full && len(s) > 10 {
		return s[:10]
	}
	return s
}

// CountRoster returns the number of participants on the roster.
func (s *Store) CountRoster(ctx context.Context) (int64, error) {
	var n int64
	err := s.ReadDB(ctx).Raw(`SELECT COUNT(*) FROM participants`).Scan(&n).Error
	return n, err
}

// EachRosterName calls fn with the name of every participant on the roster
// (for the scrubber), in one streaming pass.
func (s *Store) EachRosterName(ctx context.Context, fn func(name string)) error {
	rows, err := s.ReadDB(ctx).Raw(`SELECT name FROM participants`).Rows()
	if err != nil {
		return err
	}
	defer rows.Close()
	var name sql.RawBytes
	for rows.Next() {
		if err := rows.Scan(&name); err != nil {
			return err
		}
		fn(string(name))
	}
	return rows.Err()
}

// RecordExport writes the audit entry of a finished download.
// incomplete marks a stream that ended early (what was sent may have been
// received, so it is recorded too).
func (s *Store) RecordExport(ctx context.Context, actor *Staff, p *ExportPlan, format string, rows int64, reason string, incomplete bool) error {
	action := "export.download"
	detail := map[string]any{"consultation": p.Consultation.ID, "format": format, "rows": rows}
	if incomplete {
		detail["incomplete"] = true
	}
	if p.RoundID != 0 {
		detail["round"] = p.RoundID
	} else {
		detail["round"] = "all"
	}
	if p.Identified {
		action = "export.identified"
		detail["reason"] = reason
	}
	return s.Write(ctx, func(tx *gorm.DB) error {
		return AppendAudit(tx, s.Now(), actor, action, "consultation:"+itoa(p.Consultation.ID), detail)
	})
}
