package handlers

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"focalpoint/i18n"
	"focalpoint/models"
)

// Option is a value and its translated label, for selects.
type Option struct{ Value, Label string }

// countryOptions lists every country with its translated name, by name.
func countryOptions(l *i18n.Localizer, membersOnly bool) []Option {
	var out []Option
	for _, c := range models.Countries() {
		if membersOnly && !c.Member {
			continue
		}
		out = append(out, Option{c.Code, l.T(models.CountryMessageID(c.Code))})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Label < out[j].Label })
	return out
}

func kindOptions(l *i18n.Localizer, prefix string, kinds []string) []Option {
	out := make([]Option, len(kinds))
	for i, k := range kinds {
		out[i] = Option{k, l.T(prefix + k)}
	}
	return out
}

// countryName is the translated name of a code, "" for none.
func countryName(l *i18n.Localizer, code string) string {
	if code == "" {
		return ""
	}
	return l.T(models.CountryMessageID(code))
}

// participantView is one row of the participants table.
type participantView struct {
	ID                                       int64
	Name, Email, Kind, Country, Organization string
	NominatedBy, Language                    string
	Archived                                 bool
}

var participantSortColumns = []string{"name", "email", "kind", "country", "created_at"}

// ParticipantsPage is GET /staff/participants: search, filters, sort and
// pagination, all as a plain GET form and links.
func (h *Handler) ParticipantsPage(c echo.Context) error {
	l := h.localizer(c)
	p := h.page(c, "roster.participants_title")
	pg, perr := parsePaging(c)
	if perr != nil {
		pg = Paging{Page: 1, PerPage: 50}
	}
	f, err := participantFilter(c, pg)
	var fe models.FieldErrors
	if errors.As(err, &fe) {
		p.Errors = fe
		f = models.ParticipantFilter{Limit: pg.PerPage, Offset: pg.Offset()}
	} else if err != nil {
		return err
	}
	rows, total, err := h.Store.ListParticipants(c.Request().Context(), f)
	if err != nil {
		return err
	}
	views := make([]participantView, len(rows))
	for i, r := range rows {
		views[i] = participantView{ID: r.ID, Name: r.Name, Email: r.Email, Kind: l.T("roster.kind." + r.Kind),
			Country: countryName(l, r.Country), Organization: r.OrganizationName, NominatedBy: countryName(l, r.NominatedBy),
			Archived: r.ArchivedAt != nil}
	}
	q := c.Request().URL.Query()
	with := func(k, v string) string {
		u := url.Values{}
		for key, vals := range q {
			u[key] = append([]string(nil), vals...)
		}
		if v == "" {
			u.Del(k)
		} else {
			u.Set(k, v)
		}
		if k != "page" {
			u.Del("page")
		}
		return "/staff/participants?" + u.Encode()
	}
	pages := int((total + int64(pg.PerPage) - 1) / int64(pg.PerPage))
	data := map[string]any{
		"Rows": views, "Total": total, "Page": pg.Page, "Pages": max(pages, 1),
		"Kinds": kindOptions(l, "roster.kind.", models.ParticipantKinds), "Countries": countryOptions(l, false),
		"Filter": f,
	}
	if pg.Page > 1 {
		data["PrevURL"] = with("page", strconv.Itoa(pg.Page-1))
	}
	if pg.Page < pages {
		data["NextURL"] = with("page", strconv.Itoa(pg.Page+1))
	}
	type sortLink struct {
		Label, URL, Aria string
	}
	links := map[string]sortLink{}
	for _, col := range participantSortColumns {
		next, aria := col, ""
		switch f.Sort {
		case col:
			next, aria = "-"+col, "ascending"
		case "-" + col:
			aria = "descending"
		}
		links[col] = sortLink{Label: l.T("roster.col." + col), URL: with("sort", next), Aria: aria}
	}
	data["Sort"] = links
	p.Form = map[string]string{"q": f.Q, "kind": f.Kind, "country": f.Country, "archived": f.Archived}
	p.Data = data
	return h.render(c, http.StatusOK, "participants/list", p)
}

// participantFormValues reads the participant form.
func participantFormValues(c echo.Context) (models.ParticipantInput, map[string]string, error) {
	form := map[string]string{}
	for _, k := range []string{"name", "email", "kind", "country", "organization_id", "language"} {
		form[k] = strings.TrimSpace(c.FormValue(k))
	}
	in := models.ParticipantInput{Name: models.Str(form["name"]), Email: models.Str(form["email"]), Kind: models.Str(form["kind"]),
		Country: models.Str(form["country"]), Language: models.Str(form["language"])}
	if v := form["organization_id"]; v != "" {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil || id <= 0 {
			return in, form, models.FieldErrors{"organization_id": "roster.error.organization"}
		}
		in.OrganizationID = &id
	} else {
		in.ClearOrganization = true
	}
	return in, form, nil
}

