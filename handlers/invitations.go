package handlers

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"focalpoint/mail"
	"focalpoint/models"
)

// Invitations, reminders and jobs (issue 4): the JSON API of API.md and
// the staff pages (pick recipients, preview, send, progress, per-person
// status), and the public "email me my link again" form.

var mailRenderers sync.Map // baseURL -> *mail.Renderer

// mailRenderer returns the email renderer, built once per base URL.
func (h *Handler) mailRenderer() (*mail.Renderer, error) {
	if r, ok := mailRenderers.Load(h.Opts.BaseURL); ok {
		return r.(*mail.Renderer), nil
	}
	r, err := mail.NewRenderer(h.I18n, h.Opts.BaseURL)
	if err != nil {
		return nil, err
	}
	mailRenderers.Store(h.Opts.BaseURL, r)
	return r, nil
}

// consultationRender builds the MailRender of a consultation's messages,
// naming the acting staff member as the contact.
func (h *Handler) consultationRender(c echo.Context, consultationID int64) (models.MailRender, *models.MailInfo, error) {
	r, err := h.mailRenderer()
	if err != nil {
		return nil, nil, err
	}
	info, err := h.Store.InvitationMailInfo(c.Request().Context(), consultationID)
	if err != nil {
		return nil, nil, err
	}
	name, email := contactOf(CurrentStaff(c))
	return r.ForConsultation(info, name, email), info, nil
}

func contactOf(st *models.Staff) (string, string) {
	if st == nil {
		return "", ""
	}
	return st.Name, st.Email
}

// JSON API -------------------------------------------------------------------

type inviteRequest struct {
	ParticipantIDs []int64 `json:"participant_ids"`
}

type jobStarted struct {
	JobID  int64 `json:"job_id"`
	Queued int   `json:"queued"`
}

// InviteAPI is POST /api/v1/consultations/{id}/invitations → 202.
func (h *Handler) InviteAPI(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	var req inviteRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	name, email := contactOf(CurrentStaff(c))
	job, n, err := h.Store.StartInvitations(c.Request().Context(), CurrentStaff(c),
		models.InviteRequest{ConsultationID: id, ParticipantIDs: req.ParticipantIDs, ContactName: name, ContactEmail: email})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, jobStarted{JobID: job.ID, Queued: n})
}

// RemindAPI is POST /api/v1/consultations/{id}/reminders → 202.
func (h *Handler) RemindAPI(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	name, email := contactOf(CurrentStaff(c))
	job, n, err := h.Store.StartReminders(c.Request().Context(), CurrentStaff(c), id, name, email)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusAccepted, jobStarted{JobID: job.ID, Queued: n})
}

type invitationList struct {
	Items  []models.InvitationRow `json:"items"`
	Total  int64                  `json:"total"`
	Counts map[string]int64       `json:"counts"`
}

// invitationFilter reads ?status=&kind=&country=&q=&participant_id= and paging.
func invitationFilter(c echo.Context, consultationID int64) (models.InvitationFilter, error) {
	pg, err := parsePaging(c)
	errs := models.FieldErrors{}
	var fe models.FieldErrors
	if errors.As(err, &fe) {
		errs = fe
	}
	f := models.InvitationFilter{ConsultationID: consultationID, Status: c.QueryParam("status"), Kind: c.QueryParam("kind"),
		Country: c.QueryParam("country"), Q: strings.TrimSpace(c.QueryParam("q")), Limit: pg.PerPage, Offset: pg.Offset()}
	if f.Status != "" && !oneOf(f.Status, models.InvitationStatuses) {
		errs.Add("status", "error.invalid_value")
	}
	if f.Kind != "" && !oneOf(f.Kind, participantKinds) {
		errs.Add("kind", "error.invalid_value")
	}
	if f.Country != "" && len(f.Country) != 2 {
		errs.Add("country", "error.invalid_value")
	}
	if v := c.QueryParam("participant_id"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			errs.Add("participant_id", "error.invalid_number")
		}
		f.ParticipantID = n
	}
	if len(f.Q) > 200 {
		errs.Add("q", "error.too_long")
	}
	return f, errs.Err()
}

