package models

import (
	"context"

	"gorm.io/gorm"
)

// TallyBuilder computes the synthesis tallies of a bulk load in Go while
// the rows are generated, instead of RecountTallies' GROUP BYs over every
// submitted row afterwards (at millions of respondents the recount was a
// quarter of the load). It counts by full demographic cell with the submit
// path's rules (isBlank, countedKinds, number sums, a matrix's row_key ”
// for any row answered) and expands each cell into its marginal scopes
// only when writing, which is what addRows does per row; the bench
// generator's test checks the result equals RecountTallies.
//
// Add is for respondents with exactly one submitted round in this load
// and nothing counted before. A TallyBuilder is not safe for concurrent
// use.
type TallyBuilder struct {
	consultation int64
	kinds        map[int64]map[int64]string // round → question → kind
	cells        map[[2]int64]map[cell]int64
	answers      map[int64]map[answerKey]tallyDelta
	answered     map[int64]map[answeredKey]int64
	seen         []answeredKey
}

// NewTallyBuilder starts the tallies of one consultation; kinds gives
// every question's kind by round.
func NewTallyBuilder(consultationID int64, kinds map[int64]map[int64]string) *TallyBuilder {
	return &TallyBuilder{consultation: consultationID, kinds: kinds, cells: map[[2]int64]map[cell]int64{},
		answers: map[int64]map[answerKey]tallyDelta{}, answered: map[int64]map[answeredKey]int64{}}
}

func (b *TallyBuilder) addCell(round int64, c cell) {
	k := [2]int64{round, 0}
	if b.cells[k] == nil {
		b.cells[k] = map[cell]int64{}
	}
	b.cells[k][c]++
}

// Add counts one respondent's submitted response to round with its
// submitted rows.
func (b *TallyBuilder) Add(round int64, r *Respondent, rows []SubmittedAnswer) {
	c := cellOf(r)
	b.addCell(0, c)
	b.addCell(round, c)
	ans, answered := b.answers[round], b.answered[round]
	if ans == nil {
		ans, answered = map[answerKey]tallyDelta{}, map[answeredKey]int64{}
		b.answers[round], b.answered[round] = ans, answered
	}
	kinds := b.kinds[round]
	b.seen = b.seen[:0]
	for _, row := range rows {
		if isBlank(row.Value) {
			continue
		}
		kind := kinds[row.QuestionID]
		switch {
		case countedKinds[kind]:
			k := answerKey{row.QuestionID, row.RowKey, row.Value, c}
			v := ans[k]
			v.count++
			ans[k] = v
		case kind == QNumber:
			k := answerKey{row.QuestionID, "", "", c}
			v := ans[k]
			v.count++
			if row.Num != nil {
				v.total += *row.Num
			}
			ans[k] = v
		}
	next:
		for _, rk := range [2]string{row.RowKey, ""} {
			ak := answeredKey{row.QuestionID, rk, c}
			for _, s := range b.seen {
				if s == ak {
					continue next
				}
			}
			b.seen = append(b.seen, ak)
			answered[ak]++
		}
	}
}

// Write adds the counts, each full cell also to its marginal scopes, to
// the tally tables (one multi-row upsert per table and chunk) inside the
// caller's transaction.
func (b *TallyBuilder) Write(tx *gorm.DB) error {
	d := newTallyDeltas(b.consultation)
	for k, m := range b.cells {
		for c, n := range m {
			d.addCell(k[0], c, n)
		}
	}
	for round, m := range b.answers {
		out := map[answerKey]tallyDelta{}
		for k, v := range m {
			for _, sc := range scopes(k.cell) {
				k2 := k
				k2.cell = sc
				w := out[k2]
				w.count += v.count
				w.total += v.total
				out[k2] = w
			}
		}
		d.answers[round] = out
	}
	for round, m := range b.answered {
		out := map[answeredKey]int64{}
		for k, n := range m {
			for _, sc := range scopes(k.cell) {
				k2 := k
				k2.cell = sc
				out[k2] += n
			}
		}
		d.answered[round] = out
	}
	return d.write(tx)
}

// DeferTriggers drops the triggers on tables (SQLite only) and returns the
// function that recreates them from their saved definitions. Rows loaded
// meanwhile do not pass through the triggers: the caller must bring what
// they maintain up to date itself (see RebuildSearchIndex and
// RecountInvitationTallies). Only for tools that load alone; call restore
// even when the load fails.
func (s *Store) DeferTriggers(ctx context.Context, tables ...string) (restore func(context.Context) error, err error) {
	return s.deferSchema(ctx, "trigger", nil, tables)
}