func (h *Handler) participantForm(c echo.Context, status int, title string, id int64, form map[string]string, errs models.FieldErrors) error {
	l := h.localizer(c)
	orgs, _, err := h.Store.ListOrganizations(c.Request().Context(), models.OrganizationFilter{Limit: 2000})
	if err != nil {
		return err
	}
	orgOpts := make([]Option, len(orgs))
	for i, o := range orgs {
		orgOpts[i] = Option{strconv.FormatInt(o.ID, 10), o.Name}
	}
	langs := make([]Option, len(models.Languages))
	for i, code := range models.Languages {
		langs[i] = Option{code, l.T("roster.language." + code)}
	}
	p := h.page(c, title)
	p.Form, p.Errors = form, errs
	action := "/staff/participants"
	if id > 0 {
		action = fmt.Sprintf("/staff/participants/%d", id)
	}
	p.Data = map[string]any{"ID": id, "Action": action, "Kinds": kindOptions(l, "roster.kind.", models.ParticipantKinds),
		"Countries": countryOptions(l, false), "Organizations": orgOpts, "Languages": langs}
	return h.render(c, status, "participants/form", p)
}

// NewParticipantPage is GET /staff/participants/new.
func (h *Handler) NewParticipantPage(c echo.Context) error {
	return h.participantForm(c, http.StatusOK, "roster.new_title", 0, map[string]string{"language": "en", "kind": models.KindExpert}, nil)
}

// CreateParticipantPage is POST /staff/participants.
func (h *Handler) CreateParticipantPage(c echo.Context) error {
	in, form, err := participantFormValues(c)
	if err == nil {
		_, err = h.Store.CreateParticipant(c.Request().Context(), in, CurrentStaff(c))
	}
	if status, errs, ok := formError(err); ok {
		return h.participantForm(c, status, "roster.new_title", 0, form, errs)
	} else if err != nil {
		return err
	}
	h.flash(c, "roster.created")
	return c.Redirect(http.StatusSeeOther, "/staff/participants")
}

// formError turns validation and duplicate errors into a form re-render.
func formError(err error) (int, models.FieldErrors, bool) {
	var fe models.FieldErrors
	var de *models.Error
	switch {
	case errors.As(err, &fe):
		return http.StatusUnprocessableEntity, fe, true
	case errors.As(err, &de) && de.Code == "duplicate_email":
		return http.StatusConflict, models.FieldErrors{"email": de.Message}, true
	}
	return 0, nil, false
}

// EditParticipantPage is GET /staff/participants/{id}.
func (h *Handler) EditParticipantPage(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	pt, err := h.Store.FindParticipant(c.Request().Context(), id)
	if err != nil {
		return err
	}
	form := map[string]string{"name": pt.Name, "email": pt.Email, "kind": pt.Kind, "country": pt.Country, "language": pt.Language}
	if pt.OrganizationID != nil {
		form["organization_id"] = strconv.FormatInt(*pt.OrganizationID, 10)
	}
	if pt.ArchivedAt != nil {
		form["archived"] = "true"
	}
	return h.participantForm(c, http.StatusOK, "roster.edit_title", id, form, nil)
}

// UpdateParticipantPage is POST /staff/participants/{id}.
func (h *Handler) UpdateParticipantPage(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	in, form, err := participantFormValues(c)
	if err == nil {
		_, err = h.Store.UpdateParticipant(c.Request().Context(), id, in, CurrentStaff(c))
	}
	if status, errs, ok := formError(err); ok {
		return h.participantForm(c, status, "roster.edit_title", id, form, errs)
	} else if err != nil {
		return err
	}
	h.flash(c, "roster.updated")
	return c.Redirect(http.StatusSeeOther, "/staff/participants")
}

// ArchiveParticipantPage is POST /staff/participants/{id}/archive.
func (h *Handler) ArchiveParticipantPage(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	if _, err := h.Store.ArchiveParticipant(c.Request().Context(), id, CurrentStaff(c)); err != nil {
		return err
	}
	h.flash(c, "roster.archived")
	return c.Redirect(http.StatusSeeOther, "/staff/participants")
}

// RestoreParticipantPage is POST /staff/participants/{id}/restore.
func (h *Handler) RestoreParticipantPage(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	if _, err := h.Store.RestoreParticipant(c.Request().Context(), id, CurrentStaff(c)); err != nil {
		return err
	}
	h.flash(c, "roster.restored")
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/staff/participants/%d", id))
}

// Organisations page ------------------------------------------------------------

// OrganizationsPage is GET /staff/organizations: the list and a form.
func (h *Handler) OrganizationsPage(c echo.Context) error {
	return h.organizationsPage(c, http.StatusOK, nil, nil)
}

func (h *Handler) organizationsPage(c echo.Context, status int, form map[string]string, errs models.FieldErrors) error {
	l := h.localizer(c)
	orgs, total, err := h.Store.ListOrganizations(c.Request().Context(), models.OrganizationFilter{Q: c.QueryParam("q"), Limit: 500})
	if err != nil {
		return err
	}
	type row struct {
		ID                  int64
		Name, Kind, Country string
	}
	rows := make([]row, len(orgs))
	for i, o := range orgs {
		rows[i] = row{o.ID, o.Name, l.T("roster.org_kind." + o.Kind), countryName(l, o.Country)}
	}
	p := h.page(c, "roster.organizations_title")
	p.Form, p.Errors = form, errs
	p.Data = map[string]any{"Rows": rows, "Total": total, "Kinds": kindOptions(l, "roster.org_kind.", models.OrganizationKinds), "Countries": countryOptions(l, false)}
	return h.render(c, status, "participants/organizations", p)
}

