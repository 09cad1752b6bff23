package main

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"focalpoint/models"
)

// expect fails unless status is want and body contains every part.
func expect(t *testing.T, what string, status, want int, body string, parts ...string) {
	t.Helper()
	if status != want {
		t.Fatalf("%s: status %d, want %d\n%.3000s", what, status, want, body)
	}
	for _, p := range parts {
		if !strings.Contains(body, p) {
			t.Fatalf("%s: page lacks %q\n%.3000s", what, p, body)
		}
	}
}

// autosave sends a PUT /respond/answers like respond.js does.
func (b *browser) autosave(csrf string, body string) (int, string) {
	b.ta.t.Helper()
	req, _ := http.NewRequest("PUT", b.ta.Srv.URL+"/respond/answers", bytes.NewReader([]byte(body)))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	if csrf != "" {
		req.Header.Set("X-CSRF-Token", csrf)
	}
	resp, err := b.client.Do(req)
	if err != nil {
		b.ta.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(raw)
}

func TestRespondPagesWithoutJavaScript(t *testing.T) {
	ta := sqliteApp(t)
	f := ta.makeFixture("person", true)
	// Three more questions: twelve in all, so two pages.
	for i := 10; i <= 12; i++ {
		ta.mustAPI(http.StatusCreated, "POST", fmt.Sprintf("/api/v1/rounds/%d/questions", f.RoundID), f.Token, map[string]any{"kind": "short_text", "prompt": fmt.Sprintf("Extra question %d", i)})
	}
	tok, _ := ta.invite(f.ConsultationID, "")

	b := ta.browser()
	if status, body := b.get("/r/" + "unknown-token-unknown-token"); status != http.StatusNotFound || !strings.Contains(body, "This link does not work") {
		t.Fatalf("unknown link: %d", status)
	}
	status, _ := b.get("/r/" + tok)
	if status != http.StatusSeeOther {
		t.Fatalf("open link: %d", status)
	}
	get := func(path string) (int, string, string) {
		t.Helper()
		resp, err := b.client.Get(ta.Srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		if m := csrfRe.FindSubmatch(raw); m != nil {
			b.CSRF = string(m[1])
		}
		return resp.StatusCode, resp.Header.Get("Location"), string(raw)
	}
	if s, loc, _ := get("/respond"); s != http.StatusSeeOther || loc != "/respond/welcome" {
		t.Fatalf("/respond before consent: %d %s", s, loc)
	}
	s, _, body := get("/respond/welcome")
	expect(t, "welcome", s, 200, body, "<strong>evidence</strong>", `name="consent"`, "Your privacy")
	s, _, body = b.post("/respond/welcome", url.Values{})
	expect(t, "no consent", s, 422, body, `id="error-summary"`, `href="#consent"`, `aria-describedby="consent-error"`)
	if s, loc, _ := b.post("/respond/welcome", url.Values{"consent": {"yes"}}); s != http.StatusSeeOther || loc != "/respond" {
		t.Fatalf("consent: %d %s", s, loc)
	}
	if s, loc, _ := get("/respond"); loc != "/respond/about" {
		t.Fatalf("after consent: %d %s", s, loc)
	}
	s, _, body = get("/respond/about")
	expect(t, "about", s, 200, body, "<fieldset", "<legend>", "Prefer not to say", `name="institution_type"`)
	s, _, body = b.post("/respond/about", url.Values{"gender": {"robot"}})
	expect(t, "bad about", s, 422, body, `href="#gender"`, `href="#institution_type"`, `href="#country"`)
	if s, _, _ := b.post("/respond/about", url.Values{"gender": {"male"}, "institution_type": {"academia"}, "country": {"BR"}}); s != http.StatusSeeOther {
		t.Fatalf("about: %d", s)
	}
	if s, loc, _ := get("/respond"); loc != "/respond/questions" {
		t.Fatalf("after about: %d %s", s, loc)
	}
	s, _, body = get("/respond/questions")
	expect(t, "questions page 1", s, 200, body, "Page 1 of 2", "What works?", `name="version" value="0"`, `<legend class="prompt">`)
	if strings.Contains(body, "Extra question 11") {
		t.Fatal("page 1 shows question 11")
	}
	qs := func(kinds ...string) string {
		var ids []string
		for _, k := range kinds {
			ids = append(ids, strconv.FormatInt(f.Q[k], 10))
		}
		return strings.Join(ids, ",")
	}
	field := func(k string) string { return "q" + strconv.FormatInt(f.Q[k], 10) }
	form := url.Values{"page": {"1"}, "version": {"0"}, "action": {"save"}, "qs": {qs("long_text", "multi_choice", "matrix_yes_no", "number", "yes_no")},
		field("long_text"): {"Harm reduction — تقليل الضرر"}, field("multi_choice"): {"youth", "women"},
		field("matrix_yes_no") + "-r1": {"yes"}, field("number"): {"abc"}}
	s, _, body = b.post("/respond/questions", form)
	expect(t, "invalid number", s, 422, body, `href="#`+field("number")+`"`, "Harm reduction — تقليل الضرر", `aria-invalid="true"`)
	form.Set(field("number"), "7")
	if s, loc, body := b.post("/respond/questions", form); s != http.StatusSeeOther || loc != "/respond/questions?page=1" {
		t.Fatalf("save: %d %s %.500s", s, loc, body)
	}
	s, _, body = get("/respond/questions?page=1")
	expect(t, "after save", s, 200, body, "Your answers are saved.", "Harm reduction — تقليل الضرر", `value="women" checked`, `value="7"`, `name="version" value="1"`)
	// A second tab still holding version 0: told to reload, nothing overwritten.
	stale := url.Values{"page": {"1"}, "version": {"0"}, "action": {"save"}, "qs": {qs("long_text")}, field("long_text"): {"Stale tab text"}}
	s, _, body = b.post("/respond/questions", stale)
	expect(t, "stale tab", s, 409, body, "another window or device", "Reload the page")
	if _, _, body = get("/respond/questions"); strings.Contains(body, "Stale tab text") {
		t.Fatal("the stale tab overwrote the answer")
	}
	// Autosave: needs the CSRF header; stale versions refused the same way.
	if s, _ := b.autosave("", `{"version":1,"answers":{}}`); s != http.StatusForbidden {
		t.Fatalf("autosave without CSRF: %d", s)
	}
	s, body = b.autosave(b.CSRF, fmt.Sprintf(`{"version":1,"answers":{"%d":"Typed with JavaScript"}}`, f.Q["short_text"]))
	if s != 200 || !strings.Contains(body, `"version":2`) {
		t.Fatalf("autosave: %d %s", s, body)
	}
	if s, body := b.autosave(b.CSRF, `{"version":1,"answers":{}}`); s != http.StatusConflict || !strings.Contains(body, "stale_version") {
		t.Fatalf("stale autosave: %d %s", s, body)
	}
	// Page 2, then review: the required yes/no is missing.
	s, _, body = get("/respond/questions?page=2")
	expect(t, "page 2", s, 200, body, "Extra question 12", "Page 2 of 2", "Save and review")
	if s, loc, _ := b.post("/respond/questions", url.Values{"page": {"2"}, "version": {"2"}, "action": {"review"}, "qs": {""}}); loc != "/respond/review" {
		t.Fatalf("to review: %d %s", s, loc)
	}
	s, _, body = get("/respond/review")
	expect(t, "review", s, 200, body, "Harm reduction", "Youth; Women", "NGOs: Yes", "Typed with JavaScript", "No answer")
	s, _, body = b.post("/respond/submit", nil)
	expect(t, "submit incomplete", s, 422, body, `id="error-summary"`, "Answer this question before you submit", "/respond/questions?page=1#"+field("yes_no"))
	if s, _, _ := b.post("/respond/questions", url.Values{"page": {"1"}, "version": {"3"}, "action": {"save"}, "qs": {qs("yes_no")}, field("yes_no"): {"yes"}}); s != http.StatusSeeOther {
		t.Fatalf("answer yes/no: %d", s)
	}
	if s, loc, _ := b.post("/respond/submit", nil); s != http.StatusSeeOther || loc != "/respond/receipt" {
		t.Fatalf("submit: %d %s", s, loc)
	}
	s, _, body = get("/respond/receipt")
	expect(t, "receipt", s, 200, body, "Receipt number:", "Harm reduction — تقليل الضرر", "Change my answers")
	var receipt string
	ta.Store.R.Raw("SELECT receipt FROM responses").Scan(&receipt)
	if receipt == "" || !strings.Contains(body, receipt) {
		t.Fatalf("receipt %q not on the page", receipt)
	}
	// Edit and resubmit.
	if s, _, _ := b.post("/respond/questions", url.Values{"page": {"1"}, "version": {"5"}, "action": {"review"}, "qs": {qs("long_text")}, field("long_text"): {"Edited after submitting"}}); s != http.StatusSeeOther {
		t.Fatalf("edit after submit: %d", s)
	}
	_, _, body = get("/respond/questions")
	expect(t, "unsubmitted", 200, 200, body, "Submit again for the changes to count")
	if s, _, _ := b.post("/respond/submit", nil); s != http.StatusSeeOther {
		t.Fatalf("resubmit: %d", s)
	}
	// Closed: read-only, showing what was submitted.
	ta.mustAPI(http.StatusOK, "POST", fmt.Sprintf("/api/v1/rounds/%d/close", f.RoundID), f.Token, nil)
	s, _, body = get("/respond")
	expect(t, "closed", s, 200, body, "This round is closed", "Edited after submitting")
	if strings.Contains(body, "<textarea") || strings.Contains(body, `action="/respond/questions"`) {
		t.Fatal("closed page has a form")
	}
	s, _, _ = b.post("/respond/questions", url.Values{"page": {"1"}, "version": {"7"}, "action": {"save"}, "qs": {qs("long_text")}, field("long_text"): {"Too late"}})
	if s != http.StatusConflict {
		t.Fatalf("a form sent to a closed round: %d, want 409", s)
	}
	var n int64
	ta.Store.R.Raw("SELECT COUNT(*) FROM answers WHERE value LIKE '%Too late%'").Scan(&n)
	if n != 0 {
		t.Fatal("an answer reached a closed round")
	}
	var mails int64
	ta.Store.R.Model(&models.OutboxMessage{}).Where("kind = 'respond_receipt'").Count(&mails)
	if mails != 2 {
		t.Fatalf("%d receipt mails, want 2", mails)
	}
}

func TestRespondPagesStateSkipsAboutYou(t *testing.T) {
	ta := sqliteApp(t)
	f := ta.makeFixture("state", true)
	tok, _ := ta.invite(f.ConsultationID, "NG")
	b := ta.browser()
	b.get("/r/" + tok)
	b.get("/respond/welcome")
	if s, _, _ := b.post("/respond/welcome", url.Values{"consent": {"yes"}}); s != http.StatusSeeOther {
		t.Fatalf("consent: %d", s)
	}
	resp, err := b.client.Get(ta.Srv.URL + "/respond")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if loc := resp.Header.Get("Location"); loc != "/respond/questions" {
		t.Fatalf("a State goes straight to the questions, got %q", loc)
	}
	if s, _ := b.get("/respond/about"); s != http.StatusSeeOther {
		t.Fatalf("about in a State consultation: %d", s)
	}
}
