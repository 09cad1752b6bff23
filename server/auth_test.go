package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func TestLoginLogoutAndRoles(t *testing.T) {
	eachDB(t, func(t *testing.T, ta *testApp) {
		admin, adminTok := ta.newStaff("admin")
		_, analystTok := ta.newStaff("analyst")

		me := ta.mustAPI(http.StatusOK, "GET", "/api/v1/me", adminTok, nil)
		if me["email"] != admin.Email || me["role"] != "admin" {
			t.Fatalf("me = %v", me)
		}
		// An analyst may not create staff.
		r := ta.api("POST", "/api/v1/staff", analystTok, map[string]any{"email": "x@example.org", "name": "X", "role": "analyst", "password": testPassword})
		if r.Status != http.StatusForbidden || r.errorCode() != "forbidden" {
			t.Fatalf("analyst creating staff: %d %s", r.Status, r.Body)
		}
		// No token: 401 in the envelope.
		if r := ta.api("GET", "/api/v1/me", "", nil); r.Status != http.StatusUnauthorized || r.errorCode() != "unauthorized" {
			t.Fatalf("anonymous me: %d %s", r.Status, r.Body)
		}

		b := ta.browser()
		b.login(admin.Email, testPassword)
		if status, body := b.get("/staff"); status != http.StatusOK || !strings.Contains(body, "Test admin") {
			t.Fatalf("staff home: %d", status)
		}
		oldCookies := b.client.Jar.Cookies(mustURL(ta.Srv.URL))
		if status, loc, _ := b.post("/logout", nil); status != http.StatusSeeOther || loc != "/login" {
			t.Fatalf("logout: %d %s", status, loc)
		}
		// The old cookie is dead on the server, not only in this browser.
		replay := ta.browser()
		replay.client.Jar.SetCookies(mustURL(ta.Srv.URL), oldCookies)
		if status, _ := replay.get("/staff"); status != http.StatusSeeOther {
			t.Fatalf("old cookie after logout: status %d, want redirect to login", status)
		}
	})
}

func TestLoginFormCSRF(t *testing.T) {
	ta := sqliteApp(t)
	admin, _ := ta.newStaff("admin")
	b := ta.browser()
	b.get("/login")
	status, _, _ := b.post("/login", url.Values{"email": {admin.Email}, "password": {testPassword}, "csrf_token": {"forged"}})
	if status != http.StatusForbidden {
		t.Fatalf("login with a forged CSRF token: %d, want 403", status)
	}
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}
