package models

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// The respondent's side: the journey behind a personal link, answers
// (draft working copy), submission (exploded into submitted_answers in one
// transaction with the tallies, the response status and the receipt mail).

// MaxAnswerLen is the longest answer text, in characters.
const MaxAnswerLen = 100000

// Coded errors of the respondent calls.
var (
	ErrStaleVersion      = E(ErrConflict, "stale_version", "respond.error_stale_version")
	ErrRoundClosed       = E(ErrConflict, "round_closed", "respond.error_round_closed")
	ErrRoundNotOpen      = E(ErrConflict, "round_not_open", "respond.error_round_not_open")
	ErrStateDemographics = E(ErrConflict, "state_consultation", "respond.error_state_demographics")
)

// Response statuses as the API shows them (not_started has no row).
const ResponseNotStarted = "not_started"

// --- answer values ---------------------------------------------------------

// AnswerValue is a validated answer of one question: its canonical JSON,
// or Clear to remove the answer.
type AnswerValue struct {
	QuestionID int64
	Clear      bool
	JSON       string
}

func canonicalJSON(v any) string {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
	return strings.TrimSuffix(buf.String(), "\n")
}

// ParseAnswerJSON validates the JSON value of an answer to q. It returns
// the value, or the message ID of what is wrong with it.
func ParseAnswerJSON(q *Question, raw json.RawMessage) (AnswerValue, string) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return AnswerValue{QuestionID: q.ID, Clear: true}, ""
	}
	var v any
	switch q.Kind {
	case QMultiChoice:
		var list []string
		if err := json.Unmarshal(raw, &list); err != nil {
			return AnswerValue{}, "respond.error_expected_list"
		}
		v = list
	case QMatrixYesNo:
		var m map[string]string
		if err := json.Unmarshal(raw, &m); err != nil {
			return AnswerValue{}, "respond.error_expected_matrix"
		}
		v = m
	case QScale, QNumber:
		var n float64
		if err := json.Unmarshal(raw, &n); err != nil {
			return AnswerValue{}, "respond.error_expected_number"
		}
		v = n
	default:
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return AnswerValue{}, "respond.error_expected_text"
		}
		v = s
	}
	return NormalizeAnswer(q, v)
}

// NormalizeAnswer validates a decoded value (string, []string,
// map[string]string or float64) for q.
func NormalizeAnswer(q *Question, v any) (AnswerValue, string) {
	out := AnswerValue{QuestionID: q.ID}
	switch q.Kind {
	case QLongText, QShortText:
		s, ok := v.(string)
		if !ok {
			return out, "respond.error_expected_text"
		}
		if !ValidText(s) {
			return out, "error.text_invalid"
		}
		if utf8.RuneCountInString(s) > MaxAnswerLen {
			return out, "error.too_long"
		}
		if s == "" {
			out.Clear = true
			return out, ""
		}
		out.JSON = canonicalJSON(s)
	case QSingleChoice, QYesNo:
		s, ok := v.(string)
		if !ok {
			return out, "respond.error_expected_text"
		}
		if s == "" {
			out.Clear = true
			return out, ""
		}
		if !hasChoice(q.ChoiceList(), s) {
			return out, "respond.error_not_an_option"
		}
		out.JSON = canonicalJSON(s)
	case QCountry:
		s, ok := v.(string)
		if !ok {
			return out, "respond.error_expected_text"
		}
		if s == "" {
			out.Clear = true
			return out, ""
		}
		if _, ok := FindCountry(s); !ok {
			return out, "respond.error_country"
		}
		out.JSON = canonicalJSON(s)
	case QMultiChoice:
		list, ok := v.([]string)
		if !ok {
			return out, "respond.error_expected_list"
		}
		opts := q.ChoiceList()
		chosen := map[string]bool{}
		for _, s := range list {
			if !hasChoice(opts, s) {
				return out, "respond.error_not_an_option"
			}
			chosen[s] = true
		}
		if len(chosen) == 0 {
			out.Clear = true
			return out, ""
		}
		ordered := make([]string, 0, len(chosen))
		for _, o := range opts {
			if chosen[o.Value] {
				ordered = append(ordered, o.Value)
			}
		}
		out.JSON = canonicalJSON(ordered)
	case QMatrixYesNo:
		m, ok := v.(map[string]string)
		if !ok {
			return out, "respond.error_expected_matrix"
		}
		rows := q.RowList()
		clean := map[string]string{}
		for k, x := range m {
			if !hasChoice(rows, k) {
				return out, "respond.error_not_a_row"
			}
			switch x {
			case "":
			case "yes", "no":
				clean[k] = x
			default:
				return out, "respond.error_not_an_option"
			}
		}
		if len(clean) == 0 {
			out.Clear = true
			return out, ""
		}
		out.JSON = canonicalJSON(clean)
	case QScale, QNumber:
		n, ok := v.(float64)
		if !ok {
			return out, "respond.error_expected_number"
		}
		if math.IsNaN(n) || math.IsInf(n, 0) {
			return out, "respond.error_expected_number"
		}
		if q.Kind == QScale && n != math.Trunc(n) {
			return out, "respond.error_out_of_range"
		}
		if (q.MinValue != nil && n < *q.MinValue) || (q.MaxValue != nil && n > *q.MaxValue) {
			return out, "respond.error_out_of_range"
		}
		out.JSON = canonicalJSON(n)
	default:
		return out, "error.invalid_value"
	}
	return out, ""
}

// DecodeAnswer turns a stored answer back into its value: string,
// []string, map[string]string or float64 (nil when empty or unreadable).
func DecodeAnswer(q *Question, raw string) any {
	if raw == "" {
		return nil
	}
	switch q.Kind {
	case QMultiChoice:
		var v []string
		if json.Unmarshal([]byte(raw), &v) == nil {
			return v
		}
	case QMatrixYesNo:
		var v map[string]string
		if json.Unmarshal([]byte(raw), &v) == nil {
			return v
		}
	case QScale, QNumber:
		var v float64
		if json.Unmarshal([]byte(raw), &v) == nil {
			return v
		}
	default:
		if v, ok := plainJSONString(raw); ok {
			return v
		}
		var v string
		if json.Unmarshal([]byte(raw), &v) == nil {
			return v
		}
	}
	return nil
}

// plainJSONString reads a JSON string that holds no escape, the common
// case, without the JSON decoder (every page and submit decodes each
// stored answer): its text is what lies between the quotes. ok is false
// for anything else, which the decoder then reads (or refuses).
func plainJSONString(raw string) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", false
	}
	body := raw[1 : len(raw)-1]
	for i := 0; i < len(body); i++ {
		if c := body[i]; c == '"' || c == '\\' || c < 0x20 {
			return "", false
		}
	}
	if !utf8.ValidString(body) {
		return "", false
	}
	return body, true
}

// FormatNumber writes a number the way submitted_answers.value keeps it.
func FormatNumber(f float64) string { return strconv.FormatFloat(f, 'f', -1, 64) }

