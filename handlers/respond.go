package handlers

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	texttemplate "text/template"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"focalpoint/i18n"
	"focalpoint/models"
	"focalpoint/templates"
)

// The respondent journey: the personal link /r/{token}, the pages under
// /respond (the token is kept in the encrypted cookie session so it does
// not stay in the address bar or history), and the JSON calls under
// /api/v1/respond/{token}.

const (
	keyRespondToken  = "respond_token"
	questionsPerPage = 10
)

// --- resolving the link ----------------------------------------------------

// unknownLink answers a request that named an unknown, revoked or expired
// token: counted against the client (429 past the limit), then a 404.
func (h *Handler) unknownLink(c echo.Context) error {
	if err := h.LimitUnknownToken(c); err != nil {
		return err
	}
	return &APIError{Status: http.StatusNotFound, Code: "not_found", Message: "respond.link_unknown"}
}

// journeyByToken loads the journey of a token, with its draft answers.
func (h *Handler) journeyByToken(c echo.Context, tok string) (*models.Journey, error) {
	return h.journeyOf(c, tok, models.JourneyFull)
}

// journeyOf loads the journey of a personal link with reads; an unknown
// link is a 404.
func (h *Handler) journeyOf(c echo.Context, tok string, reads models.JourneyReads) (*models.Journey, error) {
	j, err := h.Store.JourneyByToken(c.Request().Context(), tok, reads)
	if errors.Is(err, models.ErrNotFound) {
		return nil, h.unknownLink(c)
	}
	return j, err
}

// journeyFromSession loads the journey of the link opened in this browser.
func (h *Handler) journeyFromSession(c echo.Context) (*models.Journey, error) {
	tok, _ := h.session(c).Values[keyRespondToken].(string)
	if tok == "" {
		return nil, &APIError{Status: http.StatusNotFound, Code: "not_found", Message: "respond.no_session"}
	}
	return h.journeyByToken(c, tok)
}

// OpenLink is GET /r/{token}: it records the opening, keeps the token in
// the session and redirects to /respond, so the secret leaves the address
// bar.
func (h *Handler) OpenLink(c echo.Context) error {
	tok := c.Param("token")
	j, err := h.journeyByToken(c, tok)
	if err != nil {
		return err
	}
	if err := h.Store.OpenJourney(c.Request().Context(), j); err != nil {
		return err
	}
	s := h.session(c)
	s.Values[keyRespondToken] = tok
	if _, chosen := s.Values[keyLang]; !chosen {
		if p, err := h.Store.JourneyParticipant(c.Request().Context(), j); err == nil {
			for _, l := range h.I18n.Languages() {
				if l == p.Language {
					s.Values[keyLang] = l
				}
			}
		}
	}
	if err := h.saveSession(c); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/respond")
}

// --- views -----------------------------------------------------------------

// QuestionView is what the respond-question partial shows for one question.
type QuestionView struct {
	L          *i18n.Localizer
	Q          *models.Question
	Number     int
	Field      string
	Options    []models.Choice
	Rows       []models.Choice
	Text       string
	Selected   map[string]bool
	Matrix     map[string]string
	ScaleSteps []string
	Error      string
	Preview    bool
}

// T translates for the partial.
func (v QuestionView) T(id string, kv ...any) string { return v.L.T(id, kv...) }

// IsKind reports the question's kind (for the partial).
func (v QuestionView) IsKind(k ...string) bool {
	for _, x := range k {
		if v.Q.Kind == x {
			return true
		}
	}
	return false
}

// RowField is the form field of a matrix row (by index: row values may
// hold any character).
func (v QuestionView) RowField(i int) string { return v.Field + "-r" + strconv.Itoa(i) }

func questionField(id int64) string { return "q" + strconv.FormatInt(id, 10) }

func (h *Handler) questionView(l *i18n.Localizer, q *models.Question, n int, raw string, errMsg string) QuestionView {
	v := QuestionView{L: l, Q: q, Number: n, Field: questionField(q.ID), Options: cachedChoices(q.Options), Rows: cachedChoices(q.RowsJSON),
		Selected: map[string]bool{}, Matrix: map[string]string{}, Error: errMsg}
	if q.Kind == models.QYesNo {
		v.Options = []models.Choice{{Value: "yes", Label: l.T("respond.yes")}, {Value: "no", Label: l.T("respond.no")}}
	}
	if q.Kind == models.QScale && q.MinValue != nil && q.MaxValue != nil {
		for x := *q.MinValue; x <= *q.MaxValue; x++ {
			v.ScaleSteps = append(v.ScaleSteps, models.FormatNumber(x))
		}
	}
	switch val := models.DecodeAnswer(q, raw).(type) {
	case string:
		v.Text = val
		v.Selected[val] = true
	case []string:
		for _, s := range val {
			v.Selected[s] = true
		}
	case map[string]string:
		v.Matrix = val
	case float64:
		v.Text = models.FormatNumber(val)
		v.Selected[v.Text] = true
	}
	return v
}

