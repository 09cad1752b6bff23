package handlers

import (
	"bytes"
	"fmt"
	"html/template"
	"io"
	"net/http"
	"net/url"
	"path"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"focalpoint/charts"
	"focalpoint/i18n"
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

// ---- Dashboard, printable report and chart downloads (analyst pages) ----

// figure is one chart with its data table.
type figure struct {
	Num      int
	ID       string // chart id: gender, institution_type, region, q{ID}
	Title    string
	Caption  string
	N        int64
	Question *models.QuestionResult
	Values   []models.ValueCount // the data table (and the bars)
	Chart    charts.Chart
	SVG      template.HTML
}

// synthView is what the synthesis pages show.
type synthView struct {
	C          *models.Consultation
	Rounds     []models.Round
	Filter     models.SynthesisFilter
	Query      string // the filter as a query string, for links
	S          *models.Synthesis
	Demo       []figure
	Questions  []figure
	Open       []models.QuestionResult
	ByKind     []models.RateRow
	ByState    []models.RateRow
	Cross      *models.CrossTab
	XRow, XCol string
	Dims       []string
	Shared     bool
	Genders    []string
	Insts      []string
	Regions    []string
	Countries  []models.Country
	Codes      []models.Code
	// QCross is a closed question's answers by a dimension (?xq=&xdim=).
	QCross     *models.CrossTab
	QCrossCols []string // column labels
	QCrossQ    *models.QuestionResult
	XQ         int64
	XDim       string
	// Label translates a demographic value (dimension, value).
	Label func(dim, v string) string
}

// RatePercent is the response rate as a percent with one decimal.
func (v *synthView) RatePercent() string {
	return strconv.FormatFloat(v.S.ResponseRate*100, 'f', 0, 64)
}

// Link is a page of this consultation (p after /staff/consultations/{id})
// with the current filter.
func (v *synthView) Link(p string) string {
	u := "/staff/consultations/" + strconv.FormatInt(v.C.ID, 10) + p
	if v.Query != "" {
		u += "?" + v.Query
	}
	return u
}

// QCrossReportLink is the printable report with the question cross-tab.
func (v *synthView) QCrossReportLink() string {
	u := v.Link("/synthesis/report")
	sep := "?"
	if v.Query != "" {
		sep = "&"
	}
	return u + sep + "xq=" + strconv.FormatInt(v.XQ, 10) + "&xdim=" + url.QueryEscape(v.XDim)
}

// APILink is the synthesis API call with the current filter.
func (v *synthView) APILink() string {
	u := "/api/v1/consultations/" + strconv.FormatInt(v.C.ID, 10) + "/synthesis"
	if v.Query != "" {
		u += "?" + v.Query
	}
	return u
}

// IsState reports a State questionnaire.
func (v *synthView) IsState() bool { return v.C.Unit == models.UnitState }

// DemoLabel translates a demographic value for the templates.
func (h *Handler) demoLabelFunc(l *i18n.Localizer) func(dim, v string) string {
	return func(dim, v string) string { return demoLabel(l, dim, v) }
}

// synthQuery is the filter as a query string (without empty values).
func synthQuery(f models.SynthesisFilter) string {
	v := url.Values{}
	if f.RoundID != 0 {
		v.Set("round", strconv.FormatInt(f.RoundID, 10))
	}
	for k, x := range map[string]string{"gender": f.Gender, "institution_type": f.InstitutionType, "region": f.Region, "country": f.Country} {
		if x != "" {
			v.Set(k, x)
		}
	}
	return v.Encode()
}

// demoLabel translates a demographic value.
func demoLabel(l interface{ T(string, ...any) string }, dim, v string) string {
	if dim == models.DimRegion {
		if v == models.RegionOther {
			return l.T("synthesis.region_other")
		}
		return v
	}
	return l.T("synthesis." + dim + "." + v)
}

// buildSynthesis computes the synthesis and its figures; shared applies
// small-cell suppression (report, downloads).
func (h *Handler) buildSynthesis(c echo.Context, shared bool) (*synthView, error) {
	id, err := paramID(c, "id")
	if err != nil {
		return nil, err
	}
	ctx := c.Request().Context()
	cons, err := h.Store.SynthesisConsultation(ctx, id)
	if err != nil {
		return nil, err
	}
	f, err := synthesisFilter(c)
	if err != nil {
		return nil, err
	}
	sy, err := h.Store.Synthesis(ctx, id, f)
	if err != nil {
		return nil, err
	}
	if shared {
		sy.SuppressForSharing(int64(cons.MinCellSize), f.Active())
	}
	rounds, err := h.Store.SynthesisRounds(ctx, id)
	if err != nil {
		return nil, err
	}
	l := h.localizer(c)
	v := &synthView{C: cons, Rounds: rounds, Filter: f, Query: synthQuery(f), S: sy, Shared: shared,
		Genders: models.Genders, Insts: models.InstitutionTypes, Regions: models.Regions, Countries: models.Countries(),
		Dims: []string{models.DimGender, models.DimInstitutionType, models.DimRegion}, Label: h.demoLabelFunc(l)}
	mark := l.T("synthesis.suppressed_mark")
	num := 0
	add := func(list *[]figure, fig figure) {
		num++
		fig.Num = num
		bars := make([]charts.Bar, 0, len(fig.Values))
		for _, vc := range fig.Values {
			bars = append(bars, charts.Bar{Label: vc.Label, Count: vc.Count, Percent: vc.Percent, Suppressed: vc.Suppressed})
		}
		fig.Chart = charts.Chart{ID: "fig-" + fig.ID, Title: fig.Title, Caption: fig.Caption, SuppressedMark: mark, Bars: bars}
		fig.SVG = template.HTML(charts.SVGString(fig.Chart)) // #nosec: built with escaping by charts
		*list = append(*list, fig)
	}
	caption := l.T("synthesis.caption_n", "N", sy.Respondents)
	demo := []struct {
		dim  string
		list []models.ValueCount
	}{{models.DimGender, sy.Demographics.Gender}, {models.DimInstitutionType, sy.Demographics.InstitutionType}, {models.DimRegion, sy.Demographics.Region}}
	for _, d := range demo {
		if len(d.list) == 0 {
			continue
		}
		vals := append([]models.ValueCount(nil), d.list...)
		for i := range vals {
			vals[i].Label = demoLabel(l, d.dim, vals[i].Value)
		}
		add(&v.Demo, figure{ID: d.dim, Title: l.T("synthesis.by_" + d.dim), Caption: caption, N: sy.Respondents, Values: vals})
	}
	for i := range sy.Questions {
		q := &sy.Questions[i]
		capt := l.T("synthesis.caption_question", "N", q.N, "NoReply", q.NoReply)
		switch {
		case q.Kind == models.QMatrixYesNo:
			var vals []models.ValueCount
			for _, row := range q.Rows {
				for _, vc := range row.Counts {
					vc.Label = row.Label + " — " + synthChoiceLabel(l, vc)
					vals = append(vals, vc)
				}
			}
			add(&v.Questions, figure{ID: "q" + strconv.FormatInt(q.ID, 10), Title: q.Prompt, Caption: l.T("synthesis.caption_n", "N", q.N), N: q.N, Question: q, Values: vals})
		case q.Closed():
			vals := append([]models.ValueCount(nil), q.Counts...)
			for j := range vals {
				vals[j].Label = synthChoiceLabel(l, vals[j])
			}
			add(&v.Questions, figure{ID: "q" + strconv.FormatInt(q.ID, 10), Title: q.Prompt, Caption: capt, N: q.N, Question: q, Values: vals})
		case q.IsText():
			v.Open = append(v.Open, *q)
		}
	}
	return v, nil
}

func synthChoiceLabel(l interface{ T(string, ...any) string }, vc models.ValueCount) string {
	if vc.Label != "" {
		return vc.Label
	}
	switch vc.Value {
	case "yes", "no":
		return l.T("synthesis.answer_" + vc.Value)
	}
	if c, ok := models.FindCountry(vc.Value); ok {
		return c.Name
	}
	return vc.Value
}

// crossDims reads ?xrow=&xcol= (defaults gender × institution type).
func crossDims(c echo.Context) (string, string) {
	ok := func(d string) bool {
		return d == models.DimGender || d == models.DimInstitutionType || d == models.DimRegion
	}
	r, k := c.QueryParam("xrow"), c.QueryParam("xcol")
	if !ok(r) {
		r = models.DimGender
	}
	if !ok(k) || k == r {
		k = models.DimInstitutionType
		if r == k {
			k = models.DimRegion
		}
	}
	return r, k
}

// SynthesisPage is the live dashboard: GET /staff/consultations/{id}/synthesis.
func (h *Handler) SynthesisPage(c echo.Context) error {
	return h.synthesisPage(c, false)
}

// SynthesisReport is the printable report: figures numbered, small cells
// suppressed.
func (h *Handler) SynthesisReport(c echo.Context) error {
	return h.synthesisPage(c, true)
}

func (h *Handler) synthesisPage(c echo.Context, report bool) error {
	v, err := h.buildSynthesis(c, report)
	var errs models.FieldErrors
	if fe, ok := err.(models.FieldErrors); ok {
		// Show the errors above the synthesis with no filter applied.
		errs = fe
		for _, k := range []string{"round", "gender", "institution_type", "region", "country"} {
			c.QueryParams().Del(k)
		}
		v, err = h.buildSynthesis(c, report)
	}
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	v.XRow, v.XCol = crossDims(c)
	v.Cross, err = h.Store.CrossTab(ctx, v.C.ID, v.Filter, v.XRow, v.XCol)
	if err != nil {
		return err
	}
	if report && v.C.Unit == models.UnitPerson {
		v.Cross.Suppress(int64(v.C.MinCellSize))
	}
	v.XDim = c.QueryParam("xdim")
	if v.XDim != models.DimInstitutionType && v.XDim != models.DimRegion {
		v.XDim = models.DimGender
	}
	if xq, _ := strconv.ParseInt(c.QueryParam("xq"), 10, 64); xq > 0 {
		t, opts, err := h.Store.QuestionCrossTab(ctx, v.C.ID, v.Filter, xq, v.XDim)
		if fe, ok := err.(models.FieldErrors); ok {
			if errs == nil {
				errs = models.FieldErrors{}
			}
			for k, m := range fe {
				errs.Add(k, m)
			}
		} else if err != nil {
			return err
		} else {
			v.XQ, v.QCross = xq, t
			l := h.localizer(c)
			for _, o := range opts {
				v.QCrossCols = append(v.QCrossCols, synthChoiceLabel(l, models.ValueCount{Value: o.Value, Label: o.Label}))
			}
			v.QCrossCols = append(v.QCrossCols, l.T("synthesis.no_reply"))
			for i := range v.S.Questions {
				if v.S.Questions[i].ID == xq {
					v.QCrossQ = &v.S.Questions[i]
				}
			}
			if report && v.C.Unit == models.UnitPerson {
				t.Suppress(int64(v.C.MinCellSize))
			}
		}
	}
	if !report {
		if v.ByKind, v.ByState, err = h.Store.ResponseRates(ctx, v.C.ID); err != nil {
			return err
		}
	}
	p := h.page(c, "synthesis.title")
	name := "synthesis/dashboard"
	if report {
		p.Title, name = "synthesis.report_title", "synthesis/report"
	}
	p.Data = v
	status := http.StatusOK
	if errs != nil {
		p.Errors, status = errs, http.StatusUnprocessableEntity
	}
	return h.render(c, status, name, p)
}

// SynthesisChart downloads one figure as SVG or PNG:
// GET /staff/consultations/{id}/synthesis/charts/{chart}.{svg|png}. Small
// cells are suppressed (a download is meant for sharing).
func (h *Handler) SynthesisChart(c echo.Context) error {
	name := c.Param("chart")
	ext := path.Ext(name)
	if ext != ".svg" && ext != ".png" {
		return models.ErrNotFound
	}
	name = strings.TrimSuffix(name, ext)
	v, err := h.buildSynthesis(c, true)
	if err != nil {
		return err
	}
	var fig *figure
	for _, list := range [][]figure{v.Demo, v.Questions} {
		for i := range list {
			if list[i].ID == name {
				fig = &list[i]
			}
		}
	}
	if fig == nil {
		return models.ErrNotFound
	}
	fig.Chart.ID = "chart"
	res := c.Response()
	res.Header().Set("Cache-Control", "no-store")
	res.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="consultation-%d-%s%s"`, v.C.ID, name, ext))
	if ext == ".svg" {
		res.Header().Set(echo.HeaderContentType, "image/svg+xml")
		res.WriteHeader(http.StatusOK)
		_, err := io.WriteString(res, `<?xml version="1.0" encoding="UTF-8"?>`+"\n"+charts.SVGString(fig.Chart))
		return err
	}
	var buf bytes.Buffer
	if err := charts.PNG(&buf, fig.Chart); err != nil {
		return err
	}
	return c.Blob(http.StatusOK, "image/png", buf.Bytes())
}
