package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"focalpoint/models"
)

// do sends req through the browser's cookie jar and returns status,
// headers and body.
func (b *browser) do(req *http.Request) (int, http.Header, string) {
	b.ta.t.Helper()
	resp, err := b.client.Do(req)
	if err != nil {
		b.ta.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(raw)
}

// cookies returns the browser's cookies for the test server.
func (b *browser) cookies() []*http.Cookie { return b.client.Jar.Cookies(mustURL(b.ta.Srv.URL)) }

// withCookies is a new browser holding a copy of cookies.
func (ta *testApp) withCookies(cookies []*http.Cookie) *browser {
	nb := ta.browser()
	nb.client.Jar.SetCookies(mustURL(ta.Srv.URL), cookies)
	return nb
}

// isLoggedIn reports whether the browser reaches the staff home.
func (b *browser) isLoggedIn() bool {
	b.ta.t.Helper()
	status, _ := b.get("/staff")
	switch status {
	case http.StatusOK:
		return true
	case http.StatusSeeOther:
		return false
	}
	b.ta.t.Fatalf("GET /staff: unexpected status %d", status)
	return false
}

func TestWrongPasswordLeaksNothing(t *testing.T) {
	eachDB(t, func(t *testing.T, ta *testApp) {
		admin, _ := ta.newStaff("admin")
		b := ta.browser()
		b.get("/login")
		secret := "a wrong but secret password"
		status, _, body := b.post("/login", url.Values{"email": {admin.Email}, "password": {secret}})
		if status != http.StatusUnauthorized {
			t.Fatalf("wrong password: %d, want 401", status)
		}
		if !strings.Contains(body, "The email address or password is not right.") {
			t.Fatal("the 401 page does not say what went wrong")
		}
		if strings.Contains(body, secret) {
			t.Fatal("the page shows the typed password")
		}
		if !strings.Contains(body, `value="`+admin.Email+`"`) {
			t.Fatal("the email is not kept in the form")
		}
		// An unknown account gets the very same answer: no account probing.
		status2, _, body2 := b.post("/login", url.Values{"email": {"nobody@example.org"}, "password": {secret}})
		if status2 != status || !strings.Contains(body2, "The email address or password is not right.") {
			t.Fatalf("unknown email answered differently: %d", status2)
		}
		if b.isLoggedIn() {
			t.Fatal("logged in with a wrong password")
		}
		// The API says 401 too, in the envelope, without details.
		r := ta.api("POST", "/api/v1/auth/token", "", map[string]string{"email": admin.Email, "password": secret})
		if r.Status != http.StatusUnauthorized || r.errorCode() != "bad_credentials" || strings.Contains(string(r.Body), secret) {
			t.Fatalf("token with wrong password: %d %s", r.Status, r.Body)
		}
		// The audit log records the failure without the password.
		var details []string
		ta.Store.R.Raw("SELECT detail FROM audit_log WHERE action = 'auth.login_failed'").Scan(&details)
		if len(details) < 2 {
			t.Fatalf("failed logins not audited: %v", details)
		}
		for _, d := range details {
			if strings.Contains(d, secret) {
				t.Fatal("the audit log holds a typed password")
			}
		}
	})
}

func TestCSRFRequired(t *testing.T) {
	eachDB(t, func(t *testing.T, ta *testApp) {
		admin, _ := ta.newStaff("admin")
		b := ta.browser()
		b.login(admin.Email, testPassword)
		post := func(form url.Values, headers map[string]string) int {
			req, _ := http.NewRequest("POST", ta.Srv.URL+"/staff/accounts", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			for k, v := range headers {
				req.Header.Set(k, v)
			}
			status, _, _ := b.do(req)
			return status
		}
		newAccount := url.Values{"email": {"csrf@example.org"}, "name": {"C"}, "role": {"analyst"}, "password": {testPassword}}
		same := map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": ta.Srv.URL}
		if s := post(newAccount, nil); s != http.StatusForbidden {
			t.Fatalf("no CSRF token: %d, want 403", s)
		}
		if s := post(newAccount, same); s != http.StatusForbidden {
			t.Fatalf("no CSRF token but Sec-Fetch-Site: same-origin: %d, want 403", s)
		}
		forged := url.Values{"csrf_token": {"forged"}}
		for k, v := range newAccount {
			forged[k] = v
		}
		if s := post(forged, same); s != http.StatusForbidden {
			t.Fatalf("forged CSRF token: %d, want 403", s)
		}
		// Another visitor's valid token does not work with this cookie.
		other := ta.browser()
		other.get("/login")
		stolen := url.Values{"csrf_token": {other.CSRF}}
		for k, v := range newAccount {
			stolen[k] = v
		}
		if s := post(stolen, nil); s != http.StatusForbidden {
			t.Fatalf("another session's token: %d, want 403", s)
		}
		if n, _ := ta.Store.CountStaff(context.Background()); n != 1 {
			t.Fatalf("a refused request created an account (%d accounts)", n)
		}
		// Logout is a state change too.
		req, _ := http.NewRequest("POST", ta.Srv.URL+"/logout", nil)
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		if s, _, _ := b.do(req); s != http.StatusForbidden {
			t.Fatalf("logout without token: %d", s)
		}
		// The header variant used by scripts works.
		req, _ = http.NewRequest("POST", ta.Srv.URL+"/staff/accounts", strings.NewReader(newAccount.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-CSRF-Token", b.CSRF)
		if s, _, body := b.do(req); s != http.StatusSeeOther {
			t.Fatalf("with X-CSRF-Token: %d %s", s, body)
		}
		// The JSON API refuses a cookie call without the header, too.
		req, _ = http.NewRequest("POST", ta.Srv.URL+"/api/v1/staff", strings.NewReader(`{"email":"j@example.org","name":"J","role":"analyst","password":"`+testPassword+`"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		if s, _, body := b.do(req); s != http.StatusForbidden || !strings.Contains(body, "csrf_failed") {
			t.Fatalf("cookie API call without token: %d %s", s, body)
		}
	})
}

func TestSessionRenewedAtLogin(t *testing.T) {
	eachDB(t, func(t *testing.T, ta *testApp) {
		admin, _ := ta.newStaff("admin")
		b := ta.browser()
		b.get("/login")
		preLogin := b.cookies()
		if len(preLogin) == 0 {
			t.Fatal("no cookie before login")
		}
		b.login(admin.Email, testPassword)
		if !b.isLoggedIn() {
			t.Fatal("not logged in")
		}
		if b.cookies()[0].Value == preLogin[0].Value {
			t.Fatal("the cookie did not change at login")
		}
		// A cookie planted before login (fixation) is not authenticated.
		if ta.withCookies(preLogin).isLoggedIn() {
			t.Fatal("the pre-login cookie became authenticated")
		}
		// Logging in again gives a new session and ends the previous one.
		first := b.cookies()
		b.get("/login") // redirects: already logged in
		status, _, _ := b.post("/login", url.Values{"email": {admin.Email}, "password": {testPassword}})
		if status != http.StatusSeeOther {
			t.Fatalf("second login: %d", status)
		}
		if ta.withCookies(first).isLoggedIn() {
			t.Fatal("the session from before the second login still works")
		}
		if !b.isLoggedIn() {
			t.Fatal("the new session does not work")
		}
		var n int64
		ta.Store.R.Raw("SELECT COUNT(*) FROM staff_sessions WHERE staff_id = ?", admin.ID).Scan(&n)
		if n != 1 {
			t.Fatalf("%d session records, want 1", n)
		}
	})
}

func TestSessionTimeouts(t *testing.T) {
	eachDB(t, func(t *testing.T, ta *testApp) {
		admin, _ := ta.newStaff("admin")
		// Idle: 30 minutes without a request end the session.
		b := ta.browser()
		b.login(admin.Email, testPassword)
		ta.Clock.Advance(models.IdleTimeout - time.Minute)
		if !b.isLoggedIn() {
			t.Fatal("session ended before the idle timeout")
		}
		ta.Clock.Advance(models.IdleTimeout + time.Minute)
		if b.isLoggedIn() {
			t.Fatal("session alive after the idle timeout")
		}
		// Absolute: even an active session ends 12 hours after login.
		b = ta.browser()
		b.login(admin.Email, testPassword)
		step := models.IdleTimeout - time.Minute
		var elapsed time.Duration
		for {
			ta.Clock.Advance(step)
			elapsed += step
			alive := b.isLoggedIn()
			if elapsed <= models.AbsoluteTimeout && !alive {
				t.Fatalf("active session ended after %v", elapsed)
			}
			if elapsed > models.AbsoluteTimeout {
				if alive {
					t.Fatalf("session alive %v after login", elapsed)
				}
				break
			}
		}
		// Bearer tokens expire too.
		_, tok := ta.newStaff("analyst")
		ta.mustAPI(http.StatusOK, "GET", "/api/v1/me", tok, nil)
		ta.Clock.Advance(models.APITokenTTL + time.Minute)
		if r := ta.api("GET", "/api/v1/me", tok, nil); r.Status != http.StatusUnauthorized {
			t.Fatalf("expired token: %d", r.Status)
		}
	})
}

func TestTokensStoredHashed(t *testing.T) {
	eachDB(t, func(t *testing.T, ta *testApp) {
		admin, _ := ta.newStaff("admin")
		r := ta.mustAPI(http.StatusCreated, "POST", "/api/v1/auth/token", "", map[string]string{"email": admin.Email, "password": testPassword})
		tok, _ := r["token"].(string)
		exp, _ := r["expires_at"].(string)
		if len(tok) < 40 {
			t.Fatalf("token %q too short", tok)
		}
		if at, err := time.Parse(time.RFC3339, exp); err != nil || !at.After(ta.Clock.Now()) || !strings.HasSuffix(exp, "Z") {
			t.Fatalf("expires_at %q", exp)
		}
		var n int64
		ta.Store.R.Raw("SELECT COUNT(*) FROM api_tokens WHERE token_hash = ?", tok).Scan(&n)
		if n != 0 {
			t.Fatal("the token is stored in clear")
		}
		ta.Store.R.Raw("SELECT COUNT(*) FROM api_tokens WHERE token_hash = ?", models.HashToken(tok)).Scan(&n)
		if n != 1 {
			t.Fatal("the token's hash is not stored")
		}
		var hash string
		ta.Store.R.Raw("SELECT password_hash FROM staff_users WHERE id = ?", admin.ID).Scan(&hash)
		if !strings.HasPrefix(hash, "$argon2id$") {
			t.Fatalf("password hash %q is not argon2id", hash)
		}
	})
}

func TestDisabledAccountStopsAtOnce(t *testing.T) {
	eachDB(t, func(t *testing.T, ta *testApp) {
		_, adminTok := ta.newStaff("admin")
		victim, victimTok := ta.newStaff("organizer")
		b := ta.browser()
		b.login(victim.Email, testPassword)
		if !b.isLoggedIn() {
			t.Fatal("not logged in")
		}
		ta.mustAPI(http.StatusOK, "GET", "/api/v1/me", victimTok, nil)
		ta.mustAPI(http.StatusOK, "POST", "/api/v1/staff/"+strconv.FormatInt(victim.ID, 10)+"/disable", adminTok, nil)
		if b.isLoggedIn() {
			t.Fatal("the disabled account's live session still works")
		}
		if r := ta.api("GET", "/api/v1/me", victimTok, nil); r.Status != http.StatusUnauthorized {
			t.Fatalf("the disabled account's token: %d", r.Status)
		}
		// And it cannot log in again.
		nb := ta.browser()
		nb.get("/login")
		if s, _, _ := nb.post("/login", url.Values{"email": {victim.Email}, "password": {testPassword}}); s != http.StatusUnauthorized {
			t.Fatalf("disabled account logging in: %d", s)
		}
		if r := ta.api("POST", "/api/v1/auth/token", "", map[string]string{"email": victim.Email, "password": testPassword}); r.Status != http.StatusUnauthorized {
			t.Fatalf("disabled account getting a token: %d", r.Status)
		}
		// Disabling an unknown account is a 404; oneself a 409.
		if r := ta.api("POST", "/api/v1/staff/99999/disable", adminTok, nil); r.Status != http.StatusNotFound {
			t.Fatalf("unknown account: %d", r.Status)
		}
		me := ta.mustAPI(http.StatusOK, "GET", "/api/v1/me", adminTok, nil)
		if r := ta.api("POST", "/api/v1/staff/"+strconv.Itoa(int(me["id"].(float64)))+"/disable", adminTok, nil); r.Status != http.StatusConflict || r.errorCode() != "cannot_disable_self" {
			t.Fatalf("disabling oneself: %d %s", r.Status, r.Body)
		}
	})
}

func TestRoleRefusals(t *testing.T) {
	eachDB(t, func(t *testing.T, ta *testApp) {
		target, _ := ta.newStaff("analyst")
		disable := "/api/v1/staff/" + strconv.FormatInt(target.ID, 10) + "/disable"
		newAcct := map[string]string{"email": "new@example.org", "name": "N", "role": "admin", "password": testPassword}
		for _, role := range []string{"analyst", "organizer"} {
			st, tok := ta.newStaff(role)
			for _, c := range []struct {
				method, path string
				body         any
			}{{"GET", "/api/v1/staff", nil}, {"POST", "/api/v1/staff", newAcct}, {"POST", disable, nil}} {
				r := ta.api(c.method, c.path, tok, c.body)
				if r.Status != http.StatusForbidden || r.errorCode() != "forbidden" {
					t.Fatalf("%s %s %s: %d %s", role, c.method, c.path, r.Status, r.Body)
				}
			}
			// Its own account is fine.
			ta.mustAPI(http.StatusOK, "GET", "/api/v1/me", tok, nil)
			b := ta.browser()
			b.login(st.Email, testPassword)
			status, body := b.get("/staff/accounts")
			if status != http.StatusForbidden || !strings.Contains(body, "Access denied") {
				t.Fatalf("%s on the accounts page: %d", role, status)
			}
			if strings.Contains(body, `href="/staff/accounts"`) {
				t.Fatalf("%s sees the accounts link", role)
			}
			if s, _, _ := b.post("/staff/accounts", url.Values{"email": {"x@example.org"}, "name": {"X"}, "role": {"admin"}, "password": {testPassword}}); s != http.StatusForbidden {
				t.Fatalf("%s posting a new account: %d", role, s)
			}
			if s, _, _ := b.post("/staff/accounts/"+strconv.FormatInt(target.ID, 10)+"/role", url.Values{"role": {"admin"}}); s != http.StatusForbidden {
				t.Fatalf("%s changing a role: %d", role, s)
			}
		}
		got, _ := ta.Store.FindStaff(context.Background(), target.ID)
		if got.DisabledAt != nil || got.Role != "analyst" {
			t.Fatal("a refused request changed the account")
		}
		// Anonymous: 401 on the API, the login page on the web side.
		for _, p := range []string{"/api/v1/staff", "/api/v1/me"} {
			if r := ta.api("GET", p, "", nil); r.Status != http.StatusUnauthorized || r.errorCode() != "unauthorized" {
				t.Fatalf("anonymous %s: %d", p, r.Status)
			}
		}
		if r := ta.api("GET", "/api/v1/me", "not-a-token", nil); r.Status != http.StatusUnauthorized || r.errorCode() != "invalid_token" {
			t.Fatalf("bad token: %d %s", r.Status, r.Body)
		}
		status, _, _ := ta.browser().post("/staff/accounts", url.Values{})
		if status != http.StatusForbidden { // CSRF first: an anonymous post has no token
			t.Fatalf("anonymous post: %d", status)
		}
		req, _ := http.NewRequest("GET", ta.Srv.URL+"/staff/accounts", nil)
		s, h, _ := ta.browser().do(req)
		if s != http.StatusSeeOther || h.Get("Location") != "/login?next=%2Fstaff%2Faccounts" {
			t.Fatalf("anonymous accounts page: %d %q", s, h.Get("Location"))
		}
	})
}

func TestSecurityHeaders(t *testing.T) {
	ta := sqliteApp(t)
	check := func(h http.Header, tls bool) {
		t.Helper()
		csp := h.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'"} {
			if !strings.Contains(csp, want) {
				t.Fatalf("CSP %q lacks %q", csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-inline") || strings.Contains(csp, "unsafe-eval") {
			t.Fatalf("CSP allows unsafe code: %q", csp)
		}
		if h.Get("X-Content-Type-Options") != "nosniff" {
			t.Fatal("no nosniff")
		}
		if h.Get("Referrer-Policy") != "no-referrer" {
			t.Fatalf("Referrer-Policy %q", h.Get("Referrer-Policy"))
		}
		if h.Get("X-Frame-Options") != "DENY" {
			t.Fatal("no X-Frame-Options")
		}
		hsts := h.Get("Strict-Transport-Security")
		if tls && !strings.Contains(hsts, "max-age=") {
			t.Fatal("no HSTS over TLS")
		}
		if !tls && hsts != "" {
			t.Fatal("HSTS over plain HTTP")
		}
		if h.Get(echo.HeaderXRequestID) == "" {
			t.Fatal("no request id")
		}
	}
	for _, p := range []string{"/login", "/nope", "/api/v1/me"} {
		resp, err := http.Get(ta.Srv.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		check(resp.Header, false)
		if resp.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("%s: Cache-Control %q", p, resp.Header.Get("Cache-Control"))
		}
	}
	// Session cookie flags.
	resp, _ := http.Get(ta.Srv.URL + "/login")
	resp.Body.Close()
	for _, c := range resp.Cookies() {
		if !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
			t.Fatalf("cookie %s lacks HttpOnly or SameSite=Lax", c.Name)
		}
	}
	tlsSrv := httptest.NewUnstartedServer(ta.App.routes())
	tlsSrv.StartTLS()
	defer tlsSrv.Close()
	resp, err := tlsSrv.Client().Get(tlsSrv.URL + "/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	check(resp.Header, true)
}

func TestRateLimits(t *testing.T) {
	eachDB(t, func(t *testing.T, ta *testApp) {
		admin, _ := ta.newStaff("admin")
		b := ta.browser()
		b.get("/login")
		var status int
		var n int
		for n = 1; n <= 30; n++ {
			status, _, _ = b.post("/login", url.Values{"email": {admin.Email}, "password": {"wrong password " + strconv.Itoa(n)}})
			if status == http.StatusTooManyRequests {
				break
			}
			if status != http.StatusUnauthorized {
				t.Fatalf("attempt %d: %d", n, status)
			}
		}
		if status != http.StatusTooManyRequests || n > 11 {
			t.Fatalf("no 429 after %d wrong passwords", n)
		}
		// Even the right password waits now (the account is being guessed).
		req, _ := http.NewRequest("POST", ta.Srv.URL+"/login", strings.NewReader(url.Values{"email": {admin.Email}, "password": {testPassword}, "csrf_token": {b.CSRF}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		s, h, _ := b.do(req)
		if s != http.StatusTooManyRequests {
			t.Fatalf("right password during lock-out: %d", s)
		}
		retry, err := strconv.Atoi(h.Get("Retry-After"))
		if err != nil || retry <= 0 || retry > 15*60 {
			t.Fatalf("Retry-After %q", h.Get("Retry-After"))
		}
		r := ta.api("POST", "/api/v1/auth/token", "", map[string]string{"email": admin.Email, "password": testPassword})
		if r.Status != http.StatusTooManyRequests || r.errorCode() != "rate_limited" || r.Header.Get("Retry-After") == "" {
			t.Fatalf("token during lock-out: %d %s", r.Status, r.Body)
		}
		// After the window the account can log in.
		ta.Clock.Advance(16 * time.Minute)
		b.login(admin.Email, testPassword)

		// Unknown secret links: 404 until the limit, then 429 with Retry-After.
		for i := 1; i <= 40; i++ {
			r := ta.api("GET", "/setup/not-a-secret-"+strconv.Itoa(i), "", nil)
			if r.Status == http.StatusTooManyRequests {
				if i <= 30 {
					t.Fatalf("429 after only %d unknown links", i)
				}
				if r.Header.Get("Retry-After") == "" {
					t.Fatal("429 without Retry-After")
				}
				return
			}
			if r.Status != http.StatusNotFound {
				t.Fatalf("unknown setup link %d: %d", i, r.Status)
			}
		}
		t.Fatal("no 429 after 40 unknown links")
	})
}

func TestJSONErrorEnvelope(t *testing.T) {
	eachDB(t, func(t *testing.T, ta *testApp) {
		_, tok := ta.newStaff("admin")
		cases := []struct {
			name         string
			method, path string
			token        string
			body         any
			status       int
			code         string
			fields       []string
		}{
			{"malformed JSON", "POST", "/api/v1/auth/token", "", `{"email": "a@`, 400, "malformed_json", nil},
			{"empty body", "POST", "/api/v1/staff", tok, "", 400, "malformed_json", []string{"body"}},
			{"wrong type names the field", "POST", "/api/v1/staff", tok, `{"email": 5}`, 400, "malformed_json", []string{"email"}},
			{"trailing garbage", "POST", "/api/v1/staff", tok, `{} {}`, 400, "malformed_json", nil},
			{"validation", "POST", "/api/v1/staff", tok, map[string]string{"email": "nope", "name": "", "role": "boss", "password": "short"}, 422, "validation_failed", []string{"email", "name", "role", "password"}},
			{"missing token fields", "POST", "/api/v1/auth/token", "", map[string]string{}, 422, "validation_failed", []string{"email", "password"}},
			{"duplicate", "POST", "/api/v1/staff", tok, nil, 409, "duplicate_email", nil},
			{"unknown API path", "GET", "/api/v1/no/such/thing", tok, nil, 404, "not_found", nil},
			{"unknown API path, anonymous", "GET", "/api/v1/nothing", "", nil, 404, "not_found", nil},
			{"bad id", "POST", "/api/v1/staff/abc/disable", tok, nil, 404, "not_found", nil},
			{"method not allowed", "DELETE", "/api/v1/me", tok, nil, 405, "method_not_allowed", nil},
		}
		// The duplicate case needs an existing account.
		ta.mustAPI(http.StatusCreated, "POST", "/api/v1/staff", tok, map[string]string{"email": "dup@example.org", "name": "D", "role": "analyst", "password": testPassword})
		cases[6].body = map[string]string{"email": "DUP@example.org", "name": "D", "role": "analyst", "password": testPassword}
		for _, c := range cases {
			r := ta.api(c.method, c.path, c.token, c.body)
			if r.Status != c.status || r.errorCode() != c.code {
				t.Fatalf("%s: %d %s, want %d %s", c.name, r.Status, r.Body, c.status, c.code)
			}
			if !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
				t.Fatalf("%s: Content-Type %q", c.name, r.Header.Get("Content-Type"))
			}
			e := r.JSON["error"].(map[string]any)
			if msg, _ := e["message"].(string); msg == "" || strings.HasPrefix(msg, "error.") {
				t.Fatalf("%s: message %q is not a sentence", c.name, msg)
			}
			for _, f := range c.fields {
				why, _ := r.errorFields()[f].(string)
				if why == "" || strings.HasPrefix(why, "error.") {
					t.Fatalf("%s: field %s: %q (%s)", c.name, f, why, r.Body)
				}
			}
		}
		// Too large: 413 in the envelope.
		big := `{"email":"` + strings.Repeat("a", 9<<20) + `"}`
		if r := ta.api("POST", "/api/v1/auth/token", "", big); r.Status != http.StatusRequestEntityTooLarge || r.errorCode() != "too_large" {
			t.Fatalf("9 MB body: %d %.200s", r.Status, r.Body)
		}
	})
}

func TestSafeNextRedirects(t *testing.T) {
	ta := sqliteApp(t)
	admin, _ := ta.newStaff("admin")
	for _, c := range []struct{ next, want string }{
		{"//elsewhere.example", "/staff"},
		{"https://evil.example/", "/staff"},
		{`/\evil.example`, "/staff"},
		{"/\t/evil.example", "/staff"},
		{"javascript:alert(1)", "/staff"},
		{"evil.example", "/staff"},
		{"", "/staff"},
		{"/staff/accounts?x=1", "/staff/accounts?x=1"},
	} {
		b := ta.browser()
		_, page := b.get("/login?next=" + url.QueryEscape(c.next))
		if c.want == "/staff" && c.next != "" && strings.Contains(page, `value="`+c.next+`"`) {
			t.Fatalf("login form carries next=%q", c.next)
		}
		status, loc, _ := b.post("/login", url.Values{"email": {admin.Email}, "password": {testPassword}, "next": {c.next}})
		if status != http.StatusSeeOther || loc != c.want {
			t.Fatalf("next=%q: %d to %q, want %q", c.next, status, loc, c.want)
		}
		// Already logged in, GET /login?next= redirects the same way.
		req, _ := http.NewRequest("GET", ta.Srv.URL+"/login?next="+url.QueryEscape(c.next), nil)
		if s, h, _ := b.do(req); s != http.StatusSeeOther || h.Get("Location") != c.want {
			t.Fatalf("logged-in GET next=%q: %d %q", c.next, s, h.Get("Location"))
		}
		// The language picker's next as well (the form's token is new since login).
		b.get("/staff")
		if s, loc, _ := b.post("/language", url.Values{"lang": {"en"}, "next": {c.next}}); s != http.StatusSeeOther || loc != c.want {
			t.Fatalf("language next=%q: %d %q", c.next, s, loc)
		}
	}
}

func TestFriendlyErrorPages(t *testing.T) {
	ta := sqliteApp(t)
	e := ta.App.routes()
	e.GET("/test/boom", func(c echo.Context) error { panic("secret internals: SELECT * FROM staff_users") })
	e.GET("/test/sql", func(c echo.Context) error {
		return ta.Store.R.Exec("SELECT * FROM no_such_table_xyz").Error
	})
	e.GET("/api/v1/test/sql", func(c echo.Context) error {
		return errors.New("pq: relation \"staff_users\" does not exist")
	})
	srv := httptest.NewServer(e)
	defer srv.Close()
	for _, c := range []struct {
		path    string
		status  int
		heading string
	}{
		{"/no/such/page", 404, "Page not found"},
		{"/test/boom", 500, "Something went wrong"},
		{"/test/sql", 500, "Something went wrong"},
	} {
		resp, err := http.Get(srv.URL + c.path)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body := string(raw)
		if resp.StatusCode != c.status || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Fatalf("%s: %d %s", c.path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if !strings.Contains(body, "<h1>"+c.heading+"</h1>") || !strings.Contains(body, `href="/"`) {
			t.Fatalf("%s: not the friendly page: %s", c.path, body)
		}
		for _, leak := range []string{"goroutine", "panic", "SELECT", "no_such_table", "secret internals", ".go:"} {
			if strings.Contains(body, leak) {
				t.Fatalf("%s leaks %q: %s", c.path, leak, body)
			}
		}
	}
	r, err := http.Get(srv.URL + "/api/v1/test/sql")
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := io.ReadAll(r.Body)
	r.Body.Close()
	if r.StatusCode != 500 || !strings.Contains(string(raw), `"code":"internal"`) || strings.Contains(string(raw), "relation") {
		t.Fatalf("API 500: %d %s", r.StatusCode, raw)
	}
	// 403 page for a logged-in analyst, covered in TestRoleRefusals; the
	// friendly 403 for a forged form:
	b := ta.browser()
	b.get("/login")
	status, _, body := b.post("/login", url.Values{"csrf_token": {"x"}})
	if status != 403 || !strings.Contains(body, "Access denied") || !strings.Contains(body, "did not come from this site") {
		t.Fatalf("CSRF page: %d %s", status, body)
	}
}