// AnswerLine is one question and its answer as text (review, receipt,
// read-only page, mail).
type AnswerLine struct {
	ID       int64
	Number   int
	Page     int
	Prompt   string
	Answer   string
	Required bool
	Missing  bool
	Error    string
}

func choiceLabel(list []models.Choice, v string) string {
	for _, c := range list {
		if c.Value == v {
			return c.Label
		}
	}
	return v
}

// answerText formats a stored answer for reading.
func answerText(l *i18n.Localizer, q *models.Question, raw string) string {
	switch v := models.DecodeAnswer(q, raw).(type) {
	case string:
		switch q.Kind {
		case models.QYesNo:
			return l.T("respond." + v)
		case models.QSingleChoice:
			return choiceLabel(q.ChoiceList(), v)
		case models.QCountry:
			if c, ok := models.FindCountry(v); ok {
				return c.Name
			}
		}
		return v
	case []string:
		parts := make([]string, len(v))
		for i, s := range v {
			parts[i] = choiceLabel(q.ChoiceList(), s)
		}
		return strings.Join(parts, "; ")
	case map[string]string:
		var parts []string
		for _, r := range q.RowList() {
			if x, ok := v[r.Value]; ok {
				parts = append(parts, r.Label+": "+l.T("respond."+x))
			}
		}
		return strings.Join(parts, "; ")
	case float64:
		return models.FormatNumber(v)
	}
	return ""
}

func (h *Handler) answerLines(l *i18n.Localizer, j *models.Journey, answers map[int64]string) []AnswerLine {
	out := make([]AnswerLine, 0, len(j.Questions))
	for i := range j.Questions {
		q := &j.Questions[i]
		raw, ok := answers[q.ID]
		line := AnswerLine{ID: q.ID, Number: i + 1, Page: i/questionsPerPage + 1, Prompt: q.Prompt, Required: q.Required}
		if ok {
			line.Answer = answerText(l, q, raw)
		}
		line.Missing = line.Answer == ""
		out = append(out, line)
	}
	return out
}

// submittedAnswers rebuilds the last submitted answers (what counts) as
// stored values, for the read-only page.
func (h *Handler) submittedAnswers(c echo.Context, j *models.Journey) (map[int64]string, error) {
	out := map[int64]string{}
	if j.Response == nil || j.Response.Status != models.ResponseSubmitted {
		return out, nil
	}
	rows, err := h.Store.SubmittedRows(c.Request().Context(), j.Response.ID)
	if err != nil {
		return nil, err
	}
	return models.RebuildAnswers(j.Questions, rows), nil
}

// respondPage builds a respondent page with the journey's common data.
func (h *Handler) respondPage(c echo.Context, title string, j *models.Journey) (*Page, map[string]any) {
	p := h.page(c, title)
	data := map[string]any{"J": j, "Consultation": j.Consultation, "Round": j.Round, "Status": j.Status(),
		"Description": descriptionHTML(j.Consultation.Description), "State": ""}
	if j.Round != nil {
		data["State"] = j.Round.StateAt(h.Store.Now())
		data["Pages"] = (len(j.Questions) + questionsPerPage - 1) / questionsPerPage
	}
	if j.Response != nil {
		data["Unsubmitted"] = j.Response.UnsubmittedChanges
		data["SubmittedAt"] = j.Response.SubmittedAt
	}
	data["Receipt"] = j.Receipt
	p.Data = data
	return p, data
}

// --- pages -----------------------------------------------------------------

// RespondHome is GET /respond: it sends the person to the right step.
func (h *Handler) RespondHome(c echo.Context) error {
	j, err := h.journeyFromSession(c)
	if err != nil {
		return err
	}
	switch {
	case !j.HasConsent():
		return c.Redirect(http.StatusSeeOther, "/respond/welcome")
	case j.NeedsDemographics():
		return c.Redirect(http.StatusSeeOther, "/respond/about")
	case j.Round == nil || j.Round.StateAt(h.Store.Now()) == models.RoundDraft:
		p, _ := h.respondPage(c, "respond.waiting_title", j)
		return h.render(c, http.StatusOK, "respond/waiting", p)
	case j.Round.StateAt(h.Store.Now()) == models.RoundClosed:
		return h.closedPage(c, j, http.StatusOK)
	}
	return c.Redirect(http.StatusSeeOther, "/respond/questions")
}

