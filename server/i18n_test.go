package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"focalpoint/i18n"
	"focalpoint/templates"
)

func getWithLang(t *testing.T, b *browser, path, acceptLanguage string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("GET", b.ta.Srv.URL+path, nil)
	if acceptLanguage != "" {
		req.Header.Set("Accept-Language", acceptLanguage)
	}
	status, _, body := b.do(req)
	if m := csrfRe.FindStringSubmatch(body); m != nil {
		b.CSRF = m[1]
	}
	return status, body
}

func TestLanguageFromAcceptLanguageAndRTL(t *testing.T) {
	ta := sqliteApp(t)
	b := ta.browser()
	_, page := getWithLang(t, b, "/login", "ar")
	if !strings.Contains(page, `<html lang="ar" dir="rtl">`) {
		t.Fatalf("Accept-Language: ar gives %.120s", page)
	}
	if !strings.Contains(page, "<h1>تسجيل الدخول</h1>") {
		t.Fatal("the login page is not in Arabic")
	}
	_, page = getWithLang(t, b, "/login", "fr-CH, ar;q=0.8, en;q=0.5")
	if !strings.Contains(page, `lang="ar" dir="rtl"`) {
		t.Fatal("the best available match of the list is not used")
	}
	_, page = getWithLang(t, b, "/login", "en-GB,en;q=0.9")
	if !strings.Contains(page, `<html lang="en" dir="ltr">`) || !strings.Contains(page, "<h1>Log in</h1>") {
		t.Fatal("English pages are not ltr/English")
	}
	_, page = getWithLang(t, b, "/login", "")
	if !strings.Contains(page, `<html lang="en" dir="ltr">`) {
		t.Fatal("the default is not English")
	}
	// A missing Arabic message falls back to English, never to its id.
	_, page = getWithLang(t, b, "/no/such/page", "ar")
	if strings.Contains(page, "error.") || !strings.Contains(page, "الصفحة غير موجودة") {
		t.Fatalf("the Arabic 404 page: %s", page)
	}
}

func TestLanguagePickerChoiceWins(t *testing.T) {
	eachDB(t, func(t *testing.T, ta *testApp) {
		b := ta.browser()
		_, page := getWithLang(t, b, "/login", "en")
		// The picker is a plain form: it works without JavaScript.
		for _, want := range []string{`<form method="post" action="/language"`, `<label for="lang-picker">`, `<option value="ar" lang="ar">العربية</option>`, `<button type="submit"`, `name="next" value="/login"`} {
			if !strings.Contains(page, want) {
				t.Fatalf("the picker lacks %q", want)
			}
		}
		status, loc, _ := b.post("/language", url.Values{"lang": {"ar"}, "next": {"/login"}})
		if status != http.StatusSeeOther || loc != "/login" {
			t.Fatalf("choose Arabic: %d %s", status, loc)
		}
		// The explicit choice beats Accept-Language.
		_, page = getWithLang(t, b, "/login", "en")
		if !strings.Contains(page, `<html lang="ar" dir="rtl">`) {
			t.Fatal("the chosen language does not win over Accept-Language")
		}
		if !strings.Contains(page, `<option value="ar" lang="ar" selected>`) {
			t.Fatal("the picker does not show the current choice")
		}
		if status, _, _ := b.post("/language", url.Values{"lang": {"xx"}}); status != http.StatusUnprocessableEntity {
			t.Fatalf("unknown language: %d", status)
		}
		// Login keeps the choice; a staff member's choice follows them.
		admin, _ := ta.newStaff("admin")
		b.get("/login")
		if s, _, _ := b.post("/login", url.Values{"email": {admin.Email}, "password": {testPassword}}); s != http.StatusSeeOther {
			t.Fatalf("login: %d", s)
		}
		_, page = getWithLang(t, b, "/staff", "en")
		if !strings.Contains(page, `lang="ar"`) || !strings.Contains(page, "تسجيل الخروج") {
			t.Fatal("the choice was lost at login")
		}
		b.post("/language", url.Values{"lang": {"ar"}, "next": {"/staff"}})
		other := ta.browser()
		other.login(admin.Email, testPassword)
		_, page = getWithLang(t, other, "/staff", "en")
		if !strings.Contains(page, `lang="ar"`) {
			t.Fatal("the staff member's choice does not follow them to a new session")
		}
		// Back to English through the same form.
		if s, _, _ := other.post("/language", url.Values{"lang": {"en"}, "next": {"/staff"}}); s != http.StatusSeeOther {
			t.Fatalf("choose English: %d", s)
		}
		if _, page = getWithLang(t, other, "/staff", "ar"); !strings.Contains(page, `<html lang="en" dir="ltr">`) {
			t.Fatal("switching back to English failed")
		}
	})
}

