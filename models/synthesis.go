package models

import (
	"context"
	"encoding/json"
	"math"
	"sort"
	"strconv"
	"strings"

	"gorm.io/gorm"
)

// SynthesisFilter narrows a synthesis; empty fields do not filter. Filters
// combine with AND. RoundID 0 means every round of the consultation.
type SynthesisFilter struct {
	RoundID         int64
	Gender          string
	InstitutionType string
	Region          string
	Country         string
}

// Active reports whether any demographic filter is set.
func (f SynthesisFilter) Active() bool {
	return f.Gender != "" || f.InstitutionType != "" || f.Region != "" || f.Country != ""
}

// Validate checks the filter values against the allowed demographics.
func (f SynthesisFilter) Validate() error {
	errs := FieldErrors{}
	if f.Gender != "" && !contains(Genders, f.Gender) {
		errs.Add("gender", "synthesis.error_gender")
	}
	if f.InstitutionType != "" && !contains(InstitutionTypes, f.InstitutionType) {
		errs.Add("institution_type", "synthesis.error_institution_type")
	}
	if f.Region != "" && !contains(Regions, f.Region) {
		errs.Add("region", "synthesis.error_region")
	}
	if f.Country != "" && f.Country != PreferNotToSay {
		if _, ok := FindCountry(f.Country); !ok {
			errs.Add("country", "synthesis.error_country")
		}
	}
	return errs.Err()
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

func (f SynthesisFilter) match(c cell) bool {
	return (f.Gender == "" || c.Gender == f.Gender) &&
		(f.InstitutionType == "" || c.InstitutionType == f.InstitutionType) &&
		(f.Country == "" || c.Country == f.Country) &&
		(f.Region == "" || RegionOf(c.Country) == f.Region)
}

// ValueCount is one value of a breakdown: how many, and the percent of n
// (one decimal). Suppressed marks a small cell hidden in shared views
// (count and percent are then zero).
type ValueCount struct {
	Value      string  `json:"value"`
	Label      string  `json:"label,omitempty"`
	Count      int64   `json:"count"`
	Percent    float64 `json:"percent"`
	Suppressed bool    `json:"suppressed,omitempty"`
}

// Demographics are the respondents by gender, institution type and region.
type Demographics struct {
	Gender          []ValueCount `json:"gender"`
	InstitutionType []ValueCount `json:"institution_type"`
	Region          []ValueCount `json:"region"`
}

// RowResult is one row of a matrix question.
type RowResult struct {
	Value   string       `json:"value"`
	Label   string       `json:"label,omitempty"`
	NoReply int64        `json:"no_reply"`
	Counts  []ValueCount `json:"counts"`
}

// ThemeCount is how many answers of a question carry a code.
type ThemeCount struct {
	CodeID int64  `json:"code_id"`
	Code   string `json:"code"`
	Count  int64  `json:"count"`
}

// QuestionResult is the synthesis of one question.
type QuestionResult struct {
	ID       int64        `json:"id"`
	RoundID  int64        `json:"round_id"`
	Kind     string       `json:"kind"`
	Prompt   string       `json:"prompt"`
	N        int64        `json:"n"`
	Answered int64        `json:"answered"`
	NoReply  int64        `json:"no_reply"`
	Counts   []ValueCount `json:"counts,omitempty"`
	Rows     []RowResult  `json:"rows,omitempty"`
	Themes   []ThemeCount `json:"-"`
	// ThemesJSON is Themes for the API: present (maybe empty) on open
	// questions only.
	ThemesJSON *[]ThemeCount `json:"themes,omitempty"`
	Mean       *float64      `json:"mean,omitempty"`
}

// Closed reports whether the question has counts to chart.
func (q QuestionResult) Closed() bool { return countedKinds[q.Kind] }

// IsText reports whether the question is a free-text question.
func (q QuestionResult) IsText() bool { return q.Kind == QLongText || q.Kind == QShortText }

// Synthesis is the answer of GET /consultations/{id}/synthesis.
type Synthesis struct {
	ConsultationID int64            `json:"consultation_id"`
	Unit           string           `json:"unit"`
	RoundID        *int64           `json:"round,omitempty"`
	Respondents    int64            `json:"respondents"`
	Countries      int              `json:"countries"`
	Invited        int64            `json:"invited"`
	ResponseRate   float64          `json:"response_rate"`
	Demographics   Demographics     `json:"demographics"`
	Questions      []QuestionResult `json:"questions"`
}

// Percent is count / n × 100 to one decimal (0 when n is 0).
func Percent(count, n int64) float64 {
	if n <= 0 {
		return 0
	}
	return math.Round(float64(count)*1000/float64(n)) / 10
}

// ParseChoices reads a question's options or rows JSON.
func ParseChoices(raw string) []Choice {
	var out []Choice
	if raw != "" {
		_ = json.Unmarshal([]byte(raw), &out)
	}
	return out
}

type cellCount struct {
	RoundID                          int64
	Gender, InstitutionType, Country string
	Respondents                      int64
}

func (c cellCount) cell() cell { return cell{c.Gender, c.InstitutionType, c.Country} }

// findConsultation loads a consultation (ErrNotFound if none).
func (s *Store) synthConsultation(db *gorm.DB, id int64) (*Consultation, error) {
	var c Consultation
	if err := db.First(&c, id).Error; err != nil {
		return nil, translate(err)
	}
	return &c, nil
}

// SynthesisRounds lists a consultation's rounds in order.
func (s *Store) SynthesisRounds(ctx context.Context, consultationID int64) ([]Round, error) {
	var rs []Round
	err := s.ReadDB(ctx).Where("consultation_id = ?", consultationID).Order("position, id").Find(&rs).Error
	return rs, err
}

// Synthesis computes the synthesis of a consultation from the tallies:
// sums over the demographic cells that match the filter, so its cost does
// not grow with the number of answers.
func (s *Store) Synthesis(ctx context.Context, consultationID int64, f SynthesisFilter) (*Synthesis, error) {
	if err := s.foldTallies(ctx); err != nil {
		return nil, err
	}
	if err := f.Validate(); err != nil {
		return nil, err
	}
	db := s.ReadDB(ctx)
	c, err := s.synthConsultation(db, consultationID)
	if err != nil {
		return nil, err
	}
	out := &Synthesis{ConsultationID: c.ID, Unit: c.Unit, Questions: []QuestionResult{}}
	var rounds []int64
	if f.RoundID != 0 {
		var r Round
		if err := db.Where("id = ? AND consultation_id = ?", f.RoundID, c.ID).First(&r).Error; err != nil {
			return nil, FieldErrors{"round": "synthesis.error_round"}
		}
		rounds = []int64{r.ID}
		rid := r.ID
		out.RoundID = &rid
	}

	// Respondents per cell: round 0 counts respondents of any round.
	var cells []cellCount
	if err := db.Raw("SELECT round_id, gender, institution_type, country, SUM(respondents) AS respondents FROM tally_cells WHERE consultation_id = ?"+
		" GROUP BY round_id, gender, institution_type, country HAVING SUM(respondents) <> 0",
		c.ID).Scan(&cells).Error; err != nil {
		return nil, err
	}
	head := f.RoundID // 0: any round
	nByRound := map[int64]int64{}
	countries := map[string]bool{}
	var matchCountries []string
	seenCountry := map[string]bool{}
	gender, inst, region := map[string]int64{}, map[string]int64{}, map[string]int64{}
	for _, cc := range cells {
		if !f.match(cc.cell()) {
			continue
		}
		if !seenCountry[cc.Country] {
			seenCountry[cc.Country] = true
			matchCountries = append(matchCountries, cc.Country)
		}
		nByRound[cc.RoundID] += cc.Respondents
		if cc.RoundID != head {
			continue
		}
		out.Respondents += cc.Respondents
		if cc.Country != "" && cc.Country != PreferNotToSay {
			countries[cc.Country] = true
		}
		gender[cc.Gender] += cc.Respondents
		inst[cc.InstitutionType] += cc.Respondents
		region[RegionOf(cc.Country)] += cc.Respondents
	}
	out.Countries = len(countries)
	if c.Unit == UnitPerson {
		out.Demographics.Gender = breakdown(Genders, gender, out.Respondents)
		out.Demographics.InstitutionType = breakdown(InstitutionTypes, inst, out.Respondents)
	} else {
		out.Demographics.Gender, out.Demographics.InstitutionType = []ValueCount{}, []ValueCount{}
	}
	out.Demographics.Region = breakdown(Regions, region, out.Respondents)

	// Invited people: the invitation tallies (kept by triggers, see
	// invitation_tally.go) sum the live invitations per group, so this
	// does not grow with the number of invitations.
	if err := db.Raw("SELECT COALESCE(SUM(live), 0) FROM invitation_tallies WHERE consultation_id = ?",
		c.ID).Scan(&out.Invited).Error; err != nil {
		return nil, err
	}
	if out.Invited > 0 {
		out.ResponseRate = math.Round(float64(out.Respondents)*100/float64(out.Invited)) / 100
	}

	// Questions in round and position order.
	q := db.Table("questions").Select("questions.*").Joins("JOIN rounds ON rounds.id = questions.round_id").
		Where("rounds.consultation_id = ?", c.ID).Order("rounds.position, rounds.id, questions.position, questions.id")
	if len(rounds) > 0 {
		q = q.Where("questions.round_id IN ?", rounds)
	}
	var qs []Question
	if err := q.Find(&qs).Error; err != nil {
		return nil, err
	}
	if len(qs) == 0 {
		return out, nil
	}

	// Sums of the matching tally rows: a marginal scope (see Any) when no
	// filter or one dimension filters, the full cells otherwise; a country
	// list only when the filter names a region or a country.
	where := "consultation_id = ?"
	args := []any{c.ID}
	if len(rounds) > 0 {
		where += " AND round_id IN ?"
		args = append(args, rounds)
	}
	if len(matchCountries) == 0 {
		matchCountries = []string{"\x00none"}
	}
	byCountry := f.Region != "" || f.Country != ""
	// The full cells matching the filter.
	full, fullArgs := "", []any{}
	if f.Gender != "" {
		full += "gender = ?"
		fullArgs = append(fullArgs, f.Gender)
	} else {
		full += "gender <> '*'"
	}
	if f.InstitutionType != "" {
		full += " AND institution_type = ?"
		fullArgs = append(fullArgs, f.InstitutionType)
	} else {
		full += " AND institution_type <> '*'"
	}
	if byCountry {
		full += " AND country IN ?"
		fullArgs = append(fullArgs, matchCountries)
	} else {
		full += " AND country <> '*'"
	}
	scope, scopeArgs := "", []any{}
	switch {
	case !f.Active():
		scope = "gender = '*' AND institution_type = '*' AND country = '*'"
	case f.Gender != "" && f.InstitutionType == "" && !byCountry:
		scope, scopeArgs = "gender = ? AND institution_type = '*' AND country = '*'", []any{f.Gender}
	case f.Gender == "" && f.InstitutionType != "" && !byCountry:
		scope, scopeArgs = "gender = '*' AND institution_type = ? AND country = '*'", []any{f.InstitutionType}
	case f.Gender == "" && f.InstitutionType == "" && byCountry:
		scope, scopeArgs = "gender = '*' AND institution_type = '*' AND country IN ?", []any{matchCountries}
	}
	switch {
	case scope == "":
		where += " AND " + full
		args = append(args, fullArgs...)
	case s.Dialect == Postgres:
		// On PostgreSQL the rows a submit wrote and CompactTallies has not
		// folded yet (shard <> 0) are full cells only: they count too.
		where += " AND ((shard = 0 AND " + scope + ") OR (shard <> 0 AND " + full + "))"
		args = append(append(args, scopeArgs...), fullArgs...)
	default:
		where += " AND " + scope
		args = append(args, scopeArgs...)
	}
	var vals []struct {
		QuestionID    int64
		RowKey, Value string
		N             int64
		Total         float64
	}
	if err := db.Raw("SELECT question_id, row_key, value, SUM(count) AS n, SUM(total) AS total FROM tally_answers WHERE "+where+
		" GROUP BY question_id, row_key, value", args...).Scan(&vals).Error; err != nil {
		return nil, err
	}
	var answered []struct {
		QuestionID int64
		RowKey     string
		N          int64
	}
	if err := db.Raw("SELECT question_id, row_key, SUM(count) AS n FROM tally_answered WHERE "+where+
		" GROUP BY question_id, row_key", args...).Scan(&answered).Error; err != nil {
		return nil, err
	}
	type qr struct {
		q int64
		r string
	}
	valsBy := map[qr]map[string]int64{}
	totals := map[int64]float64{}
	for _, v := range vals {
		k := qr{v.QuestionID, v.RowKey}
		if valsBy[k] == nil {
			valsBy[k] = map[string]int64{}
		}
		valsBy[k][v.Value] += v.N
		totals[v.QuestionID] += v.Total
	}
	answeredBy := map[qr]int64{}
	for _, a := range answered {
		answeredBy[qr{a.QuestionID, a.RowKey}] = a.N
	}
	themes, err := s.themeCounts(db, c.ID, rounds, f)
	if err != nil {
		return nil, err
	}

	for _, qu := range qs {
		n := nByRound[qu.RoundID]
		res := QuestionResult{ID: qu.ID, RoundID: qu.RoundID, Kind: qu.Kind, Prompt: qu.Prompt, N: n}
		res.Answered = answeredBy[qr{qu.ID, ""}]
		res.NoReply = max(n-res.Answered, 0)
		switch qu.Kind {
		case QMatrixYesNo:
			res.Rows = []RowResult{}
			for _, row := range ParseChoices(qu.RowsJSON) {
				a := answeredBy[qr{qu.ID, row.Value}]
				res.Rows = append(res.Rows, RowResult{Value: row.Value, Label: row.Label, NoReply: max(n-a, 0),
					Counts: valueCounts(yesNoChoices(qu.Options), valsBy[qr{qu.ID, row.Value}], n)})
			}
		case QYesNo:
			res.Counts = valueCounts(yesNoChoices(qu.Options), valsBy[qr{qu.ID, ""}], n)
		case QSingleChoice, QMultiChoice, QScale, QCountry:
			res.Counts = valueCounts(scaleChoices(qu), valsBy[qr{qu.ID, ""}], n)
		case QNumber:
			if res.Answered > 0 {
				m := math.Round(totals[qu.ID]/float64(res.Answered)*100) / 100
				res.Mean = &m
			}
		}
		if res.IsText() {
			res.Themes = themes[qu.ID]
			if res.Themes == nil {
				res.Themes = []ThemeCount{}
			}
			res.ThemesJSON = &res.Themes
		}
		out.Questions = append(out.Questions, res)
	}
	return out, nil
}

// yesNoChoices lists yes and no without labels: the pages translate them.
func yesNoChoices(string) []Choice {
	return []Choice{{Value: "yes"}, {Value: "no"}}
}

// scaleChoices lists a question's options; a scale without options lists
// its whole numbers from min to max.
func scaleChoices(q Question) []Choice {
	ch := ParseChoices(q.Options)
	if len(ch) == 0 && q.Kind == QScale && q.MinValue != nil && q.MaxValue != nil && *q.MaxValue-*q.MinValue <= 100 {
		for v := *q.MinValue; v <= *q.MaxValue; v++ {
			s := strconv.FormatFloat(v, 'f', -1, 64)
			ch = append(ch, Choice{Value: s, Label: s})
		}
	}
	return ch
}

// valueCounts lists the options in order (zeros included), then any other
// value found, by count.
func valueCounts(options []Choice, got map[string]int64, n int64) []ValueCount {
	out := make([]ValueCount, 0, len(options)+len(got))
	known := map[string]bool{}
	for _, o := range options {
		known[o.Value] = true
		out = append(out, ValueCount{Value: o.Value, Label: o.Label, Count: got[o.Value], Percent: Percent(got[o.Value], n)})
	}
	var extra []ValueCount
	for v, cnt := range got {
		if !known[v] && cnt != 0 {
			extra = append(extra, ValueCount{Value: v, Count: cnt, Percent: Percent(cnt, n)})
		}
	}
	sort.Slice(extra, func(i, j int) bool {
		if extra[i].Count != extra[j].Count {
			return extra[i].Count > extra[j].Count
		}
		return extra[i].Value < extra[j].Value
	})
	return append(out, extra...)
}

// breakdown lists the fixed values in order, then an unset value ("") as
// "not_given" when some respondents have it.
func breakdown(values []string, got map[string]int64, n int64) []ValueCount {
	out := make([]ValueCount, 0, len(values)+1)
	for _, v := range values {
		out = append(out, ValueCount{Value: v, Count: got[v], Percent: Percent(got[v], n)})
	}
	if got[""] > 0 {
		out = append(out, ValueCount{Value: "not_given", Count: got[""], Percent: Percent(got[""], n)})
	}
	return out
}

// CrossTab is a table of respondents by two demographic dimensions.
type CrossTab struct {
	Rows, Cols []string
	Cells      [][]int64 // [row][col]
	RowTotals  []int64
	ColTotals  []int64
	Total      int64
	// Suppressed marks cells hidden in shared views ([row][col]); a
	// suppressed total is marked by RowSuppressed/ColSuppressed.
	Suppressed    [][]bool
	RowSuppressed []bool
	ColSuppressed []bool
}

// Dimensions of cross-tabs.
const (
	DimGender          = "gender"
	DimInstitutionType = "institution_type"
	DimRegion          = "region"
)

// DimensionValues lists the values of a dimension in display order.
func DimensionValues(dim string) []string {
	switch dim {
	case DimGender:
		return Genders
	case DimInstitutionType:
		return InstitutionTypes
	}
	return Regions
}

func dimValue(dim string, c cell) string {
	switch dim {
	case DimGender:
		return c.Gender
	case DimInstitutionType:
		return c.InstitutionType
	}
	return RegionOf(c.Country)
}

// CrossTab counts respondents (of a round, or of any round) matching the
// filter by two dimensions.
func (s *Store) CrossTab(ctx context.Context, consultationID int64, f SynthesisFilter, rowDim, colDim string) (*CrossTab, error) {
	if err := s.foldTallies(ctx); err != nil {
		return nil, err
	}
	if err := f.Validate(); err != nil {
		return nil, err
	}
	var cells []cellCount
	if err := s.ReadDB(ctx).Raw("SELECT round_id, gender, institution_type, country, SUM(respondents) AS respondents FROM tally_cells WHERE consultation_id = ? AND round_id = ?"+
		" GROUP BY round_id, gender, institution_type, country HAVING SUM(respondents) <> 0",
		consultationID, f.RoundID).Scan(&cells).Error; err != nil {
		return nil, err
	}
	t := &CrossTab{Rows: DimensionValues(rowDim), Cols: DimensionValues(colDim)}
	ri, ci := index(t.Rows), index(t.Cols)
	t.Cells = make([][]int64, len(t.Rows))
	for i := range t.Cells {
		t.Cells[i] = make([]int64, len(t.Cols))
	}
	t.RowTotals, t.ColTotals = make([]int64, len(t.Rows)), make([]int64, len(t.Cols))
	for _, cc := range cells {
		c := cc.cell()
		if !f.match(c) {
			continue
		}
		r, ok1 := ri[dimValue(rowDim, c)]
		k, ok2 := ci[dimValue(colDim, c)]
		if !ok1 || !ok2 {
			continue
		}
		t.Cells[r][k] += cc.Respondents
		t.RowTotals[r] += cc.Respondents
		t.ColTotals[k] += cc.Respondents
		t.Total += cc.Respondents
	}
	return t, nil
}

func index(vs []string) map[string]int {
	m := make(map[string]int, len(vs))
	for i, v := range vs {
		m[v] = i
	}
	return m
}

// Suppress hides every non-zero cell below min (primary suppression), then
// hides more cells so that no suppressed cell can be recovered from a row
// or column total (secondary suppression: a row or column with exactly one
// hidden cell also hides its smallest other non-zero cell, repeated until
// stable). Totals stay visible.
func (t *CrossTab) Suppress(min int64) {
	t.Suppressed = make([][]bool, len(t.Rows))
	for i := range t.Suppressed {
		t.Suppressed[i] = make([]bool, len(t.Cols))
		for j, v := range t.Cells[i] {
			t.Suppressed[i][j] = v > 0 && v < min
		}
	}
	// Totals below min are themselves small cells.
	t.RowSuppressed, t.ColSuppressed = make([]bool, len(t.Rows)), make([]bool, len(t.Cols))
	for i, v := range t.RowTotals {
		t.RowSuppressed[i] = v > 0 && v < min
	}
	for j, v := range t.ColTotals {
		t.ColSuppressed[j] = v > 0 && v < min
	}
	for changed := true; changed; {
		changed = false
		for i := range t.Rows {
			if secondary(t.Cells[i], t.Suppressed[i], t.RowSuppressed[i]) {
				changed = true
			}
		}
		for j := range t.Cols {
			col := make([]int64, len(t.Rows))
			hid := make([]bool, len(t.Rows))
			for i := range t.Rows {
				col[i], hid[i] = t.Cells[i][j], t.Suppressed[i][j]
			}
			if secondary(col, hid, t.ColSuppressed[j]) {
				changed = true
				for i := range t.Rows {
					t.Suppressed[i][j] = hid[i]
				}
			}
		}
	}
}

// secondary hides one more cell of a line whose total is shown and which
// has exactly one hidden cell; it reports whether it hid one.
func secondary(vals []int64, hidden []bool, totalHidden bool) bool {
	if totalHidden {
		return false
	}
	n, best := 0, -1
	for i, h := range hidden {
		if h {
			n++
		} else if vals[i] > 0 && (best < 0 || vals[i] < vals[best]) {
			best = i
		}
	}
	if n != 1 || best < 0 {
		return false
	}
	hidden[best] = true
	return true
}

// SuppressBreakdown hides the small values of a breakdown that sums to a
// shown total, with the same secondary rule as CrossTab.Suppress.
func SuppressBreakdown(list []ValueCount, min int64) {
	vals := make([]int64, len(list))
	hid := make([]bool, len(list))
	for i, v := range list {
		vals[i] = v.Count
		hid[i] = v.Count > 0 && v.Count < min
	}
	for secondary(vals, hid, false) {
	}
	for i := range list {
		if hid[i] {
			list[i].Count, list[i].Percent, list[i].Suppressed = 0, 0, true
		}
	}
}

// SuppressForSharing applies small-cell suppression to a synthesis meant
// for sharing (printable report, chart downloads): the demographic
// breakdowns of a person consultation, and, when a filter narrows the
// scope below min, every count of the questions. State consultations are
// not anonymised by country (States answer officially).
func (sy *Synthesis) SuppressForSharing(min int64, filtered bool) {
	if sy.Unit == UnitState || min <= 1 {
		return
	}
	SuppressBreakdown(sy.Demographics.Gender, min)
	SuppressBreakdown(sy.Demographics.InstitutionType, min)
	SuppressBreakdown(sy.Demographics.Region, min)
	if filtered && sy.Respondents < min {
		for i := range sy.Questions {
			q := &sy.Questions[i]
			for j := range q.Counts {
				q.Counts[j].Count, q.Counts[j].Percent, q.Counts[j].Suppressed = 0, 0, true
			}
			for r := range q.Rows {
				for j := range q.Rows[r].Counts {
					q.Rows[r].Counts[j].Count, q.Rows[r].Counts[j].Percent, q.Rows[r].Counts[j].Suppressed = 0, 0, true
				}
			}
			for j := range q.Themes {
				q.Themes[j].Count = 0
			}
		}
	}
}

// RateRow is one line of a response-rate table.
type RateRow struct {
	Value     string  `json:"value"`
	Invited   int64   `json:"invited"`
	Submitted int64   `json:"submitted"`
	Rate      float64 `json:"rate"`
}

// ResponseRates returns invited and submitted invitations by participant
// kind and by nominating State (participants nominated by none left out),
// from the invitation tallies: O(groups) whatever the invitations.
func (s *Store) ResponseRates(ctx context.Context, consultationID int64) (byKind, byState []RateRow, err error) {
	t, err := s.InvitationTallies(ctx, consultationID)
	if err != nil {
		return nil, nil, err
	}
	byKind = rateRows(t, false)
	out := []RateRow{}
	for _, r := range rateRows(t, true) {
		if strings.TrimSpace(r.Value) != "" {
			out = append(out, r)
		}
	}
	return byKind, out, nil
}

// SynthesisConsultation returns a consultation for the synthesis pages.
func (s *Store) SynthesisConsultation(ctx context.Context, id int64) (*Consultation, error) {
	return s.synthConsultation(s.ReadDB(ctx), id)
}

// Hidden reports whether cell (i, j) is suppressed.
func (t *CrossTab) Hidden(i, j int) bool {
	return i < len(t.Suppressed) && j < len(t.Suppressed[i]) && t.Suppressed[i][j]
}

// RowHidden reports whether the total of row i is suppressed.
func (t *CrossTab) RowHidden(i int) bool { return i < len(t.RowSuppressed) && t.RowSuppressed[i] }

// ColHidden reports whether the total of column j is suppressed.
func (t *CrossTab) ColHidden(j int) bool { return j < len(t.ColSuppressed) && t.ColSuppressed[j] }

// QuestionCrossTab counts the answers of a closed question (not a
// matrix) by a demographic dimension, within the filter: one row per
// value of the dimension, one column per option and a last column "no
// reply"; row totals are the respondents of the group (n). It reads the
// question's full-cell tallies, so it does not grow with the answers.
func (s *Store) QuestionCrossTab(ctx context.Context, consultationID int64, f SynthesisFilter, questionID int64, dim string) (*CrossTab, []Choice, error) {
	if err := s.foldTallies(ctx); err != nil {
		return nil, nil, err
	}
	if err := f.Validate(); err != nil {
		return nil, nil, err
	}
	db := s.ReadDB(ctx)
	var q Question
	if err := db.Table("questions").Select("questions.*").Joins("JOIN rounds ON rounds.id = questions.round_id").
		Where("questions.id = ? AND rounds.consultation_id = ?", questionID, consultationID).First(&q).Error; err != nil {
		return nil, nil, FieldErrors{"xq": "synthesis.error_question"}
	}
	if !countedKinds[q.Kind] || q.Kind == QMatrixYesNo {
		return nil, nil, FieldErrors{"xq": "synthesis.error_question"}
	}
	opts := scaleChoices(q)
	if q.Kind == QYesNo {
		opts = yesNoChoices("")
	}
	var cells []cellCount
	if err := db.Raw("SELECT round_id, gender, institution_type, country, SUM(respondents) AS respondents FROM tally_cells WHERE consultation_id = ? AND round_id = ?"+
		" GROUP BY round_id, gender, institution_type, country HAVING SUM(respondents) <> 0",
		consultationID, q.RoundID).Scan(&cells).Error; err != nil {
		return nil, nil, err
	}
	var vals []struct {
		Value, Gender, InstitutionType, Country string
		N                                       int64
	}
	if err := db.Raw(`SELECT value, gender, institution_type, country, SUM(count) AS n FROM tally_answers
		WHERE question_id = ? AND row_key = '' AND gender <> '*' AND institution_type <> '*' AND country <> '*'
		GROUP BY value, gender, institution_type, country HAVING SUM(count) <> 0`, q.ID).Scan(&vals).Error; err != nil {
		return nil, nil, err
	}
	var answered []struct {
		Gender, InstitutionType, Country string
		N                                int64
	}
	if err := db.Raw(`SELECT gender, institution_type, country, SUM(count) AS n FROM tally_answered
		WHERE question_id = ? AND row_key = '' AND gender <> '*' AND institution_type <> '*' AND country <> '*'
		GROUP BY gender, institution_type, country HAVING SUM(count) <> 0`, q.ID).Scan(&answered).Error; err != nil {
		return nil, nil, err
	}
	t := &CrossTab{Rows: DimensionValues(dim)}
	for _, o := range opts {
		t.Cols = append(t.Cols, o.Value)
	}
	t.Cols = append(t.Cols, "no_reply")
	ri, ci := index(t.Rows), index(t.Cols)
	t.Cells = make([][]int64, len(t.Rows))
	for i := range t.Cells {
		t.Cells[i] = make([]int64, len(t.Cols))
	}
	t.RowTotals, t.ColTotals = make([]int64, len(t.Rows)), make([]int64, len(t.Cols))
	noReply := len(t.Cols) - 1
	for _, cc := range cells {
		c := cc.cell()
		if r, ok := ri[dimValue(dim, c)]; ok && f.match(c) {
			t.RowTotals[r] += cc.Respondents
			t.Cells[r][noReply] += cc.Respondents
			t.Total += cc.Respondents
		}
	}
	for _, a := range answered {
		c := cell{a.Gender, a.InstitutionType, a.Country}
		if r, ok := ri[dimValue(dim, c)]; ok && f.match(c) {
			t.Cells[r][noReply] -= a.N
		}
	}
	for _, v := range vals {
		c := cell{v.Gender, v.InstitutionType, v.Country}
		r, ok1 := ri[dimValue(dim, c)]
		k, ok2 := ci[v.Value]
		if ok1 && ok2 && f.match(c) {
			t.Cells[r][k] += v.N
		}
	}
	for i := range t.Rows {
		for j := range t.Cols {
			t.ColTotals[j] += t.Cells[i][j]
		}
	}
	return t, opts, nil
}

// Percent of cell (i, j) in its row total (one decimal).
func (t *CrossTab) Percent(i, j int) float64 { return Percent(t.Cells[i][j], t.RowTotals[i]) }