func (h *Handler) closedPage(c echo.Context, j *models.Journey, status int) error {
	answers, err := h.submittedAnswers(c, j)
	if err != nil {
		return err
	}
	p, data := h.respondPage(c, "respond.closed_title", j)
	data["Lines"] = h.answerLines(p.L, j, answers)
	return h.render(c, status, "respond/closed", p)
}

// RespondWelcome shows purpose, privacy notice and consent.
func (h *Handler) RespondWelcome(c echo.Context) error {
	j, err := h.journeyFromSession(c)
	if err != nil {
		return err
	}
	p, _ := h.respondPage(c, "respond.welcome_title", j)
	return h.render(c, http.StatusOK, "respond/welcome", p)
}

// RespondConsent handles the consent form.
func (h *Handler) RespondConsent(c echo.Context) error {
	j, err := h.journeyFromSession(c)
	if err != nil {
		return err
	}
	if c.FormValue("consent") != "yes" {
		p, _ := h.respondPage(c, "respond.welcome_title", j)
		p.Errors = models.FieldErrors{"consent": "respond.error_consent"}
		return h.render(c, http.StatusUnprocessableEntity, "respond/welcome", p)
	}
	if err := h.Store.SaveConsent(c.Request().Context(), j); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/respond")
}

func (h *Handler) aboutPage(c echo.Context, j *models.Journey, status int, errs models.FieldErrors, form map[string]string) error {
	p, data := h.respondPage(c, "respond.about_title", j)
	data["Genders"] = models.Genders
	data["InstitutionTypes"] = models.InstitutionTypes
	if form == nil && j.Respondent != nil {
		form = map[string]string{"gender": j.Respondent.Gender, "institution_type": j.Respondent.InstitutionType, "country": j.Respondent.Country}
	}
	data["CountryOptions"] = countryOptionsHTML(p.L, form["country"])
	p.Errors, p.Form = errs, form
	return h.render(c, status, "respond/about", p)
}

// RespondAbout shows the "about you" step (not in a State consultation).
func (h *Handler) RespondAbout(c echo.Context) error {
	j, err := h.journeyFromSession(c)
	if err != nil {
		return err
	}
	if j.IsState() {
		return c.Redirect(http.StatusSeeOther, "/respond")
	}
	return h.aboutPage(c, j, http.StatusOK, nil, nil)
}

// RespondSaveAbout handles the "about you" form.
func (h *Handler) RespondSaveAbout(c echo.Context) error {
	j, err := h.journeyFromSession(c)
	if err != nil {
		return err
	}
	if j.IsState() {
		return c.Redirect(http.StatusSeeOther, "/respond")
	}
	d := models.RespondentDemographics{Gender: c.FormValue("gender"), InstitutionType: c.FormValue("institution_type"), Country: c.FormValue("country"), Consent: j.HasConsent()}
	err = h.Store.SaveDemographics(c.Request().Context(), j, d)
	var fe models.FieldErrors
	if errors.As(err, &fe) {
		return h.aboutPage(c, j, http.StatusUnprocessableEntity, fe, map[string]string{"gender": d.Gender, "institution_type": d.InstitutionType, "country": d.Country})
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/respond")
}

// pageOf returns the page number asked for, within range.
func pageOf(v string, pages int) int {
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 1
	}
	if n > pages && pages > 0 {
		return pages
	}
	return n
}