// explode turns a stored answer into its submitted_answers rows.
func explode(q *Question, raw string, base SubmittedAnswer) []SubmittedAnswer {
	row := func(key, value string, num *float64) SubmittedAnswer {
		r := base
		r.QuestionID, r.RowKey, r.Value, r.Num = q.ID, key, value, num
		return r
	}
	switch v := DecodeAnswer(q, raw).(type) {
	case string:
		return []SubmittedAnswer{row("", v, nil)}
	case []string:
		out := make([]SubmittedAnswer, 0, len(v))
		for _, s := range v {
			out = append(out, row("", s, nil))
		}
		return out
	case map[string]string:
		out := make([]SubmittedAnswer, 0, len(v))
		for _, r := range q.RowList() {
			if x, ok := v[r.Value]; ok {
				out = append(out, row(r.Value, x, nil))
			}
		}
		return out
	case float64:
		n := v
		return []SubmittedAnswer{row("", FormatNumber(n), &n)}
	}
	return nil
}

// answered reports whether a stored answer fully answers q (a required
// matrix needs every row).
func answered(q *Question, raw string) bool {
	switch v := DecodeAnswer(q, raw).(type) {
	case nil:
		return false
	case string:
		return strings.TrimSpace(v) != ""
	case []string:
		return len(v) > 0
	case map[string]string:
		for _, r := range q.RowList() {
			if v[r.Value] == "" {
				return false
			}
		}
		return true
	}
	return true
}

// AnswerField is the API field name of a question's answer.
func AnswerField(qid int64) string { return "answers." + strconv.FormatInt(qid, 10) }

// --- the journey -----------------------------------------------------------

// Journey is everything behind one personal link at one moment: the
// invitation, consultation, the respondent (nil before first open), the
// current round (the last open one, else the last closed one; nil when
// none has opened yet), its questions, and the respondent's response and
// draft answers in that round.
type Journey struct {
	Invitation   *Invitation
	Consultation *Consultation
	Respondent   *Respondent
	Rounds       []Round
	Round        *Round
	Questions    []Question
	Response     *Response
	Answers      map[int64]string
	Receipt      string
	// answersLoaded: Answers are all the response's draft answers as of
	// Response.Version (not so after LoadJourneyToSave).
	answersLoaded bool
	// participant is what JourneyParticipant returns, when read with the
	// journey (JourneyByToken).
	participant *Participant
	// submitted are the submitted rows of a submitted response, in id
	// order, read with it (JourneyToSubmit; submittedLoaded).
	submitted       []SubmittedAnswer
	submittedLoaded bool
}

// IsState reports whether the respondent is a State.
func (j *Journey) IsState() bool { return j.Consultation.Unit == UnitState }

// Status is not_started, draft or submitted (API.md).
func (j *Journey) Status() string {
	if j.Response == nil {
		return ResponseNotStarted
	}
	return j.Response.Status
}

// Version is the response version a save must name (0 before the first).
func (j *Journey) Version() int {
	if j.Response == nil {
		return 0
	}
	return j.Response.Version
}

// HasConsent reports whether the respondent has agreed to take part.
func (j *Journey) HasConsent() bool { return j.Respondent != nil && j.Respondent.ConsentAt != nil }

// NeedsDemographics reports whether "about you" is still to be given (never
// in a State consultation).
func (j *Journey) NeedsDemographics() bool {
	if j.IsState() {
		return false
	}
	r := j.Respondent
	return r == nil || r.Gender == "" || r.InstitutionType == "" || r.Country == ""
}

// Question returns the question with id in the current round.
func (j *Journey) Question(id int64) *Question {
	for i := range j.Questions {
		if j.Questions[i].ID == id {
			return &j.Questions[i]
		}
	}
	return nil
}

// respondentKey selects the respondent of an invitation: the participant
// in a person consultation, the State in a State consultation.
func respondentKey(db *gorm.DB, c *Consultation, inv *Invitation) *gorm.DB {
	if c.Unit == UnitState && inv.StateCountry != nil {
		return db.Where("consultation_id = ? AND state_country = ?", c.ID, *inv.StateCountry)
	}
	return db.Where("consultation_id = ? AND participant_id = ?", c.ID, inv.ParticipantID)
}

// JourneyReads is what a journey is read with beyond its invitation,
// consultation, respondent, rounds and questions.
type JourneyReads int

const (
	// JourneyToSave reads no response: SaveAnswers finds it in the writer.
	JourneyToSave JourneyReads = iota
	// JourneyFull reads the response and its draft answers.
	JourneyFull
	// JourneyToSubmit is JourneyFull and, for a submitted response, the
	// submitted rows a resubmission replaces (SubmitResponse would
	// otherwise query them).
	JourneyToSubmit
)

// LoadJourney reads the journey of an invitation (no writes).
func (s *Store) LoadJourney(ctx context.Context, inv *Invitation) (*Journey, error) {
	return s.loadJourney(ctx, inv, JourneyFull)
}

// LoadJourneyToSave is LoadJourney without the response and its draft
// answers, for a request that only saves answers: SaveAnswers finds the
// response in the writer by the version the client saw, so the request
// reads one query less. Its Answers hold only what it saves.
func (s *Store) LoadJourneyToSave(ctx context.Context, inv *Invitation) (*Journey, error) {
	return s.loadJourney(ctx, inv, JourneyToSave)
}

func (s *Store) loadJourney(ctx context.Context, inv *Invitation, reads JourneyReads) (*Journey, error) {
	db := s.R.WithContext(ctx)
	c, rev, r, err := journeyHead(db, inv)
	if err != nil {
		return nil, err
	}
	return s.journeyFrom(db, inv, c, rev, r, reads)
}

// JourneyByToken is FindInvitationByToken then the journey with reads
// (LoadJourney is JourneyFull), with the invitation, its consultation
// and its respondent read in one query: one query less on every
// respondent request. A token of a later link (invitation_links) takes the
// two steps.
func (s *Store) JourneyByToken(ctx context.Context, tok string, reads JourneyReads) (*Journey, error) {
	if tok == "" || len(tok) > 200 {
		return nil, ErrNotFound
	}
	db := s.R.WithContext(ctx)
	var inv Invitation
	p := Participant{}
	rows, err := queryDirect(db, `SELECT `+invitationColumns+`, p.name, p.email, p.language, `+headColumns+headFrom+`WHERE i.token_hash = ?`,
		UnitState, HashToken(tok))
	if err != nil {
		return nil, err
	}
	c, rev, r, err := scanHead(rows, append(inv.fields(), &p.Name, &p.Email, &p.Language))
	if errors.Is(err, ErrNotFound) {
		found, err := s.FindInvitationByToken(ctx, tok)
		if err != nil {
			return nil, err
		}
		return s.loadJourney(ctx, found, reads)
	}
	if err != nil {
		return nil, err
	}
	if err := s.checkLive(db, &inv); err != nil {
		return nil, err
	}
	j, err := s.journeyFrom(db, &inv, c, rev, r, reads)
	if j != nil {
		p.ID = inv.ParticipantID
		j.participant = &p
	}
	return j, err
}

