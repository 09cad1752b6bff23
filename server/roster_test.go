package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
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

// importCSV posts a CSV body to the import API.
func (ta *testApp) importCSV(token, query, ctype, body string) apiResult {
	ta.t.Helper()
	req, _ := http.NewRequest("POST", ta.Srv.URL+"/api/v1/participants/import"+query, strings.NewReader(body))
	req.Header.Set("Content-Type", ctype)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := ta.Srv.Client().Do(req)
	if err != nil {
		ta.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := apiResult{Status: resp.StatusCode, Header: resp.Header, Body: raw}
	_ = json.Unmarshal(raw, &r.JSON)
	return r
}

func TestImportParticipantsAPI(t *testing.T) {
	eachDB(t, func(t *testing.T, ta *testApp) {
		_, org := ta.newStaff("organizer")
		_, ana := ta.newStaff("analyst")
		ta.mustAPI(http.StatusCreated, "POST", "/api/v1/participants", org, map[string]any{"name": "Old Name", "email": "ana@x.org", "kind": "ngo"})
		good := "\ufeffname;email;kind;country;organization\r\n\"Silva; Ana\";ANA@x.org;ngo;BR;Rede Viva\r\nBo;bo@x.org;expert;KE;\r\n"
		if r := ta.importCSV(ana, "", "text/csv", good); r.Status != http.StatusForbidden {
			t.Fatalf("analyst import: %d", r.Status)
		}
		if r := ta.importCSV(org, "", "application/json", good); r.Status != http.StatusUnsupportedMediaType {
			t.Fatalf("json body: %d", r.Status)
		}
		r := ta.importCSV(org, "?dry_run=true", "text/csv; charset=utf-8", good)
		if r.Status != http.StatusOK || r.JSON["created"].(float64) != 1 || r.JSON["updated"].(float64) != 1 || r.JSON["skipped"].(float64) != 0 || len(r.JSON["errors"].([]any)) != 0 {
			t.Fatalf("dry run: %d %s", r.Status, r.Body)
		}
		if js := ta.mustAPI(http.StatusOK, "GET", "/api/v1/participants", ana, nil); js["total"].(float64) != 1 {
			t.Fatalf("dry run wrote: %v", js["total"])
		}
		bad := good + "Cy;cy@x.org;wizard;ZZ;\r\n;no-at;expert;;\r\n"
		r = ta.importCSV(org, "?dry_run=true", "text/csv", bad)
		errs := r.JSON["errors"].([]any)
		if r.Status != http.StatusOK || len(errs) != 4 {
			t.Fatalf("dry run with bad rows: %d %s", r.Status, r.Body)
		}
		first := errs[0].(map[string]any)
		if first["row"].(float64) != 4 || first["field"] != "kind" || !strings.Contains(first["message"].(string), "expert") {
			t.Errorf("first error = %v", first)
		}
		r = ta.importCSV(org, "", "text/csv", bad)
		if r.Status != http.StatusUnprocessableEntity || r.errorCode() != "import_invalid" || len(r.JSON["errors"].([]any)) != 4 {
			t.Fatalf("real run with bad rows: %d %s", r.Status, r.Body)
		}
		if js := ta.mustAPI(http.StatusOK, "GET", "/api/v1/participants", ana, nil); js["total"].(float64) != 1 {
			t.Fatalf("failed import wrote: %v", js["total"])
		}
		r = ta.importCSV(org, "", "text/csv", good)
		if r.Status != http.StatusOK || r.JSON["created"].(float64) != 1 || r.JSON["updated"].(float64) != 1 || r.JSON["organizations_created"].(float64) != 1 {
			t.Fatalf("import: %d %s", r.Status, r.Body)
		}
		js := ta.mustAPI(http.StatusOK, "GET", "/api/v1/participants?q=silva", ana, nil)
		p := js["items"].([]any)[0].(map[string]any)
		if p["name"] != "Silva; Ana" || p["country"] != "BR" || p["organization_name"] != "Rede Viva" {
			t.Errorf("imported = %v", p)
		}
		r = ta.importCSV(org, "", "text/csv", "name,email\nA,a@x.org\n")
		if r.Status != http.StatusUnprocessableEntity || r.JSON["errors"].([]any)[0].(map[string]any)["field"] != "kind" {
			t.Errorf("missing column: %d %s", r.Status, r.Body)
		}
	})
}

func TestParticipantPages(t *testing.T) {
	ta := sqliteApp(t)
	st, _ := ta.newStaff("organizer")
	b := ta.browser()
	b.login(st.Email, testPassword)
	status, body := b.get("/staff/participants/new")
	if status != http.StatusOK || !strings.Contains(body, `<label for="country">`) {
		t.Fatalf("new form: %d", status)
	}
	status, _, body = b.post("/staff/participants", url.Values{"name": {""}, "email": {"bad"}, "kind": {"expert"}, "language": {"en"}})
	if status != http.StatusUnprocessableEntity || !strings.Contains(body, `aria-describedby="email-error"`) || !strings.Contains(body, "error-summary") {
		t.Fatalf("invalid create: %d", status)
	}
	for _, p := range []struct{ name, email, kind, country string }{
		{"Zoe Huber", "zoe@x.org", "expert", "AT"}, {"Kofi Mensah", "kofi@x.org", "ngo", "GH"}, {"Ines Duarte", "ines@x.org", "expert", "PT"},
	} {
		status, loc, _ := b.post("/staff/participants", url.Values{"name": {p.name}, "email": {p.email}, "kind": {p.kind}, "country": {p.country}, "language": {"en"}})
		if status != http.StatusSeeOther || loc != "/staff/participants" {
			t.Fatalf("create %s: %d %s", p.name, status, loc)
		}
	}
	status, _, body = b.post("/staff/participants", url.Values{"name": {"Again"}, "email": {"ZOE@x.org"}, "kind": {"expert"}, "language": {"en"}})
	if status != http.StatusConflict || !strings.Contains(body, "already has this email") {
		t.Fatalf("duplicate create: %d", status)
	}
	status, body = b.get("/staff/participants?kind=expert&sort=-name")
	if status != http.StatusOK || !strings.Contains(body, "Zoe Huber") || strings.Contains(body, "Kofi Mensah") || strings.Index(body, "Zoe Huber") > strings.Index(body, "Ines Duarte") {
		t.Fatalf("filtered list: %d", status)
	}
	if !strings.Contains(body, "Austria") || !strings.Contains(body, `aria-sort="descending"`) {
		t.Errorf("list shows no country name or sort state")
	}
	_, body = b.get("/staff/participants?q=kofi")
	if !strings.Contains(body, "Kofi Mensah") || strings.Contains(body, "Zoe Huber") {
		t.Errorf("search")
	}
	_, body = b.get("/staff/participants?per_page=2")
	if !strings.Contains(body, `rel="next"`) || !strings.Contains(body, "Page 1 of 2") {
		t.Errorf("pagination")
	}
	kofi, _ := ta.Store.FindParticipantByEmail(context.Background(), "kofi@x.org")
	status, body = b.get(pathf("/staff/participants/%d", kofi.ID))
	if status != http.StatusOK || !strings.Contains(body, `value="kofi@x.org"`) {
		t.Fatalf("edit form: %d", status)
	}
	status, _, _ = b.post(pathf("/staff/participants/%d", kofi.ID), url.Values{"name": {"Kofi A. Mensah"}, "email": {"kofi@x.org"}, "kind": {"ngo"}, "country": {"GH"}, "language": {"fr"}})
	if status != http.StatusSeeOther {
		t.Fatalf("edit: %d", status)
	}
	if p, _ := ta.Store.FindParticipant(context.Background(), kofi.ID); p.Name != "Kofi A. Mensah" || p.Language != "fr" {
		t.Errorf("edited = %+v", p)
	}
	status, _, _ = b.post(pathf("/staff/participants/%d/archive", kofi.ID), nil)
	if status != http.StatusSeeOther {
		t.Fatalf("archive: %d", status)
	}
	if _, body = b.get("/staff/participants"); strings.Contains(body, "Kofi") {
		t.Errorf("archived person listed")
	}
	if _, body = b.get("/staff/participants?archived=only"); !strings.Contains(body, "Kofi") {
		t.Errorf("archived filter")
	}
	// CSRF is required.
	if status, _, _ := b.post(pathf("/staff/participants/%d/restore", kofi.ID), url.Values{"csrf_token": {"forged"}}); status != http.StatusForbidden {
		t.Errorf("forged CSRF: %d", status)
	}
	// Organisations page.
	status, loc, _ := b.post("/staff/organizations", url.Values{"name": {"Ministry of Health of Ghana"}, "kind": {"member_state"}, "country": {"GH"}})
	if status != http.StatusSeeOther || loc != "/staff/organizations" {
		t.Fatalf("create org: %d", status)
	}
	if _, body = b.get("/staff/organizations"); !strings.Contains(body, "Ministry of Health of Ghana") || !strings.Contains(body, "Member State") {
		t.Errorf("org list")
	}
	// Import page: dry run then real run.
	csv := "name,email,kind,country\nNew Person,new@x.org,researcher,FR\nBroken,broken,expert,\n"
	status, body = b.upload("/staff/participants/import", "check", csv)
	if status != http.StatusOK || !strings.Contains(body, "Dry run") || !strings.Contains(body, "<td>3</td><td>email</td>") {
		t.Fatalf("import check: %d %s", status, body)
	}
	status, _ = b.upload("/staff/participants/import", "import", csv)
	if status != http.StatusUnprocessableEntity {
		t.Fatalf("import with errors: %d", status)
	}
	status, body = b.upload("/staff/participants/import", "import", "name,email,kind,country\nNew Person,new@x.org,researcher,FR\n")
	if status != http.StatusOK || !strings.Contains(body, "Import done") || !strings.Contains(body, `<dd id="import-created">1</dd>`) {
		t.Fatalf("import: %d", status)
	}
	// An analyst reads the list but cannot change it.
	an, _ := ta.newStaff("analyst")
	b2 := ta.browser()
	b2.login(an.Email, testPassword)
	if status, _ := b2.get("/staff/participants"); status != http.StatusOK {
		t.Errorf("analyst list: %d", status)
	}
	if status, _ := b2.get("/staff/participants/new"); status != http.StatusForbidden {
		t.Errorf("analyst new form: %d", status)
	}
}

// upload posts a multipart form with a CSV file and the CSRF token.
func (b *browser) upload(path, action, content string) (int, string) {
	b.ta.t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	_ = w.WriteField("csrf_token", b.CSRF)
	_ = w.WriteField("action", action)
	fw, _ := w.CreateFormFile("file", "people.csv")
	_, _ = fw.Write([]byte(content))
	_ = w.Close()
	req, _ := http.NewRequest("POST", b.ta.Srv.URL+path, &buf)
	req.Header.Set("Content-Type", w.FormDataContentType())
	resp, err := b.client.Do(req)
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
