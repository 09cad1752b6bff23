package handlers

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"net/http"
	"strings"
	"sync"
	texttemplate "text/template"
	"time"

	"github.com/labstack/echo/v4"

	"focalpoint/i18n"
	"focalpoint/mail"
	"focalpoint/models"
	"focalpoint/templates"
)

// Nomination calls (issue 5): the staff API and pages, and the public
// form a State's focal point reaches by its secret link /n/{token}.

// Email rendering -----------------------------------------------------------------

var nominationTemplates struct {
	once sync.Once
	txt  *texttemplate.Template
	html *htmltemplate.Template
	err  error
}

func loadNominationTemplates() (*texttemplate.Template, *htmltemplate.Template, error) {
	t := &nominationTemplates
	t.once.Do(func() {
		t.txt, t.err = texttemplate.ParseFS(templates.FS, "email/nomination_*.txt")
		if t.err == nil {
			t.html, t.err = htmltemplate.ParseFS(templates.FS, "email/nomination_*.html")
		}
	})
	return t.txt, t.html, t.err
}

// nominationMailData is what the nomination email templates receive.
type nominationMailData struct {
	l           *i18n.Localizer
	Name        string
	Title       string
	Country     string
	Link        string
	Deadline    string
	Max         int
	Nominee     *models.Nomination
	ContactName string
	Contact     string
}

func (d *nominationMailData) T(id string, kv ...any) string { return d.l.T(id, kv...) }
func (d *nominationMailData) Lang() string                  { return d.l.Lang() }
func (d *nominationMailData) Dir() string                   { return d.l.Dir() }

// nominationMailer implements models.CallMailer with the templates in
// templates/email/nomination_*.
type nominationMailer struct {
	h       *Handler
	title   string
	lang    string // of the confirmation: the language the form was shown in
	contact *models.Staff
}

func (h *Handler) nominationMailer(c echo.Context, consultationID int64) (*nominationMailer, error) {
	cons, err := h.Store.FindConsultation(c.Request().Context(), consultationID)
	if err != nil {
		return nil, err
	}
	return &nominationMailer{h: h, title: cons.Title, lang: h.localizer(c).Lang(), contact: CurrentStaff(c)}, nil
}

func (m *nominationMailer) LinkURL(tok string) string { return m.h.link("/n/%s", tok) }

func (m *nominationMailer) render(kind, lang, to string, d *nominationMailData) (*models.OutboxMessage, error) {
	txt, html, err := loadNominationTemplates()
	if err != nil {
		return nil, err
	}
	d.l = m.h.I18n.Localizer(lang)
	d.Title = mail.HeaderSafe(m.title)
	if m.contact != nil {
		d.ContactName, d.Contact = m.contact.Name, m.contact.Email
	}
	var tb, hb bytes.Buffer
	if err := txt.ExecuteTemplate(&tb, "nomination_"+kind+".txt", d); err != nil {
		return nil, err
	}
	if err := html.ExecuteTemplate(&hb, "nomination_"+kind+".html", d); err != nil {
		return nil, err
	}
	subject := mail.HeaderSafe(d.T("nomination.mail."+kind+"_subject", "Title", d.Title, "Country", d.Country))
	return &models.OutboxMessage{ToAddress: models.NormalizeEmail(to), Subject: subject, TextBody: tb.String(), HTMLBody: hb.String()}, nil
}

func (m *nominationMailer) FocalPointMail(to *models.Participant, call *models.NominationCall, country, url string) (*models.OutboxMessage, error) {
	l := m.h.I18n.Localizer(to.Language)
	ca := call.ClosesAt
	return m.render("call", to.Language, to.Email, &nominationMailData{Name: to.Name, Country: l.T(models.CountryMessageID(country)),
		Link: url, Deadline: mail.FormatDeadline(&ca), Max: call.MaxPerCountry})
}

func (m *nominationMailer) ConfirmationMail(n *models.Nomination, call *models.NominationCall) (*models.OutboxMessage, error) {
	l := m.h.I18n.Localizer(m.lang)
	ca := call.ClosesAt
	return m.render("confirmation", m.lang, n.NominatorEmail, &nominationMailData{Country: l.T(models.CountryMessageID(n.Country)),
		Deadline: mail.FormatDeadline(&ca), Nominee: n})
}

