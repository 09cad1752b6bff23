package main

import (
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"focalpoint/models"
)

func auditActions(items []any) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.(map[string]any)["action"].(string))
	}
	return out
}

func TestAuditAPI(t *testing.T) {
	eachDB(t, func(t *testing.T, ta *testApp) {
		admin, adminTok := ta.newStaff("admin")
		analyst, analystTok := ta.newStaff("analyst")
		_, organizerTok := ta.newStaff("organizer")

		// A failed and a good login are logged (foundation).
		ta.Clock.Advance(time.Hour)
		if r := ta.api("POST", "/api/v1/auth/token", "", map[string]any{"email": analyst.Email, "password": "wrong password!"}); r.Status != http.StatusUnauthorized {
			t.Fatalf("bad login: %d", r.Status)
		}
		b := ta.browser()
		b.login(admin.Email, testPassword)
		// A role change is logged (foundation).
		if err := ta.Store.SetStaffRole(context.Background(), analyst.ID, models.RoleOrganizer, admin); err != nil {
			t.Fatalf("set role: %v", err)
		}

		all := ta.mustAPI(http.StatusOK, "GET", "/api/v1/audit?per_page=500", adminTok, nil)
		items := all["items"].([]any)
		if int(all["total"].(float64)) != len(items) {
			t.Fatalf("total %v for %d items", all["total"], len(items))
		}
		acts := strings.Join(auditActions(items), " ")
		for _, want := range []string{"staff.create", "auth.token", "auth.login_failed", "auth.login", "staff.role"} {
			if !strings.Contains(acts, want) {
				t.Errorf("no %s entry in %s", want, acts)
			}
		}
		first := items[0].(map[string]any)
		for _, k := range []string{"at", "actor", "action", "target", "detail"} {
			if _, ok := first[k]; !ok {
				t.Errorf("entry without %q: %v", k, first)
			}
		}
		if first["action"] != "staff.role" {
			t.Errorf("newest entry %v, want staff.role first", first)
		}

		r := ta.mustAPI(http.StatusOK, "GET", "/api/v1/audit?action=auth.login_failed", adminTok, nil)
		if got := auditActions(r["items"].([]any)); len(got) != 1 || got[0] != "auth.login_failed" {
			t.Fatalf("action filter: %v", got)
		}
		r = ta.mustAPI(http.StatusOK, "GET", "/api/v1/audit?action=staff", adminTok, nil)
		for _, a := range auditActions(r["items"].([]any)) {
			if !strings.HasPrefix(a, "staff.") {
				t.Fatalf("action family filter returned %s", a)
			}
		}
		r = ta.mustAPI(http.StatusOK, "GET", "/api/v1/audit?actor="+url.QueryEscape(strings.ToUpper(admin.Email)), adminTok, nil)
		for _, it := range r["items"].([]any) {
			if it.(map[string]any)["actor"] != admin.Email {
				t.Fatalf("actor filter returned %v", it)
			}
		}
		if r["total"].(float64) < 2 {
			t.Fatalf("admin entries: %v", r["total"])
		}
		// since: only what happened after the clock moved an hour on.
		since := ta.Clock.Now().Add(-time.Minute).Format(time.RFC3339)
		r = ta.mustAPI(http.StatusOK, "GET", "/api/v1/audit?since="+url.QueryEscape(since), adminTok, nil)
		if got := auditActions(r["items"].([]any)); len(got) != 3 {
			t.Fatalf("since filter: %v", got)
		}
		r = ta.mustAPI(http.StatusOK, "GET", "/api/v1/audit?until="+url.QueryEscape(since), adminTok, nil)
		for _, a := range auditActions(r["items"].([]any)) {
			if a == "staff.role" || a == "auth.login_failed" {
				t.Fatalf("until filter returned %s", a)
			}
		}
		// Paging.
		p1 := ta.mustAPI(http.StatusOK, "GET", "/api/v1/audit?per_page=2&page=1", adminTok, nil)
		p2 := ta.mustAPI(http.StatusOK, "GET", "/api/v1/audit?per_page=2&page=2", adminTok, nil)
		i1, i2 := p1["items"].([]any), p2["items"].([]any)
		if len(i1) != 2 || len(i2) != 2 || p1["total"] != all["total"] || i1[1].(map[string]any)["at"] == nil ||
			i1[0].(map[string]any)["action"] == i2[0].(map[string]any)["action"] && i1[0].(map[string]any)["at"] == i2[0].(map[string]any)["at"] {
			t.Fatalf("paging: %v / %v", i1, i2)
		}

		// Bad input: 422 naming the field; other roles: 403; nobody: 401.
		for _, q := range []string{"since=yesterday", "until=2026-13-45", "page=0"} {
			field := strings.Split(q, "=")[0]
			rr := ta.api("GET", "/api/v1/audit?"+q, adminTok, nil)
			if rr.Status != http.StatusUnprocessableEntity || rr.errorFields()[field] == nil {
				t.Errorf("audit?%s: %d %s", q, rr.Status, rr.Body)
			}
		}
		for _, tok := range []string{analystTok, organizerTok} {
			if rr := ta.api("GET", "/api/v1/audit", tok, nil); rr.Status != http.StatusForbidden {
				t.Errorf("audit by a non-admin: %d", rr.Status)
			}
		}
		if rr := ta.api("GET", "/api/v1/audit", "", nil); rr.Status != http.StatusUnauthorized {
			t.Errorf("anonymous audit: %d", rr.Status)
		}
	})
}

