package main

import (
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"focalpoint/templates"
)

var (
	pageBetweenTags = regexp.MustCompile(`>\s+<`)
	pageSpaces      = regexp.MustCompile(`\s+`)
)

func normalizePage(s string) string {
	return strings.TrimSpace(pageBetweenTags.ReplaceAllString(pageSpaces.ReplaceAllString(s, " "), "><"))
}

// TestQuestionsPageMatchesTemplate: the questions page, whose body is
// now built in Go (handlers/respond_html.go) and whose layout comes from
// the renderer's cached shell, is the same markup (whitespace aside) as
// the template it replaced (testdata/respond_questions_before_go.html)
// in the whole layout, in every state: first and last page, field
// errors, a stale save, a flash message, submitted and changed since,
// English and Arabic.
func TestQuestionsPageMatchesTemplate(t *testing.T) {
	ta := sqliteApp(t)
	f := ta.makeFixture("person", true)
	for i := 10; i <= 12; i++ {
		ta.mustAPI(http.StatusCreated, "POST", fmt.Sprintf("/api/v1/rounds/%d/questions", f.RoundID), f.Token,
			map[string]any{"kind": "short_text", "prompt": fmt.Sprintf(`Extra <question> "%d" & 'more'`, i), "help": "Help + more"})
	}
	tok, _ := ta.invite(f.ConsultationID, "")
	ta.mustAPI(http.StatusOK, "PUT", "/api/v1/respond/"+tok+"/demographics", "", map[string]any{"gender": "female", "institution_type": "ngo", "country": "KE", "consent": true})
	b := ta.browser()
	if s, _ := b.get("/r/" + tok); s != http.StatusSeeOther {
		t.Fatalf("open link: %d", s)
	}
	sum, err := staticSum()
	if err != nil {
		t.Fatal(err)
	}
	old, err := template.New("layout").Funcs(templateFuncs(sum)).ParseFS(templates.FS, "layout.html", "partials/*.html")
	if err != nil {
		t.Fatal(err)
	}
	if old, err = old.ParseFiles("testdata/respond_questions_before_go.html"); err != nil {
		t.Fatal(err)
	}
	pages := ta.App.Renderer.pages
	current := pages["respond/questions"]
	t.Cleanup(func() { pages["respond/questions"] = current })
	// both fetches a page with the Go-built body and the cached layout
	// shell, then with the old template and the whole layout.
	r := ta.App.Renderer
	both := func(what string, fetch func() (int, string)) string {
		t.Helper()
		pages["respond/questions"] = current
		r.noShell.Store(false)
		s1, now := fetch()
		pages["respond/questions"] = old
		r.noShell.Store(true)
		s2, before := fetch()
		pages["respond/questions"] = current
		r.noShell.Store(false)
		if s1 != s2 {
			t.Fatalf("%s: status %d, with the old template %d", what, s1, s2)
		}
		if a, b := normalizePage(now), normalizePage(before); a != b {
			i := 0
			for i < len(a) && i < len(b) && a[i] == b[i] {
				i++
			}
			from := max(0, i-300)
			t.Fatalf("%s: the page differs from the template's at byte %d\n got: …%.600s\nwant: …%.600s", what, i, a[from:], b[from:])
		}
		return now
	}
	get := func(path string) func() (int, string) { return func() (int, string) { return b.get(path) } }
	field := func(k string) string { return "q" + strconv.FormatInt(f.Q[k], 10) }
	body := both("page 1", get("/respond/questions"))
	expect(t, "page 1", 200, 200, body, "Page 1 of 2", `name="csrf_token"`, `data-msg-saving="Saving…"`, "Save and continue", "31 December 2026, 17:00 UTC")
	body = both("page 2", get("/respond/questions?page=2"))
	expect(t, "page 2", 200, 200, body, "Previous page", "Save and review", "Extra &lt;question&gt; &#34;12&#34; &amp; &#39;more&#39;")
	both("page 1 in Arabic", get("/respond/questions?page=1&lang=ar"))
	post := func(form url.Values) func() (int, string) {
		return func() (int, string) { s, _, body := b.post("/respond/questions", form); return s, body }
	}
	invalid := url.Values{"page": {"1"}, "version": {"0"}, "action": {"save"}, "qs": {strconv.FormatInt(f.Q["number"], 10)}, field("number"): {"abc"}}
	body = both("field error", post(invalid))
	expect(t, "field error", 422, 422, body, `id="error-summary"`, `href="#`+field("number")+`"`, `aria-invalid="true"`)
	if s, _, _ := b.post("/respond/questions", url.Values{"page": {"1"}, "version": {"0"}, "action": {"save"}, "qs": {strconv.FormatInt(f.Q["long_text"], 10)}, field("long_text"): {"<b>bold</b> & تقليل"}}); s != http.StatusSeeOther {
		t.Fatalf("save: %d", s)
	}
	pages["respond/questions"] = old
	r.noShell.Store(true)
	_, withFlash := b.get("/respond/questions") // shows (and so clears) the "saved" flash
	pages["respond/questions"] = current
	r.noShell.Store(false)
	expect(t, "flash", 200, 200, withFlash, "Your answers are saved.")
	stale := url.Values{"page": {"1"}, "version": {"0"}, "action": {"save"}, "qs": {strconv.FormatInt(f.Q["long_text"], 10)}, field("long_text"): {"stale"}}
	body = both("stale save", post(stale))
	expect(t, "stale save", 409, 409, body, "Reload the page", `href="/respond/questions?page=1"`)
	answers := fullAnswers(f, "Saved text.")
	ta.mustAPI(http.StatusOK, "PUT", "/api/v1/respond/"+tok+"/answers", "", map[string]any{"version": 1, "answers": answers})
	ta.mustAPI(http.StatusOK, "POST", "/api/v1/respond/"+tok+"/submit", "", nil)
	body = both("submitted", get("/respond/questions"))
	expect(t, "submitted", 200, 200, body, "You have submitted your answers")
	ta.mustAPI(http.StatusOK, "PUT", "/api/v1/respond/"+tok+"/answers", "", map[string]any{"version": 3, "answers": map[string]any{strconv.FormatInt(f.Q["short_text"], 10): "changed"}})
	body = both("changed since submitting", get("/respond/questions"))
	expect(t, "changed since", 200, 200, body, "Submit again for the changes to count")
}

