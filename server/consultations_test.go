package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"focalpoint/models"
)

// idOf reads an integer id from a decoded JSON object.
func idOf(t testing.TB, m map[string]any) int64 {
	t.Helper()
	f, ok := m["id"].(float64)
	if !ok {
		t.Fatalf("no id in %v", m)
	}
	return int64(f)
}

// fixture is a consultation with one open round holding one question of
// every kind, made through the API.
type fixture struct {
	ConsultationID, RoundID int64
	Q                       map[string]int64 // kind -> question id
	Token                   string           // organizer bearer token
}

func (ta *testApp) makeFixture(unit string, open bool) fixture {
	ta.t.Helper()
	t := ta.t
	_, tok := ta.newStaff("organizer")
	c := ta.mustAPI(http.StatusCreated, "POST", "/api/v1/consultations", tok, map[string]any{
		"title": "Drug policy consultation", "description": "Why we ask: **evidence**.", "unit": unit, "languages": []string{"en"}, "min_cell_size": 5})
	f := fixture{ConsultationID: idOf(t, c), Q: map[string]int64{}, Token: tok}
	r := ta.mustAPI(http.StatusCreated, "POST", fmt.Sprintf("/api/v1/consultations/%d/rounds", f.ConsultationID), tok, map[string]any{
		"title": "Round 1", "closes_at": "2026-12-31T17:00:00Z"})
	f.RoundID = idOf(t, r)
	qs := []map[string]any{
		{"kind": "long_text", "prompt": "What works?", "required": true},
		{"kind": "short_text", "prompt": "Your role"},
		{"kind": "single_choice", "prompt": "Sector", "options": []map[string]string{{"value": "health", "label": "Health"}, {"value": "justice", "label": "Justice"}}},
		{"kind": "multi_choice", "prompt": "Groups", "options": []map[string]string{{"value": "families", "label": "Families"}, {"value": "youth", "label": "Youth"}, {"value": "women", "label": "Women"}}},
		{"kind": "yes_no", "prompt": "Do you have such policies?", "required": true},
		{"kind": "matrix_yes_no", "prompt": "Consulted groups", "rows": []map[string]string{{"value": "families", "label": "Families"}, {"value": "ngos", "label": "NGOs"}}},
		{"kind": "scale", "prompt": "How useful?", "min": 1, "max": 5},
		{"kind": "number", "prompt": "How many staff?", "min": 0},
		{"kind": "country", "prompt": "Main country of work"},
	}
	for _, q := range qs {
		res := ta.mustAPI(http.StatusCreated, "POST", fmt.Sprintf("/api/v1/rounds/%d/questions", f.RoundID), tok, q)
		f.Q[q["kind"].(string)] = idOf(t, res)
	}
	if open {
		ta.mustAPI(http.StatusOK, "POST", fmt.Sprintf("/api/v1/rounds/%d/open", f.RoundID), tok, nil)
	}
	return f
}

