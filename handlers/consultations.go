package handlers

import (
	"bytes"
	"errors"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/microcosm-cc/bluemonday"
	"github.com/yuin/goldmark"

	"focalpoint/models"
)

// Consultations, rounds and questions: the staff JSON API and pages.

// --- Markdown --------------------------------------------------------------

var (
	markdown   = goldmark.New()
	mdSanitize = bluemonday.UGCPolicy()
)

// RenderMarkdown turns organizer-written Markdown into safe HTML: goldmark
// does not pass raw HTML through, and bluemonday strips anything left that
// could script or style the page.
func RenderMarkdown(src string) template.HTML {
	var buf bytes.Buffer
	if err := markdown.Convert([]byte(src), &buf); err != nil {
		return template.HTML(template.HTMLEscapeString(src))
	}
	return template.HTML(mdSanitize.SanitizeBytes(buf.Bytes()))
}

// --- DTOs ------------------------------------------------------------------

type consultationRequest struct {
	Title       string   `json:"title"`
	Description string   `json:"description"`
	Unit        string   `json:"unit"`
	Languages   []string `json:"languages"`
	MinCellSize *int     `json:"min_cell_size"`
}

type consultationDTO struct {
	ID          int64      `json:"id"`
	Title       string     `json:"title"`
	Description string     `json:"description"`
	Unit        string     `json:"unit"`
	Languages   []string   `json:"languages"`
	MinCellSize int        `json:"min_cell_size"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	Rounds      []roundDTO `json:"rounds,omitempty"`
}

func toConsultationDTO(c *models.Consultation) consultationDTO {
	return consultationDTO{ID: c.ID, Title: c.Title, Description: c.Description, Unit: c.Unit, Languages: c.LanguageList(),
		MinCellSize: c.MinCellSize, CreatedAt: c.CreatedAt.UTC(), UpdatedAt: c.UpdatedAt.UTC()}
}

type roundRequest struct {
	Title         string `json:"title"`
	OpensAt       string `json:"opens_at"`
	ClosesAt      string `json:"closes_at"`
	ShowResultsOf *int64 `json:"show_results_of"`
}

type roundDTO struct {
	ID             int64         `json:"id"`
	ConsultationID int64         `json:"consultation_id"`
	Position       int           `json:"position"`
	Title          string        `json:"title"`
	OpensAt        *time.Time    `json:"opens_at"`
	ClosesAt       *time.Time    `json:"closes_at"`
	State          string        `json:"state"`
	ShowResultsOf  *int64        `json:"show_results_of"`
	Questions      []questionDTO `json:"questions,omitempty"`
}

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func toRoundDTO(r *models.Round, now time.Time) roundDTO {
	return roundDTO{ID: r.ID, ConsultationID: r.ConsultationID, Position: r.Position, Title: r.Title,
		OpensAt: utcPtr(r.OpensAt), ClosesAt: utcPtr(r.ClosesAt), State: r.StateAt(now), ShowResultsOf: r.ShowResultsOf}
}

type questionRequest struct {
	Kind     string          `json:"kind"`
	Prompt   string          `json:"prompt"`
	Help     string          `json:"help"`
	Required bool            `json:"required"`
	Options  []models.Choice `json:"options"`
	Rows     []models.Choice `json:"rows"`
	Min      *float64        `json:"min"`
	Max      *float64        `json:"max"`
	Position *int            `json:"position"`
}

func (r questionRequest) input() models.QuestionInput {
	return models.QuestionInput{Kind: r.Kind, Prompt: r.Prompt, Help: r.Help, Required: r.Required,
		Options: r.Options, Rows: r.Rows, Min: r.Min, Max: r.Max, Position: r.Position}
}

type questionDTO struct {
	ID       int64           `json:"id"`
	RoundID  int64           `json:"round_id"`
	Position int             `json:"position"`
	Kind     string          `json:"kind"`
	Prompt   string          `json:"prompt"`
	Help     string          `json:"help"`
	Required bool            `json:"required"`
	Options  []models.Choice `json:"options"`
	Rows     []models.Choice `json:"rows"`
	Min      *float64        `json:"min"`
	Max      *float64        `json:"max"`
}

func toQuestionDTO(q *models.Question) questionDTO {
	return questionDTO{ID: q.ID, RoundID: q.RoundID, Position: q.Position, Kind: q.Kind, Prompt: q.Prompt, Help: q.Help,
		Required: q.Required, Options: q.ChoiceListRaw(), Rows: q.RowList(), Min: q.MinValue, Max: q.MaxValue}
}

// --- JSON API --------------------------------------------------------------

// CreateConsultationAPI is POST /api/v1/consultations.
func (h *Handler) CreateConsultationAPI(c echo.Context) error {
	var req consultationRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	cons, err := h.Store.CreateConsultation(c.Request().Context(), models.NewConsultation{Title: req.Title, Description: req.Description,
		Unit: req.Unit, Languages: req.Languages, MinCellSize: req.MinCellSize}, CurrentStaff(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, toConsultationDTO(cons))
}

// ListConsultationsAPI is GET /api/v1/consultations.
func (h *Handler) ListConsultationsAPI(c echo.Context) error {
	p, err := parsePaging(c)
	if err != nil {
		return err
	}
	list, total, err := h.Store.ListConsultations(c.Request().Context(), p.Offset(), p.PerPage)
	if err != nil {
		return err
	}
	out := List[consultationDTO]{Items: make([]consultationDTO, 0, len(list)), Total: total}
	for i := range list {
		out.Items = append(out.Items, toConsultationDTO(&list[i]))
	}
	return c.JSON(http.StatusOK, out)
}

// consultationWithRounds loads a consultation, its rounds and their questions.
func (h *Handler) consultationWithRounds(c echo.Context, id int64) (consultationDTO, error) {
	ctx := c.Request().Context()
	cons, err := h.Store.FindConsultation(ctx, id)
	if err != nil {
		return consultationDTO{}, err
	}
	rounds, err := h.Store.ListRounds(ctx, id)
	if err != nil {
		return consultationDTO{}, err
	}
	ids := make([]int64, len(rounds))
	for i := range rounds {
		ids[i] = rounds[i].ID
	}
	qs, err := h.Store.ListQuestionsOfRounds(ctx, ids)
	if err != nil {
		return consultationDTO{}, err
	}
	dto := toConsultationDTO(cons)
	dto.Rounds = make([]roundDTO, 0, len(rounds))
	now := h.Store.Now()
	for i := range rounds {
		rd := toRoundDTO(&rounds[i], now)
		rd.Questions = make([]questionDTO, 0, len(qs[rounds[i].ID]))
		for j := range qs[rounds[i].ID] {
			rd.Questions = append(rd.Questions, toQuestionDTO(&qs[rounds[i].ID][j]))
		}
		dto.Rounds = append(dto.Rounds, rd)
	}
	return dto, nil
}

// GetConsultationAPI is GET /api/v1/consultations/{id}: with its rounds
// (and their questions).
func (h *Handler) GetConsultationAPI(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	dto, err := h.consultationWithRounds(c, id)
	if err != nil {
		return err
	}
	if dto.Rounds == nil {
		dto.Rounds = []roundDTO{}
	}
	// Always show "rounds", even when empty.
	type withRounds struct {
		consultationDTO
		Rounds []roundDTO `json:"rounds"`
	}
	return c.JSON(http.StatusOK, withRounds{dto, dto.Rounds})
}

// CreateRoundAPI is POST /api/v1/consultations/{id}/rounds.
func (h *Handler) CreateRoundAPI(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	var req roundRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	r, err := h.Store.CreateRound(c.Request().Context(), id, models.NewRound{Title: req.Title, OpensAt: req.OpensAt,
		ClosesAt: req.ClosesAt, ShowResultsOf: req.ShowResultsOf}, CurrentStaff(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, toRoundDTO(r, h.Store.Now()))
}

// GetRoundAPI is GET /api/v1/rounds/{id}: the round with its questions.
func (h *Handler) GetRoundAPI(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	r, err := h.Store.FindRound(ctx, id)
	if err != nil {
		return err
	}
	qs, err := h.Store.ListQuestions(ctx, id)
	if err != nil {
		return err
	}
	dto := toRoundDTO(r, h.Store.Now())
	dto.Questions = make([]questionDTO, 0, len(qs))
	for i := range qs {
		dto.Questions = append(dto.Questions, toQuestionDTO(&qs[i]))
	}
	return c.JSON(http.StatusOK, dto)
}

// OpenRoundAPI is POST /api/v1/rounds/{id}/open.
func (h *Handler) OpenRoundAPI(c echo.Context) error { return h.roundStateAPI(c, true) }

// CloseRoundAPI is POST /api/v1/rounds/{id}/close.
func (h *Handler) CloseRoundAPI(c echo.Context) error { return h.roundStateAPI(c, false) }

// changeRoundState opens or closes the round named in the path: the one
// model call behind both the API and the page buttons.
func (h *Handler) changeRoundState(c echo.Context, open bool) (*models.Round, error) {
	id, err := paramID(c, "id")
	if err != nil {
		return nil, err
	}
	if open {
		return h.Store.OpenRound(c.Request().Context(), id, CurrentStaff(c))
	}
	return h.Store.CloseRound(c.Request().Context(), id, CurrentStaff(c))
}

func (h *Handler) roundStateAPI(c echo.Context, open bool) error {
	r, err := h.changeRoundState(c, open)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toRoundDTO(r, h.Store.Now()))
}

// CreateQuestionAPI is POST /api/v1/rounds/{id}/questions.
func (h *Handler) CreateQuestionAPI(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	var req questionRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	q, err := h.Store.CreateQuestion(c.Request().Context(), id, req.input(), CurrentStaff(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, toQuestionDTO(q))
}

// ListQuestionsAPI is GET /api/v1/rounds/{id}/questions.
func (h *Handler) ListQuestionsAPI(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	if _, err := h.Store.FindRound(ctx, id); err != nil {
		return err
	}
	qs, err := h.Store.ListQuestions(ctx, id)
	if err != nil {
		return err
	}
	out := List[questionDTO]{Items: make([]questionDTO, 0, len(qs)), Total: int64(len(qs))}
	for i := range qs {
		out.Items = append(out.Items, toQuestionDTO(&qs[i]))
	}
	return c.JSON(http.StatusOK, out)
}

// UpdateQuestionAPI is PUT /api/v1/questions/{id} (the whole question):
// once submitted answers exist, 409 question_locked if the kind, option or
// row values or bounds change.
func (h *Handler) UpdateQuestionAPI(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	var req questionRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	q, err := h.Store.UpdateQuestion(c.Request().Context(), id, req.input(), CurrentStaff(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toQuestionDTO(q))
}

// --- Staff pages -----------------------------------------------------------

// ConsultationsPage lists consultations.
func (h *Handler) ConsultationsPage(c echo.Context) error {
	p, err := parsePaging(c)
	if err != nil {
		return err
	}
	list, total, err := h.Store.ListConsultations(c.Request().Context(), p.Offset(), p.PerPage)
	if err != nil {
		return err
	}
	pg := h.page(c, "consultations.list_title")
	pg.Data = map[string]any{"Items": list, "Total": total}
	return h.render(c, http.StatusOK, "consultations/list", pg)
}

// NewConsultationPage shows the form for a new consultation.
func (h *Handler) NewConsultationPage(c echo.Context) error {
	pg := h.page(c, "consultations.new_title")
	pg.Form = map[string]string{"unit": models.UnitPerson, "min_cell_size": "5", "languages": "en"}
	return h.render(c, http.StatusOK, "consultations/new", pg)
}

// CreateConsultationPage handles the new-consultation form.
func (h *Handler) CreateConsultationPage(c echo.Context) error {
	form := map[string]string{"title": c.FormValue("title"), "description": c.FormValue("description"),
		"unit": c.FormValue("unit"), "languages": c.FormValue("languages"), "min_cell_size": c.FormValue("min_cell_size")}
	n := models.NewConsultation{Title: form["title"], Description: form["description"], Unit: form["unit"]}
	for _, l := range strings.FieldsFunc(form["languages"], func(r rune) bool { return r == ',' || r == ' ' }) {
		n.Languages = append(n.Languages, l)
	}
	errs := models.FieldErrors{}
	if v := strings.TrimSpace(form["min_cell_size"]); v != "" {
		k, err := strconv.Atoi(v)
		if err != nil {
			errs.Add("min_cell_size", "error.invalid_number")
		}
		n.MinCellSize = &k
	}
	var cons *models.Consultation
	err := errs.Err()
	if err == nil {
		cons, err = h.Store.CreateConsultation(c.Request().Context(), n, CurrentStaff(c))
	}
	var fe models.FieldErrors
	if errors.As(err, &fe) {
		pg := h.page(c, "consultations.new_title")
		pg.Errors, pg.Form = fe, form
		return h.render(c, http.StatusUnprocessableEntity, "consultations/new", pg)
	}
	if err != nil {
		return err
	}
	h.flash(c, "consultations.created_flash")
	return c.Redirect(http.StatusSeeOther, "/staff/consultations/"+strconv.FormatInt(cons.ID, 10))
}

// ConsultationPage shows a consultation with its rounds and questions.
func (h *Handler) ConsultationPage(c echo.Context) error {
	return h.consultationPage(c, http.StatusOK, nil, nil)
}

func (h *Handler) consultationPage(c echo.Context, status int, errs models.FieldErrors, form map[string]string) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	dto, err := h.consultationWithRounds(c, id)
	if err != nil {
		return err
	}
	pg := h.page(c, "consultations.show_title")
	pg.Errors, pg.Form = errs, form
	pg.Data = map[string]any{"C": dto, "Description": RenderMarkdown(dto.Description)}
	return h.render(c, status, "consultations/show", pg)
}

// CreateRoundPage handles the add-round form of a consultation page.
func (h *Handler) CreateRoundPage(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	form := map[string]string{"title": c.FormValue("title"), "opens_at": c.FormValue("opens_at"), "closes_at": c.FormValue("closes_at"),
		"show_results_of": c.FormValue("show_results_of")}
	n := models.NewRound{Title: form["title"], OpensAt: formTime(form["opens_at"]), ClosesAt: formTime(form["closes_at"])}
	if v := form["show_results_of"]; v != "" {
		if rid, err := strconv.ParseInt(v, 10, 64); err == nil {
			n.ShowResultsOf = &rid
		}
	}
	_, err = h.Store.CreateRound(c.Request().Context(), id, n, CurrentStaff(c))
	var fe models.FieldErrors
	if errors.As(err, &fe) {
		return h.consultationPage(c, http.StatusUnprocessableEntity, fe, form)
	}
	if err != nil {
		return err
	}
	h.flash(c, "consultations.round_created")
	return c.Redirect(http.StatusSeeOther, "/staff/consultations/"+strconv.FormatInt(id, 10))
}

// formTime accepts the datetime-local format of browsers (taken as UTC)
// as well as RFC 3339.
func formTime(v string) string {
	v = strings.TrimSpace(v)
	if v == "" {
		return ""
	}
	for _, layout := range []string{"2006-01-02T15:04", "2006-01-02T15:04:05"} {
		if t, err := time.Parse(layout, v); err == nil {
			return t.UTC().Format(time.RFC3339)
		}
	}
	return v
}

// OpenRoundPage and CloseRoundPage are the buttons of the consultation page.
func (h *Handler) OpenRoundPage(c echo.Context) error  { return h.roundStatePage(c, true) }
func (h *Handler) CloseRoundPage(c echo.Context) error { return h.roundStatePage(c, false) }

func (h *Handler) roundStatePage(c echo.Context, open bool) error {
	r, err := h.changeRoundState(c, open)
	if err != nil {
		return err
	}
	if open {
		h.flash(c, "consultations.round_opened")
	} else {
		h.flash(c, "consultations.round_closed")
	}
	return c.Redirect(http.StatusSeeOther, "/staff/consultations/"+strconv.FormatInt(r.ConsultationID, 10))
}

// questionForm reads the question form: options and rows one per line as
// "value|label" (or just a label, whose value is derived from it).
func questionForm(c echo.Context) (models.QuestionInput, map[string]string, models.FieldErrors) {
	form := map[string]string{"kind": c.FormValue("kind"), "prompt": c.FormValue("prompt"), "help": c.FormValue("help"),
		"required": c.FormValue("required"), "options": c.FormValue("options"), "rows": c.FormValue("rows"),
		"min": c.FormValue("min"), "max": c.FormValue("max")}
	in := models.QuestionInput{Kind: form["kind"], Prompt: form["prompt"], Help: form["help"], Required: form["required"] != "",
		Options: parseChoiceLines(form["options"]), Rows: parseChoiceLines(form["rows"])}
	errs := models.FieldErrors{}
	for _, f := range []string{"min", "max"} {
		if v := strings.TrimSpace(form[f]); v != "" {
			x, err := strconv.ParseFloat(v, 64)
			if err != nil {
				errs.Add(f, "error.invalid_value")
				continue
			}
			if f == "min" {
				in.Min = &x
			} else {
				in.Max = &x
			}
		}
	}
	return in, form, errs
}

func parseChoiceLines(s string) []models.Choice {
	var out []models.Choice
	for _, line := range strings.Split(s, "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if v, l, ok := strings.Cut(line, "|"); ok {
			out = append(out, models.Choice{Value: strings.TrimSpace(v), Label: strings.TrimSpace(l)})
			continue
		}
		out = append(out, models.Choice{Value: slug(line), Label: line})
	}
	return out
}

// slug makes a stable option value from a label.
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z' || r >= '0' && r <= '9':
			b.WriteRune(r)
			dash = false
		case !dash && b.Len() > 0:
			b.WriteByte('_')
			dash = true
		}
		if b.Len() >= 60 {
			break
		}
	}
	out := strings.TrimRight(b.String(), "_")
	if out == "" {
		out = s
	}
	return out
}

// NewQuestionPage shows the add-question form of a round.
func (h *Handler) NewQuestionPage(c echo.Context) error {
	return h.questionFormPage(c, http.StatusOK, nil, map[string]string{"kind": models.QLongText})
}

func (h *Handler) questionFormPage(c echo.Context, status int, errs models.FieldErrors, form map[string]string) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	r, err := h.Store.FindRound(c.Request().Context(), id)
	if err != nil {
		return err
	}
	pg := h.page(c, "consultations.question_new_title")
	pg.Errors, pg.Form = errs, form
	pg.Data = map[string]any{"Round": r, "Kinds": models.QuestionKinds, "Action": "/staff/rounds/" + strconv.FormatInt(id, 10) + "/questions"}
	return h.render(c, status, "consultations/question", pg)
}

// CreateQuestionPage handles the add-question form.
func (h *Handler) CreateQuestionPage(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	in, form, errs := questionForm(c)
	err = errs.Err()
	var r *models.Round
	if err == nil {
		_, err = h.Store.CreateQuestion(c.Request().Context(), id, in, CurrentStaff(c))
	}
	var fe models.FieldErrors
	if errors.As(err, &fe) {
		return h.questionFormPage(c, http.StatusUnprocessableEntity, fe, form)
	}
	if err != nil {
		return err
	}
	if r, err = h.Store.FindRound(c.Request().Context(), id); err != nil {
		return err
	}
	h.flash(c, "consultations.question_created")
	return c.Redirect(http.StatusSeeOther, "/staff/consultations/"+strconv.FormatInt(r.ConsultationID, 10)+"#round-"+strconv.FormatInt(id, 10))
}

// EditQuestionPage shows the wording form of a question.
func (h *Handler) EditQuestionPage(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	q, err := h.Store.FindQuestion(c.Request().Context(), id)
	if err != nil {
		return err
	}
	form := map[string]string{"kind": q.Kind, "prompt": q.Prompt, "help": q.Help, "options": choiceLines(q.ChoiceListRaw()),
		"rows": choiceLines(q.RowList()), "min": floatText(q.MinValue), "max": floatText(q.MaxValue)}
	if q.Required {
		form["required"] = "on"
	}
	return h.editQuestionPage(c, http.StatusOK, q, nil, form)
}

func (h *Handler) editQuestionPage(c echo.Context, status int, q *models.Question, errs models.FieldErrors, form map[string]string) error {
	locked, err := h.Store.QuestionHasAnswers(c.Request().Context(), q.ID)
	if err != nil {
		return err
	}
	pg := h.page(c, "consultations.question_edit_title")
	pg.Errors, pg.Form = errs, form
	pg.Data = map[string]any{"Question": q, "Kinds": models.QuestionKinds, "Locked": locked,
		"Action": "/staff/questions/" + strconv.FormatInt(q.ID, 10)}
	return h.render(c, status, "consultations/question", pg)
}

// UpdateQuestionPage handles the wording form.
func (h *Handler) UpdateQuestionPage(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	q, err := h.Store.FindQuestion(ctx, id)
	if err != nil {
		return err
	}
	in, form, errs := questionForm(c)
	err = errs.Err()
	if err == nil {
		_, err = h.Store.UpdateQuestion(ctx, id, in, CurrentStaff(c))
	}
	var fe models.FieldErrors
	if errors.As(err, &fe) {
		return h.editQuestionPage(c, http.StatusUnprocessableEntity, q, fe, form)
	}
	if errors.Is(err, models.ErrQuestionLocked) {
		return h.editQuestionPage(c, http.StatusConflict, q, models.FieldErrors{"kind": "consultations.error_question_locked"}, form)
	}
	if err != nil {
		return err
	}
	r, err := h.Store.FindRound(ctx, q.RoundID)
	if err != nil {
		return err
	}
	h.flash(c, "consultations.question_updated")
	return c.Redirect(http.StatusSeeOther, "/staff/consultations/"+strconv.FormatInt(r.ConsultationID, 10)+"#round-"+strconv.FormatInt(r.ID, 10))
}

func choiceLines(list []models.Choice) string {
	var b strings.Builder
	for _, c := range list {
		b.WriteString(c.Value + "|" + c.Label + "\n")
	}
	return b.String()
}

func floatText(f *float64) string {
	if f == nil {
		return ""
	}
	return strconv.FormatFloat(*f, 'f', -1, 64)
}
