package handlers

import (
	"html/template"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"focalpoint/models"
)

// The markup of one question, built in Go. It used to be the
// "respond-question" template partial; evaluated through reflection for
// every option, row and attribute it was half the CPU of a respondent's
// page. The output is the partial's, byte for byte except whitespace
// (TestQuestionHTMLMatchesTemplate compares them for every kind), with the
// same escaping as html/template: every value from the database or the
// respondent goes through escapeHTML, in text, RCDATA (textarea) and
// quoted attribute values alike.

// escapeHTML writes s escaped as html/template's HTML escaper does (for
// text, textarea content and quoted attribute values): & < > " ' + and
// NUL.
func escapeHTML(b *strings.Builder, s string) {
	last := 0
	for i := 0; i < len(s); i++ {
		var rep string
		switch s[i] {
		case '&':
			rep = "&amp;"
		case '<':
			rep = "&lt;"
		case '>':
			rep = "&gt;"
		case '"':
			rep = "&#34;"
		case '\'':
			rep = "&#39;"
		case '+':
			rep = "&#43;"
		case 0:
			rep = "\uFFFD"
		default:
			continue
		}
		b.WriteString(s[last:i])
		b.WriteString(rep)
		last = i + 1
	}
	b.WriteString(s[last:])
}

// HTML is the question's markup (the "respond-question" partial calls it).
func (v QuestionView) HTML() template.HTML {
	var b strings.Builder
	b.Grow(1024 + len(v.Text) + v.countryBytes())
	v.writeHTML(&b)
	return template.HTML(b.String()) //nolint:gosec // every value is escaped in writeHTML
}

// questionsHTML is the markup of a list of questions.
func questionsHTML(views []QuestionView) template.HTML {
	n := 0
	for i := range views {
		n += 1024 + len(views[i].Text) + views[i].countryBytes()
	}
	var b strings.Builder
	b.Grow(n)
	for i := range views {
		views[i].writeHTML(&b)
	}
	return template.HTML(b.String()) //nolint:gosec // every value is escaped in writeHTML
}

// attr writes ` name="value"` with value escaped.
func attr(b *strings.Builder, name, value string) {
	b.WriteByte(' ')
	b.WriteString(name)
	b.WriteString(`="`)
	escapeHTML(b, value)
	b.WriteByte('"')
}

