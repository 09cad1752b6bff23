package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"gorm.io/gorm"

	"focalpoint/models"
)

func TestCountriesAPI(t *testing.T) {
	ta := sqliteApp(t)
	_, tok := ta.newStaff("analyst")
	ta.mustAPI(http.StatusUnauthorized, "GET", "/api/v1/countries", "", nil)
	js := ta.mustAPI(http.StatusOK, "GET", "/api/v1/countries", tok, nil)
	items, _ := js["items"].([]any)
	if len(items) != 249 || js["total"].(float64) != 249 {
		t.Fatalf("items = %d, total %v", len(items), js["total"])
	}
	byCode := map[string]map[string]any{}
	for _, it := range items {
		m := it.(map[string]any)
		byCode[m["code"].(string)] = m
	}
	at := byCode["AT"]
	if at["name"] != "Austria" || at["region"] != "WEOG" {
		t.Errorf("AT = %v", at)
	}
	if byCode["KI"]["region"] != "Asia-Pacific" || byCode["VA"]["region"] != "Other" || byCode["CI"]["name"] != "Côte d'Ivoire" {
		t.Errorf("KI %v VA %v CI %v", byCode["KI"], byCode["VA"], byCode["CI"])
	}
}

func TestOrganizationsAPI(t *testing.T) {
	eachDB(t, func(t *testing.T, ta *testApp) {
		_, org := ta.newStaff("organizer")
		_, ana := ta.newStaff("analyst")
		ta.mustAPI(http.StatusForbidden, "POST", "/api/v1/organizations", ana, map[string]any{"name": "X", "kind": "ngo"})
		o := ta.mustAPI(http.StatusCreated, "POST", "/api/v1/organizations", org, map[string]any{"name": "Ministry of Health", "kind": "member_state", "country": "at"})
		if o["country"] != "AT" || o["kind"] != "member_state" {
			t.Fatalf("org = %v", o)
		}
		r := ta.api("POST", "/api/v1/organizations", org, map[string]any{"name": "", "kind": "club", "country": "ZZ"})
		if r.Status != http.StatusUnprocessableEntity || len(r.errorFields()) != 3 {
			t.Fatalf("invalid org: %d %s", r.Status, r.Body)
		}
		id := int(o["id"].(float64))
		p := ta.mustAPI(http.StatusOK, "PATCH", pathf("/api/v1/organizations/%d", id), org, map[string]any{"name": "Federal Ministry of Health"})
		if p["name"] != "Federal Ministry of Health" || p["kind"] != "member_state" {
			t.Fatalf("patched = %v", p)
		}
		ta.mustAPI(http.StatusNotFound, "PATCH", "/api/v1/organizations/9999", org, map[string]any{"name": "x"})
		list := ta.mustAPI(http.StatusOK, "GET", "/api/v1/organizations?q=federal", ana, nil)
		if list["total"].(float64) != 1 {
			t.Fatalf("list = %v", list)
		}
		ta.mustAPI(http.StatusOK, "POST", pathf("/api/v1/organizations/%d/archive", id), org, nil)
		if list := ta.mustAPI(http.StatusOK, "GET", "/api/v1/organizations", ana, nil); list["total"].(float64) != 0 {
			t.Fatalf("archived org still listed: %v", list)
		}
		// An archived organisation cannot take new people.
		r = ta.api("POST", "/api/v1/participants", org, map[string]any{"name": "A", "email": "a@example.org", "kind": "expert", "organization_id": id})
		if r.Status != http.StatusUnprocessableEntity || r.errorFields()["organization_id"] == nil {
			t.Fatalf("archived org accepted: %d %s", r.Status, r.Body)
		}
	})
}

