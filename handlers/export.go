package handlers

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"focalpoint/export"
	"focalpoint/models"
)

// exportRequest is what an export call asks for.
type exportRequest struct {
	Format string
	Round  int64
	BOM    bool
	Reason string
}

// maxReasonLen bounds the reason of an identified export.
const maxReasonLen = 1000

// parseExportRequest reads format, round and bom from get (a query or form
// lookup); errors name the field.
func parseExportRequest(get func(string) string) (exportRequest, error) {
	r := exportRequest{Format: strings.ToLower(strings.TrimSpace(get("format")))}
	errs := models.FieldErrors{}
	if r.Format == "" {
		r.Format = export.CSV
	}
	if !export.Valid(r.Format) {
		errs.Add("format", "export.error_format")
	}
	if v := strings.TrimSpace(get("round")); v != "" && v != "all" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			errs.Add("round", "export.error_round")
		}
		r.Round = n
	}
	switch strings.ToLower(get("bom")) {
	case "", "false", "0":
	case "true", "1", "on":
		r.BOM = true
	default:
		errs.Add("bom", "export.error_bom")
	}
	return r, errs.Err()
}

// ExportAPI is GET /api/v1/consultations/{id}/export (analyst): the
// anonymised download.
func (h *Handler) ExportAPI(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	req, err := parseExportRequest(c.QueryParam)
	if err != nil {
		return err
	}
	return h.streamExport(c, id, req, false)
}

type identifiedRequest struct {
	Format string `json:"format"`
	Round  any    `json:"round"`
	BOM    bool   `json:"bom"`
	Reason string `json:"reason"`
}

// IdentifiedExportAPI is POST /api/v1/consultations/{id}/export/identified
// (admin): names and emails included, a reason required, audited.
func (h *Handler) IdentifiedExportAPI(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	var body identifiedRequest
	if err := bindJSON(c, &body); err != nil {
		return err
	}
	round := ""
	switch v := body.Round.(type) {
	case nil:
	case string:
		round = v
	default:
		round = fmt.Sprint(v)
	}
	req, err := parseIdentified(map[string]string{"format": body.Format, "round": round, "bom": strconv.FormatBool(body.BOM), "reason": body.Reason})
	if err != nil {
		return err
	}
	return h.streamExport(c, id, req, true)
}

func parseIdentified(m map[string]string) (exportRequest, error) {
	req, err := parseExportRequest(func(k string) string { return m[k] })
	errs := models.FieldErrors{}
	var fe models.FieldErrors
	if errors.As(err, &fe) {
		errs = fe
	}
	req.Reason = strings.TrimSpace(m["reason"])
	switch {
	case req.Reason == "":
		errs.Add("reason", "export.error_reason_required")
	case utf8.RuneCountInString(req.Reason) > maxReasonLen || !utf8.ValidString(req.Reason):
		errs.Add("reason", "error.too_long")
	}
	return req, errs.Err()
}