// journeyFrom completes a journey from its head: rounds and questions
// from the journey cache, then the response.
func (s *Store) journeyFrom(db *gorm.DB, inv *Invitation, c *Consultation, rev int64, r *Respondent, reads JourneyReads) (*Journey, error) {
	// Without a response there are no answers: the empty map is all of them.
	j := &Journey{Invitation: inv, Answers: map[int64]string{}, answersLoaded: reads != JourneyToSave}
	j.Consultation, j.Respondent = c, r
	// Rounds and questions come from the journey cache (shared: never
	// modify them).
	meta, err := s.journeyMeta(db, c.ID, rev)
	if err != nil {
		return nil, err
	}
	j.Rounds = meta.rounds
	now := s.Now()
	var lastClosed *Round
	for i := range j.Rounds {
		switch j.Rounds[i].StateAt(now) {
		case RoundOpen:
			j.Round = &j.Rounds[i]
		case RoundClosed:
			lastClosed = &j.Rounds[i]
		}
	}
	if j.Round == nil {
		j.Round = lastClosed
	}
	if j.Round == nil {
		return j, nil
	}
	if j.Questions, err = meta.questions(db, j.Round.ID); err != nil {
		return nil, err
	}
	if j.Respondent == nil || reads == JourneyToSave {
		// A journey to save reads no response: SaveAnswers finds it in
		// the writer, by the version the client saw.
		return j, nil
	}
	if reads != JourneyToSubmit || s.memo == nil {
		return j, journeyResponse(db, j, reads == JourneyToSubmit)
	}
	// A journey to submit takes the response from the memo when this
	// process last wrote it; the writer checks its version.
	k := memoKey{j.Respondent.ID, j.Round.ID}
	if e := s.memo.get(k); e != nil {
		s.memo.hits.Add(1)
		e.fill(j)
		return j, nil
	}
	s.memo.misses.Add(1)
	if err := journeyResponse(db, j, true); err != nil {
		return nil, err
	}
	if e := memoFromJourney(j); e != nil {
		s.memo.put(k, e)
	}
	return j, nil
}

// headColumns are the consultation (with its revision) and respondent
// columns that scanHead reads.
const headColumns = `c.id, c.title, c.description, c.unit, c.languages, c.min_cell_size, c.created_at, c.updated_at, c.rev,
	rs.id, rs.consultation_id, rs.participant_id, rs.code, rs.state_country, rs.gender, rs.institution_type, rs.country, rs.consent_at, rs.created_at, rs.updated_at`

// headFrom joins an invitation (i) to its participant (p), its
// consultation (c) and its respondent (rs: none before the first opening),
// keyed as respondentKey does: the State in a State consultation, the
// participant otherwise; each through its unique index. Its one parameter
// is UnitState.
const headFrom = `
FROM invitations i JOIN participants p ON p.id = i.participant_id JOIN consultations c ON c.id = i.consultation_id
LEFT JOIN respondents rs ON rs.id = CASE WHEN c.unit = ? AND i.state_country IS NOT NULL
	THEN (SELECT id FROM respondents WHERE consultation_id = i.consultation_id AND state_country = i.state_country)
	ELSE (SELECT id FROM respondents WHERE consultation_id = i.consultation_id AND participant_id = i.participant_id) END
`

// journeyHead reads, in one query, an invitation's consultation (with its
// revision) and its respondent. Plain SQL: it runs on respondent requests.
func journeyHead(db *gorm.DB, inv *Invitation) (*Consultation, int64, *Respondent, error) {
	rows, err := queryDirect(db, `SELECT `+headColumns+headFrom+`WHERE i.id = ?`, UnitState, inv.ID)
	if err != nil {
		return nil, 0, nil, err
	}
	return scanHead(rows, nil)
}

// scanHead reads the one row of a head query (ErrNotFound when none) and
// closes rows: first into lead, then headColumns.
func scanHead(rows *sql.Rows, lead []any) (*Consultation, int64, *Respondent, error) {
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return nil, 0, nil, err
		}
		return nil, 0, nil, ErrNotFound
	}
	var c Consultation
	var rev int64
	var rid, rcons *int64
	var r Respondent
	var code, gender, inst, country *string
	var created, updated *time.Time
	if err := rows.Scan(append(lead, &c.ID, &c.Title, &c.Description, &c.Unit, &c.Languages, &c.MinCellSize, &c.CreatedAt, &c.UpdatedAt, &rev,
		&rid, &rcons, &r.ParticipantID, &code, &r.StateCountry, &gender, &inst, &country, &r.ConsentAt, &created, &updated)...); err != nil {
		return nil, 0, nil, err
	}
	if rid == nil {
		return &c, rev, nil, rows.Err()
	}
	r.ID, r.ConsultationID = *rid, *rcons
	r.Code, r.Gender, r.InstitutionType, r.Country = *code, *gender, *inst, *country
	r.CreatedAt, r.UpdatedAt = *created, *updated
	return &c, rev, &r, rows.Err()
}