// Staff JSON API ----------------------------------------------------------------------

type nominationCallRequest struct {
	ClosesAt      string   `json:"closes_at"`
	MaxPerCountry int      `json:"max_per_country"`
	Countries     []string `json:"countries"`
}

// parseTimeField reads an RFC 3339 time (or a datetime-local value, taken
// as UTC) into *time.Time; "" is nil.
func parseTimeField(v string) (*time.Time, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return nil, true
	}
	for _, layout := range []string{time.RFC3339, "2006-01-02T15:04", "2006-01-02T15:04:05"} {
		if t, err := time.Parse(layout, v); err == nil {
			t = t.UTC()
			return &t, true
		}
	}
	return nil, false
}

type callCreated struct {
	ID    int64               `json:"id"`
	Links []models.IssuedLink `json:"links"`
}

func (h *Handler) createCall(c echo.Context, consultationID int64, req nominationCallRequest) (*models.NominationCall, []models.IssuedLink, error) {
	closes, ok := parseTimeField(req.ClosesAt)
	if !ok {
		return nil, nil, models.FieldErrors{"closes_at": "error.invalid_time"}
	}
	m, err := h.nominationMailer(c, consultationID)
	if err != nil {
		return nil, nil, err
	}
	return h.Store.CreateNominationCall(c.Request().Context(), models.NewNominationCall{ConsultationID: consultationID,
		ClosesAt: closes, MaxPerCountry: req.MaxPerCountry, Countries: req.Countries}, m, CurrentStaff(c))
}

// CreateNominationCallAPI is POST /api/v1/consultations/{id}/nomination-calls
// → 201 {"id","links":[{"country","url"}]}: the links are shown only here.
func (h *Handler) CreateNominationCallAPI(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	var req nominationCallRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	call, links, err := h.createCall(c, id, req)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, callCreated{ID: call.ID, Links: links})
}

// ListNominationCallsAPI is GET /api/v1/consultations/{id}/nomination-calls.
func (h *Handler) ListNominationCallsAPI(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	if _, err := h.Store.FindConsultation(c.Request().Context(), id); err != nil {
		return err
	}
	calls, err := h.Store.ListNominationCalls(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, List[models.NominationCall]{Items: calls, Total: int64(len(calls))})
}

type callSummaryJSON struct {
	ID             int64     `json:"id"`
	ConsultationID int64     `json:"consultation_id"`
	ClosesAt       time.Time `json:"closes_at"`
	MaxPerCountry  int       `json:"max_per_country"`
	*models.CallSummary
}

// GetNominationCallAPI is GET /api/v1/nomination-calls/{id} →
// {"countries_nominated","nominees","nominations":[...], ...}.
func (h *Handler) GetNominationCallAPI(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	sum, err := h.Store.NominationCallSummary(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, callSummaryJSON{ID: sum.Call.ID, ConsultationID: sum.Call.ConsultationID,
		ClosesAt: sum.Call.ClosesAt, MaxPerCountry: sum.Call.MaxPerCountry, CallSummary: sum})
}

// ReissueNominationLinkAPI is POST /api/v1/nomination-calls/{id}/links/{country}:
// a new link for that State (the old one stops working) → {"country","url"}.
func (h *Handler) ReissueNominationLinkAPI(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	call, err := h.Store.FindNominationCall(c.Request().Context(), id)
	if err != nil {
		return err
	}
	m, err := h.nominationMailer(c, call.ConsultationID)
	if err != nil {
		return err
	}
	l, err := h.Store.ReissueNominationLink(c.Request().Context(), id, c.Param("country"), m, CurrentStaff(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, l)
}

// ApproveNominationAPI is POST /api/v1/nominations/{id}/approve.
func (h *Handler) ApproveNominationAPI(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	n, p, err := h.Store.ApproveNomination(c.Request().Context(), id, CurrentStaff(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"nomination": n, "participant": p})
}

type declineRequest struct {
	Reason string `json:"reason"`
}

// DeclineNominationAPI is POST /api/v1/nominations/{id}/decline {"reason"}.
func (h *Handler) DeclineNominationAPI(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	var req declineRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	n, err := h.Store.DeclineNomination(c.Request().Context(), id, req.Reason, CurrentStaff(c))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"nomination": n})
}

