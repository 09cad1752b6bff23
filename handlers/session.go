package handlers

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"net/url"
	"strings"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"

	"focalpoint/i18n"
	"focalpoint/models"
)

// The cookie holds only secrets that point to server-side records (the
// staff session id) plus the CSRF token and flashes; signed and encrypted.
const (
	cookieName = "fp_session"
	keySID     = "sid"
	keyCSRF    = "csrf"
	keyLang    = "lang"
	// CSRFField is the form field, CSRFHeader the header for scripts.
	CSRFField  = "csrf_token"
	CSRFHeader = "X-CSRF-Token"

	ctxStaff     = "fp.staff"
	ctxSession   = "fp.session"
	ctxLocalizer = "fp.localizer"
	ctxBearer    = "fp.bearer"
)

func deriveKey(secret, purpose string, n int) []byte {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(purpose))
	return m.Sum(nil)[:n]
}

func newCookieStore(secret string, secure bool) *sessions.CookieStore {
	cs := sessions.NewCookieStore(deriveKey(secret, "cookie-hash", 32), deriveKey(secret, "cookie-block", 32))
	cs.Options = &sessions.Options{Path: "/", HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode}
	cs.MaxAge(0) // a browser-session cookie; the server record decides expiry
	for _, c := range cs.Codecs {
		if sc, ok := c.(*securecookie.SecureCookie); ok {
			sc.SetSerializer(sessionSerializer{})
		}
	}
	return cs
}

// session returns the visitor's cookie session (a new one if absent or
// tampered with), cached for the request.
func (h *Handler) session(c echo.Context) *sessions.Session {
	if s, ok := c.Get(ctxSession).(*sessions.Session); ok {
		return s
	}
	s, err := h.Sessions.Get(c.Request(), cookieName)
	if err != nil || s == nil {
		s, _ = h.Sessions.New(c.Request(), cookieName)
		s.Values = map[any]any{}
	}
	c.Set(ctxSession, s)
	return s
}

func (h *Handler) saveSession(c echo.Context) error {
	return h.session(c).Save(c.Request(), c.Response())
}

// csrfToken returns the visitor's CSRF token, creating it when needed.
func (h *Handler) csrfToken(c echo.Context) string {
	s := h.session(c)
	tok, _ := s.Values[keyCSRF].(string)
	if tok == "" {
		tok = models.NewToken(32)
		s.Values[keyCSRF] = tok
		if err := s.Save(c.Request(), c.Response()); err != nil {
			h.Log.Error("save session", "err", err)
		}
	}
	return tok
}

// CSRF checks every state-changing request that could ride on a cookie. It
// does not trust Sec-Fetch-Site or Origin to waive the check. Exempt: calls
// authenticated by a bearer token, and calls whose credential is a secret
// in the path or body (token login, respondent and nomination links).
func (h *Handler) CSRF(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		switch r.Method {
		case http.MethodGet, http.MethodHead, http.MethodOptions:
			return next(c)
		}
		if bearer(r) != "" {
			return next(c)
		}
		p := r.URL.Path
		if p == "/api/v1/auth/token" || strings.HasPrefix(p, "/api/v1/respond/") || strings.HasPrefix(p, "/api/v1/nominate/") {
			return next(c)
		}
		want, _ := h.session(c).Values[keyCSRF].(string)
		got := r.Header.Get(CSRFHeader)
		if got == "" {
			got = c.FormValue(CSRFField)
		}
		if want == "" || subtle.ConstantTimeCompare([]byte(want), []byte(got)) != 1 {
			return &APIError{Status: http.StatusForbidden, Code: "csrf_failed", Message: "error.csrf"}
		}
		return next(c)
	}
}

func bearer(r *http.Request) string {
	a := r.Header.Get("Authorization")
	if len(a) > 7 && strings.EqualFold(a[:7], "bearer ") {
		return strings.TrimSpace(a[7:])
	}
	return ""
}