func TestConsultationsAPI(t *testing.T) {
	eachDB(t, func(t *testing.T, ta *testApp) {
		_, orgTok := ta.newStaff("organizer")
		_, anaTok := ta.newStaff("analyst")

		// Validation names the fields.
		r := ta.api("POST", "/api/v1/consultations", orgTok, map[string]any{"title": "", "unit": "robots", "min_cell_size": 0})
		if r.Status != http.StatusUnprocessableEntity {
			t.Fatalf("bad consultation: %d %s", r.Status, r.Body)
		}
		for _, f := range []string{"title", "unit", "min_cell_size"} {
			if _, ok := r.errorFields()[f]; !ok {
				t.Errorf("field %s not named in %s", f, r.Body)
			}
		}
		// Analysts read but do not create.
		if r := ta.api("POST", "/api/v1/consultations", anaTok, map[string]any{"title": "X", "unit": "person"}); r.Status != http.StatusForbidden {
			t.Fatalf("analyst create: %d", r.Status)
		}
		if r := ta.api("POST", "/api/v1/consultations", orgTok, `{"title":`); r.Status != http.StatusBadRequest || r.errorCode() != "malformed_json" {
			t.Fatalf("malformed: %d %s", r.Status, r.Body)
		}

		f := ta.makeFixture("person", false)
		got := ta.mustAPI(http.StatusOK, "GET", fmt.Sprintf("/api/v1/consultations/%d", f.ConsultationID), anaTok, nil)
		rounds, _ := got["rounds"].([]any)
		if len(rounds) != 1 || got["unit"] != "person" || got["min_cell_size"] != 5.0 {
			t.Fatalf("consultation = %v", got)
		}
		r0 := rounds[0].(map[string]any)
		if r0["state"] != "draft" || r0["closes_at"] != "2026-12-31T17:00:00Z" || len(r0["questions"].([]any)) != 9 {
			t.Fatalf("round = %v", r0)
		}
		list := ta.mustAPI(http.StatusOK, "GET", "/api/v1/consultations?per_page=1", anaTok, nil)
		if list["total"] != 1.0 || len(list["items"].([]any)) != 1 {
			t.Fatalf("list = %v", list)
		}
		if r := ta.api("GET", "/api/v1/consultations/99999", anaTok, nil); r.Status != http.StatusNotFound {
			t.Fatalf("missing consultation: %d", r.Status)
		}

		// Rounds: bad times named; closes before opens.
		r = ta.api("POST", fmt.Sprintf("/api/v1/consultations/%d/rounds", f.ConsultationID), orgTok, map[string]any{"title": "R", "opens_at": "tomorrow", "closes_at": "2026-01-01T00:00:00Z"})
		if r.Status != http.StatusUnprocessableEntity || r.errorFields()["opens_at"] == nil {
			t.Fatalf("bad round time: %d %s", r.Status, r.Body)
		}
		r = ta.api("POST", fmt.Sprintf("/api/v1/consultations/%d/rounds", f.ConsultationID), orgTok, map[string]any{"title": "R", "opens_at": "2026-05-01T00:00:00Z", "closes_at": "2026-04-01T00:00:00Z"})
		if r.Status != http.StatusUnprocessableEntity || r.errorFields()["closes_at"] == nil {
			t.Fatalf("closes before opens: %d %s", r.Status, r.Body)
		}

		// Open and close by hand, with audit entries.
		if o := ta.mustAPI(http.StatusOK, "POST", fmt.Sprintf("/api/v1/rounds/%d/open", f.RoundID), orgTok, nil); o["state"] != "open" {
			t.Fatalf("open: %v", o)
		}
		if o := ta.mustAPI(http.StatusOK, "POST", fmt.Sprintf("/api/v1/rounds/%d/close", f.RoundID), orgTok, nil); o["state"] != "closed" {
			t.Fatalf("close: %v", o)
		}
		var actions []string
		ta.Store.R.Raw("SELECT action FROM audit_log WHERE target = ? ORDER BY id", fmt.Sprintf("round:%d", f.RoundID)).Scan(&actions)
		if strings.Join(actions, ",") != "round.create,round.open,round.close" {
			t.Fatalf("audit = %v", actions)
		}
		if r := ta.api("POST", fmt.Sprintf("/api/v1/rounds/%d/open", f.RoundID), anaTok, nil); r.Status != http.StatusForbidden {
			t.Fatalf("analyst open: %d", r.Status)
		}

		// Opened and closed by time.
		tr := ta.mustAPI(http.StatusCreated, "POST", fmt.Sprintf("/api/v1/consultations/%d/rounds", f.ConsultationID), orgTok, map[string]any{
			"title": "Timed", "opens_at": "2026-03-05T00:00:00Z", "closes_at": "2026-03-10T00:00:00Z", "show_results_of": f.RoundID})
		tid := idOf(t, tr)
		state := func() string {
			return ta.mustAPI(http.StatusOK, "GET", fmt.Sprintf("/api/v1/rounds/%d", tid), anaTok, nil)["state"].(string)
		}
		if s := state(); s != "draft" {
			t.Fatalf("before opens_at: %s", s)
		}
		ta.Clock.Set(time.Date(2026, 3, 6, 0, 0, 0, 0, time.UTC))
		if s := state(); s != "open" {
			t.Fatalf("after opens_at: %s", s)
		}
		ta.Clock.Set(time.Date(2026, 3, 10, 0, 0, 0, 0, time.UTC))
		if s := state(); s != "closed" {
			t.Fatalf("at closes_at: %s", s)
		}
	})
}

func TestQuestionValidation(t *testing.T) {
	eachDB(t, func(t *testing.T, ta *testApp) {
		f := ta.makeFixture("person", false)
		path := fmt.Sprintf("/api/v1/rounds/%d/questions", f.RoundID)
		cases := []struct {
			body  map[string]any
			field string
		}{
			{map[string]any{"kind": "essay", "prompt": "x"}, "kind"},
			{map[string]any{"kind": "long_text", "prompt": ""}, "prompt"},
			{map[string]any{"kind": "single_choice", "prompt": "x", "options": []map[string]string{{"value": "a"}}}, "options"},
			{map[string]any{"kind": "multi_choice", "prompt": "x", "options": []map[string]string{{"value": "a"}, {"value": "a"}}}, "options.1.value"},
			{map[string]any{"kind": "matrix_yes_no", "prompt": "x"}, "rows"},
			{map[string]any{"kind": "scale", "prompt": "x", "min": 5, "max": 1}, "max"},
			{map[string]any{"kind": "long_text", "prompt": "x", "options": []map[string]string{{"value": "a"}, {"value": "b"}}}, "options"},
			{map[string]any{"kind": "long_text", "prompt": "bad \u0000 text"}, "prompt"},
		}
		for _, c := range cases {
			r := ta.api("POST", path, f.Token, c.body)
			if r.Status != http.StatusUnprocessableEntity || r.errorFields()[c.field] == nil {
				t.Errorf("%v: %d %s, want 422 naming %s", c.body, r.Status, r.Body, c.field)
			}
		}
		if r := ta.api("POST", "/api/v1/rounds/424242/questions", f.Token, cases[1].body); r.Status != http.StatusNotFound {
			t.Errorf("question of a missing round: %d", r.Status)
		}
		// A scale without bounds gets 1–5.
		q := ta.mustAPI(http.StatusCreated, "POST", path, f.Token, map[string]any{"kind": "scale", "prompt": "Rate"})
		if q["min"] != 1.0 || q["max"] != 5.0 {
			t.Fatalf("scale defaults: %v", q)
		}
		// Before any submission everything may change.
		qid := f.Q["single_choice"]
		ta.mustAPI(http.StatusOK, "PUT", fmt.Sprintf("/api/v1/questions/%d", qid), f.Token, map[string]any{"kind": "single_choice", "prompt": "Sector (main)",
			"options": []map[string]string{{"value": "health", "label": "Health"}, {"value": "justice", "label": "Justice"}, {"value": "education", "label": "Education"}}})
	})
}

