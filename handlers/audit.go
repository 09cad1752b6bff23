package handlers

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"focalpoint/models"
)

// auditItem is one entry of GET /api/v1/audit.
type auditItem struct {
	At     time.Time       `json:"at"`
	Actor  string          `json:"actor"`
	Action string          `json:"action"`
	Target string          `json:"target"`
	Detail json.RawMessage `json:"detail"`
}

func toAuditItem(e models.AuditEntry) auditItem {
	d := json.RawMessage(`{}`)
	if e.Detail != "" {
		if json.Valid([]byte(e.Detail)) {
			d = json.RawMessage(e.Detail)
		} else {
			d, _ = json.Marshal(e.Detail)
		}
	}
	return auditItem{At: e.At.UTC(), Actor: e.Actor, Action: e.Action, Target: e.Target, Detail: d}
}

// parseAuditFilter reads ?action=&actor=&since=&until= and paging.
func parseAuditFilter(c echo.Context) (models.AuditFilter, Paging, error) {
	errs := models.FieldErrors{}
	f := models.AuditFilter{Action: strings.TrimSpace(c.QueryParam("action")), Actor: strings.TrimSpace(c.QueryParam("actor"))}
	if len(f.Action) > 100 {
		errs.Add("action", "error.too_long")
	}
	if len(f.Actor) > 320 {
		errs.Add("actor", "error.too_long")
	}
	for _, k := range []string{"since", "until"} {
		v := strings.TrimSpace(c.QueryParam(k))
		if v == "" {
			continue
		}
		t, ok := parseAuditTime(v, k == "until")
		if !ok {
			errs.Add(k, "audit.error_time")
			continue
		}
		if k == "since" {
			f.Since = &t
		} else {
			f.Until = &t
		}
	}
	pg, err := parsePaging(c)
	if fe, ok := err.(models.FieldErrors); ok {
		for k, v := range fe {
			errs.Add(k, v)
		}
	}
	f.Limit, f.Offset = pg.PerPage, pg.Offset()
	return f, pg, errs.Err()
}

// parseAuditTime accepts RFC 3339 or a date; a date as "until" includes
// that whole day.
func parseAuditTime(v string, until bool) (time.Time, bool) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.UTC(), true
	}
	if t, err := time.Parse("2006-01-02", v); err == nil {
		if until {
			t = t.AddDate(0, 0, 1)
		}
		return t, true
	}
	return time.Time{}, false
}

// AuditAPI is GET /api/v1/audit (admin).
func (h *Handler) AuditAPI(c echo.Context) error {
	f, _, err := parseAuditFilter(c)
	if err != nil {
		return err
	}
	list, total, err := h.Store.ListAudit(c.Request().Context(), f)
	if err != nil {
		return err
	}
	out := List[auditItem]{Items: make([]auditItem, 0, len(list)), Total: total}
	for _, e := range list {
		out.Items = append(out.Items, toAuditItem(e))
	}
	return c.JSON(http.StatusOK, out)
}

// auditRow is one line of the audit page.
type auditRow struct {
	At     string
	Actor  string
	Action string
	Target string
	Detail string
}

// AuditPage is GET /staff/audit (admin): the log with filters.
func (h *Handler) AuditPage(c echo.Context) error {
	ctx := c.Request().Context()
	p := h.page(c, "audit.title")
	form := map[string]string{}
	for _, k := range []string{"action", "actor", "since", "until"} {
		form[k] = c.QueryParam(k)
	}
	p.Form = form
	f, pg, err := parseAuditFilter(c)
	status := http.StatusOK
	var rows []auditRow
	var total int64
	if fe, ok := err.(models.FieldErrors); ok {
		p.Errors, status = fe, http.StatusUnprocessableEntity
	} else if err != nil {
		return err
	} else {
		list, n, err := h.Store.ListAudit(ctx, f)
		if err != nil {
			return err
		}
		total = n
		for _, e := range list {
			rows = append(rows, auditRow{At: e.At.UTC().Format("2006-01-02 15:04:05 UTC"), Actor: e.Actor, Action: e.Action, Target: e.Target, Detail: e.Detail})
		}
	}
	actions, err := h.Store.AuditActions(ctx)
	if err != nil {
		return err
	}
	q := url.Values{}
	for k, v := range form {
		if v != "" {
			q.Set(k, v)
		}
	}
	q.Set("per_page", strconv.Itoa(pg.PerPage))
	pageLink := func(n int) string {
		q.Set("page", strconv.Itoa(n))
		return "/staff/audit?" + q.Encode()
	}
	data := map[string]any{"Rows": rows, "Total": total, "Actions": actions, "Page": pg.Page}
	if pg.Page > 1 {
		data["Prev"] = pageLink(pg.Page - 1)
	}
	if int64(pg.Page*pg.PerPage) < total {
		data["Next"] = pageLink(pg.Page + 1)
	}
	p.Data = data
	return h.render(c, status, "audit/list", p)
}