// Public nomination API ------------------------------------------------------------------

type nominateRequest struct {
	Name           string `json:"name"`
	Email          string `json:"email"`
	Institution    string `json:"institution"`
	Position       string `json:"position"`
	Expertise      string `json:"expertise"`
	NominatorEmail string `json:"nominator_email"`
}

// findLink resolves a public token, counting unknown ones against the
// caller's rate limit (429 once over it, else 404).
func (h *Handler) findLink(c echo.Context) (*models.NominationLinkInfo, error) {
	info, err := h.Store.FindNominationLink(c.Request().Context(), c.Param("token"))
	if errors.Is(err, models.ErrNotFound) {
		if lerr := h.LimitUnknownToken(c); lerr != nil {
			return nil, lerr
		}
	}
	return info, err
}

// NominationLinkAPI is GET /api/v1/nominate/{token}: the State, deadline,
// cap and what it has nominated so far.
func (h *Handler) NominationLinkAPI(c echo.Context) error {
	info, err := h.findLink(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"country": info.Link.Country, "closes_at": info.Call.ClosesAt,
		"max_per_country": info.Call.MaxPerCountry, "nominated": info.Count, "open": !info.Closed && !info.Full})
}

// NominateAPI is POST /api/v1/nominate/{token} → 201; after closes_at or
// over max_per_country → 409.
func (h *Handler) NominateAPI(c echo.Context) error {
	info, err := h.findLink(c)
	if err != nil {
		return err
	}
	var req nominateRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	m, err := h.nominationMailer(c, info.Call.ConsultationID)
	if err != nil {
		return err
	}
	m.contact = nil
	n, err := h.Store.Nominate(c.Request().Context(), c.Param("token"), models.NomineeInput{Name: req.Name, Email: req.Email,
		Institution: req.Institution, Position: req.Position, Expertise: req.Expertise, NominatorEmail: req.NominatorEmail}, m)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]any{"id": n.ID, "country": n.Country, "status": n.Status, "name": n.Name, "email": n.Email})
}

// Public form /n/{token} ----------------------------------------------------------------

func (h *Handler) nominationFormPage(c echo.Context, status int, info *models.NominationLinkInfo, form map[string]string, errs models.FieldErrors) error {
	l := h.localizer(c)
	p := h.page(c, "nomination.form_title")
	p.Form, p.Errors = form, errs
	cons, err := h.Store.FindConsultation(c.Request().Context(), info.Call.ConsultationID)
	if err != nil {
		return err
	}
	ca := info.Call.ClosesAt
	remaining := -1
	if info.Call.MaxPerCountry > 0 {
		remaining = max(info.Call.MaxPerCountry-info.Count, 0)
	}
	type nominee struct{ Name, Institution, Status string }
	var list []nominee
	for _, n := range info.Nominated {
		list = append(list, nominee{n.Name, n.Institution, l.T("nomination.status." + n.Status)})
	}
	p.Data = map[string]any{"Token": c.Param("token"), "Country": countryName(l, info.Link.Country), "Title": cons.Title,
		"Deadline": mail.FormatDeadline(&ca), "Max": info.Call.MaxPerCountry, "Remaining": remaining,
		"Closed": info.Closed, "Full": info.Full, "Nominated": list}
	name := "nominations/form"
	if info.Closed || info.Full {
		name = "nominations/closed"
	}
	return h.render(c, status, name, p)
}

// NominationForm is GET /n/{token}: the State's nomination form, or a
// clear page once the call is closed or the State's places are used.
func (h *Handler) NominationForm(c echo.Context) error {
	info, err := h.findLink(c)
	if err != nil {
		return err
	}
	// The token stays out of Referer headers and shared caches.
	c.Response().Header().Set("Referrer-Policy", "no-referrer")
	c.Response().Header().Set("Cache-Control", "no-store")
	return h.nominationFormPage(c, http.StatusOK, info, map[string]string{"nominator_email": h.rememberedNominator(c)}, nil)
}