// questionsPage renders one page of questions with the given answers and
// errors (keyed by form field).
func (h *Handler) questionsPage(c echo.Context, j *models.Journey, page, status int, answers map[int64]string, errs models.FieldErrors, notice string) error {
	p, data := h.respondPage(c, "respond.questions_title", j)
	p.Errors = errs
	pages := data["Pages"].(int)
	if page > pages {
		page = max(pages, 1)
	}
	start := (page - 1) * questionsPerPage
	end := min(start+questionsPerPage, len(j.Questions))
	views := make([]QuestionView, 0, end-start)
	ids := make([]string, 0, end-start)
	for i := start; i < end; i++ {
		q := &j.Questions[i]
		views = append(views, h.questionView(p.L, q, i+1, answers[q.ID], p.Err(questionField(q.ID))))
		ids = append(ids, strconv.FormatInt(q.ID, 10))
	}
	qids := strings.Join(ids, ",")
	data["Questions"] = views
	data["QIDs"] = qids
	data["Page"] = page
	data["Version"] = j.Version()
	data["Notice"] = notice
	prev, err := h.Store.PreviousResults(c.Request().Context(), j.Round)
	if err != nil {
		return err
	}
	data["PreviousResults"] = prev
	data["TopHTML"] = questionsTopHTML(p, j, notice, page)
	data["FormHTML"] = questionsFormHTML(p, views, qids, page, pages, j.Version())
	return h.render(c, status, "respond/questions", p)
}

// respondGate sends a person to the step they are missing, or to the
// read-only page once the round is closed; it returns true when it wrote.
func (h *Handler) respondGate(c echo.Context, j *models.Journey) (bool, error) {
	if c.Request().Method != http.MethodGet && j.Round != nil && j.Round.StateAt(h.Store.Now()) == models.RoundClosed {
		// A form sent after the round closed: 409, with the read-only page.
		return true, h.closedPage(c, j, http.StatusConflict)
	}
	if !j.HasConsent() || j.NeedsDemographics() || j.Round == nil || j.Round.StateAt(h.Store.Now()) != models.RoundOpen {
		return true, h.RespondHome(c)
	}
	return false, nil
}

// RespondQuestions shows a page of the open round's questions.
func (h *Handler) RespondQuestions(c echo.Context) error {
	j, err := h.journeyFromSession(c)
	if err != nil {
		return err
	}
	if done, err := h.respondGate(c, j); done {
		return err
	}
	pages := (len(j.Questions) + questionsPerPage - 1) / questionsPerPage
	return h.questionsPage(c, j, pageOf(c.QueryParam("page"), pages), http.StatusOK, j.Answers, nil, "")
}

// formAnswers reads the answers of the listed questions from a form (no
// JavaScript): every listed question is read, so an emptied field or an
// unticked box clears its answer.
func formAnswers(c echo.Context, j *models.Journey) ([]models.AnswerValue, models.FieldErrors, map[int64]string) {
	form, _ := c.FormParams()
	errs := models.FieldErrors{}
	var vals []models.AnswerValue
	shown := map[int64]string{}
	for _, s := range strings.Split(form.Get("qs"), ",") {
		id, err := strconv.ParseInt(strings.TrimSpace(s), 10, 64)
		if err != nil {
			continue
		}
		q := j.Question(id)
		if q == nil {
			continue
		}
		f := questionField(id)
		var v any
		switch q.Kind {
		case models.QMultiChoice:
			list := form[f]
			if list == nil {
				list = []string{}
			}
			v = list
		case models.QMatrixYesNo:
			m := map[string]string{}
			for i, r := range q.RowList() {
				if x := form.Get(f + "-r" + strconv.Itoa(i)); x != "" {
					m[r.Value] = x
				}
			}
			v = m
		case models.QScale, models.QNumber:
			t := strings.TrimSpace(form.Get(f))
			if t == "" {
				vals = append(vals, models.AnswerValue{QuestionID: id, Clear: true})
				continue
			}
			n, err := strconv.ParseFloat(strings.ReplaceAll(t, ",", "."), 64)
			if err != nil {
				errs.Add(f, "respond.error_expected_number")
				shown[id] = strconv.Quote(t)
				continue
			}
			v = n
		default:
			v = form.Get(f)
		}
		av, msg := models.NormalizeAnswer(q, v)
		if msg != "" {
			errs.Add(f, msg)
			if s, ok := v.(string); ok && utf8.ValidString(s) {
				b, _ := json.Marshal(s)
				shown[id] = string(b)
			}
			continue
		}
		vals = append(vals, av)
		if !av.Clear {
			shown[id] = av.JSON
		}
	}
	return vals, errs, shown
}

