package handlers

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"focalpoint/models"
)

// Open answers and the codebook (issue 6): read and search the open
// answers, create codes, code and uncode answers.

// answerFilter parses ?q=&question=&code=&round= and the demographic
// filters; a bad number names its field.
func answerFilter(c echo.Context) (models.AnswerFilter, error) {
	sf, err := synthesisFilter(c)
	f := models.AnswerFilter{SynthesisFilter: sf, Q: c.QueryParam("q")}
	errs := models.FieldErrors{}
	if fe, ok := err.(models.FieldErrors); ok {
		for k, v := range fe {
			errs.Add(k, v)
		}
	} else if err != nil {
		return f, err
	}
	for _, p := range []struct {
		name string
		dst  *int64
	}{{"question", &f.QuestionID}, {"code", &f.CodeID}} {
		if v := c.QueryParam(p.name); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil || n <= 0 {
				errs.Add(p.name, "error.invalid_number")
			}
			*p.dst = n
		}
	}
	return f, errs.Err()
}

// ListAnswersAPI is GET /api/v1/consultations/{id}/answers.
func (h *Handler) ListAnswersAPI(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	f, err := answerFilter(c)
	if err != nil {
		return err
	}
	pg, err := parsePaging(c)
	if err != nil {
		return err
	}
	items, total, err := h.Store.ListAnswers(c.Request().Context(), id, f, pg.Offset(), pg.PerPage)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, List[models.OpenAnswer]{Items: items, Total: total})
}

type codeDTO struct {
	Label       string `json:"label"`
	Description string `json:"description"`
}

// CreateCodeAPI is POST /api/v1/consultations/{id}/codes.
func (h *Handler) CreateCodeAPI(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	var in codeDTO
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	code, err := h.Store.CreateCode(c.Request().Context(), id, models.NewCode{Label: in.Label, Description: in.Description})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, code)
}

// ListCodesAPI is GET /api/v1/consultations/{id}/codes.
func (h *Handler) ListCodesAPI(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	codes, err := h.Store.ListCodes(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, List[models.Code]{Items: codes, Total: int64(len(codes))})
}

type answerCodeDTO struct {
	CodeID int64 `json:"code_id"`
}

func staffID(c echo.Context) int64 {
	if st := CurrentStaff(c); st != nil {
		return st.ID
	}
	return 0
}

// CodeAnswerAPI is POST /api/v1/answers/{id}/codes: 201 with the answer
// and its codes (attaching a code twice changes nothing).
func (h *Handler) CodeAnswerAPI(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	var in answerCodeDTO
	if err := bindJSON(c, &in); err != nil {
		return err
	}
	if in.CodeID <= 0 {
		return models.FieldErrors{"code_id": "error.required"}
	}
	ctx := c.Request().Context()
	if err := h.Store.CodeAnswer(ctx, id, in.CodeID, staffID(c)); err != nil {
		return err
	}
	a, _, err := h.Store.FindAnswer(ctx, id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, a)
}

