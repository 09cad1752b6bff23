package main

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

func TestStaffAccountPages(t *testing.T) {
	eachDB(t, func(t *testing.T, ta *testApp) {
		admin, _ := ta.newStaff("admin")
		b := ta.browser()
		b.login(admin.Email, testPassword)
		status, page := b.get("/staff/accounts")
		if status != http.StatusOK || !strings.Contains(page, admin.Email) || !strings.Contains(page, `action="/staff/accounts"`) {
			t.Fatalf("accounts page: %d", status)
		}
		if !strings.Contains(page, `href="/staff/accounts" aria-current="page"`) {
			t.Fatal("the navigation does not mark the current page")
		}
		// No role form or disable button for oneself.
		if strings.Contains(page, "/staff/accounts/"+strconv.FormatInt(admin.ID, 10)+"/") {
			t.Fatal("the admin can act on their own account from the list")
		}

		// Invalid input: 422, the summary, each field's error tied to it, values kept.
		status, _, page = b.post("/staff/accounts", url.Values{"email": {"not an email"}, "name": {"<b>Name</b>"}, "role": {"emperor"}, "password": {"short"}})
		if status != http.StatusUnprocessableEntity {
			t.Fatalf("invalid account: %d", status)
		}
		for _, want := range []string{`id="error-summary"`, `href="#email"`, `aria-describedby="email-error"`, `aria-describedby="password-error"`,
			`aria-describedby="role-error"`, "Use at least 12 characters.", "Choose admin, organizer or analyst.", `value="&lt;b&gt;Name&lt;/b&gt;"`} {
			if !strings.Contains(page, want) {
				t.Fatalf("the error page lacks %q", want)
			}
		}
		if strings.Contains(page, "<b>Name</b>") {
			t.Fatal("a name is not escaped")
		}

		// Create an organizer.
		status, loc, _ := b.post("/staff/accounts", url.Values{"email": {"Olga@Example.org"}, "name": {"Olga <Org>"}, "role": {"organizer"}, "password": {testPassword}})
		if status != http.StatusSeeOther || loc != "/staff/accounts" {
			t.Fatalf("create: %d %s", status, loc)
		}
		_, page = b.get("/staff/accounts")
		if !strings.Contains(page, "Account created.") || !strings.Contains(page, "olga@example.org") || !strings.Contains(page, "Olga &lt;Org&gt;") {
			t.Fatal("the new account or the flash is missing")
		}
		var olgaID int64
		ta.Store.R.Raw("SELECT id FROM staff_users WHERE email = 'olga@example.org'").Scan(&olgaID)
		if olgaID == 0 {
			t.Fatal("account not stored")
		}
		// The flash shows once.
		if _, page = b.get("/staff/accounts"); strings.Contains(page, "Account created.") {
			t.Fatal("the flash shows twice")
		}
		// Duplicate email (any case): 409 with the field named.
		status, _, page = b.post("/staff/accounts", url.Values{"email": {"OLGA@example.org"}, "name": {"Again"}, "role": {"analyst"}, "password": {testPassword}})
		if status != http.StatusConflict || !strings.Contains(page, "An account with this email address already exists.") {
			t.Fatalf("duplicate: %d", status)
		}

		// The new organizer can log in and sees no admin navigation.
		ob := ta.browser()
		ob.login("olga@example.org", testPassword)
		_, home := ob.get("/staff")
		if strings.Contains(home, `href="/staff/accounts"`) || strings.Contains(home, `href="/staff/audit"`) {
			t.Fatal("an organizer sees admin links")
		}
		if !strings.Contains(home, `href="/staff/participants"`) {
			t.Fatal("an organizer lacks the participants link")
		}

		// Change her role to analyst: takes effect on her next request.
		roleURL := "/staff/accounts/" + strconv.FormatInt(olgaID, 10) + "/role"
		b.get("/staff/accounts")
		status, loc, _ = b.post(roleURL, url.Values{"role": {"analyst"}})
		if status != http.StatusSeeOther || loc != "/staff/accounts" {
			t.Fatalf("role change: %d %s", status, loc)
		}
		if _, page = b.get("/staff/accounts"); !strings.Contains(page, "Role changed") {
			t.Fatal("no flash after the role change")
		}
		st, _ := ta.Store.FindStaff(context.Background(), olgaID)
		if st.Role != "analyst" {
			t.Fatalf("role is %s", st.Role)
		}
		if _, home = ob.get("/staff"); strings.Contains(home, `href="/staff/participants"`) {
			t.Fatal("the demoted account still has organizer navigation")
		}
		if status, _, _ = b.post(roleURL, url.Values{"role": {"root"}}); status != http.StatusUnprocessableEntity {
			t.Fatalf("invalid role: %d", status)
		}
		if status, _, _ = b.post("/staff/accounts/"+strconv.FormatInt(admin.ID, 10)+"/role", url.Values{"role": {"analyst"}}); status != http.StatusConflict {
			t.Fatalf("changing one's own role: %d", status)
		}
		if status, _, _ = b.post("/staff/accounts/424242/role", url.Values{"role": {"analyst"}}); status != http.StatusNotFound {
			t.Fatalf("unknown account: %d", status)
		}

		// Disable her: her live session ends, the list says so.
		b.get("/staff/accounts")
		status, loc, _ = b.post("/staff/accounts/"+strconv.FormatInt(olgaID, 10)+"/disable", nil)
		if status != http.StatusSeeOther || loc != "/staff/accounts" {
			t.Fatalf("disable: %d %s", status, loc)
		}
		_, page = b.get("/staff/accounts")
		if !strings.Contains(page, "Account disabled") || !strings.Contains(page, "Disabled") {
			t.Fatal("the list does not show the disabled account")
		}
		if ob.isLoggedIn() {
			t.Fatal("the disabled account is still logged in")
		}
		// Every change is in the audit log, with its actor.
		var actions []string
		ta.Store.R.Raw("SELECT action FROM audit_log WHERE actor = ? ORDER BY id", admin.Email).Scan(&actions)
		joined := strings.Join(actions, ",")
		for _, want := range []string{"staff.create", "staff.role", "staff.disable"} {
			if !strings.Contains(joined, want) {
				t.Fatalf("audit lacks %s: %v", want, actions)
			}
		}
	})
}