// RespondSaveQuestions handles the questions form: save, previous, next
// or review. A stale version (another tab saved) is a 409 page asking to
// reload; nothing is overwritten.
func (h *Handler) RespondSaveQuestions(c echo.Context) error {
	j, err := h.journeyFromSession(c)
	if err != nil {
		return err
	}
	if done, err := h.respondGate(c, j); done {
		return err
	}
	pages := (len(j.Questions) + questionsPerPage - 1) / questionsPerPage
	page := pageOf(c.FormValue("page"), pages)
	version, _ := strconv.Atoi(c.FormValue("version"))
	vals, errs, shown := formAnswers(c, j)
	merged := make(map[int64]string, len(j.Answers))
	for k, v := range j.Answers {
		merged[k] = v
	}
	for _, v := range vals {
		if v.Clear {
			delete(merged, v.QuestionID)
		}
	}
	for k, v := range shown {
		merged[k] = v
	}
	if len(errs) > 0 {
		return h.questionsPage(c, j, page, http.StatusUnprocessableEntity, merged, errs, "")
	}
	_, err = h.Store.SaveAnswers(c.Request().Context(), j, version, vals)
	switch {
	case errors.Is(err, models.ErrStaleVersion):
		return h.questionsPage(c, j, page, http.StatusConflict, merged, nil, "respond.error_stale_version")
	case errors.Is(err, models.ErrRoundClosed):
		return h.closedPage(c, j, http.StatusConflict)
	case err != nil:
		return err
	}
	switch c.FormValue("action") {
	case "next":
		page = min(page+1, pages)
	case "prev":
		page = max(page-1, 1)
	case "review":
		return c.Redirect(http.StatusSeeOther, "/respond/review")
	default:
		h.flash(c, "respond.saved")
	}
	return c.Redirect(http.StatusSeeOther, "/respond/questions?page="+strconv.Itoa(page))
}

func (h *Handler) reviewPage(c echo.Context, j *models.Journey, status int, errs models.FieldErrors) error {
	p, data := h.respondPage(c, "respond.review_title", j)
	p.Errors = errs
	lines := h.answerLines(p.L, j, j.Answers)
	for i := range lines {
		lines[i].Error = p.Err(questionField(lines[i].ID))
	}
	data["Lines"] = lines
	p.Errors = errs
	return h.render(c, status, "respond/review", p)
}

// RespondReview shows every answer before submitting.
func (h *Handler) RespondReview(c echo.Context) error {
	j, err := h.journeyFromSession(c)
	if err != nil {
		return err
	}
	if done, err := h.respondGate(c, j); done {
		return err
	}
	return h.reviewPage(c, j, http.StatusOK, nil)
}