func TestParticipantsAPI(t *testing.T) {
	eachDB(t, func(t *testing.T, ta *testApp) {
		_, org := ta.newStaff("organizer")
		_, ana := ta.newStaff("analyst")
		o := ta.mustAPI(http.StatusCreated, "POST", "/api/v1/organizations", org, map[string]any{"name": "Harm Reduction Network", "kind": "ngo"})
		p := ta.mustAPI(http.StatusCreated, "POST", "/api/v1/participants", org, map[string]any{
			"name": "Ana Silva", "email": "Ana.Silva@Example.ORG", "kind": "ngo", "country": "BR", "organization_id": o["id"], "language": "es"})
		if p["email"] != "ana.silva@example.org" || p["language"] != "es" {
			t.Fatalf("participant = %v", p)
		}
		// Same email in another case: 409.
		r := ta.api("POST", "/api/v1/participants", org, map[string]any{"name": "Ana", "email": "ANA.SILVA@example.org", "kind": "expert"})
		if r.Status != http.StatusConflict || r.errorCode() != "duplicate_email" {
			t.Fatalf("duplicate: %d %s", r.Status, r.Body)
		}
		r = ta.api("POST", "/api/v1/participants", org, map[string]any{"name": "", "email": "nope", "kind": "king", "country": "XX", "language": "de", "organization_id": 999})
		if r.Status != http.StatusUnprocessableEntity {
			t.Fatalf("invalid: %d %s", r.Status, r.Body)
		}
		for _, f := range []string{"name", "email", "kind", "country", "language"} {
			if r.errorFields()[f] == nil {
				t.Errorf("no error for %s: %s", f, r.Body)
			}
		}
		ta.mustAPI(http.StatusForbidden, "POST", "/api/v1/participants", ana, map[string]any{"name": "B", "email": "b@example.org", "kind": "expert"})
		if r := ta.api("POST", "/api/v1/participants", org, `{"name":`); r.Status != http.StatusBadRequest {
			t.Fatalf("malformed: %d", r.Status)
		}
		for i, c := range []struct{ name, email, kind, country string }{
			{"Zoe Müller", "zoe@example.org", "expert", "AT"},
			{"Bob Kamau", "bob@example.org", "expert", "KE"},
			{"Chen Li", "chen@example.org", "researcher", "CN"},
			{"100% Sure_Name", "pct@example.org", "observer", ""},
		} {
			ta.mustAPI(http.StatusCreated, "POST", "/api/v1/participants", org, map[string]any{"name": c.name, "email": c.email, "kind": c.kind, "country": c.country})
			_ = i
		}
		names := func(path string) []string {
			t.Helper()
			js := ta.mustAPI(http.StatusOK, "GET", path, ana, nil)
			var out []string
			for _, it := range js["items"].([]any) {
				out = append(out, it.(map[string]any)["name"].(string))
			}
			return out
		}
		if got := names("/api/v1/participants?kind=expert&sort=-name"); strings.Join(got, "|") != "Zoe Müller|Bob Kamau" {
			t.Errorf("kind=expert sort=-name: %v", got)
		}
		if got := names("/api/v1/participants?country=br"); len(got) != 1 || got[0] != "Ana Silva" {
			t.Errorf("country=br: %v", got)
		}
		if got := names("/api/v1/participants?q=KAMAU"); len(got) != 1 {
			t.Errorf("q=KAMAU: %v", got)
		}
		// LIKE wildcards in q are literal.
		if got := names("/api/v1/participants?q=%25"); len(got) != 1 || got[0] != "100% Sure_Name" {
			t.Errorf("q=%%: %v", got)
		}
		js := ta.mustAPI(http.StatusOK, "GET", "/api/v1/participants?sort=name&per_page=2&page=2", ana, nil)
		if js["total"].(float64) != 5 || len(js["items"].([]any)) != 2 || js["items"].([]any)[0].(map[string]any)["name"] != "Bob Kamau" {
			t.Errorf("paging: %v", js)
		}
		if js := ta.mustAPI(http.StatusOK, "GET", "/api/v1/participants?country=BR", ana, nil); js["items"].([]any)[0].(map[string]any)["organization_name"] != "Harm Reduction Network" {
			t.Errorf("organization_name: %v", js)
		}
		for _, bad := range []string{"?sort=password", "?sort=name%3BDROP", "?kind=boss", "?country=QQ", "?page=0", "?per_page=x"} {
			if r := ta.api("GET", "/api/v1/participants"+bad, ana, nil); r.Status != http.StatusUnprocessableEntity {
				t.Errorf("%s: %d", bad, r.Status)
			}
		}
		id := int(p["id"].(float64))
		u := ta.mustAPI(http.StatusOK, "PATCH", pathf("/api/v1/participants/%d", id), org, map[string]any{"name": "Ana M. Silva", "organization_id": nil})
		if u["name"] != "Ana M. Silva" || u["organization_id"] != nil || u["email"] != "ana.silva@example.org" {
			t.Errorf("patch: %v", u)
		}
		if r := ta.api("PATCH", pathf("/api/v1/participants/%d", id), org, map[string]any{"email": "BOB@example.org"}); r.Status != http.StatusConflict {
			t.Errorf("patch to a taken email: %d %s", r.Status, r.Body)
		}
		if r := ta.api("PATCH", pathf("/api/v1/participants/%d", id), org, map[string]any{"kind": "god"}); r.Status != http.StatusUnprocessableEntity {
			t.Errorf("patch bad kind: %d", r.Status)
		}
		ta.mustAPI(http.StatusNotFound, "GET", "/api/v1/participants/424242", ana, nil)
		// Archive hides from the default list; archived=only shows them.
		ta.mustAPI(http.StatusOK, "POST", pathf("/api/v1/participants/%d/archive", id), org, nil)
		if got := names("/api/v1/participants?country=BR"); len(got) != 0 {
			t.Errorf("archived still listed: %v", got)
		}
		if got := names("/api/v1/participants?archived=only"); len(got) != 1 {
			t.Errorf("archived=only: %v", got)
		}
		ta.mustAPI(http.StatusOK, "POST", pathf("/api/v1/participants/%d/restore", id), org, nil)
		// Someone who has answered is never deleted.
		answered := createRespondent(t, ta, int64(id))
		_ = answered
		if r := ta.api("DELETE", pathf("/api/v1/participants/%d", id), org, nil); r.Status != http.StatusConflict || r.errorCode() != "participant_in_use" {
			t.Errorf("delete answered: %d %s", r.Status, r.Body)
		}
		if _, err := ta.Store.FindParticipant(context.Background(), int64(id)); err != nil {
			t.Errorf("answered participant gone: %v", err)
		}
		other := ta.mustAPI(http.StatusOK, "GET", "/api/v1/participants?q=zoe", ana, nil)["items"].([]any)[0].(map[string]any)
		ta.mustAPI(http.StatusNoContent, "DELETE", pathf("/api/v1/participants/%d", int(other["id"].(float64))), org, nil)
	})
}

func pathf(format string, a ...any) string { return fmt.Sprintf(format, a...) }

// createConsultation inserts a consultation row directly (the consultation
// API belongs to another area).
func createConsultation(t testing.TB, ta *testApp, title string) int64 {
	t.Helper()
	now := ta.Store.Now()
	c := &models.Consultation{Title: title, Unit: models.UnitPerson, Languages: `["en"]`, MinCellSize: 5, CreatedAt: now, UpdatedAt: now}
	if err := ta.Store.Write(context.Background(), func(tx *gorm.DB) error { return tx.Create(c).Error }); err != nil {
		t.Fatal(err)
	}
	return c.ID
}

// createRespondent makes the participant a respondent of a fresh consultation.
func createRespondent(t testing.TB, ta *testApp, participantID int64) int64 {
	t.Helper()
	cid := createConsultation(t, ta, "Answered")
	now := ta.Store.Now()
	r := &models.Respondent{ConsultationID: cid, ParticipantID: &participantID, Code: models.NewToken(8), CreatedAt: now, UpdatedAt: now}
	if err := ta.Store.Write(context.Background(), func(tx *gorm.DB) error { return tx.Create(r).Error }); err != nil {
		t.Fatal(err)
	}
	return r.ID
}