// Authenticate puts the staff account of a bearer token or a cookie session
// into the context, when there is one. A bearer token that is not valid is
// a 401 at once (a script should learn its token is dead).
func (h *Handler) Authenticate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		if tok := bearer(c.Request()); tok != "" {
			st, err := h.Store.FindAPIToken(ctx, tok)
			if err != nil {
				return &APIError{Status: http.StatusUnauthorized, Code: "invalid_token", Message: "error.unauthorized"}
			}
			c.Set(ctxStaff, st)
			c.Set(ctxBearer, true)
			return next(c)
		}
		if sid, _ := h.session(c).Values[keySID].(string); sid != "" {
			st, err := h.Store.FindSession(ctx, sid)
			if err == nil {
				c.Set(ctxStaff, st)
			} else {
				delete(h.session(c).Values, keySID)
				_ = h.saveSession(c)
			}
		}
		return next(c)
	}
}

// RequireRole lets through only staff whose role includes role: 401 when
// nobody is logged in (the HTML side redirects to the login page), 403
// when the role is not enough.
func (h *Handler) RequireRole(role string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			st := CurrentStaff(c)
			if st == nil {
				return models.ErrUnauthorized
			}
			if !st.Can(role) {
				return models.ErrForbidden
			}
			return next(c)
		}
	}
}

// CurrentStaff returns the logged-in staff account, or nil.
func CurrentStaff(c echo.Context) *models.Staff {
	st, _ := c.Get(ctxStaff).(*models.Staff)
	return st
}

// startStaffSession logs st in: a new session id and a new CSRF token, so
// nothing from before login (session fixation) carries over.
func (h *Handler) startStaffSession(c echo.Context, st *models.Staff) error {
	s := h.session(c)
	// Logging in again over a live session ends the old one first.
	if old, _ := s.Values[keySID].(string); old != "" {
		if err := h.Store.DeleteSession(c.Request().Context(), old, CurrentStaff(c)); err != nil {
			return err
		}
	}
	sid, err := h.Store.CreateSession(c.Request().Context(), st)
	if err != nil {
		return err
	}
	lang, _ := s.Values[keyLang].(string)
	s.Values = map[any]any{keySID: sid, keyCSRF: models.NewToken(32)}
	if lang != "" {
		s.Values[keyLang] = lang
	}
	c.Set(ctxStaff, st)
	return h.saveSession(c)
}

// endStaffSession deletes the server record, so the old cookie is dead
// everywhere, and clears the cookie.
func (h *Handler) endStaffSession(c echo.Context) error {
	s := h.session(c)
	if sid, _ := s.Values[keySID].(string); sid != "" {
		if err := h.Store.DeleteSession(c.Request().Context(), sid, CurrentStaff(c)); err != nil {
			return err
		}
	}
	s.Values = map[any]any{keyCSRF: models.NewToken(32)}
	return h.saveSession(c)
}

// localizer picks the language: the visitor's explicit choice, then the
// staff account's, then Accept-Language.
func (h *Handler) localizer(c echo.Context) *i18n.Localizer {
	if l, ok := c.Get(ctxLocalizer).(*i18n.Localizer); ok {
		return l
	}
	var prefs []string
	if q := c.QueryParam("lang"); q != "" {
		prefs = append(prefs, q)
	}
	if s, err := h.Sessions.Get(c.Request(), cookieName); err == nil {
		if lang, _ := s.Values[keyLang].(string); lang != "" {
			prefs = append(prefs, lang)
		}
	}
	if st := CurrentStaff(c); st != nil && st.Language != "" {
		prefs = append(prefs, st.Language)
	}
	prefs = append(prefs, c.Request().Header.Get("Accept-Language"))
	l := h.I18n.Localizer(prefs...)
	c.Set(ctxLocalizer, l)
	return l
}

// flash queues a message (an i18n id) for the next page.
func (h *Handler) flash(c echo.Context, msgID string) {
	s := h.session(c)
	s.AddFlash(msgID)
	_ = h.saveSession(c)
}

// SafeNext returns next when it is a same-site path ("/x", not "//x",
// "/\x" or an absolute URL), else "/staff".
func SafeNext(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/staff"
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || strings.ContainsAny(next, "\r\n\t") {
		return "/staff"
	}
	return next
}

func safeNextQuery(next string) string { return url.QueryEscape(SafeNext(next)) }