const keyNominator = "nominator_email"

func (h *Handler) rememberedNominator(c echo.Context) string {
	v, _ := h.session(c).Values[keyNominator].(string)
	return v
}

// Nominate is POST /n/{token}: one nominee; the page comes back for the next.
func (h *Handler) Nominate(c echo.Context) error {
	info, err := h.findLink(c)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Referrer-Policy", "no-referrer")
	form := map[string]string{}
	for _, k := range []string{"name", "email", "institution", "position", "expertise", "nominator_email"} {
		form[k] = c.FormValue(k)
	}
	m, err := h.nominationMailer(c, info.Call.ConsultationID)
	if err != nil {
		return err
	}
	m.contact = nil
	_, err = h.Store.Nominate(c.Request().Context(), c.Param("token"), models.NomineeInput{Name: form["name"], Email: form["email"],
		Institution: form["institution"], Position: form["position"], Expertise: form["expertise"], NominatorEmail: form["nominator_email"]}, m)
	var fe models.FieldErrors
	var de *models.Error
	switch {
	case errors.As(err, &fe):
		return h.nominationFormPage(c, http.StatusUnprocessableEntity, info, form, fe)
	case errors.As(err, &de) && de.Code == models.ErrDuplicateNominee.Code:
		return h.nominationFormPage(c, http.StatusConflict, info, form, models.FieldErrors{"email": de.Message})
	case errors.As(err, &de) && (de.Code == models.ErrNominationsClosed.Code || de.Code == models.ErrNominationCap.Code):
		info, ierr := h.Store.FindNominationLink(c.Request().Context(), c.Param("token"))
		if ierr != nil {
			return ierr
		}
		info.Closed = info.Closed || de.Code == models.ErrNominationsClosed.Code
		info.Full = !info.Closed
		return h.nominationFormPage(c, http.StatusConflict, info, form, nil)
	case err != nil:
		return err
	}
	s := h.session(c)
	if v := models.NormalizeEmail(form["nominator_email"]); v != "" && models.ValidEmail(v) {
		s.Values[keyNominator] = v
	}
	h.flash(c, "nomination.thanks")
	return c.Redirect(http.StatusSeeOther, "/n/"+c.Param("token"))
}

// Staff pages -------------------------------------------------------------------------------

// NominationCallsPage is GET /staff/consultations/{id}/nomination-calls:
// the consultation's calls and the form for a new one.
func (h *Handler) NominationCallsPage(c echo.Context) error {
	return h.nominationCallsPage(c, http.StatusOK, nil, nil)
}

func (h *Handler) nominationCallsPage(c echo.Context, status int, form map[string]string, errs models.FieldErrors) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	cons, err := h.Store.FindConsultation(c.Request().Context(), id)
	if err != nil {
		return err
	}
	calls, err := h.Store.ListNominationCalls(c.Request().Context(), id)
	if err != nil {
		return err
	}
	l := h.localizer(c)
	p := h.page(c, "nomination.calls_title")
	if form == nil {
		form = map[string]string{"closes_at": h.Store.Now().Add(30 * 24 * time.Hour).Format("2006-01-02T15:04"), "max_per_country": "2"}
	}
	p.Form, p.Errors = form, errs
	type callRow struct {
		ID       int64
		Deadline string
		Max      int
	}
	rows := make([]callRow, len(calls))
	for i, cl := range calls {
		ca := cl.ClosesAt
		rows[i] = callRow{cl.ID, mail.FormatDeadline(&ca), cl.MaxPerCountry}
	}
	p.Data = map[string]any{"Consultation": cons, "Calls": rows, "Countries": countryOptions(l, false)}
	return h.render(c, status, "nominations/calls", p)
}