func (v QuestionView) writeHTML(b *strings.Builder) {
	q := v.Q
	f := v.Field // "q" + digits: nothing to escape, but escaped anyway below where cheap
	b.WriteString(`<div class="question`)
	if v.Error != "" {
		b.WriteString(` invalid`)
	}
	b.WriteString(`" data-qid="`)
	b.WriteString(strconv.FormatInt(q.ID, 10))
	b.WriteString(`" data-kind="`)
	escapeHTML(b, q.Kind)
	b.WriteString("\">\n")
	switch q.Kind {
	case models.QLongText, models.QShortText, models.QNumber, models.QCountry:
		b.WriteString(`<label for="`)
		escapeHTML(b, f)
		b.WriteString(`" class="prompt">`)
		v.writePrompt(b)
		b.WriteString("</label>\n")
		v.writeHintAndError(b)
		switch q.Kind {
		case models.QLongText:
			b.WriteString(`<textarea`)
			attr(b, "id", f)
			attr(b, "name", f)
			b.WriteString(` dir="auto" maxlength="100000" rows="8"`)
			v.writeDisabled(b)
			v.writeDescribedBy(b)
			b.WriteByte('>')
			escapeHTML(b, v.Text)
			b.WriteString("</textarea>\n")
		case models.QShortText:
			b.WriteString(`<input type="text"`)
			attr(b, "id", f)
			attr(b, "name", f)
			b.WriteString(` dir="auto" maxlength="100000"`)
			attr(b, "value", v.Text)
			v.writeDisabled(b)
			v.writeDescribedBy(b)
			b.WriteString(">\n")
		case models.QNumber:
			b.WriteString(`<input type="text" inputmode="decimal"`)
			attr(b, "id", f)
			attr(b, "name", f)
			attr(b, "value", v.Text)
			v.writeDisabled(b)
			v.writeDescribedBy(b)
			b.WriteString(">\n")
		default: // country
			b.WriteString(`<select`)
			attr(b, "id", f)
			attr(b, "name", f)
			v.writeDisabled(b)
			v.writeDescribedBy(b)
			b.WriteString(">\n<option value=\"\">")
			escapeHTML(b, v.T("respond.choose_country"))
			b.WriteString("</option>\n")
			writeCountryOptions(b, v.L, v.Text)
			b.WriteString("\n</select>\n")
		}
	default:
		b.WriteString(`<fieldset`)
		attr(b, "id", f)
		v.writeDescribedBy(b)
		b.WriteString(">\n<legend class=\"prompt\">")
		v.writePrompt(b)
		b.WriteString("</legend>\n")
		v.writeHintAndError(b)
		switch q.Kind {
		case models.QSingleChoice, models.QYesNo, models.QMultiChoice:
			typ := "radio"
			if q.Kind == models.QMultiChoice {
				typ = "checkbox"
			}
			for i, o := range v.Options {
				id := f + "-" + strconv.Itoa(i)
				b.WriteString(`<div class="choice"><input type="`)
				b.WriteString(typ)
				b.WriteByte('"')
				attr(b, "id", id)
				attr(b, "name", f)
				attr(b, "value", o.Value)
				if v.Selected[o.Value] {
					b.WriteString(" checked")
				}
				v.writeDisabled(b)
				b.WriteString("> <label")
				attr(b, "for", id)
				b.WriteString(` dir="auto">`)
				escapeHTML(b, o.Label)
				b.WriteString("</label></div>\n")
			}
		case models.QScale:
			b.WriteString(`<div class="scale">`)
			for i, s := range v.ScaleSteps {
				id := f + "-" + strconv.Itoa(i)
				b.WriteString(`<span class="choice"><input type="radio"`)
				attr(b, "id", id)
				attr(b, "name", f)
				attr(b, "value", s)
				if v.Selected[s] {
					b.WriteString(" checked")
				}
				v.writeDisabled(b)
				b.WriteString("> <label")
				attr(b, "for", id)
				b.WriteByte('>')
				escapeHTML(b, s)
				b.WriteString("</label></span>")
			}
			b.WriteString("</div>\n")
		case models.QMatrixYesNo:
			yes, no := v.T("respond.yes"), v.T("respond.no")
			b.WriteString("<table class=\"matrix\">\n<thead><tr><th scope=\"col\"><span class=\"visually-hidden\">")
			escapeHTML(b, v.T("respond.matrix_row"))
			b.WriteString(`</span></th><th scope="col">`)
			escapeHTML(b, yes)
			b.WriteString(`</th><th scope="col">`)
			escapeHTML(b, no)
			b.WriteString("</th></tr></thead>\n<tbody>\n")
			for i, r := range v.Rows {
				rf := v.RowField(i)
				val := v.Matrix[r.Value]
				b.WriteString(`<tr><th scope="row"`)
				attr(b, "id", rf+"-label")
				b.WriteString(` dir="auto">`)
				escapeHTML(b, r.Label)
				b.WriteString("</th>\n")
				for _, c := range [2]struct{ value, label string }{{"yes", yes}, {"no", no}} {
					b.WriteString(`<td><input type="radio"`)
					attr(b, "id", rf+"-"+c.value)
					attr(b, "name", rf)
					b.WriteString(` value="`)
					b.WriteString(c.value)
					b.WriteByte('"')
					attr(b, "data-row", r.Value)
					attr(b, "aria-labelledby", rf+"-label "+rf+"-"+c.value+"-label")
					if val == c.value {
						b.WriteString(" checked")
					}
					v.writeDisabled(b)
					b.WriteString("> <label")
					attr(b, "for", rf+"-"+c.value)
					attr(b, "id", rf+"-"+c.value+"-label")
					b.WriteString(` class="visually-hidden">`)
					escapeHTML(b, c.label)
					b.WriteString("</label></td>")
					if c.value == "no" {
						b.WriteString("</tr>")
					}
					b.WriteByte('\n')
				}
			}
			b.WriteString("</tbody>\n</table>\n")
		}
		b.WriteString("</fieldset>\n")
	}
	b.WriteString("</div>\n")
}

// writePrompt writes the number, the prompt and the required mark.
func (v QuestionView) writePrompt(b *strings.Builder) {
	b.WriteString(`<span class="qnum">`)
	b.WriteString(strconv.Itoa(v.Number))
	b.WriteString(`.</span> <span dir="auto">`)
	escapeHTML(b, v.Q.Prompt)
	b.WriteString("</span>")
	if v.Q.Required {
		b.WriteString(` <span class="req">`)
		escapeHTML(b, v.T("form.required"))
		b.WriteString("</span>")
	}
}