// TestRespondShellsMatchLayout: every respondent page written through the
// cached layout shell is the page the whole layout gives, in English and
// Arabic, with errors, and after the CSRF token changes.
func TestRespondShellsMatchLayout(t *testing.T) {
	ta := sqliteApp(t)
	f := ta.makeFixture("person", true)
	tok, _ := ta.invite(f.ConsultationID, "")
	b := ta.browser()
	if s, _ := b.get("/r/" + tok); s != http.StatusSeeOther {
		t.Fatalf("open link: %d", s)
	}
	r := ta.App.Renderer
	defer r.noShell.Store(false)
	same := func(what string, fetch func() (int, string)) string {
		t.Helper()
		r.noShell.Store(false)
		s1, now := fetch()
		r.noShell.Store(true)
		s2, whole := fetch()
		r.noShell.Store(false)
		if s1 != s2 || now != whole {
			t.Fatalf("%s: through the shell %d, whole layout %d\n%.2000s\n---\n%.2000s", what, s1, s2, now, whole)
		}
		return now
	}
	get := func(path string) func() (int, string) { return func() (int, string) { return b.get(path) } }
	post := func(path string, form url.Values) func() (int, string) {
		return func() (int, string) { s, _, body := b.post(path, form); return s, body }
	}
	for _, lang := range []string{"", "?lang=ar"} {
		body := same("welcome"+lang, get("/respond/welcome"+lang))
		expect(t, "welcome", 200, 200, body, `name="consent"`, `name="csrf_token" value="`+b.CSRF+`"`)
	}
	same("no consent", post("/respond/welcome", url.Values{}))
	if s, _, _ := b.post("/respond/welcome", url.Values{"consent": {"yes"}}); s != http.StatusSeeOther {
		t.Fatalf("consent: %d", s)
	}
	same("about", get("/respond/about"))
	body := same("bad about", post("/respond/about", url.Values{"gender": {"robot"}}))
	expect(t, "bad about", 422, 422, body, `href="#gender"`)
	if s, _, _ := b.post("/respond/about", url.Values{"gender": {"male"}, "institution_type": {"academia"}, "country": {"BR"}}); s != http.StatusSeeOther {
		t.Fatalf("about: %d", s)
	}
	same("questions", get("/respond/questions"))
	same("questions in Arabic", get("/respond/questions?lang=ar"))
	same("review", get("/respond/review"))
	// A new CSRF token (another browser) goes into the same shell.
	b2 := ta.browser()
	b2.get("/r/" + tok)
	r.noShell.Store(false)
	_, other := b2.get("/respond/questions")
	if !strings.Contains(other, `value="`+b2.CSRF+`"`) || b2.CSRF == b.CSRF || strings.Contains(other, b.CSRF) {
		t.Fatal("the shell kept another visitor's CSRF token")
	}
	if strings.Contains(other, shellCSRF) || strings.Contains(other, shellContent) {
		t.Fatal("a shell marker reached the page")
	}
	if r.nShells.Load() == 0 {
		t.Fatal("no page went through a shell")
	}
}