// streamExport plans the export, then streams it to the client and writes
// the audit entry once the stream has ended (with the rows counted on the
// way). Errors before the first byte are ordinary error answers; a failure
// mid-stream aborts the connection so a truncated file is not mistaken for
// a whole one.
func (h *Handler) streamExport(c echo.Context, consultationID int64, req exportRequest, identified bool) error {
	defer tightenMemory()()
	ctx := c.Request().Context()
	plan, err := h.Store.PlanExport(ctx, consultationID, models.ExportOptions{RoundID: req.Round, Identified: identified})
	if err != nil {
		return err
	}
	if req.Format == export.XLSX {
		n, err := h.Store.CountExportRows(ctx, plan)
		if err != nil {
			return err
		}
		if n > export.MaxXLSXRows {
			return models.FieldErrors{"format": "export.error_xlsx_rows"}
		}
	}
	res := c.Response()
	res.Header().Set(echo.HeaderContentType, export.ContentType(req.Format))
	res.Header().Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="%s"`, exportFilename(plan, req.Format, identified, h.Store.Now().Format("2006-01-02"))))
	res.Header().Set("Cache-Control", "no-store")
	res.Header().Set("X-Content-Type-Options", "nosniff")
	rows, err := export.Stream(ctx, h.Store, plan, req.Format, res, export.Options{BOM: req.BOM})
	if err != nil && !res.Committed {
		// Nothing was sent: an ordinary error answer, and nothing to audit.
		for _, k := range []string{echo.HeaderContentType, echo.HeaderContentDisposition} {
			res.Header().Del(k)
		}
		return err
	}
	actor := CurrentStaff(c)
	// The entry is written even when the client went away: what was sent
	// may have been received. The request's context may be cancelled by now.
	actx := context.WithoutCancel(ctx)
	if aerr := h.Store.RecordExport(actx, actor, plan, req.Format, rows, req.Reason, err != nil); aerr != nil {
		h.Log.Error("audit export", "err", aerr, "request_id", res.Header().Get(echo.HeaderXRequestID))
	}
	if err != nil {
		h.Log.Warn("export stream ended early", "err", err, "rows", rows, "request_id", res.Header().Get(echo.HeaderXRequestID))
		panic(http.ErrAbortHandler)
	}
	return nil
}

func exportFilename(p *models.ExportPlan, format string, identified bool, day string) string {
	round := "all-rounds"
	if p.RoundID != 0 {
		round = "round-" + strconv.FormatInt(p.RoundID, 10)
	}
	kind := "anonymised"
	if identified {
		kind = "identified"
	}
	return fmt.Sprintf("consultation-%d-%s-%s-%s.%s", p.Consultation.ID, round, kind, day, format)
}

// codebookResponse is the codebook of an export.
type codebookResponse struct {
	Consultation int64                 `json:"consultation"`
	Unit         string                `json:"unit"`
	MinCellSize  int                   `json:"min_cell_size"`
	Round        *int64                `json:"round"`
	Formats      []string              `json:"formats"`
	Columns      []models.ExportColumn `json:"columns"`
}

// CodebookAPI is GET /api/v1/consultations/{id}/codebook (analyst): the
// columns of the export with their labels and allowed values.
func (h *Handler) CodebookAPI(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	req, err := parseExportRequest(c.QueryParam)
	if err != nil {
		return err
	}
	plan, err := h.Store.PlanExport(c.Request().Context(), id, models.ExportOptions{RoundID: req.Round})
	if err != nil {
		return err
	}
	out := codebookResponse{Consultation: plan.Consultation.ID, Unit: plan.Consultation.Unit,
		MinCellSize: plan.Consultation.MinCellSize, Formats: export.Formats, Columns: plan.Columns}
	if plan.RoundID != 0 {
		out.Round = &plan.RoundID
	}
	return c.JSON(http.StatusOK, out)
}

// ExportPage is GET /staff/consultations/{id}/export: the download buttons.
func (h *Handler) ExportPage(c echo.Context) error {
	return h.exportPage(c, http.StatusOK, nil, nil)
}

func (h *Handler) exportPage(c echo.Context, status int, errs models.FieldErrors, form map[string]string) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	plan, err := h.Store.PlanExport(c.Request().Context(), id, models.ExportOptions{})
	if err != nil {
		return err
	}
	n, err := h.Store.CountExportRows(c.Request().Context(), plan)
	if err != nil {
		return err
	}
	p := h.page(c, "export.title")
	p.Errors, p.Form = errs, form
	type cbRow struct{ Name, Label, Type, Values, Note string }
	cb := make([]cbRow, 0, len(plan.Columns))
	for _, col := range plan.Columns {
		cb = append(cb, cbRow{col.Name, col.Label, col.Type, export.ValuesText(col.Values), col.Note})
	}
	p.Data = map[string]any{"Plan": plan, "Rows": n, "Formats": export.Formats, "Codebook": cb,
		"CanIdentify": p.Staff != nil && p.Staff.Can(models.RoleAdmin)}
	return h.render(c, status, "export/show", p)
}

// IdentifiedExportForm is POST /staff/consultations/{id}/export/identified
// (admin, CSRF-checked form).
func (h *Handler) IdentifiedExportForm(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	form := map[string]string{"format": c.FormValue("format"), "round": c.FormValue("round"), "bom": c.FormValue("bom"), "reason": c.FormValue("reason")}
	req, err := parseIdentified(form)
	var fe models.FieldErrors
	if errors.As(err, &fe) {
		return h.exportPage(c, http.StatusUnprocessableEntity, fe, form)
	}
	if err != nil {
		return err
	}
	return h.streamExport(c, id, req, true)
}
