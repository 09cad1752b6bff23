package handlers

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"focalpoint/models"
)

// CountryDTO is one country of GET /api/v1/countries. Name is translated
// for the reader (message id "country.XX").
type CountryDTO struct {
	Code   string `json:"code"`
	Name   string `json:"name"`
	Region string `json:"region"`
	Member bool   `json:"member"`
}

// ListCountriesAPI is GET /api/v1/countries: every ISO 3166-1 alpha-2 code
// with its UN regional group, sorted by code.
func (h *Handler) ListCountriesAPI(c echo.Context) error {
	l := h.localizer(c)
	all := models.Countries()
	out := List[CountryDTO]{Items: make([]CountryDTO, 0, len(all)), Total: int64(len(all))}
	for _, ct := range all {
		out.Items = append(out.Items, CountryDTO{Code: ct.Code, Name: l.T(models.CountryMessageID(ct.Code)), Region: ct.Region, Member: ct.Member})
	}
	return c.JSON(http.StatusOK, out)
}