// journeyResponse reads the journey's response in its round with its draft
// answers and, when withSubmitted and it is submitted, its submitted rows,
// in one query (one snapshot). The answers and rows come as rows of their
// own (UNION ALL), so the response's columns, three of them times to
// parse, are read once rather than once per answer.
func journeyResponse(db *gorm.DB, j *Journey, withSubmitted bool) error {
	q := `SELECT r.id, r.respondent_id, r.round_id, r.status, r.version, r.unsubmitted_changes, r.submitted_at, r.created_at, r.updated_at, r.receipt,
	CAST(NULL AS BIGINT), CAST(NULL AS TEXT), CAST(NULL AS BIGINT), CAST(NULL AS TEXT), CAST(NULL AS REAL) FROM responses r WHERE r.respondent_id = ? AND r.round_id = ?
UNION ALL SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, a.question_id, a.value, NULL, NULL, NULL
FROM responses r JOIN answers a ON a.response_id = r.id WHERE r.respondent_id = ? AND r.round_id = ?`
	args := []any{j.Respondent.ID, j.Round.ID, j.Respondent.ID, j.Round.ID}
	if withSubmitted {
		q += `
UNION ALL SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, sa.question_id, sa.value, sa.id, sa.row_key, sa.num
FROM responses r JOIN submitted_answers sa ON sa.response_id = r.id WHERE r.respondent_id = ? AND r.round_id = ? AND r.status = '` + ResponseSubmitted + `'`
		args = append(args, j.Respondent.ID, j.Round.ID)
	}
	rows, err := queryDirect(db, q, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	var submitted []SubmittedAnswer
	for rows.Next() {
		var id, respondent, round, version *int64
		var status, receipt *string
		var unsubmitted *bool
		var submittedAt, created, updated *time.Time
		var qid, said *int64
		var val, rowKey *string
		var num *float64
		if err := rows.Scan(&id, &respondent, &round, &status, &version, &unsubmitted, &submittedAt, &created, &updated, &receipt,
			&qid, &val, &said, &rowKey, &num); err != nil {
			return err
		}
		switch {
		case id != nil && j.Response == nil:
			resp := &Response{ID: *id, RespondentID: *respondent, RoundID: *round, Status: *status, Version: int(*version),
				UnsubmittedChanges: *unsubmitted, SubmittedAt: submittedAt, CreatedAt: *created, UpdatedAt: *updated}
			j.Response = resp
			if receipt != nil {
				j.Receipt = *receipt
			}
		case said != nil && qid != nil && val != nil && rowKey != nil:
			submitted = append(submitted, SubmittedAnswer{ID: *said, RespondentID: j.Respondent.ID, RoundID: j.Round.ID,
				QuestionID: *qid, RowKey: *rowKey, Value: *val, Num: num})
		case qid != nil && val != nil:
			j.Answers[*qid] = *val
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if withSubmitted && j.Response != nil && j.Response.Status == ResponseSubmitted {
		for i := range submitted {
			submitted[i].ResponseID = j.Response.ID
		}
		sort.Slice(submitted, func(a, b int) bool { return submitted[a].ID < submitted[b].ID })
		j.submitted, j.submittedLoaded = submitted, true
	}
	return nil
}

// OpenJourney records the first opening of a link: it creates the
// respondent (with a random code; in a State consultation keyed by the
// State, whose country it is) and marks the invitation opened. It is
// idempotent and cheap once done.
func (s *Store) OpenJourney(ctx context.Context, j *Journey) error {
	if j.Respondent != nil && j.Invitation.OpenedAt != nil {
		return nil
	}
	inv, c := j.Invitation, j.Consultation
	now := s.Now()
	var r Respondent
	err := s.Write(ctx, func(tx *gorm.DB) error {
		if j.Respondent == nil {
			nr := Respondent{ConsultationID: c.ID, Code: NewRespondentCode(), CreatedAt: now, UpdatedAt: now}
			if c.Unit == UnitState && inv.StateCountry != nil {
				sc := *inv.StateCountry
				nr.StateCountry, nr.Country = &sc, sc
			} else {
				pid := inv.ParticipantID
				nr.ParticipantID = &pid
			}
			if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&nr).Error; err != nil {
				return err
			}
			if err := respondentKey(tx, c, inv).Take(&r).Error; err != nil {
				return translate(err)
			}
		}
		if inv.OpenedAt == nil {
			return tx.Exec(`UPDATE invitations SET opened_at = ?, status = CASE WHEN status IN ('queued','sent','failed') THEN 'opened' ELSE status END
				WHERE id = ? AND opened_at IS NULL`, now, inv.ID).Error
		}
		return nil
	})
	if err != nil {
		return err
	}
	if j.Respondent == nil {
		j.Respondent = &r
	}
	if inv.OpenedAt == nil {
		inv.OpenedAt = &now
	}
	return nil
}

// NewRespondentCode returns a random respondent code (what exports show):
// 16 characters from an unambiguous alphabet, derived from nothing.
func NewRespondentCode() string {
	const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

func newReceipt() string {
	c := NewRespondentCode()
	return c[:4] + "-" + c[4:8] + "-" + c[8:12]
}

// --- consent and demographics ----------------------------------------------

// RespondentDemographics is the "about you" step.
type RespondentDemographics struct {
	Gender          string
	InstitutionType string
	Country         string
	Consent         bool
}

func inList(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// Validate checks the values against the lists of API.md.
func (d *RespondentDemographics) Validate() error {
	errs := FieldErrors{}
	if !inList(Genders, d.Gender) {
		errs.Add("gender", "respond.error_gender")
	}
	if !inList(InstitutionTypes, d.InstitutionType) {
		errs.Add("institution_type", "respond.error_institution_type")
	}
	if _, ok := FindCountry(d.Country); !ok && d.Country != PreferNotToSay {
		errs.Add("country", "respond.error_country")
	}
	if !d.Consent {
		errs.Add("consent", "respond.error_consent")
	}
	return errs.Err()
}

// SaveConsent records that the respondent agreed to take part.
func (s *Store) SaveConsent(ctx context.Context, j *Journey) error {
	if err := s.OpenJourney(ctx, j); err != nil {
		return err
	}
	if j.Respondent.ConsentAt != nil {
		return nil
	}
	now := s.Now()
	err := s.Write(ctx, func(tx *gorm.DB) error {
		return tx.Exec("UPDATE respondents SET consent_at = ?, updated_at = ? WHERE id = ? AND consent_at IS NULL", now, now, j.Respondent.ID).Error
	})
	if err == nil {
		j.Respondent.ConsentAt = &now
	}
	return err
}

// SaveDemographics records "about you" (409 in a State consultation).
// When it changes after submissions, the tallies of those submissions
// move with it.
func (s *Store) SaveDemographics(ctx context.Context, j *Journey, d RespondentDemographics) error {
	if j.IsState() {
		return ErrStateDemographics
	}
	if err := d.Validate(); err != nil {
		return err
	}
	if err := s.OpenJourney(ctx, j); err != nil {
		return err
	}
	now := s.Now()
	var after Respondent
	err := s.Write(ctx, func(tx *gorm.DB) error {
		var before Respondent
		if err := tx.First(&before, j.Respondent.ID).Error; err != nil {
			return translate(err)
		}
		after = before
		after.Gender, after.InstitutionType, after.Country, after.UpdatedAt = d.Gender, d.InstitutionType, d.Country, now
		if after.ConsentAt == nil {
			after.ConsentAt = &now
		}
		if err := tx.Model(&Respondent{}).Where("id = ?", before.ID).Updates(map[string]any{
			"gender": after.Gender, "institution_type": after.InstitutionType, "country": after.Country,
			"consent_at": after.ConsentAt, "updated_at": now}).Error; err != nil {
			return err
		}
		// Submitted responses were counted under the old demographics.
		return s.MoveRespondentTallies(tx, &before, &after)
	})
	if err == nil {
		j.Respondent = &after
	}
	return err
}

// --- saving and submitting -------------------------------------------------

// checkOpen returns nil when the journey's round accepts answers now.
func (s *Store) checkOpen(j *Journey) error {
	if j.Round == nil {
		return ErrRoundNotOpen
	}
	switch j.Round.StateAt(s.Now()) {
	case RoundOpen:
		return nil
	case RoundClosed:
		return ErrRoundClosed
	}
	return ErrRoundNotOpen
}

// ParseAnswers validates a map of question id (as text) to JSON value
// against the current round's questions; errors are named answers.<QID>.
func (j *Journey) ParseAnswers(in map[string]json.RawMessage) ([]AnswerValue, error) {
	errs := FieldErrors{}
	out := make([]AnswerValue, 0, len(in))
	for k, raw := range in {
		id, err := strconv.ParseInt(k, 10, 64)
		var q *Question
		if err == nil {
			q = j.Question(id)
		}
		if q == nil {
			errs.Add("answers."+k, "respond.error_unknown_question")
			continue
		}
		v, msg := ParseAnswerJSON(q, raw)
		if msg != "" {
			errs.Add(AnswerField(id), msg)
			continue
		}
		out = append(out, v)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].QuestionID < out[b].QuestionID })
	return out, errs.Err()
}

// SaveAnswers stores answers (a draft need not be complete; a Clear value
// removes an answer) if version is the response's current version, and
// returns the new version. A stale version is a 409 stale_version: another
// tab or device saved in between, and nothing is overwritten.
func (s *Store) SaveAnswers(ctx context.Context, j *Journey, version int, vals []AnswerValue) (int, error) {
	if err := s.checkOpen(j); err != nil {
		return 0, err
	}
	if err := s.OpenJourney(ctx, j); err != nil {
		return 0, err
	}
	now := s.Now()
	inv := j.Invitation
	var newVersion int
	var resp Response
	var created bool
	err := s.writeRerunnable(ctx, func(tx *gorm.DB) error {
		created = false
		// Move the response on only if it is still at the version the
		// client saw (whether or not the journey read it: a journey to
		// save did not).
		resp = Response{RespondentID: j.Respondent.ID, RoundID: j.Round.ID}
		if j.Response != nil {
			resp = *j.Response
		}
		err := queryRowDirect(tx, `UPDATE responses SET version = version + 1, unsubmitted_changes = (status = ?), updated_at = ?
			WHERE respondent_id = ? AND round_id = ? AND version = ? RETURNING id, status`, ResponseSubmitted, now, j.Respondent.ID, j.Round.ID, version).
			Scan(&resp.ID, &resp.Status)
		switch {
		case err == nil:
			resp.Version, resp.UnsubmittedChanges, resp.UpdatedAt = version+1, resp.Status == ResponseSubmitted, now
		case !errors.Is(err, sql.ErrNoRows):
			return err
		case version != 0:
			return ErrStaleVersion
		default:
			// Version 0 and nothing moved on: the first save makes the
			// response, unless another one just did (then it is stale).
			var cur Response
			if err := takeResponse(tx, s.Dialect, j.Respondent.ID, j.Round.ID, false, &cur); !errors.Is(err, gorm.ErrRecordNotFound) {
				if err == nil {
					err = ErrStaleVersion
				}
				return err
			}
			resp = Response{RespondentID: j.Respondent.ID, RoundID: j.Round.ID, Status: ResponseDraft, Version: 1, CreatedAt: now, UpdatedAt: now}
			if err := insertResponse(tx, &resp); err != nil {
				return err
			}
			if resp.ID == 0 {
				return ErrStaleVersion
			}
			created = true
		}
		var clear []int64
		var rows []Answer
		for _, v := range vals {
			if v.Clear {
				clear = append(clear, v.QuestionID)
			} else {
				rows = append(rows, Answer{ResponseID: resp.ID, QuestionID: v.QuestionID, Value: v.JSON, UpdatedAt: now})
			}
		}
		if len(clear) > 0 {
			in, args := placeholders([]any{resp.ID}, clear)
			if _, err := execDirect(tx, "DELETE FROM answers WHERE response_id = ? AND question_id IN "+in, args...); err != nil {
				return err
			}
		}
		if err := upsertAnswers(tx, rows); err != nil {
			return err
		}
		if inv.StartedAt == nil {
			if _, err := execDirect(tx, `UPDATE invitations SET started_at = ?, status = CASE WHEN status IN ('queued','sent','failed','opened') THEN 'started' ELSE status END
				WHERE id = ? AND started_at IS NULL`, now, inv.ID); err != nil {
				return err
			}
		}
		newVersion = resp.Version
		return nil
	})
	if err != nil {
		return 0, err
	}
	if s.memo != nil {
		k := memoKey{j.Respondent.ID, j.Round.ID}
		if e := s.memo.afterSave(k, version, created, resp, vals); e != nil {
			s.memo.put(k, e)
		}
	}
	if inv.StartedAt == nil {
		inv.StartedAt = &now
	}
	j.Response = &resp
	for _, v := range vals {
		if v.Clear {
			delete(j.Answers, v.QuestionID)
		} else {
			j.Answers[v.QuestionID] = v.JSON
		}
	}
	return newVersion, nil
}

// Submission is what a submit produced, for the receipt page and mail.
type Submission struct {
	Response *Response
	Receipt  string
	Answers  map[int64]string
	At       time.Time
}

// ReceiptMail builds the receipt email of a submission; it runs inside
// the submit transaction, so the mail is queued if and only if the
// submission commits.
type ReceiptMail func(sub *Submission) (*OutboxMessage, error)

// SubmitResponse submits the current answers of the round: required
// questions must be answered (422 naming answers.<QID>), the round must
// be open (409 round_closed). In one transaction it replaces the
// response's submitted_answers with the exploded answers, updates the
// tallies, marks the response and invitation submitted with a new receipt
// code, and queues the receipt mail. Repeatable until the round closes;
// the last submission counts. Concurrent identical submits serialise on
// the response row and leave one set of rows.
func (s *Store) SubmitResponse(ctx context.Context, j *Journey, mail ReceiptMail) (*Submission, error) {
	if err := s.checkOpen(j); err != nil {
		return nil, err
	}
	if err := s.OpenJourney(ctx, j); err != nil {
		return nil, err
	}
	now := s.Now()
	inv, resp := j.Invitation, Response{}
	sub := &Submission{At: now, Receipt: newReceipt()}
	// Render the mail from the answers as read before the transaction, so
	// the single writer does not spend its time on templates; it is
	// rendered again inside only if the answers changed in between.
	var premail *OutboxMessage
	if mail != nil {
		var err error
		if premail, err = mail(&Submission{At: now, Receipt: sub.Receipt, Answers: j.Answers}); err != nil {
			return nil, err
		}
	}
	// Within one response, a save bumps the version, so when the version
	// inside the transaction is the one the journey was read at, the
	// journey's answers are the current ones (LoadJourney reads the
	// response before its answers) and need not be read again here.
	readVersion := -1
	if j.Response != nil {
		readVersion = j.Response.Version
	}
	kinds := make(map[int64]string, len(j.Questions))
	for i := range j.Questions {
		kinds[j.Questions[i].ID] = j.Questions[i].Kind
	}
	pre, err := s.prepareSubmit(ctx, j, kinds)
	if err != nil {
		return nil, err
	}
	// A resubmission leaves the statuses (and the indexes on them) alone:
	// only the times, version and receipt change.
	setStatus := func(status string) string {
		if status == ResponseSubmitted {
			return ""
		}
		return "status = '" + ResponseSubmitted + "', "
	}
	// What the memo needs of the rows as written: the plan and the ids
	// the inserted rows got (finalRows, after the write).
	var written submitRows
	var writtenIDs []int64
	err = s.writeDeferringTallies(ctx, func(tx *gorm.DB) error {
		resp = Response{} // afresh at each run (rerunnable)
		// Unchanged since the journey was read (same version and status):
		// what prepareSubmit worked out from it holds, and the writer only
		// writes, starting with the response, moved on at once.
		fast := false
		if pre != nil && j.answersLoaded && j.Response != nil {
			n, err := execDirect(tx, `UPDATE responses SET `+setStatus(pre.status)+`submitted_at = ?, version = version + 1, unsubmitted_changes = ?, receipt = ?, updated_at = ?
			WHERE id = ? AND version = ? AND status = ?`, now, false, sub.Receipt, now, j.Response.ID, readVersion, pre.status)
			if err != nil {
				return err
			}
			if fast = n == 1; fast {
				resp = *j.Response
			}
		}
		current := fast
		if !fast {
			err := takeResponse(tx, s.Dialect, j.Respondent.ID, j.Round.ID, true, &resp)
			if errors.Is(err, gorm.ErrRecordNotFound) {
				nr := Response{RespondentID: j.Respondent.ID, RoundID: j.Round.ID, Status: ResponseDraft, Version: 0, CreatedAt: now, UpdatedAt: now}
				if err := insertResponse(tx, &nr); err != nil {
					return err
				}
				err = takeResponse(tx, s.Dialect, j.Respondent.ID, j.Round.ID, true, &resp)
			}
			if err != nil {
				return translate(err)
			}
			current = j.answersLoaded && resp.Version == readVersion && resp.ID == j.Response.ID
		}
		var err error
		var answers map[int64]string
		if current {
			answers = make(map[int64]string, len(j.Answers))
			for k, v := range j.Answers {
				answers[k] = v
			}
		} else {
			var rows []Answer
			if err := tx.Where("response_id = ?", resp.ID).Find(&rows).Error; err != nil {
				return err
			}
			answers = make(map[int64]string, len(rows))
			for _, a := range rows {
				answers[a.QuestionID] = a.Value
			}
		}
		var plan submitRows
		var before *Respondent
		if fast {
			plan = pre.submitRows
		} else if plan, err = planSubmitRows(tx, j, resp.ID, resp.Status == ResponseSubmitted, answers, nil); err != nil {
			return err
		}
		newRows, oldRows, del, toInsert := plan.newRows, plan.oldRows, plan.del, plan.toInsert
		if resp.Status == ResponseSubmitted {
			// A resubmission replaces the rows of the questions whose
			// answer changed (rewritten in place where it can, see
			// changedRows) and keeps the others as they are. Each
			// statement names the response as well as the ids, and
			// must find every row: ids planned from the memo or a read
			// that are not this response's fail the submit rather than
			// touch another's rows.
			for start := 0; start < len(del); start += 500 {
				part := del[start:min(start+500, len(del))]
				in, args := placeholders([]any{resp.ID}, part)
				n, err := execDirect(tx, "DELETE FROM submitted_answers WHERE response_id = ? AND id IN "+in, args...)
				if err != nil {
					return err
				}
				if n != int64(len(part)) {
					return fmt.Errorf("%d of %d submitted answers to replace are gone", int64(len(part))-n, len(part))
				}
			}
			if err := updateSubmitted(tx, plan.toUpdate); err != nil {
				return err
			}
			before = j.Respondent
		}
		var ids []int64
		if s.memo != nil {
			ids = make([]int64, len(toInsert))
		}
		if err := insertSubmitted(tx, toInsert, ids); err != nil {
			return err
		}
		written, writtenIDs = plan, ids
		if fast && pre.deltas != nil {
			if err := applyDeltas(tx, pre.deltas); err != nil {
				return err
			}
		} else if err := s.applyTallies(tx, TallyChange{ConsultationID: j.Consultation.ID, RoundID: j.Round.ID,
			Before: before, After: j.Respondent, Old: oldRows, New: newRows, Kinds: kinds}); err != nil {
			return err
		}
		if !fast {
			if _, err := execDirect(tx, `UPDATE responses SET `+setStatus(resp.Status)+`submitted_at = ?, version = version + 1, unsubmitted_changes = ?, receipt = ?, updated_at = ?
			WHERE id = ?`, now, false, sub.Receipt, now, resp.ID); err != nil {
				return err
			}
		}
		resp.Status, resp.SubmittedAt, resp.UnsubmittedChanges, resp.UpdatedAt = ResponseSubmitted, &now, false, now
		resp.Version++
		// The invitation records its first submission, as it does its
		// first opening and start (the response holds the last): a
		// resubmission leaves its row alone.
		if inv.Status != InvSubmitted || inv.SubmittedAt == nil {
			if _, err := execDirect(tx, "UPDATE invitations SET status = ?, submitted_at = COALESCE(submitted_at, ?) WHERE id = ?", InvSubmitted, now, inv.ID); err != nil {
				return err
			}
		}
		sub.Response, sub.Answers = &resp, answers
		if mail != nil {
			m := premail
			if !sameAnswers(answers, j.Answers) {
				var err error
				if m, err = mail(sub); err != nil {
					return err
				}
			} else {
				// A copy: a failed write must not leave an id in the original.
				cp := *premail
				m = &cp
			}
			if m != nil {
				if err := QueueMail(tx, now, m); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	j.Response, j.Answers, j.Receipt = &resp, sub.Answers, sub.Receipt
	if s.memo != nil {
		s.memo.put(memoKey{j.Respondent.ID, j.Round.ID}, &memoEntry{resp: resp, receipt: sub.Receipt, answers: maps.Clone(sub.Answers),
			submitted: finalRows(written, writtenIDs)})
	}
	if inv.SubmittedAt == nil {
		inv.SubmittedAt = &now
	}
	inv.Status = InvSubmitted
	return sub, nil
}

// insertResponse creates r unless the respondent already has a response
// in the round (then r.ID stays 0). Plain SQL: the first save of every
// respondent runs it, in the single writer on SQLite.
func insertResponse(tx *gorm.DB, r *Response) error {
	err := queryRowDirect(tx, `INSERT INTO responses (respondent_id, round_id, status, version, unsubmitted_changes, submitted_at, created_at, updated_at)
VALUES (?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING RETURNING id`,
		r.RespondentID, r.RoundID, r.Status, r.Version, r.UnsubmittedChanges, r.SubmittedAt, r.CreatedAt, r.UpdatedAt).Scan(&r.ID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	return err
}

// takeResponse reads the response of a respondent in a round into r, or
// returns gorm.ErrRecordNotFound. forUpdate locks the row on PostgreSQL.
// Plain SQL: it runs in every save and submit, in the single writer on
// SQLite.
func takeResponse(tx *gorm.DB, dialect Dialect, respondentID, roundID int64, forUpdate bool, r *Response) error {
	q := `SELECT id, respondent_id, round_id, status, version, unsubmitted_changes, submitted_at, created_at, updated_at
FROM responses WHERE respondent_id = ? AND round_id = ?`
	if forUpdate && dialect == Postgres {
		q += ` FOR UPDATE`
	}
	err := queryRowDirect(tx, q, respondentID, roundID).Scan(&r.ID, &r.RespondentID, &r.RoundID, &r.Status, &r.Version,
		&r.UnsubmittedChanges, &r.SubmittedAt, &r.CreatedAt, &r.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return gorm.ErrRecordNotFound
	}
	return err
}

// submittedRowsOf reads a response's submitted_answers rows in id order
// (plain SQL: every submit reads them).
func submittedRowsOf(db *gorm.DB, responseID int64) ([]SubmittedAnswer, error) {
	rows, err := queryDirect(db, `SELECT id, response_id, respondent_id, round_id, question_id, row_key, value, num
FROM submitted_answers WHERE response_id = ? ORDER BY id`, responseID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []SubmittedAnswer
	for rows.Next() {
		var a SubmittedAnswer
		if err := rows.Scan(&a.ID, &a.ResponseID, &a.RespondentID, &a.RoundID, &a.QuestionID, &a.RowKey, &a.Value, &a.Num); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// submittedRows validates answers against the journey's questions and
// explodes them into the response's submitted_answers rows.
func submittedRows(j *Journey, responseID int64, answers map[int64]string) ([]SubmittedAnswer, error) {
	errs := FieldErrors{}
	base := SubmittedAnswer{ResponseID: responseID, RespondentID: j.Respondent.ID, RoundID: j.Round.ID}
	var rows []SubmittedAnswer
	for i := range j.Questions {
		q := &j.Questions[i]
		raw, ok := answers[q.ID]
		if ok {
			// Options may have changed since the draft was saved.
			if _, msg := NormalizeAnswer(q, DecodeAnswer(q, raw)); msg != "" {
				errs.Add(AnswerField(q.ID), "respond.error_answer_outdated")
				continue
			}
		}
		if q.Required && (!ok || !answered(q, raw)) {
			errs.Add(AnswerField(q.ID), "respond.error_required")
			continue
		}
		if ok {
			rows = append(rows, explode(q, raw, base)...)
		}
	}
	return rows, errs.Err()
}

// submitRows are a submit's rows: the new ones and, for a resubmission,
// the current ones, which of those to delete, which to rewrite in place
// and which new ones to insert (changedRows).
type submitRows struct {
	newRows, oldRows, toInsert, toUpdate []SubmittedAnswer
	del                                  []int64
}

// planSubmitRows validates answers and works out the submit's rows,
// reading a resubmitted response's current rows from db.
func planSubmitRows(db *gorm.DB, j *Journey, responseID int64, resubmit bool, answers map[int64]string, known *[]SubmittedAnswer) (submitRows, error) {
	var r submitRows
	var err error
	if r.newRows, err = submittedRows(j, responseID, answers); err != nil {
		return r, err
	}
	r.toInsert = r.newRows
	if !resubmit {
		return r, nil
	}
	if known != nil {
		r.oldRows = *known // read with the journey, in the same snapshot
	} else if r.oldRows, err = submittedRowsOf(db, responseID); err != nil {
		return r, err
	}
	r.del, r.toUpdate, r.toInsert = changedRows(r.oldRows, r.newRows)
	return r, nil
}

// preparedSubmit is a submit worked out before the write transaction,
// from the journey as read: the rows to write, the rows they replace and,
// for a resubmission, the tally change. The writer uses it only if the
// response is still at the version (and status) it was prepared from; as
// every save and submit moves the version on, nothing it read can have
// changed then. So the single writer spends its time writing, not reading
// and computing.
type preparedSubmit struct {
	status string
	submitRows
	deltas *tallyDeltas
}

// prepareSubmit prepares the submit of a journey whose answers are
// loaded, or returns nil (the writer then works everything out itself,
// as it does when the response moved on meanwhile). Answers that do not
// validate return nil too: the writer reports them against the answers
// it sees.
func (s *Store) prepareSubmit(ctx context.Context, j *Journey, kinds map[int64]string) (*preparedSubmit, error) {
	if !j.answersLoaded || j.Response == nil || j.Respondent == nil {
		return nil, nil
	}
	p := &preparedSubmit{status: j.Response.Status}
	// The current rows are read after the journey: if the version is
	// unchanged inside the transaction, no submit came in between, and
	// these are the rows.
	var err error
	var known *[]SubmittedAnswer
	if j.submittedLoaded {
		known = &j.submitted
	}
	p.submitRows, err = planSubmitRows(s.R.WithContext(ctx), j, j.Response.ID, p.status == ResponseSubmitted, j.Answers, known)
	var invalid FieldErrors
	if errors.As(err, &invalid) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if p.status != ResponseSubmitted {
		return p, nil
	}
	p.deltas = s.resubmitDeltas(TallyChange{ConsultationID: j.Consultation.ID, RoundID: j.Round.ID,
		Before: j.Respondent, After: j.Respondent, Old: p.oldRows, New: p.newRows, Kinds: kinds})
	if s.Dialect == SQLite {
		p.deltas.encoded = p.deltas.encode() // the writer only appends it
	}
	return p, nil
}

// JourneyParticipant returns what a journey needs of the invited
// participant: ID, Name, Email and Language (the receipt goes to their
// address, in their language); the other fields are left empty.
// JourneyByToken reads it with the journey; otherwise it takes a query.
func (s *Store) JourneyParticipant(ctx context.Context, j *Journey) (*Participant, error) {
	if j.participant != nil {
		p := *j.participant
		return &p, nil
	}
	p := Participant{ID: j.Invitation.ParticipantID}
	err := queryRowDirect(s.R.WithContext(ctx), "SELECT name, email, language FROM participants WHERE id = ?", p.ID).
		Scan(&p.Name, &p.Email, &p.Language)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// SubmittedRows returns the submitted_answers rows of a response.
func (s *Store) SubmittedRows(ctx context.Context, responseID int64) ([]SubmittedAnswer, error) {
	var rows []SubmittedAnswer
	rows, err := submittedRowsOf(s.R.WithContext(ctx), responseID)
	return rows, err
}

// RebuildAnswers turns submitted_answers rows back into stored answer
// values (the inverse of explode), for showing the last submission.
func RebuildAnswers(questions []Question, rows []SubmittedAnswer) map[int64]string {
	byQ := map[int64][]SubmittedAnswer{}
	for _, r := range rows {
		byQ[r.QuestionID] = append(byQ[r.QuestionID], r)
	}
	out := map[int64]string{}
	for i := range questions {
		q := &questions[i]
		rs := byQ[q.ID]
		if len(rs) == 0 {
			continue
		}
		switch q.Kind {
		case QMultiChoice:
			list := make([]string, len(rs))
			for i, r := range rs {
				list[i] = r.Value
			}
			out[q.ID] = canonicalJSON(list)
		case QMatrixYesNo:
			m := map[string]string{}
			for _, r := range rs {
				m[r.RowKey] = r.Value
			}
			out[q.ID] = canonicalJSON(m)
		case QScale, QNumber:
			if rs[0].Num != nil {
				out[q.ID] = canonicalJSON(*rs[0].Num)
			}
		default:
			out[q.ID] = canonicalJSON(rs[0].Value)
		}
	}
	return out
}

func sameAnswers(a, b map[int64]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

// changedRows compares a response's submitted rows (in id order) with
// the rows of its new submission, question by question. The rows of a
// question whose rows differ in any way (values, matrix rows, number,
// order) are replaced together and keep their order: its first new rows
// take over the ids of its old ones of the same row key (upd: the new
// rows, with those ids), the old rows left over are deleted (del) and the
// new rows left over inserted (ins).
//
// Rewriting a row in place costs the table one change, where a delete
// and an insert also change each of its three indexes twice. An open
// answer's new text keeps its row (and its answer_id) too: the update
// queues it for the search indexer (search_index.go).
func changedRows(old, new []SubmittedAnswer) (del []int64, upd, ins []SubmittedAnswer) {
	type rowKey struct {
		row, value string
		num        float64
		hasNum     bool
	}
	keyOf := func(r SubmittedAnswer) rowKey {
		k := rowKey{row: r.RowKey, value: r.Value}
		if r.Num != nil {
			k.num, k.hasNum = *r.Num, true
		}
		return k
	}
	before := map[int64][]SubmittedAnswer{}
	for _, r := range old {
		before[r.QuestionID] = append(before[r.QuestionID], r)
	}
	after := map[int64][]SubmittedAnswer{}
	var order []int64
	for _, r := range new {
		if _, ok := after[r.QuestionID]; !ok {
			order = append(order, r.QuestionID)
		}
		after[r.QuestionID] = append(after[r.QuestionID], r)
	}
	same := func(a, b []SubmittedAnswer) bool {
		if len(a) != len(b) {
			return false
		}
		for i := range a {
			if keyOf(a[i]) != keyOf(b[i]) {
				return false
			}
		}
		return true
	}
	// kept[q] is how many of a changed question's old rows are rewritten.
	kept := map[int64]int{}
	for _, q := range order {
		b, a := before[q], after[q]
		if same(b, a) {
			continue
		}
		// Only rows of the same row key: the index on it stays as it is.
		k := 0
		for k < min(len(b), len(a)) && b[k].RowKey == a[k].RowKey {
			k++
		}
		kept[q] = k
		for i, r := range a[:k] {
			r.ID = b[i].ID
			upd = append(upd, r)
		}
		ins = append(ins, a[k:]...)
	}
	seen := map[int64]int{}
	for _, r := range old {
		q := r.QuestionID
		if same(before[q], after[q]) {
			continue
		}
		if seen[q]++; seen[q] > kept[q] {
			del = append(del, r.ID)
		}
	}
	return del, upd, ins
}

// updateSubmitted rewrites submitted rows in place (changedRows: their
// row keys are unchanged, so are the indexes), up to 500 rows a
// statement. The casts type the VALUES columns for PostgreSQL, which
// would otherwise take the parameters for text.
func updateSubmitted(tx *gorm.DB, rows []SubmittedAnswer) error {
	n, err := execRows(tx, "UPDATE submitted_answers SET value = v.column2, num = v.column3 FROM (VALUES ",
		"(CAST(? AS BIGINT), CAST(? AS TEXT), CAST(? AS DOUBLE PRECISION), CAST(? AS BIGINT))", len(rows),
		func(i int, to []any) []any {
			return append(to, rows[i].ID, rows[i].Value, rows[i].Num, rows[i].ResponseID)
		},
		") AS v WHERE submitted_answers.id = v.column1 AND submitted_answers.response_id = v.column4")
	if err != nil {
		return err
	}
	if n != int64(len(rows)) {
		return fmt.Errorf("%d of %d submitted answers to rewrite are gone", int64(len(rows))-n, len(rows))
	}
	return nil
}

// execRows runs statements of up to 500 rows each (plain SQL: GORM's
// batch create and clause building cost the single writer about half
// again) and returns the rows they affected: head is "INSERT INTO t
// (cols) VALUES " (or an UPDATE … FROM (VALUES ), each row adds its
// placeholder group with the values args(i) gives, and tail (an ON
// CONFLICT clause, or "") ends each statement.
func execRows(tx *gorm.DB, head, group string, n int, args func(i int, to []any) []any, tail string) (int64, error) {
	return execRowsIDs(tx, head, group, n, args, tail, nil)
}

// execRowsIDs is execRows for an INSERT into a SQLite table with
// AUTOINCREMENT ids that also sets ids[i] to row i's new id: the single
// writer gives the rows of one statement consecutive ids, ending at its
// last rowid. ids nil: execRows.
func execRowsIDs(tx *gorm.DB, head, group string, n int, args func(i int, to []any) []any, tail string, ids []int64) (int64, error) {
	const batch = 500
	var affected int64
	for start := 0; start < n; start += batch {
		end := min(start+batch, n)
		var sb strings.Builder
		sb.WriteString(head)
		var vals []any
		for i := start; i < end; i++ {
			if i > start {
				sb.WriteByte(',')
			}
			sb.WriteString(group)
			vals = args(i, vals)
		}
		sb.WriteString(tail)
		m, last, err := execDirectLast(tx, sb.String(), vals...)
		if err != nil {
			return affected, err
		}
		affected += m
		if ids != nil {
			if m != int64(end-start) {
				return affected, fmt.Errorf("%d of %d rows inserted", m, end-start)
			}
			for i := start; i < end; i++ {
				ids[i] = last - int64(end-1-i)
			}
		}
	}
	return affected, nil
}

// upsertAnswers writes draft answers.
func upsertAnswers(tx *gorm.DB, rows []Answer) error {
	_, err := execRows(tx, "INSERT INTO answers (response_id, question_id, value, updated_at) VALUES ", "(?,?,?,?)", len(rows),
		func(i int, to []any) []any {
			r := rows[i]
			return append(to, r.ResponseID, r.QuestionID, r.Value, r.UpdatedAt)
		}, " ON CONFLICT (response_id, question_id) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at")
	return err
}

// insertSubmitted writes submitted_answers rows and, when ids is not nil
// (SQLite only), sets ids[i] to row i's new id.
func insertSubmitted(tx *gorm.DB, rows []SubmittedAnswer, ids []int64) error {
	_, err := execRowsIDs(tx, "INSERT INTO submitted_answers (response_id, respondent_id, round_id, question_id, row_key, value, num) VALUES ", "(?,?,?,?,?,?,?)", len(rows),
		func(i int, to []any) []any {
			r := rows[i]
			return append(to, r.ResponseID, r.RespondentID, r.RoundID, r.QuestionID, r.RowKey, r.Value, r.Num)
		}, "", ids)
	return err
}