func TestStaffAPI(t *testing.T) {
	eachDB(t, func(t *testing.T, ta *testApp) {
		_, tok := ta.newStaff("admin")
		r := ta.mustAPI(http.StatusCreated, "POST", "/api/v1/staff", tok, map[string]string{"email": "Ana@Example.org", "name": "Ana", "role": "analyst", "password": testPassword})
		if r["email"] != "ana@example.org" || r["role"] != "analyst" || r["id"] == nil {
			t.Fatalf("created %v", r)
		}
		if _, ok := r["password"]; ok {
			t.Fatal("the answer carries a password")
		}
		list := ta.mustAPI(http.StatusOK, "GET", "/api/v1/staff", tok, nil)
		items, _ := list["items"].([]any)
		if len(items) != 2 || list["total"].(float64) != 2 {
			t.Fatalf("list %v", list)
		}
		for _, it := range items {
			m := it.(map[string]any)
			if _, ok := m["password_hash"]; ok {
				t.Fatal("the list shows password hashes")
			}
		}
		// The new analyst gets a token and sees herself.
		tr := ta.mustAPI(http.StatusCreated, "POST", "/api/v1/auth/token", "", map[string]string{"email": "ana@example.org", "password": testPassword})
		me := ta.mustAPI(http.StatusOK, "GET", "/api/v1/me", tr["token"].(string), nil)
		if me["email"] != "ana@example.org" || me["name"] != "Ana" || me["role"] != "analyst" {
			t.Fatalf("me %v", me)
		}
	})
}

func TestBearerLogoutRevokesToken(t *testing.T) {
	eachDB(t, func(t *testing.T, ta *testApp) {
		_, tok := ta.newStaff("analyst")
		_, other := ta.newStaff("analyst")
		if r := ta.api("POST", "/api/v1/auth/logout", tok, nil); r.Status != http.StatusNoContent {
			t.Fatalf("logout: %d %s", r.Status, r.Body)
		}
		if r := ta.api("GET", "/api/v1/me", tok, nil); r.Status != http.StatusUnauthorized {
			t.Fatalf("revoked token: %d", r.Status)
		}
		ta.mustAPI(http.StatusOK, "GET", "/api/v1/me", other, nil)
	})
}
