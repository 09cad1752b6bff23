package models

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
)

// Consultations, rounds and questions: their validation, state rules and
// store methods. The tables are in schema.go; this area's migrations use
// versions 100–199.

func init() {
	Register(Migration{Version: 100, Name: "respond: receipt code of a submission", SQL: `
ALTER TABLE responses ADD COLUMN receipt TEXT NOT NULL DEFAULT '';
CREATE INDEX respondents_participant ON respondents (participant_id);
`})
}

// Text limits of consultation content.
const (
	MaxTitleLen       = 300
	MaxDescriptionLen = 50000
	MaxPromptLen      = 5000
	MaxHelpLen        = 5000
	MaxChoiceLen      = 500
	MaxChoices        = 200
	MaxScaleSteps     = 21
)

// --- consultations ---------------------------------------------------------

// NewConsultation is what an organizer gives to create a consultation.
type NewConsultation struct {
	Title       string
	Description string
	Unit        string
	Languages   []string
	MinCellSize *int
}

// Validate checks a new consultation and fills defaults.
func (n *NewConsultation) Validate() error {
	errs := FieldErrors{}
	n.Title = strings.TrimSpace(n.Title)
	checkText(errs, "title", n.Title, MaxTitleLen, true)
	checkText(errs, "description", n.Description, MaxDescriptionLen, false)
	if n.Unit != UnitPerson && n.Unit != UnitState {
		errs.Add("unit", "consultations.error_unit")
	}
	if len(n.Languages) == 0 {
		n.Languages = []string{"en"}
	}
	seen := map[string]bool{}
	for i, l := range n.Languages {
		if len(l) < 2 || len(l) > 8 || !isLangCode(l) || seen[l] {
			errs.Add(fmt.Sprintf("languages.%d", i), "error.invalid_value")
		}
		seen[l] = true
	}
	if n.MinCellSize == nil {
		five := 5
		n.MinCellSize = &five
	} else if *n.MinCellSize < 1 || *n.MinCellSize > 1000 {
		errs.Add("min_cell_size", "consultations.error_min_cell_size")
	}
	return errs.Err()
}

func isLangCode(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == '-') {
			return false
		}
	}
	return true
}

// checkText validates a free text field: valid UTF-8, no control
// characters, at most max characters, present when required.
func checkText(errs FieldErrors, field, v string, max int, required bool) {
	switch {
	case !ValidText(v):
		errs.Add(field, "error.text_invalid")
	case required && strings.TrimSpace(v) == "":
		errs.Add(field, "error.required")
	case utf8.RuneCountInString(v) > max:
		errs.Add(field, "error.too_long")
	}
}

// LanguageList returns the consultation's languages.
func (c *Consultation) LanguageList() []string {
	var out []string
	if err := json.Unmarshal([]byte(c.Languages), &out); err != nil || len(out) == 0 {
		return []string{"en"}
	}
	return out
}