var participantKinds = []string{models.KindExpert, models.KindNGO, models.KindResearcher, models.KindObserver}

func oneOf(v string, list []string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// ListInvitationsAPI is GET /api/v1/consultations/{id}/invitations.
func (h *Handler) ListInvitationsAPI(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	f, err := invitationFilter(c, id)
	if err != nil {
		return err
	}
	rows, total, counts, err := h.Store.ListInvitations(c.Request().Context(), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, invitationList{Items: rows, Total: total, Counts: counts})
}

// RevokeInvitationAPI is POST /api/v1/invitations/{id}/revoke.
func (h *Handler) RevokeInvitationAPI(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	inv, err := h.Store.RevokeInvitation(c.Request().Context(), CurrentStaff(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, inv)
}

// ReissueInvitationAPI is POST /api/v1/invitations/{id}/reissue: the old
// link dies, a new invitation (and message) replaces it.
func (h *Handler) ReissueInvitationAPI(c echo.Context) error {
	inv, err := h.reissue(c)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, inv)
}

func (h *Handler) reissue(c echo.Context) (*models.Invitation, error) {
	id, err := paramID(c, "id")
	if err != nil {
		return nil, err
	}
	old, err := h.Store.FindInvitation(c.Request().Context(), id)
	if err != nil {
		return nil, err
	}
	render, _, err := h.consultationRender(c, old.ConsultationID)
	if err != nil {
		return nil, err
	}
	return h.Store.ReissueInvitation(c.Request().Context(), CurrentStaff(c), id, render)
}

type jobView struct {
	ID             int64      `json:"id"`
	Kind           string     `json:"kind"`
	ConsultationID *int64     `json:"consultation_id,omitempty"`
	State          string     `json:"state"`
	Done           int        `json:"done"`
	Total          int        `json:"total"`
	Error          string     `json:"error,omitempty"`
	CreatedAt      time.Time  `json:"created_at"`
	FinishedAt     *time.Time `json:"finished_at,omitempty"`
}

func toJobView(j *models.Job) jobView {
	return jobView{ID: j.ID, Kind: j.Kind, ConsultationID: j.ConsultationID, State: j.State, Done: j.Done, Total: j.Total,
		Error: j.Error, CreatedAt: j.CreatedAt.UTC(), FinishedAt: j.FinishedAt}
}

// JobAPI is GET /api/v1/jobs/{id}.
func (h *Handler) JobAPI(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	j, err := h.Store.FindJob(c.Request().Context(), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, toJobView(j))
}

// Staff pages ------------------------------------------------------------------

// InvitationsPage is the per-person status table with counts and filters.
func (h *Handler) InvitationsPage(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	info, err := h.Store.InvitationMailInfo(ctx, id)
	if err != nil {
		return err
	}
	p := h.page(c, "invite.status_title")
	f, ferr := invitationFilter(c, id)
	var fe models.FieldErrors
	if errors.As(ferr, &fe) {
		p.Errors = fe
		f = models.InvitationFilter{ConsultationID: id, Limit: 50}
	}
	rows, total, counts, err := h.Store.ListInvitations(ctx, f)
	if err != nil {
		return err
	}
	page := f.Offset/max(f.Limit, 1) + 1
	q := c.Request().URL.Query()
	p.Form = map[string]string{"status": f.Status, "kind": f.Kind, "country": f.Country, "q": f.Q}
	p.Data = map[string]any{"Consultation": info.Consultation, "Rows": rows, "Total": total, "Counts": counts,
		"Statuses": models.InvitationStatuses, "Kinds": participantKinds,
		"Prev": pageLink(q, page-1, page > 1), "Next": pageLink(q, page+1, int64(f.Offset+len(rows)) < total)}
	return h.render(c, http.StatusOK, "invitations/index", p)
}

func pageLink(q url.Values, page int, ok bool) string {
	if !ok {
		return ""
	}
	v := url.Values{}
	for k, vs := range q {
		v[k] = vs
	}
	v.Set("page", strconv.Itoa(page))
	return "?" + v.Encode()
}

// candidateFilter reads the recipient filters of the pick/preview/send forms.
func candidateFilter(get func(string) string, consultationID int64) (models.CandidateFilter, models.FieldErrors) {
	f := models.CandidateFilter{ConsultationID: consultationID, Kind: get("kind"), Country: strings.TrimSpace(get("country")),
		Nominees: get("nominees") == "1", Q: strings.TrimSpace(get("q"))}
	errs := models.FieldErrors{}
	if f.Kind != "" && !oneOf(f.Kind, participantKinds) {
		errs.Add("kind", "error.invalid_value")
	}
	if f.Country != "" && len(f.Country) != 2 {
		errs.Add("country", "error.invalid_value")
	}
	if len(f.Q) > 200 {
		errs.Add("q", "error.too_long")
	}
	return f, errs
}

const candidatesPerPage = 200

// InviteNewPage is the "pick recipients" page: filters (kind, country,
// all approved nominees, words), checkboxes, and "everyone matching".
func (h *Handler) InviteNewPage(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	return h.inviteNewPage(c, id, http.StatusOK, nil)
}

func (h *Handler) inviteNewPage(c echo.Context, id int64, status int, errs models.FieldErrors) error {
	ctx := c.Request().Context()
	info, err := h.Store.InvitationMailInfo(ctx, id)
	if err != nil {
		return err
	}
	f, ferrs := candidateFilter(c.QueryParam, id)
	for k, v := range errs {
		ferrs.Add(k, v)
	}
	if len(ferrs) > 0 && errs == nil {
		f = models.CandidateFilter{ConsultationID: id}
	}
	pg, _ := parsePaging(c)
	f.Limit, f.Offset = candidatesPerPage, (pg.Page-1)*candidatesPerPage
	list, total, err := h.Store.InviteCandidates(ctx, f)
	if err != nil {
		return err
	}
	p := h.page(c, "invite.new_title")
	p.Errors = ferrs
	nominees := ""
	if f.Nominees {
		nominees = "1"
	}
	p.Form = map[string]string{"kind": f.Kind, "country": f.Country, "q": f.Q, "nominees": nominees}
	q := c.Request().URL.Query()
	p.Data = map[string]any{"Consultation": info.Consultation, "Candidates": list, "Total": total, "Kinds": participantKinds,
		"Prev": pageLink(q, pg.Page-1, pg.Page > 1), "Next": pageLink(q, pg.Page+1, int64(f.Offset+len(list)) < total)}
	return h.render(c, status, "invitations/new", p)
}

// recipients resolves the chosen participant ids of a pick/preview form:
// the ticked boxes, or everyone matching the filters.
func (h *Handler) recipients(c echo.Context, id int64) ([]int64, models.CandidateFilter, error) {
	f, errs := candidateFilter(c.FormValue, id)
	if len(errs) > 0 {
		return nil, f, errs
	}
	if c.FormValue("all_matching") == "1" {
		ids, err := h.Store.CandidateIDs(c.Request().Context(), f)
		return ids, f, err
	}
	form, err := c.FormParams()
	if err != nil {
		return nil, f, err
	}
	var ids []int64
	for _, v := range form["participant_ids"] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return nil, f, models.FieldErrors{"participant_ids": "error.invalid_value"}
		}
		ids = append(ids, n)
	}
	if len(ids) == 0 {
		return nil, f, models.FieldErrors{"participant_ids": "invite.error_none_chosen"}
	}
	return ids, f, nil
}

