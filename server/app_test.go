package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"focalpoint/models"
	"focalpoint/models/modeltest"
)

// testApp is the real application on a real database, served by httptest.
// Every HTTP test drives the real router through it.
type testApp struct {
	t     testing.TB
	App   *App
	Srv   *httptest.Server
	Store *models.Store
	Clock *modeltest.Clock
	// Mail is the outbox's sender when an area's hook installs one.
}

// testPassword is the password of every staff account tests create.
const testPassword = "correct horse battery staple"

// newTestApp builds the app on dbURL (see modeltest.SQLiteURL/PostgresURL).
func newTestApp(t testing.TB, dbURL string) *testApp {
	t.Helper()
	store := modeltest.Open(t, dbURL)
	clock := modeltest.NewClock(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	store.Now = clock.Now
	cfg, _, err := parseConfig("test", nil, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	cfg.BaseURL = "http://focal.test"
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(&testLogWriter{t}, nil))
	}
	a, err := newApp(context.Background(), cfg, store, log)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.routes())
	t.Cleanup(srv.Close)
	return &testApp{t: t, App: a, Srv: srv, Store: store, Clock: clock}
}

type testLogWriter struct{ t testing.TB }

func (w *testLogWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// eachDB runs fn on SQLite and, when FOCAL_TEST_POSTGRES_URL is set, on
// PostgreSQL (the subtest skips with a message otherwise).
func eachDB(t *testing.T, fn func(t *testing.T, ta *testApp)) {
	modeltest.Dialects(t, func(t *testing.T, u string) { fn(t, newTestApp(t, u)) })
}

// sqliteApp is a test app on a fresh SQLite file.
func sqliteApp(t testing.TB) *testApp { return newTestApp(t, modeltest.SQLiteURL(t)) }

// newStaff creates an account with role and returns it with a bearer token.
func (ta *testApp) newStaff(role string) (*models.Staff, string) {
	ta.t.Helper()
	ctx := context.Background()
	n := staffSeq.Add(1)
	st, err := ta.Store.CreateStaff(ctx, models.NewStaff{Email: role + "-" + strconv.FormatInt(n, 10) + "@example.org", Name: "Test " + role, Role: role, Password: testPassword}, nil)
	if err != nil {
		ta.t.Fatalf("create staff: %v", err)
	}
	tok, _, err := ta.Store.CreateAPIToken(ctx, st)
	if err != nil {
		ta.t.Fatalf("create token: %v", err)
	}
	return st, tok
}

var staffSeq atomic.Int64

// apiResult is a decoded JSON answer.
type apiResult struct {
	Status int
	Header http.Header
	Body   []byte
	JSON   map[string]any
}

// api calls the JSON API with an optional bearer token; body may be a
// string (sent as is), []byte, or any value (sent as JSON).
func (ta *testApp) api(method, path, token string, body any) apiResult {
	ta.t.Helper()
	var rd io.Reader
	ctype := "application/json"
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		js, err := json.Marshal(b)
		if err != nil {
			ta.t.Fatal(err)
		}
		rd = bytes.NewReader(js)
	}
	req, err := http.NewRequest(method, ta.Srv.URL+path, rd)
	if err != nil {
		ta.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", ctype)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := ta.Srv.Client().Do(req)
	if err != nil {
		ta.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := apiResult{Status: resp.StatusCode, Header: resp.Header, Body: raw}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		_ = json.Unmarshal(raw, &r.JSON)
	}
	return r
}

// mustAPI is api that fails the test unless the status is want.
func (ta *testApp) mustAPI(want int, method, path, token string, body any) map[string]any {
	ta.t.Helper()
	r := ta.api(method, path, token, body)
	if r.Status != want {
		ta.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, r.Status, want, r.Body)
	}
	return r.JSON
}

// errorCode returns error.code of an error envelope.
func (r apiResult) errorCode() string {
	e, _ := r.JSON["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

// errorFields returns error.fields of an error envelope.
func (r apiResult) errorFields() map[string]any {
	e, _ := r.JSON["error"].(map[string]any)
	f, _ := e["fields"].(map[string]any)
	return f
}

// browser is a cookie-keeping client that fills forms like a person
// without JavaScript (it does not follow redirects on its own).
type browser struct {
	ta     *testApp
	client *http.Client
	// CSRF is the token last seen on a page.
	CSRF string
}

func (ta *testApp) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{ta: ta, client: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}}
}

var csrfRe = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// get fetches a page and remembers its CSRF token.
func (b *browser) get(path string) (int, string) {
	b.ta.t.Helper()
	resp, err := b.client.Get(b.ta.Srv.URL + path)
	if err != nil {
		b.ta.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if m := csrfRe.FindSubmatch(raw); m != nil {
		b.CSRF = string(m[1])
	}
	return resp.StatusCode, string(raw)
}

// post submits a form with the remembered CSRF token (unless the form
// sets csrf_token itself) and returns status, Location and body.
func (b *browser) post(path string, form url.Values) (int, string, string) {
	b.ta.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["csrf_token"]; !ok {
		form.Set("csrf_token", b.CSRF)
	}
	resp, err := b.client.PostForm(b.ta.Srv.URL+path, form)
	if err != nil {
		b.ta.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if m := csrfRe.FindSubmatch(raw); m != nil {
		b.CSRF = string(m[1])
	}
	return resp.StatusCode, resp.Header.Get("Location"), string(raw)
}

// login logs the browser in through the real login form.
func (b *browser) login(email, password string) {
	b.ta.t.Helper()
	b.get("/login")
	status, loc, body := b.post("/login", url.Values{"email": {email}, "password": {password}})
	if status != http.StatusSeeOther {
		b.ta.t.Fatalf("login: status %d (%s)", status, body)
	}
	if loc != "/staff" {
		b.ta.t.Fatalf("login redirected to %q", loc)
	}
	// Load the landing page like a browser would: it carries the CSRF
	// token of the new session (login replaces it).
	b.get(loc)
}
