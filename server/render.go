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

	"github.com/labstack/echo/v4"

	"focalpoint/handlers"
	"focalpoint/static"
	"focalpoint/templates"
)

// Renderer holds one parsed template set per page: layout + partials + the
// page, parsed once at start.
type Renderer struct {
	pages map[string]*template.Template
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
	r := &Renderer{pages: map[string]*template.Template{}}
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
		return nil
	})
	return r, err
}

// Render implements echo.Renderer.
func (r *Renderer) Render(w io.Writer, name string, data any, c echo.Context) error {
	t, ok := r.pages[name]
	if !ok {
		return fmt.Errorf("no page template %q", name)
	}
	return t.ExecuteTemplate(w, "layout", data)
}

// Has reports whether a page exists (for tests).
func (r *Renderer) Has(name string) bool { _, ok := r.pages[name]; return ok }