// TestMessageIDsExist guards every area: a message id written literally in
// a template ({{.T "x"}}, {{$.T "x"}}, the label of a field) or as an
// "error.*" string, page title or flash in Go code must exist in the
// English catalogue. Ids built at run time (printf "role.%s") are skipped.
func TestMessageIDsExist(t *testing.T) {
	bundle, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	missing := map[string][]string{}
	check := func(id, where string) {
		if !bundle.Has(id) {
			missing[id] = append(missing[id], where)
		}
	}

	commentRe := regexp.MustCompile(`(?s)\{\{-?\s*/\*.*?\*/\s*-?\}\}`)
	tRe := regexp.MustCompile(`\.T\s+"([^"]+)"`)
	fieldRe := regexp.MustCompile(`\(field\s+\S+\s+"[^"]*"\s+"([^"]+)"`)
	n := 0
	err = fs.WalkDir(templates.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".html") && !strings.HasSuffix(p, ".txt") {
			return err
		}
		b, err := fs.ReadFile(templates.FS, p)
		if err != nil {
			return err
		}
		text := commentRe.ReplaceAllString(string(b), "")
		for _, re := range []*regexp.Regexp{tRe, fieldRe} {
			for _, m := range re.FindAllStringSubmatch(text, -1) {
				n++
				check(m[1], p)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 20 {
		t.Fatalf("found only %d message ids in templates: the scanner is broken", n)
	}

	// Go code of the whole module (not tests).
	errRe := regexp.MustCompile(`^error\.[a-z0-9_.]+$`)
	idRe := regexp.MustCompile(`^[a-z0-9_]+\.[a-z0-9_.]+$`)
	root := ".."
	goIDs := 0
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if p != root && (strings.HasPrefix(name, ".") || name == "node_modules" || name == "testdata" || name == "data") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		src, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		f, err := parser.ParseFile(fset, p, src, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch x := n.(type) {
			case *ast.BasicLit:
				if x.Kind != token.STRING {
					return true
				}
				s, err := strconv.Unquote(x.Value)
				if err == nil && errRe.MatchString(s) {
					goIDs++
					check(s, fset.Position(x.Pos()).String())
				}
			case *ast.CallExpr:
				// h.page(c, "title.id") and h.flash(c, "msg.id").
				sel, ok := x.Fun.(*ast.SelectorExpr)
				if !ok || (sel.Sel.Name != "page" && sel.Sel.Name != "flash") || len(x.Args) != 2 {
					return true
				}
				if lit, ok := x.Args[1].(*ast.BasicLit); ok && lit.Kind == token.STRING {
					if s, err := strconv.Unquote(lit.Value); err == nil && idRe.MatchString(s) {
						goIDs++
						check(s, fset.Position(lit.Pos()).String())
					}
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if goIDs < 20 {
		t.Fatalf("found only %d message ids in Go code: the scanner is broken", goIDs)
	}
	for id, where := range missing {
		t.Errorf("message id %q is not in any i18n/locales/*.en.toml (used at %s)", id, strings.Join(where, ", "))
	}
}

// Every catalogue in another language only translates ids that exist in
// English (a typo there would silently never show).
func TestTranslationsMatchEnglishIDs(t *testing.T) {
	bundle, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob("../i18n/locales/*.toml")
	idLine := regexp.MustCompile(`(?m)^"([^"]+)"\s*=`)
	for _, f := range files {
		if strings.HasSuffix(f, ".en.toml") {
			continue
		}
		b, _ := os.ReadFile(f)
		for _, m := range idLine.FindAllStringSubmatch(string(b), -1) {
			if !bundle.Has(m[1]) {
				t.Errorf("%s translates %q, which has no English message", f, m[1])
			}
		}
	}
}