// The audit log is append-only: the database refuses updates and deletes.
func TestAuditAppendOnly(t *testing.T) {
	eachDB(t, func(t *testing.T, ta *testApp) {
		ta.newStaff("admin")
		ctx := context.Background()
		if err := ta.Store.Write(ctx, func(tx *gorm.DB) error {
			return tx.Exec("UPDATE audit_log SET actor = 'someone else'").Error
		}); err == nil {
			t.Fatal("an audit entry could be updated")
		}
		if err := ta.Store.Write(ctx, func(tx *gorm.DB) error {
			return tx.Exec("DELETE FROM audit_log").Error
		}); err == nil {
			t.Fatal("an audit entry could be deleted")
		}
		_, n, err := ta.Store.ListAudit(ctx, models.AuditFilter{})
		if err != nil || n == 0 {
			t.Fatalf("entries after the attempts: %d %v", n, err)
		}
	})
}

// No code path updates or deletes audit entries.
func TestAuditNoChangePathInCode(t *testing.T) {
	bad := regexp.MustCompile(`(?i)(update\s+audit_log|delete\s+from\s+audit_log|truncate\s+(table\s+)?audit_log|Delete\(&(models\.)?AuditEntry|Model\(&(models\.)?AuditEntry\{\}\)\.Update)`)
	err := filepath.WalkDir("..", func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (d.Name() == ".git" || d.Name() == "node_modules") {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if m := bad.Find(b); m != nil {
			t.Errorf("%s changes the audit log: %s", p, m)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestAuditPage(t *testing.T) {
	ta := sqliteApp(t)
	admin, _ := ta.newStaff("admin")
	analyst, _ := ta.newStaff("analyst")
	b := ta.browser()
	b.login(admin.Email, testPassword)
	status, body := b.get("/staff/audit")
	if status != http.StatusOK || !strings.Contains(body, "auth.login") || !strings.Contains(body, `<label for="actor"`) {
		t.Fatalf("audit page: %d", status)
	}
	status, body = b.get("/staff/audit?action=auth.login&actor=" + url.QueryEscape(admin.Email))
	if status != http.StatusOK || strings.Contains(body, "<code>auth.token</code>") || !strings.Contains(body, "<code>auth.login</code>") {
		t.Fatalf("filtered audit page: %d", status)
	}
	status, body = b.get("/staff/audit?since=nonsense")
	if status != http.StatusUnprocessableEntity || !strings.Contains(body, `id="since-error"`) {
		t.Fatalf("audit page with a bad date: %d", status)
	}
	c := ta.browser()
	c.login(analyst.Email, testPassword)
	if status, _ := c.get("/staff/audit"); status != http.StatusForbidden {
		t.Fatalf("audit page for an analyst: %d", status)
	}
}