// UncodeAnswerAPI is DELETE /api/v1/answers/{id}/codes/{code_id}.
func (h *Handler) UncodeAnswerAPI(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	codeID, err := paramID(c, "code_id")
	if err != nil {
		return err
	}
	if err := h.Store.UncodeAnswer(c.Request().Context(), id, codeID); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// ---- Pages: read, search and code open answers; quotes per theme ----

// answersView is what the answers page shows.
type answersView struct {
	C         *models.Consultation
	Filter    models.AnswerFilter
	Items     []models.OpenAnswer
	Total     int64
	Paging    Paging
	PrevURL   string
	NextURL   string
	Questions []models.QuestionResult
	Codes     []models.Code
	Back      string // this page's address, to come back after coding
	Genders   []string
	Insts     []string
	Regions   []string
	Label     func(dim, v string) string
}

// AnswersPage is GET /staff/consultations/{id}/answers.
func (h *Handler) AnswersPage(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	cons, err := h.Store.SynthesisConsultation(ctx, id)
	if err != nil {
		return err
	}
	p := h.page(c, "answers.title")
	f, ferr := answerFilter(c)
	pg, perr := parsePaging(c)
	if perr != nil {
		pg = Paging{Page: 1, PerPage: 50}
	}
	if fe, ok := ferr.(models.FieldErrors); ok {
		p.Errors = fe
		f = models.AnswerFilter{Q: f.Q}
	} else if ferr != nil {
		return ferr
	}
	items, total, err := h.Store.ListAnswers(ctx, id, f, pg.Offset(), pg.PerPage)
	if fe, ok := err.(models.FieldErrors); ok {
		p.Errors = fe
		f = models.AnswerFilter{}
		items, total, err = h.Store.ListAnswers(ctx, id, f, pg.Offset(), pg.PerPage)
	}
	if err != nil {
		return err
	}
	sy, err := h.Store.Synthesis(ctx, id, models.SynthesisFilter{})
	if err != nil {
		return err
	}
	codes, err := h.Store.ListCodes(ctx, id)
	if err != nil {
		return err
	}
	v := &answersView{C: cons, Filter: f, Items: items, Total: total, Paging: pg, Codes: codes, Back: c.Request().URL.RequestURI(),
		Genders: models.Genders, Insts: models.InstitutionTypes, Regions: models.Regions, Label: h.demoLabelFunc(h.localizer(c))}
	for _, q := range sy.Questions {
		if q.IsText() {
			v.Questions = append(v.Questions, q)
		}
	}
	q := c.Request().URL.Query()
	if pg.Page > 1 {
		q.Set("page", strconv.Itoa(pg.Page-1))
		v.PrevURL = "?" + q.Encode()
	}
	if int64(pg.Offset()+len(items)) < total {
		q.Set("page", strconv.Itoa(pg.Page+1))
		v.NextURL = "?" + q.Encode()
	}
	p.Data = v
	status := http.StatusOK
	if p.Errors != nil {
		status = http.StatusUnprocessableEntity
	}
	return h.render(c, status, "synthesis/answers", p)
}

// backTo returns the same-site page to go back to after a form.
func backTo(c echo.Context, fallback string) string {
	if b := SafeNext(c.FormValue("back")); b != "" && b != "/staff" {
		return b
	}
	return fallback
}

// CreateCodePage is POST /staff/consultations/{id}/codes (the codebook form).
func (h *Handler) CreateCodePage(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	back := backTo(c, "/staff/consultations/"+strconv.FormatInt(id, 10)+"/answers")
	_, err = h.Store.CreateCode(c.Request().Context(), id, models.NewCode{Label: c.FormValue("label"), Description: c.FormValue("description")})
	var fe models.FieldErrors
	switch {
	case err == nil:
		h.flash(c, "codes.created")
	case errors.As(err, &fe):
		h.flash(c, "codes.error_label")
	case errors.Is(err, models.ErrConflict):
		h.flash(c, "codes.error_exists")
	default:
		return err
	}
	return c.Redirect(http.StatusSeeOther, back)
}

// CodeAnswerPage is POST /staff/answers/{id}/codes.
func (h *Handler) CodeAnswerPage(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	codeID, _ := strconv.ParseInt(c.FormValue("code_id"), 10, 64)
	cid, err := h.Store.AnswerConsultation(c.Request().Context(), id)
	if err != nil {
		return err
	}
	back := backTo(c, "/staff/consultations/"+strconv.FormatInt(cid, 10)+"/answers")
	err = h.Store.CodeAnswer(c.Request().Context(), id, codeID, staffID(c))
	var fe models.FieldErrors
	switch {
	case err == nil:
		h.flash(c, "codes.coded")
	case errors.As(err, &fe):
		h.flash(c, "codes.error_unknown")
	default:
		return err
	}
	return c.Redirect(http.StatusSeeOther, back+"#answer-"+strconv.FormatInt(id, 10))
}

// UncodeAnswerPage is POST /staff/answers/{id}/codes/{code_id}/delete.
func (h *Handler) UncodeAnswerPage(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	codeID, err := paramID(c, "code_id")
	if err != nil {
		return err
	}
	cid, err := h.Store.AnswerConsultation(c.Request().Context(), id)
	if err != nil {
		return err
	}
	if err := h.Store.UncodeAnswer(c.Request().Context(), id, codeID); err != nil && !errors.Is(err, models.ErrNotFound) {
		return err
	}
	h.flash(c, "codes.uncoded")
	return c.Redirect(http.StatusSeeOther, backTo(c, "/staff/consultations/"+strconv.FormatInt(cid, 10)+"/answers")+"#answer-"+strconv.FormatInt(id, 10))
}

// themeView is the quotes page of one theme.
type themeView struct {
	C          *models.Consultation
	Code       *models.Code
	Items      []models.OpenAnswer
	Total      int64
	Breakdowns []themeBreakdown
	Min        int
}

type themeBreakdown struct {
	Dim    string
	Values []models.ValueCount
}

// ThemePage is GET /staff/consultations/{id}/themes/{code_id}: the quotes
// of a theme, ready to copy into a report, and its counts by demographics
// (small cells suppressed: this page is meant for sharing).
func (h *Handler) ThemePage(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	codeID, err := paramID(c, "code_id")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	cons, err := h.Store.SynthesisConsultation(ctx, id)
	if err != nil {
		return err
	}
	code, err := h.Store.FindCode(ctx, id, codeID)
	if err != nil {
		return err
	}
	items, total, err := h.Store.ListAnswers(ctx, id, models.AnswerFilter{CodeID: codeID}, 0, MaxPerPage)
	if err != nil {
		return err
	}
	v := &themeView{C: cons, Code: code, Items: items, Total: total, Min: cons.MinCellSize}
	l := h.localizer(c)
	if cons.Unit == models.UnitPerson {
		for _, dim := range []string{models.DimGender, models.DimInstitutionType, models.DimRegion} {
			vals, err := h.Store.ThemeBreakdown(ctx, id, codeID, dim)
			if err != nil {
				return err
			}
			models.SuppressBreakdown(vals, int64(cons.MinCellSize))
			for i := range vals {
				vals[i].Label = demoLabel(l, dim, vals[i].Value)
			}
			v.Breakdowns = append(v.Breakdowns, themeBreakdown{Dim: dim, Values: vals})
		}
	}
	p := h.page(c, "themes.title")
	p.Data = v
	return h.render(c, http.StatusOK, "synthesis/theme", p)
}
