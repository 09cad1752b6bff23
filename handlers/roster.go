package handlers

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"

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

// Organisations ---------------------------------------------------------------

type organizationRequest struct {
	Name    *string `json:"name"`
	Kind    *string `json:"kind"`
	Country *string `json:"country"`
}

func (r organizationRequest) input() models.OrganizationInput {
	return models.OrganizationInput{Name: r.Name, Kind: r.Kind, Country: r.Country}
}

// CreateOrganizationAPI is POST /api/v1/organizations → 201.
func (h *Handler) CreateOrganizationAPI(c echo.Context) error {
	var req organizationRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	if req.Name == nil {
		req.Name = new(string)
	}
	if req.Kind == nil {
		req.Kind = new(string)
	}
	o, err := h.Store.CreateOrganization(c.Request().Context(), req.input(), CurrentStaff(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, o)
}

// ListOrganizationsAPI is GET /api/v1/organizations?kind=&country=&q=&archived=.
func (h *Handler) ListOrganizationsAPI(c echo.Context) error {
	pg, err := parsePaging(c)
	if err != nil {
		return err
	}
	f := models.OrganizationFilter{Kind: c.QueryParam("kind"), Country: c.QueryParam("country"), Q: c.QueryParam("q"),
		Archived: c.QueryParam("archived") == "true", Limit: pg.PerPage, Offset: pg.Offset()}
	items, total, err := h.Store.ListOrganizations(c.Request().Context(), f)
	if err != nil {
		return err
	}
	if items == nil {
		items = []models.Organization{}
	}
	return c.JSON(http.StatusOK, List[models.Organization]{Items: items, Total: total})
}

// GetOrganizationAPI is GET /api/v1/organizations/{id}.
func (h *Handler) GetOrganizationAPI(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	o, err := h.Store.FindOrganization(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, o)
}

// UpdateOrganizationAPI is PATCH /api/v1/organizations/{id}.
func (h *Handler) UpdateOrganizationAPI(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	var req organizationRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	o, err := h.Store.UpdateOrganization(c.Request().Context(), id, req.input(), CurrentStaff(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, o)
}

// ArchiveOrganizationAPI is POST /api/v1/organizations/{id}/archive.
func (h *Handler) ArchiveOrganizationAPI(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	o, err := h.Store.ArchiveOrganization(c.Request().Context(), id, CurrentStaff(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, o)
}

// Participants ----------------------------------------------------------------

// participantRequest is the body of POST and PATCH /participants. In a
// PATCH, an absent field is left unchanged and "organization_id": null
// removes the organisation.
type participantRequest struct {
	Name           *string         `json:"name"`
	Email          *string         `json:"email"`
	Kind           *string         `json:"kind"`
	Country        *string         `json:"country"`
	OrganizationID json.RawMessage `json:"organization_id"`
	Language       *string         `json:"language"`
}

func (r participantRequest) input() (models.ParticipantInput, error) {
	in := models.ParticipantInput{Name: r.Name, Email: r.Email, Kind: r.Kind, Country: r.Country, Language: r.Language}
	if len(r.OrganizationID) > 0 {
		if string(r.OrganizationID) == "null" {
			in.ClearOrganization = true
		} else {
			var id int64
			if err := json.Unmarshal(r.OrganizationID, &id); err != nil || id <= 0 {
				return in, models.FieldErrors{"organization_id": "roster.error.organization"}
			}
			in.OrganizationID = &id
		}
	}
	return in, nil
}

// CreateParticipantAPI is POST /api/v1/participants → 201; a known email
// (any case) → 409 duplicate_email.
func (h *Handler) CreateParticipantAPI(c echo.Context) error {
	var req participantRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	for _, f := range []**string{&req.Name, &req.Email, &req.Kind} {
		if *f == nil {
			*f = new(string)
		}
	}
	in, err := req.input()
	if err != nil {
		return err
	}
	p, err := h.Store.CreateParticipant(c.Request().Context(), in, CurrentStaff(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, p)
}

// participantFilter reads the list query (?kind=&country=&q=&sort=
// &archived=&organization_id=&nominated_by=).
func participantFilter(c echo.Context, pg Paging) (models.ParticipantFilter, error) {
	f := models.ParticipantFilter{Kind: c.QueryParam("kind"), Country: c.QueryParam("country"), Q: c.QueryParam("q"),
		Sort: c.QueryParam("sort"), Archived: c.QueryParam("archived"), NominatedBy: strings.ToUpper(c.QueryParam("nominated_by")),
		Limit: pg.PerPage, Offset: pg.Offset()}
	if v := c.QueryParam("organization_id"); v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return f, models.FieldErrors{"organization_id": "error.invalid_number"}
		}
		f.OrganizationID = id
	}
	return f, f.Validate()
}

// ListParticipantsAPI is GET /api/v1/participants.
func (h *Handler) ListParticipantsAPI(c echo.Context) error {
	pg, err := parsePaging(c)
	if err != nil {
		return err
	}
	f, err := participantFilter(c, pg)
	if err != nil {
		return err
	}
	items, total, err := h.Store.ListParticipants(c.Request().Context(), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, List[models.ParticipantRow]{Items: items, Total: total})
}

// GetParticipantAPI is GET /api/v1/participants/{id}.
func (h *Handler) GetParticipantAPI(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	p, err := h.Store.FindParticipant(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

// UpdateParticipantAPI is PATCH /api/v1/participants/{id}.
func (h *Handler) UpdateParticipantAPI(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	var req participantRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	in, err := req.input()
	if err != nil {
		return err
	}
	p, err := h.Store.UpdateParticipant(c.Request().Context(), id, in, CurrentStaff(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

// ArchiveParticipantAPI is POST /api/v1/participants/{id}/archive.
func (h *Handler) ArchiveParticipantAPI(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	p, err := h.Store.ArchiveParticipant(c.Request().Context(), id, CurrentStaff(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

// RestoreParticipantAPI is POST /api/v1/participants/{id}/restore.
func (h *Handler) RestoreParticipantAPI(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	p, err := h.Store.RestoreParticipant(c.Request().Context(), id, CurrentStaff(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, p)
}

// DeleteParticipantAPI is DELETE /api/v1/participants/{id}: only for
// someone never invited and who never answered (else 409; archive them).
func (h *Handler) DeleteParticipantAPI(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	if err := h.Store.DeleteParticipant(c.Request().Context(), id, CurrentStaff(c)); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