// CreateNominationCallPage is POST /staff/consultations/{id}/nomination-calls:
// it shows the new links once, with a CSV download.
func (h *Handler) CreateNominationCallPage(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	form := map[string]string{"closes_at": c.FormValue("closes_at"), "max_per_country": c.FormValue("max_per_country"), "scope": c.FormValue("scope")}
	req := nominationCallRequest{ClosesAt: form["closes_at"]}
	if v := strings.TrimSpace(form["max_per_country"]); v != "" {
		if _, err := fmt.Sscan(v, &req.MaxPerCountry); err != nil {
			return h.nominationCallsPage(c, http.StatusUnprocessableEntity, form, models.FieldErrors{"max_per_country": "error.invalid_number"})
		}
	}
	if form["scope"] == "some" {
		req.Countries = c.Request().Form["countries"]
		if len(req.Countries) == 0 {
			return h.nominationCallsPage(c, http.StatusUnprocessableEntity, form, models.FieldErrors{"countries": "nomination.error.no_countries"})
		}
	}
	call, links, err := h.createCall(c, id, req)
	var fe models.FieldErrors
	if errors.As(err, &fe) {
		return h.nominationCallsPage(c, http.StatusUnprocessableEntity, form, fe)
	} else if err != nil {
		return err
	}
	return h.linksPage(c, http.StatusCreated, call, links)
}

type linkView struct {
	Country, Name, URL string
}

func (h *Handler) linksPage(c echo.Context, status int, call *models.NominationCall, links []models.IssuedLink) error {
	l := h.localizer(c)
	views := make([]linkView, len(links))
	for i, k := range links {
		views[i] = linkView{k.Country, countryName(l, k.Country), k.URL}
	}
	p := h.page(c, "nomination.links_title")
	p.Data = map[string]any{"Call": call, "Links": views}
	return h.render(c, status, "nominations/links", p)
}

