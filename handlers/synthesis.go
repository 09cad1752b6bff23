package handlers

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"focalpoint/models"
)

// synthesisFilter parses ?round=&gender=&institution_type=&region=&country=.
// Values are checked by the model (422 naming the field).
func synthesisFilter(c echo.Context) (models.SynthesisFilter, error) {
	f := models.SynthesisFilter{
		Gender:          strings.TrimSpace(c.QueryParam("gender")),
		InstitutionType: strings.TrimSpace(c.QueryParam("institution_type")),
		Region:          strings.TrimSpace(c.QueryParam("region")),
		Country:         strings.TrimSpace(c.QueryParam("country")),
	}
	if f.Country != models.PreferNotToSay {
		f.Country = strings.ToUpper(f.Country)
	}
	errs := models.FieldErrors{}
	if v := strings.TrimSpace(c.QueryParam("round")); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			errs.Add("round", "synthesis.error_round")
		}
		f.RoundID = n
	}
	if err := f.Validate(); err != nil {
		for k, v := range err.(models.FieldErrors) {
			errs.Add(k, v)
		}
	}
	return f, errs.Err()
}

// SynthesisAPI is GET /api/v1/consultations/{id}/synthesis (API.md).
func (h *Handler) SynthesisAPI(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	f, err := synthesisFilter(c)
	if err != nil {
		return err
	}
	sy, err := h.Store.Synthesis(c.Request().Context(), id, f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, sy)
}