// InvitePreview shows the message the first recipient would get and asks
// to confirm.
func (h *Handler) InvitePreview(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	ids, f, err := h.recipients(c, id)
	var fe models.FieldErrors
	if errors.As(err, &fe) {
		return h.inviteNewPage(c, id, http.StatusUnprocessableEntity, fe)
	}
	if err != nil {
		return err
	}
	r, err := h.mailRenderer()
	if err != nil {
		return err
	}
	info, err := h.Store.InvitationMailInfo(ctx, id)
	if err != nil {
		return err
	}
	all, _, err := h.Store.InviteCandidates(ctx, models.CandidateFilter{ConsultationID: id, Kind: f.Kind, Country: f.Country, Nominees: f.Nominees, Q: f.Q})
	if err != nil {
		return err
	}
	chosen := map[int64]bool{}
	for _, i := range ids {
		chosen[i] = true
	}
	var fresh, already int
	var first *models.InviteCandidate
	for i := range all {
		if !chosen[all[i].ID] {
			continue
		}
		if all[i].Invited {
			already++
			continue
		}
		fresh++
		if first == nil {
			first = &all[i]
		}
	}
	p := h.page(c, "invite.preview_title")
	data := map[string]any{"Consultation": info.Consultation, "IDs": ids, "New": fresh, "Already": already,
		"AllMatching": c.FormValue("all_matching") == "1", "Filter": f}
	if first != nil {
		name, email := contactOf(CurrentStaff(c))
		msg, err := r.Render(models.MailKindInvitation, first.Language, mail.Data{Name: first.Name, Title: info.Consultation.Title,
			Link: r.Link("…"), Deadline: mail.FormatDeadline(info.Deadline), ContactName: name, ContactEmail: email})
		if err != nil {
			return err
		}
		data["To"], data["Message"] = first.Email, msg
	}
	p.Data = data
	return h.render(c, http.StatusOK, "invitations/preview", p)
}

