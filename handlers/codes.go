package handlers

import (
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
