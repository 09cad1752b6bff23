package handlers

import (
	"bytes"
	"sort"
	"strconv"
	"sync"

	"github.com/labstack/echo/v4"

	"focalpoint/i18n"
	"focalpoint/models"
)

// Page is what every HTML template receives. Templates format only: what
// they show is computed here or in the models.
type Page struct {
	L      *i18n.Localizer
	Staff  *models.Staff
	CSRF   string
	Title  string // message ID
	Flash  []string
	Errors models.FieldErrors // field -> message ID
	Form   map[string]string  // values to show again after an error
	Data   any
	Path   string
	// Languages are the choices of the language picker.
	Languages []LangOption
}

// LangOption is one entry of the language picker: a code and the
// language's own name for itself.
type LangOption struct{ Code, Name string }

// T translates a message ID: {{.T "login.title"}} or, inside range,
// {{$.T "id" "Key" value}}.
func (p *Page) T(id string, kv ...any) string { return p.L.T(id, kv...) }

// Err returns the translated error of a field, or "".
func (p *Page) Err(field string) string {
	if m, ok := p.Errors[field]; ok {
		return p.L.Msg(m)
	}
	return ""
}

// Value returns the value to show again in a form field.
func (p *Page) Value(field string) string { return p.Form[field] }

// HasRole reports whether the viewer's role includes role (for navigation).
func (p *Page) HasRole(role string) bool { return p.Staff != nil && p.Staff.Can(role) }

// ErrorList returns the field errors in a stable order for the summary.
func (p *Page) ErrorList() []FieldMessage {
	out := make([]FieldMessage, 0, len(p.Errors))
	for _, k := range sortedKeys(p.Errors) {
		out = append(out, FieldMessage{Field: k, Message: p.L.Msg(p.Errors[k])})
	}
	return out
}

// FieldMessage is one line of the error summary.
type FieldMessage struct{ Field, Message string }

// page builds the common part of a page for this request.
func (h *Handler) page(c echo.Context, title string) *Page {
	p := &Page{L: h.localizer(c), Staff: CurrentStaff(c), Title: title, Path: c.Request().URL.Path, Languages: h.languages()}
	p.CSRF = h.csrfToken(c)
	s := h.session(c)
	if fl := s.Flashes(); len(fl) > 0 {
		for _, f := range fl {
			if m, ok := f.(string); ok {
				p.Flash = append(p.Flash, m)
			}
		}
		_ = h.saveSession(c)
	}
	return p
}

// languageOptions caches languages() per catalogue bundle: the list is
// fixed once the catalogues are loaded. Callers must not modify it.
var languageOptions sync.Map // *i18n.Bundle -> []LangOption

// languages lists the catalogued languages with their own names.
func (h *Handler) languages() []LangOption {
	if v, ok := languageOptions.Load(h.I18n); ok {
		return v.([]LangOption)
	}
	codes := h.I18n.Languages()
	out := make([]LangOption, 0, len(codes))
	for _, code := range codes {
		out = append(out, LangOption{Code: code, Name: i18n.SelfName(code)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	languageOptions.Store(h.I18n, out)
	return out
}

// renderBuffers are reused between pages: a page is rendered whole into
// one, then written out (so an error can still become an error page).
var renderBuffers = sync.Pool{New: func() any { return bytes.NewBuffer(make([]byte, 0, 16*1024)) }}

// render writes a page (template name like "auth/login").
func (h *Handler) render(c echo.Context, status int, name string, p *Page) error {
	r := c.Echo().Renderer
	if r == nil {
		return c.Render(status, name, p)
	}
	buf := renderBuffers.Get().(*bytes.Buffer)
	buf.Reset()
	defer func() {
		if buf.Cap() <= 1<<20 {
			renderBuffers.Put(buf)
		}
	}()
	if err := r.Render(buf, name, p, c); err != nil {
		return err
	}
	// With its length known the page goes out whole, not chunked: no
	// chunk framing and no closing chunk written after it.
	c.Response().Header().Set(echo.HeaderContentLength, strconv.Itoa(buf.Len()))
	return c.HTMLBlob(status, buf.Bytes())
}