func TestConsultationPages(t *testing.T) {
	ta := sqliteApp(t)
	org, _ := ta.newStaff("organizer")
	ana, _ := ta.newStaff("analyst")
	b := ta.browser()
	b.login(org.Email, testPassword)
	if status, body := b.get("/staff/consultations/new"); status != http.StatusOK || !strings.Contains(body, `name="title"`) {
		t.Fatalf("new page: %d", status)
	}
	// Errors re-render with the fields named.
	status, _, body := b.post("/staff/consultations", url.Values{"title": {""}, "unit": {"person"}})
	if status != http.StatusUnprocessableEntity || !strings.Contains(body, `id="error-summary"`) || !strings.Contains(body, `href="#title"`) {
		t.Fatalf("invalid form: %d", status)
	}
	status, loc, _ := b.post("/staff/consultations", url.Values{"title": {"Handbook <review>"}, "unit": {"state"}, "description": {"Hello <script>alert(1)</script> **world**"}, "min_cell_size": {"5"}, "languages": {"en"}})
	if status != http.StatusSeeOther || !strings.HasPrefix(loc, "/staff/consultations/") {
		t.Fatalf("create: %d %s", status, loc)
	}
	_, body = b.get(loc)
	if strings.Contains(body, "<script>alert") || !strings.Contains(body, "<strong>world</strong>") || !strings.Contains(body, "Handbook &lt;review&gt;") {
		t.Fatalf("description not rendered safely:\n%s", body)
	}
	status, _, _ = b.post(loc+"/rounds", url.Values{"title": {"First round"}, "closes_at": {"2026-06-01T12:00"}})
	if status != http.StatusSeeOther {
		t.Fatalf("add round: %d", status)
	}
	rounds, _ := ta.Store.ListRounds(context.Background(), mustID(t, loc))
	if len(rounds) != 1 || rounds[0].ClosesAt == nil || !rounds[0].ClosesAt.Equal(time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)) {
		t.Fatalf("rounds = %+v", rounds)
	}
	rid := rounds[0].ID
	status, _, _ = b.post(fmt.Sprintf("/staff/rounds/%d/questions", rid), url.Values{"kind": {"multi_choice"}, "prompt": {"Which groups?"}, "options": {"Families\nYoung people\nwomen|Women"}})
	if status != http.StatusSeeOther {
		t.Fatalf("add question: %d", status)
	}
	qs, _ := ta.Store.ListQuestions(context.Background(), rid)
	if len(qs) != 1 || qs[0].Options != `[{"value":"families","label":"Families"},{"value":"young_people","label":"Young people"},{"value":"women","label":"Women"}]` {
		t.Fatalf("questions = %+v", qs)
	}
	if status, _, _ := b.post(fmt.Sprintf("/staff/rounds/%d/open", rid), nil); status != http.StatusSeeOther {
		t.Fatalf("open: %d", status)
	}
	if status, body := b.get(fmt.Sprintf("/staff/rounds/%d/preview", rid)); status != http.StatusOK || !strings.Contains(body, "Which groups?") || !strings.Contains(body, "Young people") {
		t.Fatalf("preview: %d", status)
	}
	// An analyst reads but cannot change.
	a := ta.browser()
	a.login(ana.Email, testPassword)
	if status, _ := a.get(loc); status != http.StatusOK {
		t.Fatalf("analyst read: %d", status)
	}
	if status, _, _ := a.post(fmt.Sprintf("/staff/rounds/%d/close", rid), nil); status != http.StatusForbidden {
		t.Fatalf("analyst close: %d", status)
	}
	if r, _ := ta.Store.FindRound(context.Background(), rid); r.State != models.RoundOpen {
		t.Fatalf("round state %s after analyst tried to close", r.State)
	}
}

func mustID(t *testing.T, loc string) int64 {
	t.Helper()
	var id int64
	if _, err := fmt.Sscanf(loc[strings.LastIndex(loc, "/")+1:], "%d", &id); err != nil {
		t.Fatalf("no id in %q", loc)
	}
	return id
}