// NominationLinksCSV is POST /staff/nomination-calls/{id}/links.csv: the
// links just shown, sent back by the page (the server keeps only their
// hashes), as a CSV file of country, name, link.
func (h *Handler) NominationLinksCSV(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	if _, err := h.Store.FindNominationCall(c.Request().Context(), id); err != nil {
		return err
	}
	if err := c.Request().ParseForm(); err != nil {
		return &APIError{Status: http.StatusBadRequest, Code: "bad_request", Message: "error.bad_request"}
	}
	l := h.localizer(c)
	countries, urls := c.Request().Form["country"], c.Request().Form["url"]
	if len(countries) != len(urls) {
		return models.FieldErrors{"url": "error.invalid_value"}
	}
	prefix := h.link("/n/")
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	_ = w.Write([]string{"country", "name", "link"})
	for i, code := range countries {
		if _, ok := models.FindCountry(code); !ok || !strings.HasPrefix(urls[i], prefix) {
			return models.FieldErrors{"url": "error.invalid_value"}
		}
		_ = w.Write([]string{code, csvSafe(countryName(l, code)), urls[i]})
	}
	w.Flush()
	c.Response().Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="nomination-links-%d.csv"`, id))
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.Blob(http.StatusOK, "text/csv; charset=utf-8", buf.Bytes())
}

// csvSafe neutralises a cell a spreadsheet would read as a formula.
func csvSafe(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// ReissueNominationLinkPage is POST /staff/nomination-calls/{id}/links/{country}.
func (h *Handler) ReissueNominationLinkPage(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	call, err := h.Store.FindNominationCall(c.Request().Context(), id)
	if err != nil {
		return err
	}
	m, err := h.nominationMailer(c, call.ConsultationID)
	if err != nil {
		return err
	}
	country := c.Param("country")
	if country == "" {
		country = c.FormValue("country")
	}
	link, err := h.Store.ReissueNominationLink(c.Request().Context(), id, country, m, CurrentStaff(c))
	if err != nil {
		return err
	}
	return h.linksPage(c, http.StatusOK, call, []models.IssuedLink{*link})
}

type tallyView struct {
	Country, Name                          string
	Nominated, Approved, Pending, Declined int
}

type nominationView struct {
	ID                                                     int64
	Country, Name, Email, Institution, Position, Expertise string
	Status, StatusLabel, Reason                            string
	Pending                                                bool
}

// NominationCallPage is GET /staff/nomination-calls/{id}: "N States
// nominated M experts", a table per State, and each nominee with approve
// and decline.
func (h *Handler) NominationCallPage(c echo.Context) error {
	return h.nominationCallPage(c, http.StatusOK, 0, nil)
}

func (h *Handler) nominationCallPage(c echo.Context, status int, errFor int64, errs models.FieldErrors) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	sum, err := h.Store.NominationCallSummary(c.Request().Context(), id)
	if err != nil {
		return err
	}
	cons, err := h.Store.FindConsultation(c.Request().Context(), sum.Call.ConsultationID)
	if err != nil {
		return err
	}
	l := h.localizer(c)
	tallies := make([]tallyView, len(sum.PerCountry))
	for i, t := range sum.PerCountry {
		tallies[i] = tallyView{t.Country, countryName(l, t.Country), t.Nominated, t.Approved, t.Pending, t.Declined}
	}
	noms := make([]nominationView, len(sum.Nominations))
	for i, n := range sum.Nominations {
		noms[i] = nominationView{n.ID, countryName(l, n.Country), n.Name, n.Email, n.Institution, n.Position, n.Expertise,
			n.Status, l.T("nomination.status." + n.Status), n.Reason, n.Status == models.NominationPending}
	}
	callCountries := make([]Option, len(sum.Countries))
	for i, code := range sum.Countries {
		callCountries[i] = Option{code, countryName(l, code)}
	}
	ca := sum.Call.ClosesAt
	p := h.page(c, "nomination.call_title")
	p.Errors = errs
	p.Data = map[string]any{"Call": sum.Call, "Consultation": cons, "Summary": sum, "Tallies": tallies, "Nominations": noms,
		"Deadline": mail.FormatDeadline(&ca), "Open": h.Store.Now().Before(ca), "ErrFor": errFor,
		"Invited": len(sum.Countries), "Silent": len(sum.Countries) - sum.CountriesNominated, "CallCountries": callCountries}
	return h.render(c, status, "nominations/call", p)
}

// ApproveNominationPage is POST /staff/nominations/{id}/approve.
func (h *Handler) ApproveNominationPage(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	n, _, err := h.Store.ApproveNomination(c.Request().Context(), id, CurrentStaff(c))
	if err != nil {
		return err
	}
	h.flash(c, "nomination.approved")
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/staff/nomination-calls/%d#nomination-%d", n.CallID, n.ID))
}

// DeclineNominationPage is POST /staff/nominations/{id}/decline (reason).
func (h *Handler) DeclineNominationPage(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	n, err := h.Store.DeclineNomination(c.Request().Context(), id, c.FormValue("reason"), CurrentStaff(c))
	var fe models.FieldErrors
	if errors.As(err, &fe) {
		nom, ferr := h.Store.FindNomination(c.Request().Context(), id)
		if ferr != nil {
			return ferr
		}
		c.SetParamNames("id")
		c.SetParamValues(fmt.Sprint(nom.CallID))
		errs := models.FieldErrors{}
		for k, v := range fe {
			errs[fmt.Sprintf("%s-%d", k, id)] = v
		}
		return h.nominationCallPage(c, http.StatusUnprocessableEntity, id, errs)
	} else if err != nil {
		return err
	}
	h.flash(c, "nomination.declined")
	return c.Redirect(http.StatusSeeOther, fmt.Sprintf("/staff/nomination-calls/%d#nomination-%d", n.CallID, n.ID))
}

// AllNominationCallsPage is GET /staff/nomination-calls: every call, and
// the consultations a new one can be opened for.
func (h *Handler) AllNominationCallsPage(c echo.Context) error {
	calls, err := h.Store.ListAllNominationCalls(c.Request().Context())
	if err != nil {
		return err
	}
	cons, _, err := h.Store.ListConsultations(c.Request().Context(), 0, 500)
	if err != nil {
		return err
	}
	type row struct {
		models.NominationCallRow
		Deadline string
	}
	rows := make([]row, len(calls))
	for i, cl := range calls {
		ca := cl.ClosesAt
		rows[i] = row{cl, mail.FormatDeadline(&ca)}
	}
	p := h.page(c, "nomination.calls_title")
	p.Data = map[string]any{"Calls": rows, "Consultations": cons}
	return h.render(c, http.StatusOK, "nominations/index", p)
}