// InviteSend starts the invitation job from the confirmed preview.
func (h *Handler) InviteSend(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	ids, _, err := h.recipients(c, id)
	var fe models.FieldErrors
	if errors.As(err, &fe) {
		return h.inviteNewPage(c, id, http.StatusUnprocessableEntity, fe)
	}
	if err != nil {
		return err
	}
	name, email := contactOf(CurrentStaff(c))
	job, _, err := h.Store.StartInvitations(c.Request().Context(), CurrentStaff(c),
		models.InviteRequest{ConsultationID: id, ParticipantIDs: ids, ContactName: name, ContactEmail: email})
	if errors.As(err, &fe) {
		return h.inviteNewPage(c, id, http.StatusUnprocessableEntity, fe)
	}
	if err != nil {
		return err
	}
	h.flash(c, "invite.flash_started")
	return c.Redirect(http.StatusSeeOther, "/staff/jobs/"+strconv.FormatInt(job.ID, 10))
}

// RemindPage shows how many invitees a reminder would reach and a sample.
func (h *Handler) RemindPage(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	info, err := h.Store.InvitationMailInfo(ctx, id)
	if err != nil {
		return err
	}
	counts, err := h.Store.InvitationCounts(ctx, id)
	if err != nil {
		return err
	}
	waiting := counts[models.InvQueued] + counts[models.InvSent] + counts[models.InvFailed] + counts[models.InvOpened] + counts[models.InvStarted]
	r, err := h.mailRenderer()
	if err != nil {
		return err
	}
	name, email := contactOf(CurrentStaff(c))
	msg, err := r.Render(models.MailKindReminder, "en", mail.Data{Name: "…", Title: info.Consultation.Title, Link: r.Link("…"),
		Deadline: mail.FormatDeadline(info.Deadline), ContactName: name, ContactEmail: email})
	if err != nil {
		return err
	}
	p := h.page(c, "invite.remind_title")
	p.Data = map[string]any{"Consultation": info.Consultation, "Waiting": waiting, "Message": msg}
	return h.render(c, http.StatusOK, "invitations/remind", p)
}

// RemindSend starts the reminder job.
func (h *Handler) RemindSend(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	name, email := contactOf(CurrentStaff(c))
	job, _, err := h.Store.StartReminders(c.Request().Context(), CurrentStaff(c), id, name, email)
	if err != nil {
		return err
	}
	h.flash(c, "invite.flash_reminders")
	return c.Redirect(http.StatusSeeOther, "/staff/jobs/"+strconv.FormatInt(job.ID, 10))
}