// RespondSubmit handles the submit button of the review page.
func (h *Handler) RespondSubmit(c echo.Context) error {
	j, err := h.journeyFromSession(c)
	if err != nil {
		return err
	}
	if done, err := h.respondGate(c, j); done {
		return err
	}
	tok, _ := h.session(c).Values[keyRespondToken].(string)
	_, err = h.submit(c, j, tok)
	var fe models.FieldErrors
	switch {
	case errors.As(err, &fe):
		return h.reviewPage(c, j, http.StatusUnprocessableEntity, pageErrors(fe))
	case errors.Is(err, models.ErrRoundClosed):
		return h.closedPage(c, j, http.StatusConflict)
	case err != nil:
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/respond/receipt")
}

// pageErrors renames answers.<QID> to the form field q<QID>.
func pageErrors(fe models.FieldErrors) models.FieldErrors {
	out := models.FieldErrors{}
	for k, v := range fe {
		if id, ok := strings.CutPrefix(k, "answers."); ok {
			k = "q" + id
		}
		out[k] = v
	}
	return out
}

// RespondReceipt shows the receipt of the last submission.
func (h *Handler) RespondReceipt(c echo.Context) error {
	j, err := h.journeyFromSession(c)
	if err != nil {
		return err
	}
	if j.Response == nil || j.Response.Status != models.ResponseSubmitted {
		return c.Redirect(http.StatusSeeOther, "/respond")
	}
	answers, err := h.submittedAnswers(c, j)
	if err != nil {
		return err
	}
	p, data := h.respondPage(c, "respond.receipt_title", j)
	data["Lines"] = h.answerLines(p.L, j, answers)
	return h.render(c, http.StatusOK, "respond/receipt", p)
}

// RespondAutosave is PUT /respond/answers: the page's script saves with
// the session (and X-CSRF-Token) instead of the token.
func (h *Handler) RespondAutosave(c echo.Context) error {
	j, err := h.journeyFromSession(c)
	if err != nil {
		return err
	}
	return h.saveAnswersJSON(c, j)
}

// --- receipt mail ----------------------------------------------------------

var (
	receiptOnce sync.Once
	receiptText *texttemplate.Template
	receiptHTML *htmltemplate.Template
	receiptErr  error
)

func loadReceiptTemplates() {
	receiptOnce.Do(func() {
		receiptText, receiptErr = texttemplate.New("respond_receipt.txt").ParseFS(templates.FS, "email/respond_receipt.txt")
		if receiptErr != nil {
			return
		}
		receiptHTML, receiptErr = htmltemplate.New("respond_receipt.html").ParseFS(templates.FS, "email/respond_receipt.html")
	})
}

// receiptKind is the outbox kind of the receipt mail.
const receiptKind = "respond_receipt"

func init() { models.RegisterMailComposer(receiptKind, composeReceipt) }

// composeReceipt renders a receipt mail from its payload, a receiptData.
func composeReceipt(payload string) (text, html string, err error) {
	loadReceiptTemplates()
	if receiptErr != nil {
		return "", "", receiptErr
	}
	var data receiptData
	if err := json.Unmarshal([]byte(payload), &data); err != nil {
		return "", "", fmt.Errorf("receipt payload: %w", err)
	}
	var tb, hb bytes.Buffer
	if err := receiptText.Execute(&tb, data); err != nil {
		return "", "", err
	}
	if err := receiptHTML.Execute(&hb, data); err != nil {
		return "", "", err
	}
	return tb.String(), hb.String(), nil
}

// receiptData is what the receipt mail's templates print, every text
// already translated into the participant's language.
type receiptData struct {
	Lang, Dir, Title, Greeting, Intro string
	CodeLabel, Receipt, AtLabel, At   string
	EditUntil, Link, YourAnswers      string
	NoAnswer, Footer                  string
	Lines                             []AnswerLine
}

// submit submits the journey's response, queuing the receipt mail (in
// the participant's language, to their address) in the same transaction.
func (h *Handler) submit(c echo.Context, j *models.Journey, tok string) (*models.Submission, error) {
	ctx := c.Request().Context()
	part, err := h.Store.JourneyParticipant(ctx, j)
	if err != nil {
		return nil, err
	}
	loadReceiptTemplates()
	if receiptErr != nil {
		return nil, receiptErr
	}
	l := h.I18n.Localizer(part.Language)
	link := ""
	if tok != "" {
		link = h.link("/r/%s", tok)
	}
	cid := j.Consultation.ID
	invID := j.Invitation.ID
	// Translated here, once: the templates only print (a translation
	// called from a template cost a reflective call each).
	texts := receiptData{Lang: l.Lang(), Dir: l.Dir(), Title: l.T("respond.receipt_title"),
		Greeting:  l.T("respond.mail_greeting", "Name", part.Name),
		Intro:     l.T("respond.mail_intro", "Consultation", j.Consultation.Title, "Round", j.Round.Title),
		CodeLabel: l.T("respond.receipt_code"), AtLabel: l.T("respond.submitted_at"), Link: link,
		YourAnswers: l.T("respond.your_answers"), NoAnswer: l.T("respond.no_answer"), Footer: l.T("respond.mail_footer")}
	if j.Round.ClosesAt != nil {
		texts.EditUntil = l.T("respond.mail_edit_until", "ClosesAt", j.Round.ClosesAt.UTC().Format("2006-01-02 15:04 UTC"))
	}
	// The receipt is stored as what it says and rendered when it is sent
	// or listed (composeReceipt; models.OutboxMessage.Compose).
	mail := func(sub *models.Submission) (*models.OutboxMessage, error) {
		data := texts
		data.Receipt, data.At, data.Lines = sub.Receipt, sub.At.UTC().Format("2006-01-02 15:04 UTC"), h.answerLines(l, j, sub.Answers)
		payload, err := json.Marshal(data)
		if err != nil {
			return nil, err
		}
		return &models.OutboxMessage{Kind: receiptKind, ConsultationID: &cid, InvitationID: &invID, ToAddress: part.Email,
			Subject: l.T("respond.receipt_subject", "Title", j.Consultation.Title), Payload: string(payload)}, nil
	}
	return h.Store.SubmitResponse(ctx, j, mail)
}

// --- JSON API --------------------------------------------------------------

type demographicsDTO struct {
	Gender          *string `json:"gender"`
	InstitutionType *string `json:"institution_type"`
	Country         *string `json:"country"`
	Consent         bool    `json:"consent"`
}

type respondRoundDTO struct {
	ID            int64      `json:"id"`
	Title         string     `json:"title"`
	OpensAt       *time.Time `json:"opens_at"`
	ClosesAt      *time.Time `json:"closes_at"`
	State         string     `json:"state"`
	ShowResultsOf *int64     `json:"show_results_of"`
}

type respondConsultationDTO struct {
	ID          int64    `json:"id"`
	Title       string   `json:"title"`
	Description string   `json:"description"`
	Unit        string   `json:"unit"`
	Languages   []string `json:"languages"`
}

// respondDTO is GET /api/v1/respond/{token}. PreviousResults is filled by
// the synthesis area's Store.PreviousResults (Delphi rounds).
type respondDTO struct {
	Consultation       respondConsultationDTO     `json:"consultation"`
	Round              *respondRoundDTO           `json:"round"`
	Status             string                     `json:"status"`
	Version            int                        `json:"version"`
	UnsubmittedChanges bool                       `json:"unsubmitted_changes"`
	SubmittedAt        *time.Time                 `json:"submitted_at"`
	Receipt            string                     `json:"receipt,omitempty"`
	Demographics       *demographicsDTO           `json:"demographics"`
	Questions          []questionDTO              `json:"questions"`
	Answers            map[string]json.RawMessage `json:"answers"`
	PreviousResults    any                        `json:"previous_results,omitempty"`
}

func (h *Handler) respondJSON(c echo.Context, j *models.Journey) (respondDTO, error) {
	c1 := j.Consultation
	out := respondDTO{Consultation: respondConsultationDTO{ID: c1.ID, Title: c1.Title, Description: c1.Description, Unit: c1.Unit, Languages: c1.LanguageList()},
		Status: j.Status(), Version: j.Version(), Receipt: j.Receipt, Questions: make([]questionDTO, 0, len(j.Questions)),
		Answers: make(map[string]json.RawMessage, len(j.Answers))}
	if j.Round != nil {
		r := j.Round
		out.Round = &respondRoundDTO{ID: r.ID, Title: r.Title, OpensAt: utcPtr(r.OpensAt), ClosesAt: utcPtr(r.ClosesAt), State: r.StateAt(h.Store.Now()), ShowResultsOf: r.ShowResultsOf}
		prev, err := h.Store.PreviousResults(c.Request().Context(), r)
		if err != nil {
			return out, err
		}
		out.PreviousResults = prev
	}
	if j.Response != nil {
		out.UnsubmittedChanges = j.Response.UnsubmittedChanges
		out.SubmittedAt = utcPtr(j.Response.SubmittedAt)
	}
	if !j.IsState() {
		d := &demographicsDTO{Consent: j.HasConsent()}
		if r := j.Respondent; r != nil {
			for _, x := range []struct {
				v   string
				dst **string
			}{{r.Gender, &d.Gender}, {r.InstitutionType, &d.InstitutionType}, {r.Country, &d.Country}} {
				if x.v != "" {
					v := x.v
					*x.dst = &v
				}
			}
		}
		out.Demographics = d
	}
	for i := range j.Questions {
		out.Questions = append(out.Questions, toQuestionDTO(&j.Questions[i]))
	}
	for id, v := range j.Answers {
		out.Answers[strconv.FormatInt(id, 10)] = json.RawMessage(v)
	}
	return out, nil
}

// RespondGetAPI is GET /api/v1/respond/{token}.
func (h *Handler) RespondGetAPI(c echo.Context) error {
	j, err := h.journeyByToken(c, c.Param("token"))
	if err != nil {
		return err
	}
	if err := h.Store.OpenJourney(c.Request().Context(), j); err != nil {
		return err
	}
	out, err := h.respondJSON(c, j)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

// readUTF8Body reads a JSON body and refuses invalid UTF-8 before any
// decoding (encoding/json would silently replace it).
func readUTF8Body(c echo.Context) ([]byte, error) {
	body, err := io.ReadAll(io.LimitReader(c.Request().Body, maxJSONBytes+1))
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &mbe) || len(body) > maxJSONBytes:
		return nil, models.E(models.ErrTooLarge, "too_large", "error.too_large")
	case err != nil:
		return nil, &APIError{Status: http.StatusBadRequest, Code: "bad_request", Message: "error.bad_request"}
	case !utf8.Valid(body):
		return nil, &APIError{Status: http.StatusBadRequest, Code: "invalid_utf8", Message: "respond.error_invalid_utf8"}
	}
	return body, nil
}