func (v QuestionView) writeHintAndError(b *strings.Builder) {
	if v.Q.Help != "" {
		b.WriteString(`<p class="hint"`)
		attr(b, "id", v.Field+"-hint")
		b.WriteString(` dir="auto">`)
		escapeHTML(b, v.Q.Help)
		b.WriteString("</p>\n")
	}
	if v.Error != "" {
		b.WriteString(`<p class="field-error"`)
		attr(b, "id", v.Field+"-error")
		b.WriteByte('>')
		escapeHTML(b, v.Error)
		b.WriteString("</p>\n")
	}
}

func (v QuestionView) writeDisabled(b *strings.Builder) {
	if v.Preview {
		b.WriteString(" disabled")
	}
}

// writeDescribedBy ties the hint and the error to the control.
func (v QuestionView) writeDescribedBy(b *strings.Builder) {
	if v.Q.Help != "" || v.Error != "" {
		b.WriteString(` aria-describedby="`)
		if v.Q.Help != "" {
			escapeHTML(b, v.Field)
			b.WriteString("-hint")
		}
		if v.Error != "" {
			b.WriteByte(' ')
			escapeHTML(b, v.Field)
			b.WriteString("-error")
		}
		b.WriteByte('"')
	}
	if v.Error != "" {
		b.WriteString(` aria-invalid="true"`)
	}
}

// Small caches keyed by content, so they never go stale: a changed
// description or option list is a new key. Each is emptied when it grows
// past cacheLimit entries.
const cacheLimit = 4096

type contentCache[V any] struct {
	m sync.Map
	n atomic.Int64
}

func (c *contentCache[V]) get(key string, build func(string) V) V {
	if v, ok := c.m.Load(key); ok {
		return v.(V)
	}
	v := build(key)
	if c.n.Add(1) > cacheLimit {
		c.m.Clear()
		c.n.Store(0)
	}
	c.m.Store(key, v)
	return v
}

var (
	descriptions contentCache[template.HTML]
	choiceLists  contentCache[[]models.Choice]
)

// descriptionHTML is RenderMarkdown of a consultation's description
// (Markdown, then sanitised), once per text rather than once per page.
func descriptionHTML(src string) template.HTML { return descriptions.get(src, RenderMarkdown) }

// cachedChoices decodes a question's options or rows (JSON) once per
// text. The slice is shared: callers must not modify it.
func cachedChoices(js string) []models.Choice {
	return choiceLists.get(js, func(s string) []models.Choice {
		q := models.Question{Options: s}
		return q.ChoiceListRaw()
	})
}

// questionsTopHTML is the top of a questions page below the header: the
// round's title, its deadline, the submission status and the notice of a
// stale save. Built in Go like the questions (it was the
// respond/questions template; TestQuestionsPageMatchesTemplate in server
// compares the two).
func questionsTopHTML(p *Page, j *models.Journey, notice string, page int) template.HTML {
	var b strings.Builder
	b.Grow(1024)
	b.WriteString(`<h1 dir="auto">`)
	if j.Round != nil {
		escapeHTML(&b, j.Round.Title)
	}
	b.WriteString("</h1>\n")
	writeDeadline(&b, p, j.Round)
	if j.Status() == models.ResponseSubmitted {
		b.WriteString(`<p class="notice">`)
		if j.Response != nil && j.Response.UnsubmittedChanges {
			escapeHTML(&b, p.T("respond.status_unsubmitted"))
		} else {
			escapeHTML(&b, p.T("respond.status_submitted"))
		}
		b.WriteString("</p>\n")
	}
	if notice != "" {
		b.WriteString(`<div class="error-summary" role="alert" tabindex="-1" id="error-summary" autofocus><h2>`)
		escapeHTML(&b, p.T("respond.conflict_title"))
		b.WriteString("</h2><p>")
		escapeHTML(&b, p.T(notice))
		b.WriteString(`</p><p><a href="/respond/questions?page=`)
		b.WriteString(strconv.Itoa(page))
		b.WriteString(`">`)
		escapeHTML(&b, p.T("respond.reload"))
		b.WriteString("</a></p></div>\n")
	}
	return template.HTML(b.String()) //nolint:gosec // every value is escaped
}