// CreateOrganizationPage is POST /staff/organizations.
func (h *Handler) CreateOrganizationPage(c echo.Context) error {
	form := map[string]string{"name": c.FormValue("name"), "kind": c.FormValue("kind"), "country": c.FormValue("country")}
	_, err := h.Store.CreateOrganization(c.Request().Context(), models.OrganizationInput{Name: models.Str(form["name"]), Kind: models.Str(form["kind"]), Country: models.Str(form["country"])}, CurrentStaff(c))
	if status, errs, ok := formError(err); ok {
		return h.organizationsPage(c, status, form, errs)
	} else if err != nil {
		return err
	}
	h.flash(c, "roster.org_created")
	return c.Redirect(http.StatusSeeOther, "/staff/organizations")
}

// ArchiveOrganizationPage is POST /staff/organizations/{id}/archive.
func (h *Handler) ArchiveOrganizationPage(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	if _, err := h.Store.ArchiveOrganization(c.Request().Context(), id, CurrentStaff(c)); err != nil {
		return err
	}
	h.flash(c, "roster.org_archived")
	return c.Redirect(http.StatusSeeOther, "/staff/organizations")
}

// CSV import ---------------------------------------------------------------------

// importReport is the JSON answer of POST /participants/import, with each
// error's message translated.
type importReport struct {
	DryRun               bool                 `json:"dry_run"`
	Created              int                  `json:"created"`
	Updated              int                  `json:"updated"`
	Skipped              int                  `json:"skipped"`
	OrganizationsCreated int                  `json:"organizations_created"`
	Errors               []models.ImportError `json:"errors"`
}

func translateReport(l *i18n.Localizer, res *models.ImportResult) importReport {
	out := importReport{DryRun: res.DryRun, Created: res.Created, Updated: res.Updated, Skipped: res.Skipped,
		OrganizationsCreated: res.OrganizationsCreated, Errors: make([]models.ImportError, len(res.Errors))}
	for i, e := range res.Errors {
		e.Message = l.Msg(e.Message)
		out.Errors[i] = e
	}
	return out
}

// ImportParticipantsAPI is POST /api/v1/participants/import (body
// text/csv; ?dry_run=true writes nothing). A real run with any bad row
// writes nothing and answers 422 with the error envelope and the report.
func (h *Handler) ImportParticipantsAPI(c echo.Context) error {
	ct, _, _ := mime.ParseMediaType(c.Request().Header.Get("Content-Type"))
	switch ct {
	case "text/csv", "application/csv", "text/plain", "application/vnd.ms-excel":
	default:
		return &APIError{Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type", Message: "import.error.content_type"}
	}
	dry := c.QueryParam("dry_run") == "true" || c.QueryParam("dry_run") == "1"
	res, err := h.Store.ImportParticipants(c.Request().Context(), c.Request().Body, dry, CurrentStaff(c))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return models.E(models.ErrTooLarge, "too_large", "error.too_large")
		}
		return err
	}
	l := h.localizer(c)
	rep := translateReport(l, res)
	if !dry && len(res.Errors) > 0 {
		return c.JSON(http.StatusUnprocessableEntity, map[string]any{
			"error":   map[string]any{"code": "import_invalid", "message": l.T("import.error.invalid")},
			"dry_run": false, "created": 0, "updated": 0, "skipped": 0, "organizations_created": 0, "errors": rep.Errors,
		})
	}
	return c.JSON(http.StatusOK, rep)
}

// ImportPage is GET /staff/participants/import.
func (h *Handler) ImportPage(c echo.Context) error {
	p := h.page(c, "import.title")
	return h.render(c, http.StatusOK, "participants/import", p)
}

// ImportUpload is POST /staff/participants/import (multipart: file, and
// action=check for a dry run or action=import).
func (h *Handler) ImportUpload(c echo.Context) error {
	p := h.page(c, "import.title")
	fh, err := c.FormFile("file")
	if err != nil {
		p.Errors = models.FieldErrors{"file": "import.error.no_file"}
		return h.render(c, http.StatusUnprocessableEntity, "participants/import", p)
	}
	f, err := fh.Open()
	if err != nil {
		return err
	}
	defer f.Close()
	dry := c.FormValue("action") != "import"
	res, err := h.Store.ImportParticipants(c.Request().Context(), io.LimitReader(f, 64<<20), dry, CurrentStaff(c))
	if err != nil {
		return err
	}
	rep := translateReport(h.localizer(c), res)
	status := http.StatusOK
	if len(res.Errors) > 0 && !dry {
		status = http.StatusUnprocessableEntity
	}
	p.Data = map[string]any{"Report": rep, "Done": !dry && len(res.Errors) == 0, "FileName": fh.Filename}
	return h.render(c, status, "participants/import", p)
}