func decodeStrict(body []byte, dst any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(dst); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) && te.Field != "" {
			return &APIError{Status: http.StatusBadRequest, Code: "malformed_json", Message: "error.malformed_json",
				Fields: map[string]string{te.Field: "error.invalid_value"}}
		}
		return &APIError{Status: http.StatusBadRequest, Code: "malformed_json", Message: "error.malformed_json"}
	}
	if dec.More() {
		return &APIError{Status: http.StatusBadRequest, Code: "malformed_json", Message: "error.malformed_json"}
	}
	return nil
}

// RespondDemographicsAPI is PUT /api/v1/respond/{token}/demographics.
func (h *Handler) RespondDemographicsAPI(c echo.Context) error {
	j, err := h.journeyByToken(c, c.Param("token"))
	if err != nil {
		return err
	}
	body, err := readUTF8Body(c)
	if err != nil {
		return err
	}
	var req struct {
		Gender          string `json:"gender"`
		InstitutionType string `json:"institution_type"`
		Country         string `json:"country"`
		Consent         bool   `json:"consent"`
	}
	if err := decodeStrict(body, &req); err != nil {
		return err
	}
	if err := h.Store.SaveDemographics(c.Request().Context(), j, models.RespondentDemographics{Gender: req.Gender,
		InstitutionType: req.InstitutionType, Country: req.Country, Consent: req.Consent}); err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"gender": req.Gender, "institution_type": req.InstitutionType, "country": req.Country, "consent": true})
}

