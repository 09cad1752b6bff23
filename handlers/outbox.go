package handlers

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"focalpoint/models"
)

// The outbox (issue 4): every message the system produced, with its
// status (queued, sending, sent, failed, held = no SMTP server configured,
// not sent) and a retry action for failed and held ones. Organizers only:
// the bodies hold personal links.

var outboxStatuses = []string{models.MailQueued, models.MailSending, models.MailSent, models.MailFailed, models.MailHeld}

func outboxFilter(c echo.Context) (models.OutboxFilter, error) {
	pg, err := parsePaging(c)
	errs := models.FieldErrors{}
	var fe models.FieldErrors
	if errors.As(err, &fe) {
		errs = fe
	}
	f := models.OutboxFilter{To: strings.TrimSpace(c.QueryParam("to")), Status: c.QueryParam("status"), Kind: c.QueryParam("kind"),
		Limit: pg.PerPage, Offset: pg.Offset()}
	if v := c.QueryParam("consultation"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			errs.Add("consultation", "error.invalid_number")
		}
		f.ConsultationID = n
	}
	if f.Status != "" && !oneOf(f.Status, outboxStatuses) {
		errs.Add("status", "error.invalid_value")
	}
	if len(f.To) > 254 {
		errs.Add("to", "error.too_long")
	}
	return f, errs.Err()
}

// OutboxAPI is GET /api/v1/outbox?to=&consultation=&status=&kind=.
func (h *Handler) OutboxAPI(c echo.Context) error {
	f, err := outboxFilter(c)
	if err != nil {
		return err
	}
	list, total, err := h.Store.ListOutbox(c.Request().Context(), f)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, List[models.OutboxMessage]{Items: list, Total: total})
}

// RetryOutboxAPI is POST /api/v1/outbox/{id}/retry: a failed or held
// message is queued again.
func (h *Handler) RetryOutboxAPI(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	m, err := h.Store.RetryMail(c.Request().Context(), CurrentStaff(c), id)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, m)
}

// OutboxPage is the staff outbox with filters and retry buttons.
func (h *Handler) OutboxPage(c echo.Context) error {
	p := h.page(c, "outbox.title")
	f, err := outboxFilter(c)
	var fe models.FieldErrors
	if errors.As(err, &fe) {
		p.Errors = fe
		f = models.OutboxFilter{Limit: 50}
	}
	ctx := c.Request().Context()
	list, total, err := h.Store.ListOutbox(ctx, f)
	if err != nil {
		return err
	}
	counts, err := h.Store.OutboxCounts(ctx)
	if err != nil {
		return err
	}
	cons := ""
	if f.ConsultationID != 0 {
		cons = strconv.FormatInt(f.ConsultationID, 10)
	}
	p.Form = map[string]string{"to": f.To, "status": f.Status, "consultation": cons}
	page := f.Offset/max(f.Limit, 1) + 1
	q := c.Request().URL.Query()
	p.Data = map[string]any{"Messages": list, "Total": total, "Counts": counts, "Statuses": outboxStatuses,
		"Prev": pageLink(q, page-1, page > 1), "Next": pageLink(q, page+1, int64(f.Offset+len(list)) < total)}
	return h.render(c, http.StatusOK, "outbox/index", p)
}

// OutboxRetryForm is the retry button of the outbox page.
func (h *Handler) OutboxRetryForm(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	if _, err := h.Store.RetryMail(c.Request().Context(), CurrentStaff(c), id); err != nil {
		return err
	}
	h.flash(c, "outbox.flash_retried")
	return c.Redirect(http.StatusSeeOther, "/staff/outbox")
}

// OutboxReleaseHeldForm queues every held message (after an SMTP server
// has been configured).
func (h *Handler) OutboxReleaseHeldForm(c echo.Context) error {
	if _, err := h.Store.ReleaseHeld(c.Request().Context(), CurrentStaff(c)); err != nil {
		return err
	}
	h.flash(c, "outbox.flash_released")
	return c.Redirect(http.StatusSeeOther, "/staff/outbox")
}
