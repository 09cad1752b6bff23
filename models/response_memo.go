package models

import (
	"maps"
	"slices"
	"sync"
	"sync/atomic"
)

// The response memo: a submit needs the response as it stands (its
// version, draft answers and, for a resubmission, its submitted rows),
// and reading them was a tenth of the server's CPU under respondent load.
// Usually this process has just written them: a respondent saves, then
// submits. So the SQLite store remembers, per respondent and round, the
// response as its last save or submit left it (or as a submit's journey
// read it), and a journey to submit takes it from there instead of
// reading it.
//
// The memo is only ever a guess that the writer checks. Every save and
// submit moves the version on, and they are the only writes of answers
// and submitted rows, so an entry at the response's current version is
// exactly what the tables hold. SubmitResponse writes from a prepared
// journey only with `UPDATE … WHERE id = ? AND version = ? AND status = ?`
// matching; otherwise (another instance, a command-line tool or a lost
// entry moved the response on) it reads everything again inside the
// transaction, as it does without the memo. Entries are recorded only
// after their write committed and never replace a later version.
//
// Only on SQLite: it relies on the single writer to know the ids of the
// submitted rows a submit inserts (consecutive, ending at the statement's
// last rowid). On PostgreSQL a journey to submit reads the response.
//
// Memory is bounded by an approximate byte budget over two generations:
// when the current one is full it becomes the old one, and the old one is
// dropped. An entry found in the old generation moves to the current one.

// ResponseMemoBytes is the response memo's budget (approximate bytes of
// answers and submitted rows). A respondent's entry is typically 2–4 kB,
// so this covers the responses of several thousand respondents active at
// once; beyond it a submit reads its response, as without the memo.
var ResponseMemoBytes = 24 << 20

type memoKey struct{ respondent, round int64 }

// memoEntry is a response as a committed write left it. Its maps and
// slices are never modified once stored: readers get copies.
type memoEntry struct {
	resp      Response
	receipt   string
	answers   map[int64]string
	submitted []SubmittedAnswer // in id order; none for a draft
	bytes     int
}

type responseMemo struct {
	mu       sync.Mutex
	cur, old map[memoKey]*memoEntry
	curBytes int
	budget   int
	// hits and misses count journeys to submit served or not (metrics).
	hits, misses atomic.Int64
}

func newResponseMemo(budget int) *responseMemo {
	return &responseMemo{cur: map[memoKey]*memoEntry{}, old: map[memoKey]*memoEntry{}, budget: budget}
}

// size approximates the memory an entry holds.
func (e *memoEntry) size() int {
	n := 256
	for _, v := range e.answers {
		n += 64 + len(v)
	}
	for i := range e.submitted {
		n += 128 + len(e.submitted[i].Value) + len(e.submitted[i].RowKey)
	}
	return n
}

// get returns the entry of a respondent's response in a round, or nil.
func (m *responseMemo) get(k memoKey) *memoEntry {
	m.mu.Lock()
	defer m.mu.Unlock()
	if e := m.cur[k]; e != nil {
		return e
	}
	e := m.old[k]
	if e != nil {
		delete(m.old, k)
		m.add(k, e)
	}
	return e
}

// put records e unless the memo holds a later version of the response.
func (m *responseMemo) put(k memoKey, e *memoEntry) {
	e.bytes = e.size()
	m.mu.Lock()
	defer m.mu.Unlock()
	if cur := m.cur[k]; cur != nil {
		if cur.resp.ID == e.resp.ID && cur.resp.Version >= e.resp.Version {
			return
		}
		m.curBytes -= cur.bytes
		delete(m.cur, k)
	} else if old := m.old[k]; old != nil {
		if old.resp.ID == e.resp.ID && old.resp.Version >= e.resp.Version {
			return
		}
		delete(m.old, k)
	}
	m.add(k, e)
}

// add puts e in the current generation, turning generations over when
// it is full. m.mu is held.
func (m *responseMemo) add(k memoKey, e *memoEntry) {
	if m.curBytes+e.bytes > m.budget/2 && len(m.cur) > 0 {
		m.old, m.cur, m.curBytes = m.cur, map[memoKey]*memoEntry{}, 0
	}
	m.cur[k] = e
	m.curBytes += e.bytes
}

// len is the number of entries (for tests).
func (m *responseMemo) len() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return len(m.cur) + len(m.old)
}

// fill sets a journey's response, answers and submitted rows from e, as
// journeyResponse would have read them.
func (e *memoEntry) fill(j *Journey) {
	resp := e.resp
	j.Response, j.Receipt = &resp, e.receipt
	j.Answers = maps.Clone(e.answers)
	if resp.Status == ResponseSubmitted {
		j.submitted, j.submittedLoaded = slices.Clone(e.submitted), true
	}
}

// memoFromJourney is the entry of a journey whose response, answers and
// (when submitted) submitted rows were read together; nil when it holds
// less.
func memoFromJourney(j *Journey) *memoEntry {
	if j.Response == nil || !j.answersLoaded || (j.Response.Status == ResponseSubmitted && !j.submittedLoaded) {
		return nil
	}
	return &memoEntry{resp: *j.Response, receipt: j.Receipt, answers: maps.Clone(j.Answers), submitted: slices.Clone(j.submitted)}
}

// afterSave derives the entry of a response after a save that moved it
// from version base to resp.Version: the entry at base with vals applied,
// or, for the save that created the response, vals alone. Nil when
// neither is known.
func (m *responseMemo) afterSave(k memoKey, base int, created bool, resp Response, vals []AnswerValue) *memoEntry {
	var e *memoEntry
	switch prev := m.get(k); {
	case created:
		e = &memoEntry{resp: resp, answers: map[int64]string{}}
	case prev != nil && prev.resp.ID == resp.ID && prev.resp.Version == base && prev.resp.Status == resp.Status:
		// Same status, submitted rows and receipt; the answers move on.
		e = &memoEntry{resp: prev.resp, receipt: prev.receipt, answers: maps.Clone(prev.answers), submitted: prev.submitted}
		e.resp.Version, e.resp.UnsubmittedChanges, e.resp.UpdatedAt = resp.Version, resp.UnsubmittedChanges, resp.UpdatedAt
	default:
		return nil
	}
	for _, v := range vals {
		if v.Clear {
			delete(e.answers, v.QuestionID)
		} else {
			e.answers[v.QuestionID] = v.JSON
		}
	}
	return e
}

// finalRows is a response's submitted rows after a submit wrote plan,
// whose inserted rows got the ids ins: the old rows not deleted (those
// rewritten with their new values), then the inserted ones, in id order
// as a read would return them.
func finalRows(plan submitRows, ins []int64) []SubmittedAnswer {
	gone := make(map[int64]bool, len(plan.del))
	for _, id := range plan.del {
		gone[id] = true
	}
	upd := make(map[int64]SubmittedAnswer, len(plan.toUpdate))
	for _, r := range plan.toUpdate {
		upd[r.ID] = r
	}
	out := make([]SubmittedAnswer, 0, len(plan.newRows))
	for _, r := range plan.oldRows {
		if gone[r.ID] {
			continue
		}
		if u, ok := upd[r.ID]; ok {
			r = u
		}
		out = append(out, r)
	}
	for i, r := range plan.toInsert {
		r.ID = ins[i]
		out = append(out, r)
	}
	return out
}