type saveAnswersRequest struct {
	Version *int                       `json:"version"`
	Answers map[string]json.RawMessage `json:"answers"`
}

// saveAnswersJSON is the body of PUT .../answers (API and autosave).
func (h *Handler) saveAnswersJSON(c echo.Context, j *models.Journey) error {
	body, err := readUTF8Body(c)
	if err != nil {
		return err
	}
	var req saveAnswersRequest
	if err := decodeStrict(body, &req); err != nil {
		return err
	}
	if req.Version == nil {
		return models.FieldErrors{"version": "error.required"}
	}
	vals, err := j.ParseAnswers(req.Answers)
	if err != nil {
		return tooLongCode(err)
	}
	v, err := h.Store.SaveAnswers(c.Request().Context(), j, *req.Version, vals)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"version": v})
}

// tooLongCode gives a validation error whose only problem is length the
// code too_long.
func tooLongCode(err error) error {
	var fe models.FieldErrors
	if !errors.As(err, &fe) {
		return err
	}
	for _, m := range fe {
		if m != "error.too_long" {
			return err
		}
	}
	return &APIError{Status: http.StatusUnprocessableEntity, Code: "too_long", Message: "error.too_long", Fields: fe}
}

// RespondAnswersAPI is PUT /api/v1/respond/{token}/answers.
func (h *Handler) RespondAnswersAPI(c echo.Context) error {
	j, err := h.journeyOf(c, c.Param("token"), models.JourneyToSave)
	if err != nil {
		return err
	}
	return h.saveAnswersJSON(c, j)
}

// RespondSubmitAPI is POST /api/v1/respond/{token}/submit.
func (h *Handler) RespondSubmitAPI(c echo.Context) error {
	tok := c.Param("token")
	j, err := h.journeyOf(c, tok, models.JourneyToSubmit)
	if err != nil {
		return err
	}
	sub, err := h.submit(c, j, tok)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, map[string]any{"status": models.ResponseSubmitted, "receipt": sub.Receipt,
		"version": sub.Response.Version, "submitted_at": sub.At.UTC()})
}

// --- preview ---------------------------------------------------------------

// RoundPreview shows a round as a respondent sees it (staff).
func (h *Handler) RoundPreview(c echo.Context) error {
	id, err := paramID(c, "id")
	if err != nil {
		return err
	}
	ctx := c.Request().Context()
	r, err := h.Store.FindRound(ctx, id)
	if err != nil {
		return err
	}
	cons, err := h.Store.FindConsultation(ctx, r.ConsultationID)
	if err != nil {
		return err
	}
	qs, err := h.Store.ListQuestions(ctx, id)
	if err != nil {
		return err
	}
	p := h.page(c, "consultations.preview")
	views := make([]QuestionView, len(qs))
	for i := range qs {
		views[i] = h.questionView(p.L, &qs[i], i+1, "", "")
		views[i].Preview = true
	}
	p.Data = map[string]any{"Consultation": cons, "Round": r, "Questions": views, "Description": RenderMarkdown(cons.Description)}
	return h.render(c, http.StatusOK, "consultations/preview", p)
}
