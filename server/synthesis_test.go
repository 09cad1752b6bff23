package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"gorm.io/gorm"

	"focalpoint/models"
)

// synthFixture is a consultation built directly through the store, with
// submissions recorded by SeedSubmission (the same tally path as submit).
type synthFixture struct {
	ta    *testApp
	C     models.Consultation
	Round models.Round
	Q     map[string]models.Question // by kind
}

func newSynthFixture(t *testing.T, ta *testApp, unit string, minCell int) *synthFixture {
	t.Helper()
	now := ta.Clock.Now()
	f := &synthFixture{ta: ta, Q: map[string]models.Question{}}
	err := ta.Store.Write(context.Background(), func(tx *gorm.DB) error {
		f.C = models.Consultation{Title: "Drug policy consultation", Unit: unit, Languages: `["en"]`, MinCellSize: minCell, CreatedAt: now, UpdatedAt: now}
		if err := tx.Create(&f.C).Error; err != nil {
			return err
		}
		f.Round = models.Round{ConsultationID: f.C.ID, Title: "Round 1", State: models.RoundOpen, CreatedAt: now, UpdatedAt: now}
		if err := tx.Create(&f.Round).Error; err != nil {
			return err
		}
		for i, q := range []models.Question{
			{Kind: models.QYesNo, Prompt: "Does your country have such policies?"},
			{Kind: models.QMultiChoice, Prompt: "Which groups are consulted?", Options: `[{"value":"youth","label":"Youth"},{"value":"women","label":"Women"},{"value":"prisoners","label":"People in prison"}]`},
			{Kind: models.QMatrixYesNo, Prompt: "Who is trained?", RowsJSON: `[{"value":"police","label":"Police"},{"value":"doctors","label":"Doctors"}]`},
			{Kind: models.QLongText, Prompt: "What are the main barriers?"},
		} {
			q.RoundID, q.Position, q.CreatedAt, q.UpdatedAt = f.Round.ID, i, now, now
			if q.Options == "" {
				q.Options = "[]"
			}
			if q.RowsJSON == "" {
				q.RowsJSON = "[]"
			}
			if err := tx.Create(&q).Error; err != nil {
				return err
			}
			f.Q[q.Kind] = q
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

var synthSeq int

// respond records a respondent and their submission; answers maps a
// question kind to its value: a string, []string (multi) or
// map[string]string (matrix).
func (f *synthFixture) respond(t *testing.T, gender, inst, country string, answers map[string]any) *models.Respondent {
	t.Helper()
	synthSeq++
	now := f.ta.Clock.Now()
	r := &models.Respondent{ConsultationID: f.C.ID, Code: fmt.Sprintf("C%05d", synthSeq), Gender: gender, InstitutionType: inst, Country: country, CreatedAt: now, UpdatedAt: now}
	if f.C.Unit == models.UnitState {
		c := country
		r.StateCountry, r.Gender, r.InstitutionType = &c, "", ""
	}
	err := f.ta.Store.Write(context.Background(), func(tx *gorm.DB) error {
		if err := tx.Create(r).Error; err != nil {
			return err
		}
		_, err := f.ta.Store.SeedSubmission(tx, r, f.Round.ID, f.rows(answers), now)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func (f *synthFixture) resubmit(t *testing.T, r *models.Respondent, answers map[string]any) {
	t.Helper()
	err := f.ta.Store.Write(context.Background(), func(tx *gorm.DB) error {
		_, err := f.ta.Store.SeedSubmission(tx, r, f.Round.ID, f.rows(answers), f.ta.Clock.Now())
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func (f *synthFixture) rows(answers map[string]any) []models.SubmittedAnswer {
	var rows []models.SubmittedAnswer
	for kind, v := range answers {
		q := f.Q[kind]
		switch v := v.(type) {
		case string:
			rows = append(rows, models.SubmittedAnswer{QuestionID: q.ID, Value: v})
		case []string:
			for _, x := range v {
				rows = append(rows, models.SubmittedAnswer{QuestionID: q.ID, Value: x})
			}
		case map[string]string:
			for row, x := range v {
				rows = append(rows, models.SubmittedAnswer{QuestionID: q.ID, RowKey: row, Value: x})
			}
		}
	}
	return rows
}

// invite adds n participants of a kind nominated by state, invited to the
// consultation; revoked ones do not count as invited.
func (f *synthFixture) invite(t *testing.T, n int, kind, state string, revoked bool) {
	t.Helper()
	now := f.ta.Clock.Now()
	err := f.ta.Store.Write(context.Background(), func(tx *gorm.DB) error {
		for i := 0; i < n; i++ {
			synthSeq++
			p := models.Participant{Name: "P", Email: fmt.Sprintf("p%d@example.org", synthSeq), Kind: kind, Country: state, NominatedBy: state, Language: "en", CreatedAt: now, UpdatedAt: now}
			if err := tx.Create(&p).Error; err != nil {
				return err
			}
			_, inv, err := models.IssueInvitation(tx, now, f.C.ID, p.ID)
			if err != nil {
				return err
			}
			if revoked {
				if err := tx.Model(inv).Updates(map[string]any{"status": models.InvRevoked, "revoked_at": now}).Error; err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func num(v any) float64 { f, _ := v.(float64); return f }

func findValue(list any, value string) map[string]any {
	items, _ := list.([]any)
	for _, it := range items {
		m, _ := it.(map[string]any)
		if m["value"] == value {
			return m
		}
	}
	return nil
}

func TestSynthesisAPI(t *testing.T) {
	eachDB(t, func(t *testing.T, ta *testApp) {
		_, tok := ta.newStaff("analyst")
		f := newSynthFixture(t, ta, models.UnitPerson, 5)
		f.invite(t, 8, models.KindExpert, "AT", false)
		f.invite(t, 2, models.KindNGO, "", false)
		f.invite(t, 3, models.KindNGO, "", true)
		// Six respondents, hand-computed below.
		f.respond(t, "female", "government", "AT", map[string]any{"yes_no": "yes", "multi_choice": []string{"youth", "women"},
			"matrix_yes_no": map[string]string{"police": "yes", "doctors": "no"}, "long_text": "Stigma in health services."})
		f.respond(t, "female", "ngo", "KE", map[string]any{"yes_no": "no", "multi_choice": []string{"youth"},
			"matrix_yes_no": map[string]string{"police": "yes"}, "long_text": "   "})
		f.respond(t, "male", "ngo", "KE", map[string]any{"yes_no": "yes", "multi_choice": []string{"youth", "women", "prisoners"},
			"long_text": "Lack of funding."})
		f.respond(t, "female", "academia", "BR", map[string]any{"yes_no": "yes"})
		r5 := f.respond(t, "other", "ngo", "FR", map[string]any{"yes_no": "no", "long_text": "Police training."})
		f.respond(t, "prefer_not_to_say", "prefer_not_to_say", "prefer_not_to_say", map[string]any{})
		// A resubmission replaces r5's answers.
		f.resubmit(t, r5, map[string]any{"yes_no": "yes", "long_text": "Police training is missing."})

		js := ta.mustAPI(http.StatusOK, "GET", fmt.Sprintf("/api/v1/consultations/%d/synthesis", f.C.ID), tok, nil)
		if num(js["respondents"]) != 6 || num(js["countries"]) != 4 || num(js["invited"]) != 10 || num(js["response_rate"]) != 0.6 {
			t.Fatalf("headline: %v %v %v %v", js["respondents"], js["countries"], js["invited"], js["response_rate"])
		}
		demo := js["demographics"].(map[string]any)
		if g := findValue(demo["gender"], "female"); num(g["count"]) != 3 || num(g["percent"]) != 50 {
			t.Fatalf("gender female: %v", g)
		}
		if g := findValue(demo["region"], "African"); num(g["count"]) != 2 || num(g["percent"]) != 33.3 {
			t.Fatalf("region African: %v", g)
		}
		if g := findValue(demo["region"], "Other"); num(g["count"]) != 1 {
			t.Fatalf("region Other (prefer not to say): %v", g)
		}
		qs := js["questions"].([]any)
		yn := qs[0].(map[string]any)
		if num(yn["n"]) != 6 || num(yn["no_reply"]) != 1 || num(findValue(yn["counts"], "yes")["count"]) != 4 ||
			num(findValue(yn["counts"], "yes")["percent"]) != 66.7 || num(findValue(yn["counts"], "no")["count"]) != 1 {
			t.Fatalf("yes/no: %v", yn)
		}
		multi := qs[1].(map[string]any)
		if num(multi["no_reply"]) != 3 || num(findValue(multi["counts"], "youth")["count"]) != 3 ||
			num(findValue(multi["counts"], "women")["percent"]) != 33.3 || num(findValue(multi["counts"], "prisoners")["count"]) != 1 {
			t.Fatalf("multi: %v", multi)
		}
		matrix := qs[2].(map[string]any)
		police := findValue(matrix["rows"], "police")
		doctors := findValue(matrix["rows"], "doctors")
		if num(police["no_reply"]) != 4 || num(findValue(police["counts"], "yes")["count"]) != 2 ||
			num(doctors["no_reply"]) != 5 || num(findValue(doctors["counts"], "no")["count"]) != 1 {
			t.Fatalf("matrix: %v", matrix)
		}
		lt := qs[3].(map[string]any)
		if num(lt["n"]) != 6 || num(lt["answered"]) != 3 || num(lt["no_reply"]) != 3 {
			t.Fatalf("long text (blank counts as no reply): %v", lt)
		}

		// Filters combine with AND.
		js = ta.mustAPI(http.StatusOK, "GET", fmt.Sprintf("/api/v1/consultations/%d/synthesis?round=%d&gender=female&region=African", f.C.ID, f.Round.ID), tok, nil)
		yn = js["questions"].([]any)[0].(map[string]any)
		if num(js["respondents"]) != 1 || num(yn["n"]) != 1 || num(findValue(yn["counts"], "no")["count"]) != 1 || num(findValue(yn["counts"], "no")["percent"]) != 100 {
			t.Fatalf("filtered: %v", js)
		}
		// One-dimension filters read the marginal tallies.
		for q, want := range map[string][3]float64{"gender=female": {3, 2, 1}, "institution_type=ngo": {3, 2, 1}, "region=WEOG": {2, 2, 0}, "country=KE": {2, 1, 1}} {
			js = ta.mustAPI(http.StatusOK, "GET", fmt.Sprintf("/api/v1/consultations/%d/synthesis?%s", f.C.ID, q), tok, nil)
			yn = js["questions"].([]any)[0].(map[string]any)
			if num(yn["n"]) != want[0] || num(findValue(yn["counts"], "yes")["count"]) != want[1] || num(findValue(yn["counts"], "no")["count"]) != want[2] {
				t.Fatalf("?%s: %v", q, yn)
			}
		}
		js = ta.mustAPI(http.StatusOK, "GET", fmt.Sprintf("/api/v1/consultations/%d/synthesis?institution_type=ngo&country=ke", f.C.ID), tok, nil)
		if num(js["respondents"]) != 2 {
			t.Fatalf("ngo in KE: %v", js["respondents"])
		}

		// Bad filters name their field.
		for q, field := range map[string]string{"gender=robot": "gender", "institution_type=x": "institution_type",
			"region=Mars": "region", "country=ZZ": "country", "round=abc": "round", "round=999999": "round"} {
			r := ta.api("GET", fmt.Sprintf("/api/v1/consultations/%d/synthesis?%s", f.C.ID, q), tok, nil)
			if r.Status != http.StatusUnprocessableEntity || r.errorFields()[field] == nil {
				t.Fatalf("?%s: %d %s", q, r.Status, r.Body)
			}
		}
		ta.mustAPI(http.StatusNotFound, "GET", "/api/v1/consultations/999999/synthesis", tok, nil)
		ta.mustAPI(http.StatusUnauthorized, "GET", fmt.Sprintf("/api/v1/consultations/%d/synthesis", f.C.ID), "", nil)
	})
}

// The model case's State questionnaire: 38 replies, 30 yes, 6 no, 2 no
// reply → 78.9 %, 15.8 %, no_reply 2; States are counted.
func TestSynthesisStateQuestionnaireAPI(t *testing.T) {
	eachDB(t, func(t *testing.T, ta *testApp) {
		_, tok := ta.newStaff("analyst")
		f := newSynthFixture(t, ta, models.UnitState, 5)
		for i := 0; i < 38; i++ {
			ans := map[string]any{}
			switch {
			case i < 30:
				ans["yes_no"] = "yes"
			case i < 36:
				ans["yes_no"] = "no"
			}
			f.respond(t, "", "", fmt.Sprintf("S%c", 'A'+i), ans)
		}
		js := ta.mustAPI(http.StatusOK, "GET", fmt.Sprintf("/api/v1/consultations/%d/synthesis?round=%d", f.C.ID, f.Round.ID), tok, nil)
		if num(js["respondents"]) != 38 || num(js["countries"]) != 38 {
			t.Fatalf("States: %v from %v", js["respondents"], js["countries"])
		}
		yn := js["questions"].([]any)[0].(map[string]any)
		yes, no := findValue(yn["counts"], "yes"), findValue(yn["counts"], "no")
		if num(yn["n"]) != 38 || num(yn["no_reply"]) != 2 || num(yes["count"]) != 30 || num(yes["percent"]) != 78.9 ||
			num(no["count"]) != 6 || num(no["percent"]) != 15.8 {
			t.Fatalf("State yes/no: %v", yn)
		}
	})
}

func TestAnswersSearchAndCodes(t *testing.T) {
	eachDB(t, func(t *testing.T, ta *testApp) {
		_, tok := ta.newStaff("analyst")
		f := newSynthFixture(t, ta, models.UnitPerson, 5)
		r1 := f.respond(t, "female", "ngo", "KE", map[string]any{"long_text": "Stigma in health services keeps people away."})
		f.respond(t, "male", "government", "AT", map[string]any{"long_text": "Die Polizei braucht Ausbildung; stigma remains."})
		f.respond(t, "female", "academia", "BR", map[string]any{"long_text": "Falta de financiamiento."})
		f.respond(t, "male", "ngo", "IN", map[string]any{"long_text": "  "})
		base := fmt.Sprintf("/api/v1/consultations/%d/answers", f.C.ID)

		js := ta.mustAPI(http.StatusOK, "GET", base, tok, nil)
		if num(js["total"]) != 3 {
			t.Fatalf("all open answers (blank excluded): %v", js)
		}
		js = ta.mustAPI(http.StatusOK, "GET", base+"?q=stigma", tok, nil)
		if num(js["total"]) != 2 {
			t.Fatalf("search stigma: %v", js)
		}
		js = ta.mustAPI(http.StatusOK, "GET", base+"?q=stigma+health&gender=female", tok, nil)
		items := js["items"].([]any)
		if num(js["total"]) != 1 || len(items) != 1 {
			t.Fatalf("search stigma health, female: %v", js)
		}
		item := items[0].(map[string]any)
		if item["respondent"] != r1.Code || !strings.Contains(item["text"].(string), "health services") || num(item["question_id"]) != float64(f.Q["long_text"].ID) {
			t.Fatalf("item: %v", item)
		}
		answerID := int64(num(item["answer_id"]))
		js = ta.mustAPI(http.StatusOK, "GET", base+"?region=WEOG&q=polizei", tok, nil)
		if num(js["total"]) != 1 {
			t.Fatalf("region WEOG + polizei: %v", js)
		}
		js = ta.mustAPI(http.StatusOK, "GET", base+"?q="+url.QueryEscape(`"stigma" OR NEAR(`), tok, nil) // FTS syntax is plain words
		if num(js["total"]) != 0 {
			t.Fatalf("operators should be words: %v", js)
		}
		js = ta.mustAPI(http.StatusOK, "GET", base+"?per_page=2&page=2", tok, nil)
		if num(js["total"]) != 3 || len(js["items"].([]any)) != 1 {
			t.Fatalf("paging: %v", js)
		}
		r := ta.api("GET", base+"?gender=x&question=y", tok, nil)
		if r.Status != http.StatusUnprocessableEntity || r.errorFields()["gender"] == nil || r.errorFields()["question"] == nil {
			t.Fatalf("bad filters: %d %s", r.Status, r.Body)
		}

		// Codebook.
		code := ta.mustAPI(http.StatusCreated, "POST", fmt.Sprintf("/api/v1/consultations/%d/codes", f.C.ID), tok,
			map[string]any{"label": "Stigma in services", "description": "Stigma met in health or social services"})
		if code["code"] != "stigma-in-services" {
			t.Fatalf("code: %v", code)
		}
		ta.mustAPI(http.StatusConflict, "POST", fmt.Sprintf("/api/v1/consultations/%d/codes", f.C.ID), tok, map[string]any{"label": "Stigma in services!"})
		r = ta.api("POST", fmt.Sprintf("/api/v1/consultations/%d/codes", f.C.ID), tok, map[string]any{"label": " "})
		if r.Status != http.StatusUnprocessableEntity || r.errorFields()["label"] == nil {
			t.Fatalf("blank label: %d %s", r.Status, r.Body)
		}
		codeID := num(code["id"])
		coded := ta.mustAPI(http.StatusCreated, "POST", fmt.Sprintf("/api/v1/answers/%d/codes", answerID), tok, map[string]any{"code_id": codeID})
		if cs := coded["codes"].([]any); len(cs) != 1 || cs[0].(map[string]any)["code"] != "stigma-in-services" {
			t.Fatalf("coded: %v", coded)
		}
		r = ta.api("POST", fmt.Sprintf("/api/v1/answers/%d/codes", answerID), tok, map[string]any{"code_id": 999999})
		if r.Status != http.StatusUnprocessableEntity || r.errorFields()["code_id"] == nil {
			t.Fatalf("unknown code: %d %s", r.Status, r.Body)
		}
		ta.mustAPI(http.StatusNotFound, "POST", "/api/v1/answers/999999/codes", tok, map[string]any{"code_id": codeID})

		syn := func() map[string]any {
			js := ta.mustAPI(http.StatusOK, "GET", fmt.Sprintf("/api/v1/consultations/%d/synthesis", f.C.ID), tok, nil)
			for _, q := range js["questions"].([]any) {
				if q.(map[string]any)["kind"] == "long_text" {
					return q.(map[string]any)
				}
			}
			t.Fatal("no long_text question")
			return nil
		}
		lt := syn()
		if th := lt["themes"].([]any); len(th) != 1 || th[0].(map[string]any)["code"] != "stigma-in-services" || num(th[0].(map[string]any)["count"]) != 1 {
			t.Fatalf("themes: %v", lt["themes"])
		}
		// The code stays with the answer when the respondent resubmits.
		f.resubmit(t, r1, map[string]any{"long_text": "Stigma in health services, and fear of the police."})
		js = ta.mustAPI(http.StatusOK, "GET", base+"?code="+fmt.Sprint(codeID), tok, nil)
		if num(js["total"]) != 1 || !strings.Contains(js["items"].([]any)[0].(map[string]any)["text"].(string), "fear of the police") {
			t.Fatalf("code after resubmission: %v", js)
		}
		newID := int64(num(js["items"].([]any)[0].(map[string]any)["answer_id"]))
		js = ta.mustAPI(http.StatusOK, "GET", base+"?q=fear", tok, nil)
		if num(js["total"]) != 1 {
			t.Fatalf("search index follows the resubmission: %v", js)
		}
		ta.mustAPI(http.StatusNoContent, "DELETE", fmt.Sprintf("/api/v1/answers/%d/codes/%d", newID, int64(codeID)), tok, nil)
		ta.mustAPI(http.StatusNotFound, "DELETE", fmt.Sprintf("/api/v1/answers/%d/codes/%d", newID, int64(codeID)), tok, nil)
		if th := syn()["themes"].([]any); len(th) != 0 {
			t.Fatalf("themes after uncoding: %v", th)
		}
	})
}

// The dashboard, the printable report with small-cell suppression, chart
// downloads and the answers pages, through the cookie browser (no JS).
func TestSynthesisPages(t *testing.T) {
	ta := sqliteApp(t)
	analyst, _ := ta.newStaff("analyst")
	f := newSynthFixture(t, ta, models.UnitPerson, 5)
	// Gender: 6 female, 5 male, 2 other → "other" is a small cell, and
	// "male" must be hidden too or the total (13) would reveal it.
	for i := 0; i < 13; i++ {
		g, inst := "female", "ngo"
		if i >= 6 {
			g, inst = "male", "government"
		}
		if i >= 11 {
			g = "other"
		}
		ans := map[string]any{"yes_no": "yes", "long_text": fmt.Sprintf("Answer number %d about harm reduction.", i)}
		if i%3 == 0 {
			ans["yes_no"] = "no"
		}
		f.respond(t, g, inst, []string{"AT", "KE", "BR"}[i%3], ans)
	}
	b := ta.browser()
	b.login(analyst.Email, testPassword)
	base := fmt.Sprintf("/staff/consultations/%d", f.C.ID)

	status, body := b.get(base + "/synthesis")
	if status != http.StatusOK || !strings.Contains(body, "13 respondents from 3 countries") || !strings.Contains(body, "<svg") ||
		!strings.Contains(body, `<th scope="row">Other</th><td class="num">2</td>`) {
		t.Fatalf("dashboard: %d\n%s", status, body)
	}
	if strings.Contains(body, "style=") || strings.Contains(body, "<script>") {
		t.Fatal("the dashboard has inline style or script (CSP)")
	}
	// A filter without JavaScript: a plain GET.
	status, body = b.get(base + "/synthesis?gender=female")
	if status != http.StatusOK || !strings.Contains(body, "6 respondents from") {
		t.Fatalf("filtered dashboard: %d", status)
	}
	status, body = b.get(base + "/synthesis?gender=robot")
	if status != http.StatusUnprocessableEntity || !strings.Contains(body, `id="gender-error"`) {
		t.Fatalf("bad filter: %d", status)
	}

	// Printable report: figures numbered with N, small cells suppressed.
	status, body = b.get(base + "/synthesis/report")
	if status != http.StatusOK || !strings.Contains(body, "Figure 1. Respondents by gender (N=13)") ||
		!strings.Contains(body, "Does your country have such policies? (N=13)") {
		t.Fatalf("report: %d\n%s", status, body)
	}
	if strings.Contains(body, `<th scope="row">Other</th><td class="num">2</td>`) || strings.Contains(body, `<th scope="row">Male</th><td class="num">5</td>`) {
		t.Fatal("report shows a small cell or the cell that would reveal it")
	}
	if !strings.Contains(body, `<th scope="row">Female</th><td class="num">6</td>`) {
		t.Fatal("report hides a cell that is not small")
	}

	// A question by group: dashboard (exact) and report (suppressed).
	qid0 := f.Q["yes_no"].ID
	status, body = b.get(fmt.Sprintf("%s/synthesis?xq=%d&xdim=gender", base, qid0))
	if status != http.StatusOK || !strings.Contains(body, `id="qcross"`) || !strings.Contains(body, "4 (66.7 %)") {
		t.Fatalf("question by gender: %d", status)
	}
	status, body = b.get(fmt.Sprintf("%s/synthesis/report?xq=%d&xdim=gender", base, qid0))
	if status != http.StatusOK || !strings.Contains(body, `id="qcross"`) || strings.Contains(body, "1 (50.0 %)") {
		t.Fatalf("question by gender in the report shows the small group's answers: %d", status)
	}
	if st, _ := b.get(fmt.Sprintf("%s/synthesis?xq=%d", base, f.Q["long_text"].ID)); st != http.StatusUnprocessableEntity {
		t.Fatalf("cross-tab of an open question: %d", st)
	}

	// Chart downloads: SVG and PNG, suppressed like the report.
	resp, err := b.client.Get(ta.Srv.URL + base + "/synthesis/charts/gender.svg")
	if err != nil {
		t.Fatal(err)
	}
	svg := readAll(t, resp)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/svg+xml" || !strings.Contains(svg, "<title id=\"chart-title\">Respondents by gender</title>") ||
		strings.Contains(svg, "2 (15.4 %)") || !strings.Contains(svg, "suppressed") || !strings.Contains(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("svg download: %d %s\n%s", resp.StatusCode, resp.Header, svg)
	}
	qid := f.Q["yes_no"].ID
	resp, err = b.client.Get(ta.Srv.URL + base + fmt.Sprintf("/synthesis/charts/q%d.png?region=WEOG", qid))
	if err != nil {
		t.Fatal(err)
	}
	png := readAll(t, resp)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" || !strings.HasPrefix(png, "\x89PNG") {
		t.Fatalf("png download: %d %s", resp.StatusCode, resp.Header)
	}
	if st, _ := b.get(base + "/synthesis/charts/nothing.svg"); st != http.StatusNotFound {
		t.Fatalf("unknown chart: %d", st)
	}

	// Answers: search, codebook, coding through forms, the quotes page.
	status, body = b.get(base + "/answers?q=harm+reduction&gender=male")
	if status != http.StatusOK || !strings.Contains(body, "5 answers found.") {
		t.Fatalf("answers page: %d", status)
	}
	st, loc, _ := b.post(base+"/codes", url.Values{"label": {"Harm reduction"}, "back": {base + "/answers"}})
	if st != http.StatusSeeOther || loc != base+"/answers" {
		t.Fatalf("create code: %d %s", st, loc)
	}
	codes, _ := ta.Store.ListCodes(context.Background(), f.C.ID)
	items, _, _ := ta.Store.ListAnswers(context.Background(), f.C.ID, models.AnswerFilter{Q: "number 3"}, 0, 10)
	if len(codes) != 1 || len(items) != 1 {
		t.Fatalf("codes %v items %v", codes, items)
	}
	b.get(base + "/answers")
	st, _, _ = b.post(fmt.Sprintf("/staff/answers/%d/codes", items[0].AnswerID), url.Values{"code_id": {fmt.Sprint(codes[0].ID)}})
	if st != http.StatusSeeOther {
		t.Fatalf("code answer: %d", st)
	}
	status, body = b.get(fmt.Sprintf("%s/themes/%d", base, codes[0].ID))
	if status != http.StatusOK || !strings.Contains(body, "Answer number 3 about harm reduction.") || !strings.Contains(body, "1 answers carry this code.") {
		t.Fatalf("theme page: %d\n%s", status, body)
	}
	if !strings.Contains(body, "suppressed") {
		t.Fatal("theme breakdown of one answer is not suppressed")
	}

	// Roles: no session → login.
	anon := ta.browser()
	if st, _ := anon.get(base + "/synthesis"); st != http.StatusSeeOther {
		t.Fatalf("anonymous dashboard: %d", st)
	}
}

func readAll(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	var sb strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		sb.Write(buf[:n])
		if err != nil {
			break
		}
	}
	return sb.String()
}

// Through the real respondent journey: submissions and a resubmission with
// changed demographics keep the tallies equal to a recount, the synthesis
// counts them, and a Delphi round shows the earlier round's results.
func TestSynthesisThroughRespondAPI(t *testing.T) {
	eachDB(t, func(t *testing.T, ta *testApp) {
		_, analyst := ta.newStaff("analyst")
		f := ta.makeFixture("person", true)
		type who struct{ gender, inst, country, yn string }
		people := []who{{"female", "ngo", "KE", "yes"}, {"male", "government", "AT", "no"}, {"female", "academia", "BR", "yes"}}
		var toks []string
		for _, p := range people {
			tok, _ := ta.invite(f.ConsultationID, "")
			toks = append(toks, tok)
			base := "/api/v1/respond/" + tok
			ta.mustAPI(http.StatusOK, "GET", base, "", nil)
			ta.mustAPI(http.StatusOK, "PUT", base+"/demographics", "", map[string]any{"gender": p.gender, "institution_type": p.inst, "country": p.country, "consent": true})
			ta.mustAPI(http.StatusOK, "PUT", base+"/answers", "", map[string]any{"version": 0, "answers": map[string]any{
				qkey(f.Q["yes_no"]): p.yn, qkey(f.Q["long_text"]): "Stigma is the main barrier for " + p.country,
				qkey(f.Q["multi_choice"]): []string{"youth", "women"}}})
			ta.mustAPI(http.StatusOK, "POST", base+"/submit", "", nil)
		}
		// The second person changes their demographics and their answer.
		base := "/api/v1/respond/" + toks[1]
		ta.mustAPI(http.StatusOK, "PUT", base+"/demographics", "", map[string]any{"gender": "female", "institution_type": "government", "country": "AT", "consent": true})
		g := ta.mustAPI(http.StatusOK, "GET", base, "", nil)
		ta.mustAPI(http.StatusOK, "PUT", base+"/answers", "", map[string]any{"version": g["version"], "answers": map[string]any{
			qkey(f.Q["yes_no"]): "yes", qkey(f.Q["long_text"]): "Changed my mind"}})
		ta.mustAPI(http.StatusOK, "POST", base+"/submit", "", nil)

		js := ta.mustAPI(http.StatusOK, "GET", fmt.Sprintf("/api/v1/consultations/%d/synthesis?round=%d", f.ConsultationID, f.RoundID), analyst, nil)
		if num(js["respondents"]) != 3 || num(js["countries"]) != 3 {
			t.Fatalf("headline: %v", js)
		}
		if g := findValue(js["demographics"].(map[string]any)["gender"], "female"); num(g["count"]) != 3 {
			t.Fatalf("gender after the demographics change: %v", g)
		}
		var yn, multi map[string]any
		for _, q := range js["questions"].([]any) {
			m := q.(map[string]any)
			switch m["kind"] {
			case "yes_no":
				yn = m
			case "multi_choice":
				multi = m
			}
		}
		if num(findValue(yn["counts"], "yes")["count"]) != 3 || num(findValue(yn["counts"], "no")["count"]) != 0 || num(yn["no_reply"]) != 0 {
			t.Fatalf("yes/no after resubmission: %v", yn)
		}
		// (A save merges answers: the multi-choice answer stays.)
		if num(findValue(multi["counts"], "youth")["count"]) != 3 || num(multi["no_reply"]) != 0 || num(findValue(multi["counts"], "families")["count"]) != 0 {
			t.Fatalf("multi after resubmission: %v", multi)
		}
		ctx := context.Background()
		running, _ := ta.Store.TallySnapshot(ctx, f.ConsultationID)
		if err := ta.Store.RecountTallies(ctx, f.ConsultationID); err != nil {
			t.Fatal(err)
		}
		recount, _ := ta.Store.TallySnapshot(ctx, f.ConsultationID)
		if strings.Join(running, "\n") != strings.Join(recount, "\n") {
			t.Fatalf("tallies after the respond API differ from a recount:\n%v\n---\n%v", running, recount)
		}

		// Delphi: round 2 shows round 1's closed results.
		r2 := ta.mustAPI(http.StatusCreated, "POST", fmt.Sprintf("/api/v1/consultations/%d/rounds", f.ConsultationID), f.Token, map[string]any{
			"title": "Round 2", "closes_at": "2026-12-31T17:00:00Z", "show_results_of": f.RoundID})
		r2id := idOf(t, r2)
		ta.mustAPI(http.StatusCreated, "POST", fmt.Sprintf("/api/v1/rounds/%d/questions", r2id), f.Token, map[string]any{"kind": "yes_no", "prompt": "Still yes?"})
		ta.mustAPI(http.StatusOK, "POST", fmt.Sprintf("/api/v1/rounds/%d/open", r2id), f.Token, nil)
		g = ta.mustAPI(http.StatusOK, "GET", "/api/v1/respond/"+toks[0], "", nil)
		prev, _ := g["previous_results"].(map[string]any)
		if prev == nil || num(prev["respondents"]) != 3 {
			t.Fatalf("previous_results: %v", g["previous_results"])
		}
		found := false
		for _, q := range prev["questions"].([]any) {
			m := q.(map[string]any)
			if m["kind"] == "long_text" {
				t.Fatal("open answers are not shown to respondents")
			}
			if m["kind"] == "yes_no" && num(findValue(m["counts"], "yes")["percent"]) == 100 {
				found = true
			}
		}
		if !found {
			t.Fatalf("previous yes/no results missing: %v", prev)
		}
		// And on the respondent's questions page.
		b := ta.browser()
		b.get("/r/" + toks[0])
		status, body := b.get("/respond/questions")
		if status != http.StatusOK || !strings.Contains(body, `id="previous-results"`) || !strings.Contains(body, "Do you have such policies?") {
			t.Fatalf("questions page without the previous results: %d\n%s", status, body)
		}
	})
}

// `server demo` loads the model case once, and refuses a second time.
func TestDemoCommand(t *testing.T) {
	ta := sqliteApp(t)
	ctx := context.Background()
	sum, err := ta.Store.LoadDemo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ta.Store.LoadDemo(ctx); !errors.Is(err, models.ErrDemoLoaded) {
		t.Fatalf("second load: %v", err)
	}
	sy, err := ta.Store.Synthesis(ctx, sum.ConsultationID, models.SynthesisFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if sy.Respondents != 130 || sy.Countries != 53 || sy.Invited != 212 {
		t.Fatalf("demo headline: %d respondents from %d countries, %d invited", sy.Respondents, sy.Countries, sy.Invited)
	}
	st, err := ta.Store.Synthesis(ctx, sum.StateConsultationID, models.SynthesisFilter{})
	if err != nil {
		t.Fatal(err)
	}
	q := st.Questions[0]
	if st.Respondents != 38 || q.NoReply != 2 || q.Counts[0].Count != 30 || q.Counts[0].Percent != 78.9 || q.Counts[1].Percent != 15.8 {
		t.Fatalf("demo State questionnaire: %d States, %+v", st.Respondents, q)
	}
	themed := 0
	for _, q := range sy.Questions {
		themed += len(q.Themes)
	}
	if themed == 0 {
		t.Fatal("no themes in the demo")
	}
	// Every synthesis page renders with the demo.
	analyst, _ := ta.newStaff("analyst")
	b := ta.browser()
	b.login(analyst.Email, testPassword)
	for _, p := range []string{"/synthesis", "/synthesis/report", "/answers", "/answers?q=stigma", "/synthesis?region=African"} {
		if status, _ := b.get(fmt.Sprintf("/staff/consultations/%d%s", sum.ConsultationID, p)); status != http.StatusOK {
			t.Fatalf("%s: %d", p, status)
		}
	}
	if status, body := b.get(fmt.Sprintf("/staff/consultations/%d/synthesis", sum.StateConsultationID)); status != http.StatusOK || !strings.Contains(body, "38 States replied") {
		t.Fatalf("State synthesis page: %d", status)
	}
}