// CreateConsultation creates a consultation.
func (s *Store) CreateConsultation(ctx context.Context, n NewConsultation, actor *Staff) (*Consultation, error) {
	if err := n.Validate(); err != nil {
		return nil, err
	}
	langs, _ := json.Marshal(n.Languages)
	now := s.Now()
	c := &Consultation{Title: n.Title, Description: n.Description, Unit: n.Unit, Languages: string(langs),
		MinCellSize: *n.MinCellSize, CreatedAt: now, UpdatedAt: now}
	err := s.Write(ctx, func(tx *gorm.DB) error {
		if err := tx.Create(c).Error; err != nil {
			return translate(err)
		}
		return s.audit(tx, actor, "consultation.create", "consultation:"+itoa(c.ID), map[string]any{"title": c.Title, "unit": c.Unit})
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// FindConsultation returns a consultation by id.
func (s *Store) FindConsultation(ctx context.Context, id int64) (*Consultation, error) {
	var c Consultation
	if err := s.R.WithContext(ctx).First(&c, id).Error; err != nil {
		return nil, translate(err)
	}
	return &c, nil
}

// ListConsultations returns a page of consultations, newest first, and the total.
func (s *Store) ListConsultations(ctx context.Context, offset, limit int) ([]Consultation, int64, error) {
	db := s.R.WithContext(ctx)
	var total int64
	if err := db.Model(&Consultation{}).Count(&total).Error; err != nil {
		return nil, 0, err
	}
	var out []Consultation
	err := db.Order("id DESC").Offset(offset).Limit(limit).Find(&out).Error
	return out, total, err
}

// --- rounds ----------------------------------------------------------------

// StateAt is the round's effective state at now: closed when closed by
// hand or its closes_at has passed; open when opened by hand or its
// opens_at has passed; otherwise draft (not yet open).
func (r *Round) StateAt(now time.Time) string {
	switch {
	case r.State == RoundClosed:
		return RoundClosed
	case r.ClosesAt != nil && !now.Before(*r.ClosesAt):
		return RoundClosed
	case r.State == RoundOpen:
		return RoundOpen
	case r.OpensAt != nil && !now.Before(*r.OpensAt):
		return RoundOpen
	}
	return RoundDraft
}

// IsOpenAt reports whether the round accepts answers at now.
func (r *Round) IsOpenAt(now time.Time) bool { return r.StateAt(now) == RoundOpen }

// NewRound is what an organizer gives to create a round. Times are
// RFC 3339 text so that a bad one is reported with its field.
type NewRound struct {
	Title         string
	OpensAt       string
	ClosesAt      string
	ShowResultsOf *int64
}

// ParseTime parses an RFC 3339 time (empty: nil) into UTC.
func ParseTime(v string) (*time.Time, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil, true
	}
	t, err := time.Parse(time.RFC3339, v)
	if err != nil {
		return nil, false
	}
	t = t.UTC()
	return &t, true
}

// CreateRound adds a round at the end of a consultation.
func (s *Store) CreateRound(ctx context.Context, consultationID int64, n NewRound, actor *Staff) (*Round, error) {
	c, err := s.FindConsultation(ctx, consultationID)
	if err != nil {
		return nil, err
	}
	errs := FieldErrors{}
	n.Title = strings.TrimSpace(n.Title)
	checkText(errs, "title", n.Title, MaxTitleLen, true)
	opens, ok := ParseTime(n.OpensAt)
	if !ok {
		errs.Add("opens_at", "error.invalid_time")
	}
	closes, ok := ParseTime(n.ClosesAt)
	if !ok {
		errs.Add("closes_at", "error.invalid_time")
	}
	if opens != nil && closes != nil && !closes.After(*opens) {
		errs.Add("closes_at", "consultations.error_closes_before_opens")
	}
	if n.ShowResultsOf != nil {
		var prev Round
		if err := s.R.WithContext(ctx).First(&prev, *n.ShowResultsOf).Error; err != nil || prev.ConsultationID != c.ID {
			errs.Add("show_results_of", "consultations.error_show_results_of")
		}
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	now := s.Now()
	r := &Round{ConsultationID: c.ID, Title: n.Title, OpensAt: opens, ClosesAt: closes, State: RoundDraft,
		ShowResultsOf: n.ShowResultsOf, CreatedAt: now, UpdatedAt: now}
	err = s.Write(ctx, func(tx *gorm.DB) error {
		var pos int
		if err := tx.Raw("SELECT COALESCE(MAX(position), 0) FROM rounds WHERE consultation_id = ?", c.ID).Scan(&pos).Error; err != nil {
			return err
		}
		r.Position = pos + 1
		if err := tx.Create(r).Error; err != nil {
			return translate(err)
		}
		return s.audit(tx, actor, "round.create", "round:"+itoa(r.ID), map[string]any{"consultation_id": c.ID, "title": r.Title})
	})
	if err != nil {
		return nil, err
	}
	return r, nil
}

// FindRound returns a round by id.
func (s *Store) FindRound(ctx context.Context, id int64) (*Round, error) {
	var r Round
	if err := s.R.WithContext(ctx).First(&r, id).Error; err != nil {
		return nil, translate(err)
	}
	return &r, nil
}

// ListRounds returns the rounds of a consultation in order.
func (s *Store) ListRounds(ctx context.Context, consultationID int64) ([]Round, error) {
	var out []Round
	err := s.R.WithContext(ctx).Where("consultation_id = ?", consultationID).Order("position, id").Find(&out).Error
	return out, err
}

// OpenRound opens a round by hand now. A closes_at already past is
// cleared (opening by hand means open now); a future one still applies.
func (s *Store) OpenRound(ctx context.Context, id int64, actor *Staff) (*Round, error) {
	return s.setRoundState(ctx, id, RoundOpen, actor)
}

// CloseRound closes a round by hand now: it accepts no more answers.
func (s *Store) CloseRound(ctx context.Context, id int64, actor *Staff) (*Round, error) {
	return s.setRoundState(ctx, id, RoundClosed, actor)
}

func (s *Store) setRoundState(ctx context.Context, id int64, state string, actor *Staff) (*Round, error) {
	var r Round
	err := s.Write(ctx, func(tx *gorm.DB) error {
		if err := tx.First(&r, id).Error; err != nil {
			return translate(err)
		}
		now := s.Now()
		before := r.StateAt(now)
		r.State = state
		r.UpdatedAt = now
		if state == RoundOpen && r.ClosesAt != nil && !now.Before(*r.ClosesAt) {
			r.ClosesAt = nil
		}
		if err := tx.Model(&Round{}).Where("id = ?", r.ID).
			Updates(map[string]any{"state": r.State, "closes_at": r.ClosesAt, "updated_at": now}).Error; err != nil {
			return err
		}
		return s.audit(tx, actor, "round."+map[string]string{RoundOpen: "open", RoundClosed: "close"}[state],
			"round:"+itoa(r.ID), map[string]any{"consultation_id": r.ConsultationID, "before": before})
	})
	if err != nil {
		return nil, err
	}
	return &r, nil
}

// --- questions -------------------------------------------------------------

// QuestionInput is what an organizer gives for a question (create or
// update).
type QuestionInput struct {
	Kind     string
	Prompt   string
	Help     string
	Required bool
	Options  []Choice
	Rows     []Choice
	Min, Max *float64
	Position *int
}

// ChoiceList decodes the question's options.
func (q *Question) ChoiceList() []Choice {
	if q.Kind == QYesNo {
		return []Choice{{Value: "yes", Label: "yes"}, {Value: "no", Label: "no"}}
	}
	if q.choices != nil {
		return q.choices
	}
	return decodeChoices(q.Options)
}

// RowList decodes the rows of a matrix question.
func (q *Question) RowList() []Choice {
	if q.rows != nil {
		return q.rows
	}
	return decodeChoices(q.RowsJSON)
}

func decodeChoices(s string) []Choice {
	var out []Choice
	_ = json.Unmarshal([]byte(s), &out)
	if out == nil {
		out = []Choice{}
	}
	return out
}

func hasChoice(list []Choice, v string) bool {
	for _, c := range list {
		if c.Value == v {
			return true
		}
	}
	return false
}

func kindKnown(k string) bool {
	for _, x := range QuestionKinds {
		if x == k {
			return true
		}
	}
	return false
}

// Validate checks a question and fills defaults (scale 1–5, option
// labels from values).
func (in *QuestionInput) Validate() error {
	errs := FieldErrors{}
	if !kindKnown(in.Kind) {
		errs.Add("kind", "consultations.error_kind")
	}
	checkText(errs, "prompt", in.Prompt, MaxPromptLen, true)
	checkText(errs, "help", in.Help, MaxHelpLen, false)
	checkChoices := func(field string, list []Choice, need int) {
		if len(list) < need {
			errs.Add(field, map[int]string{1: "consultations.error_rows_needed", 2: "consultations.error_options_needed"}[need])
			return
		}
		if len(list) > MaxChoices {
			errs.Add(field, "error.too_long")
			return
		}
		seen := map[string]bool{}
		for i := range list {
			c := &list[i]
			c.Value = strings.TrimSpace(c.Value)
			f := fmt.Sprintf("%s.%d.value", field, i)
			checkText(errs, f, c.Value, 100, true)
			if seen[c.Value] {
				errs.Add(f, "consultations.error_duplicate_value")
			}
			seen[c.Value] = true
			if c.Label == "" {
				c.Label = c.Value
			}
			checkText(errs, fmt.Sprintf("%s.%d.label", field, i), c.Label, MaxChoiceLen, true)
		}
	}
	switch in.Kind {
	case QSingleChoice, QMultiChoice:
		checkChoices("options", in.Options, 2)
	case QMatrixYesNo:
		checkChoices("rows", in.Rows, 1)
	}
	if len(in.Options) > 0 && in.Kind != QSingleChoice && in.Kind != QMultiChoice {
		errs.Add("options", "consultations.error_not_for_kind")
	}
	if len(in.Rows) > 0 && in.Kind != QMatrixYesNo {
		errs.Add("rows", "consultations.error_not_for_kind")
	}
	finite := func(field string, v *float64) {
		if v != nil && (math.IsNaN(*v) || math.IsInf(*v, 0)) {
			errs.Add(field, "error.invalid_value")
		}
	}
	finite("min", in.Min)
	finite("max", in.Max)
	switch in.Kind {
	case QScale:
		if in.Min == nil && in.Max == nil {
			lo, hi := 1.0, 5.0
			in.Min, in.Max = &lo, &hi
		}
		switch {
		case in.Min == nil || *in.Min != math.Trunc(*in.Min):
			errs.Add("min", "consultations.error_scale_bounds")
		case in.Max == nil || *in.Max != math.Trunc(*in.Max) || *in.Max <= *in.Min:
			errs.Add("max", "consultations.error_scale_bounds")
		case *in.Max-*in.Min+1 > MaxScaleSteps:
			errs.Add("max", "consultations.error_scale_steps")
		}
	case QNumber:
		if in.Min != nil && in.Max != nil && *in.Max < *in.Min {
			errs.Add("max", "consultations.error_min_max")
		}
	default:
		if in.Min != nil {
			errs.Add("min", "consultations.error_not_for_kind")
		}
		if in.Max != nil {
			errs.Add("max", "consultations.error_not_for_kind")
		}
	}
	if in.Position != nil && (*in.Position < 1 || *in.Position > 100000) {
		errs.Add("position", "error.invalid_value")
	}
	return errs.Err()
}

func encodeChoices(list []Choice) string {
	if len(list) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(list)
	return string(b)
}

// CreateQuestion adds a question to a round (at the end unless a position
// is given).
func (s *Store) CreateQuestion(ctx context.Context, roundID int64, in QuestionInput, actor *Staff) (*Question, error) {
	if _, err := s.FindRound(ctx, roundID); err != nil {
		return nil, err
	}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	now := s.Now()
	q := &Question{RoundID: roundID, Kind: in.Kind, Prompt: in.Prompt, Help: in.Help, Required: in.Required,
		Options: encodeChoices(in.Options), RowsJSON: encodeChoices(in.Rows), MinValue: in.Min, MaxValue: in.Max,
		CreatedAt: now, UpdatedAt: now}
	err := s.Write(ctx, func(tx *gorm.DB) error {
		if in.Position != nil {
			q.Position = *in.Position
		} else {
			var pos int
			if err := tx.Raw("SELECT COALESCE(MAX(position), 0) FROM questions WHERE round_id = ?", roundID).Scan(&pos).Error; err != nil {
				return err
			}
			q.Position = pos + 1
		}
		if err := tx.Create(q).Error; err != nil {
			return translate(err)
		}
		return s.audit(tx, actor, "question.create", "question:"+itoa(q.ID), map[string]any{"round_id": roundID, "kind": q.Kind})
	})
	if err != nil {
		return nil, err
	}
	return q, nil
}

// ErrQuestionLocked is returned when a change would alter the kind,
// option values, rows or bounds of a question that already has submitted
// answers.
var ErrQuestionLocked = E(ErrConflict, "question_locked", "consultations.error_question_locked")

// UpdateQuestion changes a question. Once submitted answers exist its
// kind, option and row values and bounds are locked (409); wording
// (prompt, help, labels), required and position may change, and every
// change is written to the audit log with the old and new wording.
func (s *Store) UpdateQuestion(ctx context.Context, id int64, in QuestionInput, actor *Staff) (*Question, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	var q Question
	err := s.Write(ctx, func(tx *gorm.DB) error {
		if err := tx.First(&q, id).Error; err != nil {
			return translate(err)
		}
		var n int64
		if err := tx.Model(&SubmittedAnswer{}).Where("question_id = ?", id).Limit(1).Count(&n).Error; err != nil {
			return err
		}
		old := q
		if n > 0 && (in.Kind != q.Kind || !sameValues(in.Options, q.ChoiceListRaw()) || !sameValues(in.Rows, q.RowList()) ||
			!sameFloat(in.Min, q.MinValue) || !sameFloat(in.Max, q.MaxValue)) {
			return ErrQuestionLocked
		}
		q.Kind, q.Prompt, q.Help, q.Required = in.Kind, in.Prompt, in.Help, in.Required
		q.Options, q.RowsJSON, q.MinValue, q.MaxValue = encodeChoices(in.Options), encodeChoices(in.Rows), in.Min, in.Max
		if in.Position != nil {
			q.Position = *in.Position
		}
		q.UpdatedAt = s.Now()
		if err := tx.Save(&q).Error; err != nil {
			return translate(err)
		}
		return s.audit(tx, actor, "question.update", "question:"+itoa(q.ID), map[string]any{
			"round_id": q.RoundID, "has_answers": n > 0,
			"old_prompt": old.Prompt, "new_prompt": q.Prompt, "old_help": old.Help, "new_help": q.Help,
			"old_options": old.Options, "new_options": q.Options, "old_rows": old.RowsJSON, "new_rows": q.RowsJSON})
	})
	if err != nil {
		return nil, err
	}
	return &q, nil
}

// ChoiceListRaw is the stored options (without the implicit yes/no).
func (q *Question) ChoiceListRaw() []Choice { return decodeChoices(q.Options) }

func sameValues(a, b []Choice) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Value != b[i].Value {
			return false
		}
	}
	return true
}

func sameFloat(a, b *float64) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

// FindQuestion returns a question by id.
func (s *Store) FindQuestion(ctx context.Context, id int64) (*Question, error) {
	var q Question
	if err := s.R.WithContext(ctx).First(&q, id).Error; err != nil {
		return nil, translate(err)
	}
	return &q, nil
}

// ListQuestions returns the questions of a round in order.
func (s *Store) ListQuestions(ctx context.Context, roundID int64) ([]Question, error) {
	var out []Question
	err := s.R.WithContext(ctx).Where("round_id = ?", roundID).Order("position, id").Find(&out).Error
	return out, err
}

// ListQuestionsOfRounds returns the questions of several rounds, by round.
func (s *Store) ListQuestionsOfRounds(ctx context.Context, roundIDs []int64) (map[int64][]Question, error) {
	out := map[int64][]Question{}
	if len(roundIDs) == 0 {
		return out, nil
	}
	var list []Question
	if err := s.R.WithContext(ctx).Where("round_id IN ?", roundIDs).Order("position, id").Find(&list).Error; err != nil {
		return nil, err
	}
	for _, q := range list {
		out[q.RoundID] = append(out[q.RoundID], q)
	}
	return out, nil
}

// QuestionHasAnswers reports whether submitted answers exist for a question.
func (s *Store) QuestionHasAnswers(ctx context.Context, id int64) (bool, error) {
	var n int64
	err := s.R.WithContext(ctx).Model(&SubmittedAnswer{}).Where("question_id = ?", id).Limit(1).Count(&n).Error
	return n > 0, err
}
