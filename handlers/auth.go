package handlers

import (
	"errors"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"focalpoint/models"
)

// Login attempts allowed per client address and per account.
const (
	loginPerIP      = 20
	loginPerAccount = 10
	loginWindow     = 15 * time.Minute
)

// limitLogin counts a login attempt against the client address and the
// account, in the database (shared by every instance).
func (h *Handler) limitLogin(c echo.Context, email string) error {
	ctx := c.Request().Context()
	for _, k := range []struct {
		key   string
		limit int
	}{{"login:ip:" + c.RealIP(), loginPerIP}, {"login:email:" + models.NormalizeEmail(email), loginPerAccount}} {
		ok, retry, err := h.Store.RateLimit(ctx, k.key, k.limit, loginWindow)
		if err != nil {
			return err
		}
		if !ok {
			return &APIError{Status: http.StatusTooManyRequests, Code: "rate_limited", Message: "error.rate_limited", RetryAfter: retry}
		}
	}
	return nil
}

// LoginForm shows the login page.
func (h *Handler) LoginForm(c echo.Context) error {
	if CurrentStaff(c) != nil {
		return c.Redirect(http.StatusSeeOther, SafeNext(c.QueryParam("next")))
	}
	p := h.page(c, "login.title")
	p.Form = map[string]string{"next": SafeNext(c.QueryParam("next"))}
	return h.render(c, http.StatusOK, "auth/login", p)
}

// Login checks the form, starts a fresh session and goes to next.
func (h *Handler) Login(c echo.Context) error {
	email, password := c.FormValue("email"), c.FormValue("password")
	next := SafeNext(c.FormValue("next"))
	if err := h.limitLogin(c, email); err != nil {
		return err
	}
	st, err := h.Store.Authenticate(c.Request().Context(), email, password)
	if errors.Is(err, models.ErrUnauthorized) {
		_ = h.Store.RecordAudit(c.Request().Context(), nil, "auth.login_failed", "", map[string]any{"email": models.NormalizeEmail(email), "ip": c.RealIP()})
		p := h.page(c, "login.title")
		p.Form = map[string]string{"email": email, "next": next}
		p.Errors = models.FieldErrors{"email": "error.bad_credentials"}
		return h.render(c, http.StatusUnauthorized, "auth/login", p)
	}
	if err != nil {
		return err
	}
	if err := h.startStaffSession(c, st); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, next)
}

// Logout ends the session everywhere it is stored; on the API with a
// bearer token, it revokes that token.
func (h *Handler) Logout(c echo.Context) error {
	if tok := bearer(c.Request()); tok != "" {
		if err := h.Store.DeleteAPIToken(c.Request().Context(), tok, CurrentStaff(c)); err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	}
	if err := h.endStaffSession(c); err != nil {
		return err
	}
	if isAPI(c) {
		return c.NoContent(http.StatusNoContent)
	}
	h.flash(c, "logout.done")
	return c.Redirect(http.StatusSeeOther, "/login")
}

// SetupForm shows the one-time form for the first admin.
func (h *Handler) SetupForm(c echo.Context) error {
	if !h.Store.CheckSetupSecret(c.Request().Context(), c.Param("secret")) {
		return h.badSetupSecret(c)
	}
	return h.render(c, http.StatusOK, "auth/setup", h.page(c, "setup.title"))
}

// badSetupSecret answers an unknown or used setup link: 404, or 429 for a
// client that keeps guessing.
func (h *Handler) badSetupSecret(c echo.Context) error {
	if err := h.LimitUnknownToken(c); err != nil {
		return err
	}
	return &APIError{Status: http.StatusNotFound, Code: "not_found", Message: "setup.invalid"}
}

// Setup creates the first admin, which consumes the secret.
func (h *Handler) Setup(c echo.Context) error {
	ctx := c.Request().Context()
	if !h.Store.CheckSetupSecret(ctx, c.Param("secret")) {
		return h.badSetupSecret(c)
	}
	n := models.NewStaff{Email: c.FormValue("email"), Name: c.FormValue("name"), Password: c.FormValue("password")}
	var err error
	if c.FormValue("password") != c.FormValue("password_confirm") {
		err = models.FieldErrors{"password_confirm": "error.password_mismatch"}
	} else {
		_, err = h.Store.CreateFirstAdmin(ctx, n)
	}
	var fe models.FieldErrors
	if errors.As(err, &fe) {
		p := h.page(c, "setup.title")
		p.Errors = fe
		p.Form = map[string]string{"email": c.FormValue("email"), "name": c.FormValue("name")}
		return h.render(c, http.StatusUnprocessableEntity, "auth/setup", p)
	}
	if err != nil {
		return err
	}
	h.flash(c, "setup.done")
	return c.Redirect(http.StatusSeeOther, "/login")
}

type tokenRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

type tokenResponse struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expires_at"`
}

// CreateToken is POST /api/v1/auth/token.
func (h *Handler) CreateToken(c echo.Context) error {
	var req tokenRequest
	if err := bindJSON(c, &req); err != nil {
		return err
	}
	errs := models.FieldErrors{}
	if req.Email == "" {
		errs.Add("email", "error.required")
	}
	if req.Password == "" {
		errs.Add("password", "error.required")
	}
	if err := errs.Err(); err != nil {
		return err
	}
	if err := h.limitLogin(c, req.Email); err != nil {
		return err
	}
	ctx := c.Request().Context()
	st, err := h.Store.Authenticate(ctx, req.Email, req.Password)
	if errors.Is(err, models.ErrUnauthorized) {
		_ = h.Store.RecordAudit(ctx, nil, "auth.login_failed", "", map[string]any{"email": models.NormalizeEmail(req.Email), "ip": c.RealIP(), "via": "api"})
		return &APIError{Status: http.StatusUnauthorized, Code: "bad_credentials", Message: "error.bad_credentials"}
	}
	if err != nil {
		return err
	}
	tok, exp, err := h.Store.CreateAPIToken(ctx, st)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, tokenResponse{Token: tok, ExpiresAt: exp.UTC()})
}

type meResponse struct {
	ID    int64  `json:"id"`
	Email string `json:"email"`
	Name  string `json:"name"`
	Role  string `json:"role"`
}

func toMe(st *models.Staff) meResponse {
	return meResponse{ID: st.ID, Email: st.Email, Name: st.Name, Role: st.Role}
}

// Me is GET /api/v1/me.
func (h *Handler) Me(c echo.Context) error {
	return c.JSON(http.StatusOK, toMe(CurrentStaff(c)))
}

// Healthz answers when the process is up.
func (h *Handler) Healthz(c echo.Context) error { return c.String(http.StatusOK, "ok") }

// Readyz answers when the database does.
func (h *Handler) Readyz(c echo.Context) error {
	if err := h.Store.Ping(c.Request().Context()); err != nil {
		return c.String(http.StatusServiceUnavailable, "database unavailable")
	}
	return c.String(http.StatusOK, "ready")
}

// SetLanguage records the visitor's language choice.
func (h *Handler) SetLanguage(c echo.Context) error {
	lang := c.FormValue("lang")
	ok := false
	for _, l := range h.I18n.Languages() {
		if l == lang {
			ok = true
		}
	}
	if !ok {
		return models.FieldErrors{"lang": "error.invalid_value"}
	}
	s := h.session(c)
	s.Values[keyLang] = lang
	if err := h.saveSession(c); err != nil {
		return err
	}
	// A staff member's choice also follows them to their next session.
	if st := CurrentStaff(c); st != nil && st.Language != lang {
		if err := h.Store.SetStaffLanguage(c.Request().Context(), st.ID, lang); err != nil {
			return err
		}
	}
	return c.Redirect(http.StatusSeeOther, SafeNext(c.FormValue("next")))
}

// Unknown secret links (respondent, nomination, setup) allowed per client
// address before 429: guessing 256-bit tokens is hopeless, but scanning
// should still be slowed and visible.
const (
	unknownTokenLimit  = 30
	unknownTokenWindow = 10 * time.Minute
)

// LimitUnknownToken counts a request that named an unknown or dead token
// and returns a 429 error once the client passes the limit. Call it where
// a token lookup failed, before answering 404.
func (h *Handler) LimitUnknownToken(c echo.Context) error {
	ok, retry, err := h.Store.RateLimit(c.Request().Context(), "badtoken:"+c.RealIP(), unknownTokenLimit, unknownTokenWindow)
	if err != nil {
		return err
	}
	if !ok {
		return &APIError{Status: http.StatusTooManyRequests, Code: "rate_limited", Message: "error.rate_limited", RetryAfter: retry}
	}
	return nil
}
