package main

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/labstack/echo/v4"

	"focalpoint/handlers"
	"focalpoint/static"
	"focalpoint/templates"
)

// Renderer holds one parsed template set per page: layout + partials + the
// page, parsed once at start.
type Renderer struct {
	pages map[string]*template.Template
	// shells are the layout of respondent pages around markers (see
	// renderShell); noShell turns them off (tests compare both ways).
	shellTmpl map[string]*template.Template
	shells    sync.Map // shellKey -> *shell
	nShells   atomic.Int64
	noShell   atomic.Bool
}

// staticSum is a checksum of all static files, used in their URLs so
// browsers can cache them forever and still see each new version.
func staticSum() (string, error) {
	h := sha256.New()
	var files []string
	err := fs.WalkDir(static.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		return "", err
	}
	sort.Strings(files)
	for _, f := range files {
		b, err := fs.ReadFile(static.FS, f)
		if err != nil {
			return "", err
		}
		h.Write([]byte(f))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:12], nil
}

// fieldView is what the text-field partial receives.
type fieldView struct {
	Name, Label, Type, Autocomplete, Value, Error string
}

func templateFuncs(sum string) template.FuncMap {
	return template.FuncMap{
		"static": func(p string) string { return "/static/" + sum + "/" + p },
		"field": func(p *handlers.Page, name, label, typ, autocomplete string) fieldView {
			return fieldView{Name: name, Label: p.T(label), Type: typ, Autocomplete: autocomplete, Value: p.Value(name), Error: p.Err(name)}
		},
		"dict": func(kv ...any) (map[string]any, error) {
			if len(kv)%2 != 0 {
				return nil, fmt.Errorf("dict needs key/value pairs")
			}
			m := make(map[string]any, len(kv)/2)
			for i := 0; i < len(kv); i += 2 {
				m[fmt.Sprint(kv[i])] = kv[i+1]
			}
			return m, nil
		},
		"add": func(a, b int) int { return a + b },
	}
}

// NewRenderer parses every page under templates/pages.
func NewRenderer(sum string) (*Renderer, error) {
	base := template.New("layout").Funcs(templateFuncs(sum))
	base, err := base.ParseFS(templates.FS, "layout.html", "partials/*.html")
	if err != nil {
		return nil, fmt.Errorf("parse layout: %w", err)
	}
	r := &Renderer{pages: map[string]*template.Template{}, shellTmpl: map[string]*template.Template{}}
	err = fs.WalkDir(templates.FS, "pages", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path.Ext(p) != ".html" {
			return err
		}
		t, err := base.Clone()
		if err != nil {
			return err
		}
		if _, err := t.ParseFS(templates.FS, p); err != nil {
			return fmt.Errorf("parse %s: %w", p, err)
		}
		name := strings.TrimSuffix(strings.TrimPrefix(p, "pages/"), ".html")
		r.pages[name] = t
		if strings.HasPrefix(name, "respond/") {
			// The same layout with markers for the content.
			st, err := base.Clone()
			if err != nil {
				return err
			}
			if _, err := st.Parse(`{{define "content"}}` + shellContent + `{{end}}`); err != nil {
				return err
			}
			r.shellTmpl[name] = st
		}
		return nil
	})
	return r, err
}

// The layout of a respondent page (no staff account, so no navigation)
// depends only on the language, the title, the path and the CSRF token:
// it is rendered once per language, title and path with markers for the
// content and the token, and each request writes the pieces around its
// own content and token. The layout was a tenth of the CPU of a
// respondent's page. TestQuestionsPageMatchesTemplate and
// TestRespondShellsMatchLayout check the result against the full layout.
const (
	shellContent = "fp-shell-content-5a4b3c2d"
	shellCSRF    = "fp-shell-csrf-0f1e2d3c"
	maxShells    = 1024
)

type shellKey struct{ page, lang, title, path string }

// shell is the layout split at the markers: head, then the content, then
// each of tail's parts with the CSRF token between them.
type shell struct {
	head string
	tail []string
}

// renderShell writes a respondent page through its cached shell; false
// when the page cannot use one (staff, flash messages, no shell).
func (r *Renderer) renderShell(w io.Writer, name string, t *template.Template, p *handlers.Page) (bool, error) {
	st, ok := r.shellTmpl[name]
	if !ok || r.noShell.Load() || p.Staff != nil || len(p.Flash) > 0 || p.L == nil {
		return false, nil
	}
	key := shellKey{name, p.L.Lang(), p.Title, p.Path}
	var sh *shell
	if v, ok := r.shells.Load(key); ok {
		sh = v.(*shell)
	} else {
		q := *p
		q.CSRF = shellCSRF
		var b strings.Builder
		if err := st.ExecuteTemplate(&b, "layout", &q); err != nil {
			return false, err
		}
		out := b.String()
		head, rest, found := strings.Cut(out, shellContent)
		if !found || strings.Contains(rest, shellContent) || strings.Contains(head, shellCSRF) {
			return false, nil // not the layout this expects: render it whole
		}
		sh = &shell{head: head, tail: strings.Split(rest, shellCSRF)}
		if r.nShells.Add(1) > maxShells {
			r.shells.Clear()
			r.nShells.Store(0)
		}
		r.shells.Store(key, sh)
	}
	if _, err := io.WriteString(w, sh.head); err != nil {
		return true, err
	}
	if err := t.ExecuteTemplate(w, "content", p); err != nil {
		return true, err
	}
	csrf := template.HTMLEscapeString(p.CSRF)
	for i, part := range sh.tail {
		if i > 0 {
			if _, err := io.WriteString(w, csrf); err != nil {
				return true, err
			}
		}
		if _, err := io.WriteString(w, part); err != nil {
			return true, err
		}
	}
	return true, nil
}

// Render implements echo.Renderer.
func (r *Renderer) Render(w io.Writer, name string, data any, c echo.Context) error {
	t, ok := r.pages[name]
	if !ok {
		return fmt.Errorf("no page template %q", name)
	}
	if p, ok := data.(*handlers.Page); ok {
		if done, err := r.renderShell(w, name, t, p); done || err != nil {
			return err
		}
	}
	return t.ExecuteTemplate(w, "layout", data)
}

// Has reports whether a page exists (for tests).
func (r *Renderer) Has(name string) bool { _, ok := r.pages[name]; return ok }