// RevokeInvitationForm is the revoke button of the status table.
func (h *Handler) RevokeInvitationForm(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	inv, err := h.Store.RevokeInvitation(c.Request().Context(), CurrentStaff(c), id)
	if err != nil {
		return err
	}
	h.flash(c, "invite.flash_revoked")
	return c.Redirect(http.StatusSeeOther, "/staff/consultations/"+strconv.FormatInt(inv.ConsultationID, 10)+"/invitations")
}

// ReissueInvitationForm is the reissue button of the status table.
func (h *Handler) ReissueInvitationForm(c echo.Context) error {
	inv, err := h.reissue(c)
	if err != nil {
		return err
	}
	h.flash(c, "invite.flash_reissued")
	return c.Redirect(http.StatusSeeOther, "/staff/consultations/"+strconv.FormatInt(inv.ConsultationID, 10)+"/invitations")
}

// JobPage shows a job's progress, with a plain link to refresh.
func (h *Handler) JobPage(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	j, err := h.Store.FindJob(c.Request().Context(), id)
	if err != nil {
		return err
	}
	p := h.page(c, "invite.job_title")
	pct := 100
	if j.Total > 0 {
		pct = j.Done * 100 / j.Total
	}
	p.Data = map[string]any{"Job": toJobView(j), "Percent": pct, "Finished": j.State == models.JobDone || j.State == models.JobFailed}
	return h.render(c, http.StatusOK, "invitations/job", p)
}

// "Email me my link again" -------------------------------------------------------

// Limits of the public link form: per client address and per email address.
const (
	linkPerIP      = 10
	linkPerAddress = 3
	linkWindow     = time.Hour
)

// LinkForm shows the "email me my link again" form.
func (h *Handler) LinkForm(c echo.Context) error {
	return h.render(c, http.StatusOK, "invitations/link", h.page(c, "invite.link_title"))
}

// LinkRequest answers the same whether or not the address is known. For
// a known address each live invitation gets a new link, mailed to that
// address (earlier links keep working: only their hashes are stored, so
// they cannot be sent again).
func (h *Handler) LinkRequest(c echo.Context) error {
	email := models.NormalizeEmail(c.FormValue("email"))
	if !models.ValidEmail(email) {
		p := h.page(c, "invite.link_title")
		p.Errors = models.FieldErrors{"email": "error.email_invalid"}
		p.Form = map[string]string{"email": c.FormValue("email")}
		return h.render(c, http.StatusUnprocessableEntity, "invitations/link", p)
	}
	ctx := c.Request().Context()
	for _, k := range []struct {
		key   string
		limit int
	}{{"link:ip:" + c.RealIP(), linkPerIP}, {"link:email:" + models.HashToken(email), linkPerAddress}} {
		ok, retry, err := h.Store.RateLimit(ctx, k.key, k.limit, linkWindow)
		if err != nil {
			return err
		}
		if !ok {
			return &APIError{Status: http.StatusTooManyRequests, Code: "rate_limited", Message: "error.rate_limited", RetryAfter: retry}
		}
	}
	r, err := h.mailRenderer()
	if err != nil {
		return err
	}
	from := mailFromContact(h)
	_, err = h.Store.ResendLinks(ctx, email, func(cons *models.Consultation) models.MailRender {
		info, ierr := h.Store.InvitationMailInfo(ctx, cons.ID)
		if ierr != nil {
			info = &models.MailInfo{Consultation: *cons}
		}
		return r.ForConsultation(info, from[0], from[1])
	})
	if err != nil {
		return err
	}
	p := h.page(c, "invite.link_title")
	p.Data = map[string]any{"Sent": true}
	return h.render(c, http.StatusOK, "invitations/link", p)
}

// mailFromContact is the contact named in "link again" messages: set by
// the server from FOCAL_MAIL_FROM (see SetMailContact), else none.
func mailFromContact(h *Handler) [2]string {
	if v, ok := mailContacts.Load(h); ok {
		return v.([2]string)
	}
	return [2]string{"", ""}
}

var mailContacts sync.Map // *Handler -> [2]string{name, email}

// SetMailContact records who messages not sent by a staff member name as
// the contact (the FOCAL_MAIL_FROM sender).
func (h *Handler) SetMailContact(name, email string) { mailContacts.Store(h, [2]string{name, email}) }
