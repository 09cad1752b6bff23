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
// now built in Go (handlers/respond_html.go), is the same markup
// (whitespace aside) as the template it replaced
// (testdata/respond_questions_before_go.html), in every state: first and
// last page, field errors, a stale save, submitted and changed since,
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
	// both fetches a page with the Go-built body and with the old template.
	both := func(what string, fetch func() (int, string)) string {
		t.Helper()
		pages["respond/questions"] = current
		s1, now := fetch()
		pages["respond/questions"] = old
		s2, before := fetch()
		pages["respond/questions"] = current
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
	b.get("/respond/questions") // shows (and so clears) the "saved" flash
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