// writeDeadline is the "respond-deadline" partial: when the round closes,
// in UTC (the script shows local time).
func writeDeadline(b *strings.Builder, p *Page, r *models.Round) {
	if r == nil || r.ClosesAt == nil {
		return
	}
	t := r.ClosesAt.UTC()
	b.WriteString(`<p class="deadline">`)
	escapeHTML(b, p.T("respond.closes_at"))
	b.WriteString(` <time datetime="`)
	escapeHTML(b, t.Format("2006-01-02T15:04:05Z07:00"))
	b.WriteString(`" class="local-time">`)
	escapeHTML(b, t.Format("2 January 2006, 15:04 UTC"))
	b.WriteString("</time></p>\n")
}

// writeErrorSummary is the "error-summary" partial: the page's field
// errors, each a link to its field; focus goes to it.
func writeErrorSummary(b *strings.Builder, p *Page) {
	if len(p.Errors) == 0 {
		return
	}
	b.WriteString("<div class=\"error-summary\" role=\"alert\" tabindex=\"-1\" id=\"error-summary\" autofocus>\n<h2>")
	escapeHTML(b, p.T("form.errors_title"))
	b.WriteString("</h2>\n<ul>")
	for _, e := range p.ErrorList() {
		b.WriteString(`<li><a href="#`)
		escapeHTML(b, url.PathEscape(e.Field))
		b.WriteString(`">`)
		escapeHTML(b, e.Message)
		b.WriteString("</a></li>")
	}
	b.WriteString("</ul>\n</div>\n")
}

// questionsFormHTML is the rest of a questions page: the error summary,
// the page number and the form with its questions and buttons.
func questionsFormHTML(p *Page, views []QuestionView, qids string, page, pages, version int) template.HTML {
	n := 4096
	for i := range views {
		n += 1024 + len(views[i].Text) + views[i].countryBytes()
	}
	var b strings.Builder
	b.Grow(n)
	writeErrorSummary(&b, p)
	if pages > 1 {
		b.WriteString(`<p class="muted">`)
		escapeHTML(&b, p.T("respond.page_of", "Page", page, "Pages", pages))
		b.WriteString("</p>\n")
	}
	b.WriteString(`<form method="post" action="/respond/questions" class="respond stack" id="respond-form" novalidate data-autosave="/respond/answers"`)
	attr(&b, "data-version", strconv.Itoa(version))
	attr(&b, "data-msg-saving", p.T("respond.saving"))
	attr(&b, "data-msg-saved", p.T("respond.saved"))
	attr(&b, "data-msg-stale", p.T("respond.error_stale_version"))
	attr(&b, "data-msg-failed", p.T("respond.not_saved"))
	b.WriteString(">\n")
	b.WriteString(`<input type="hidden" name="csrf_token"`)
	attr(&b, "value", p.CSRF)
	b.WriteString(">\n")
	b.WriteString(`<input type="hidden" name="page"`)
	attr(&b, "value", strconv.Itoa(page))
	b.WriteString(">\n")
	b.WriteString(`<input type="hidden" name="version"`)
	attr(&b, "value", strconv.Itoa(version))
	b.WriteString(` id="respond-version">` + "\n")
	b.WriteString(`<input type="hidden" name="qs"`)
	attr(&b, "value", qids)
	b.WriteString(">\n")
	for i := range views {
		views[i].writeHTML(&b)
	}
	b.WriteString("<p class=\"save-status\" id=\"save-status\" role=\"status\" aria-live=\"polite\"></p>\n<div class=\"actions\">\n")
	if page > 1 {
		b.WriteString(`<button type="submit" name="action" value="prev" class="secondary">`)
		escapeHTML(&b, p.T("respond.previous"))
		b.WriteString("</button>\n")
	}
	b.WriteString(`<button type="submit" name="action" value="save" class="secondary" id="save-button">`)
	escapeHTML(&b, p.T("respond.save"))
	b.WriteString("</button>\n")
	if page < pages {
		b.WriteString(`<button type="submit" name="action" value="next">`)
		escapeHTML(&b, p.T("respond.next"))
	} else {
		b.WriteString(`<button type="submit" name="action" value="review">`)
		escapeHTML(&b, p.T("respond.to_review"))
	}
	b.WriteString("</button>\n</div>\n</form>\n")
	return template.HTML(b.String()) //nolint:gosec // every value is escaped
}

// CountryOptions are the <option>s of a country question, the answer
// selected.
func (v QuestionView) CountryOptions() template.HTML { return countryOptionsHTML(v.L, v.Text) }

// countryBytes is about the size of a country question's options.
func (v QuestionView) countryBytes() int {
	if v.Q.Kind == models.QCountry {
		return 14 * 1024
	}
	return 0
}
