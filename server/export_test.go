package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"gorm.io/gorm"

	"focalpoint/models"
)

var updateGolden = flag.Bool("update-export", false, "rewrite the golden files in testdata/")

// exportFixture is a small person consultation with fixed respondent codes,
// so its export is deterministic (IDs start at 1 in a fresh database).
type exportFixture struct {
	ConsultationID int64
	Round1, Round2 int64
	Q              map[string]int64 // kind -> question id
	InviteToken    string
}

func exPtr[T any](v T) *T { return &v }

// seedExport writes the fixture directly with the store (the respondent
// journey's API is not needed to test the export).
func seedExport(t *testing.T, ta *testApp, unit string, minCell int) exportFixture {
	t.Helper()
	s := ta.Store
	now := ta.Clock.Now()
	fx := exportFixture{Q: map[string]int64{}}
	err := s.Write(context.Background(), func(tx *gorm.DB) error {
		org := models.Organization{Name: "Ministry of Health of Nowhere", Kind: models.OrgMemberState, Country: "AT", CreatedAt: now, UpdatedAt: now}
		if err := tx.Create(&org).Error; err != nil {
			return err
		}
		people := []models.Participant{
			{Name: "Maria Gonzalez", Email: "maria@example.org", Country: "AT"},
			{Name: "Kofi Mensah", Email: "kofi.mensah@example.net", Country: "KE"},
			{Name: "Anna Berger", Email: "anna@example.at", Country: "AT"},
			{Name: "Jean Dupont", Email: "jean@example.fr", Country: "FR"},
			{Name: "Wanjiru Otieno", Email: "w.otieno@example.ke", Country: "KE"},
			{Name: "Draft Person", Email: "draft@example.org", Country: "PL"},
			{Name: "Sipho Ndlovu", Email: "sipho@example.org", Country: "NG"},
		}
		for i := range people {
			people[i].Kind, people[i].Language, people[i].OrganizationID = models.KindExpert, "en", &org.ID
			people[i].CreatedAt, people[i].UpdatedAt = now, now
			if err := tx.Create(&people[i]).Error; err != nil {
				return err
			}
		}
		c := models.Consultation{Title: "Drug policy and families", Unit: unit, Languages: `["en"]`, MinCellSize: minCell, CreatedAt: now, UpdatedAt: now}
		if err := tx.Create(&c).Error; err != nil {
			return err
		}
		fx.ConsultationID = c.ID
		r1 := models.Round{ConsultationID: c.ID, Position: 1, Title: "First round", State: models.RoundOpen, CreatedAt: now, UpdatedAt: now}
		r2 := models.Round{ConsultationID: c.ID, Position: 2, Title: "Second round", State: models.RoundOpen, CreatedAt: now, UpdatedAt: now}
		if err := tx.Create(&r1).Error; err != nil {
			return err
		}
		if err := tx.Create(&r2).Error; err != nil {
			return err
		}
		fx.Round1, fx.Round2 = r1.ID, r2.ID
		qs := []models.Question{
			{RoundID: r1.ID, Position: 1, Kind: models.QLongText, Prompt: "What works?"},
			{RoundID: r1.ID, Position: 2, Kind: models.QSingleChoice, Prompt: "Main setting", Options: `[{"value":"city","label":"City"},{"value":"rural","label":"Rural"}]`},
			{RoundID: r1.ID, Position: 3, Kind: models.QMultiChoice, Prompt: "Groups reached", Options: `[{"value":"youth","label":"Youth"},{"value":"women","label":"Women"},{"value":"prisoners","label":"Prisoners"}]`},
			{RoundID: r1.ID, Position: 4, Kind: models.QYesNo, Prompt: "Has a policy?"},
			{RoundID: r1.ID, Position: 5, Kind: models.QMatrixYesNo, Prompt: "Trained", RowsJSON: `[{"value":"police","label":"Police"},{"value":"health","label":"Health staff"}]`},
			{RoundID: r1.ID, Position: 6, Kind: models.QNumber, Prompt: "Staff count", MinValue: exPtr(-10.0), MaxValue: exPtr(1000.0)},
			{RoundID: r2.ID, Position: 1, Kind: models.QShortText, Prompt: "Comment on the draft"},
		}
		for i := range qs {
			qs[i].CreatedAt, qs[i].UpdatedAt = now, now
			if qs[i].Options == "" {
				qs[i].Options = "[]"
			}
			if qs[i].RowsJSON == "" {
				qs[i].RowsJSON = "[]"
			}
			if err := tx.Create(&qs[i]).Error; err != nil {
				return err
			}
			fx.Q[qs[i].Kind] = qs[i].ID
		}
		tok, _, err := models.IssueInvitation(tx, now, c.ID, people[0].ID)
		if err != nil {
			return err
		}
		fx.InviteToken = tok
		type ans struct {
			q          int64
			row, value string
		}
		type resp struct {
			who     int
			code    string
			gender  string
			inst    string
			country string
			round   int64
			status  string
			at      time.Time
			answers []ans
		}
		day1 := time.Date(2026, 3, 1, 23, 59, 58, 0, time.UTC)
		day2 := time.Date(2026, 3, 2, 0, 0, 1, 0, time.UTC)
		q := fx.Q
		rs := []resp{
			{0, "QX7K2M", "female", "government", "AT", r1.ID, "submitted", day1, []ans{
				{q[models.QLongText], "", "Ask Maria Gonzalez or write to maria@example.org; call +43 1 26060 4242."},
				{q[models.QSingleChoice], "", "city"},
				{q[models.QMultiChoice], "", "youth"}, {q[models.QMultiChoice], "", "prisoners"},
				{q[models.QYesNo], "", "yes"},
				{q[models.QMatrixYesNo], "police", "yes"}, {q[models.QMatrixYesNo], "health", "no"},
				{q[models.QNumber], "", "-3"},
			}},
			{0, "QX7K2M", "female", "government", "AT", r2.ID, "submitted", day2, []ans{
				{q[models.QShortText], "", "=HYPERLINK(\"evil\",\"click\")"},
			}},
			{1, "B4T9ZA", "male", "ngo", "KE", r1.ID, "submitted", day2, []ans{
				{q[models.QLongText], "", "I am Kofi; see https://harm-reduction.example/report and www.example.org.\n\"Quoted\", line two"},
				{q[models.QYesNo], "", "no"},
				{q[models.QNumber], "", "12.5"},
			}},
			{2, "A1ZZ90", "other", "academia", "AT", r1.ID, "submitted", day2, []ans{
				{q[models.QLongText], "", "@ 5 pm +1 -2"},
				{q[models.QSingleChoice], "", "rural"},
			}},
			{3, "M0NDAY", "prefer_not_to_say", "ngo", "FR", r1.ID, "submitted", day2, nil},
			{4, "Z9Y8X7", "female", "prefer_not_to_say", "prefer_not_to_say", r1.ID, "submitted", day2, []ans{
				{q[models.QLongText], "", "Anna Berger and Jean Dupont helped. Année 2019-2023."},
			}},
			{5, "DRAFT1", "male", "ngo", "PL", r1.ID, "draft", day2, nil},
			{6, "SUPPR1", "male", "ngo", "NG", r1.ID, "submitted", day2, nil},
		}
		ids := map[string]int64{}
		for _, r := range rs {
			rid, ok := ids[r.code]
			if !ok {
				resp := models.Respondent{ConsultationID: c.ID, ParticipantID: &people[r.who].ID, Code: r.code,
					Gender: r.gender, InstitutionType: r.inst, Country: r.country, ConsentAt: &now, CreatedAt: now, UpdatedAt: now}
				if unit == models.UnitState {
					// One respondent per State.
					states := map[string]string{"QX7K2M": "AT", "B4T9ZA": "KE", "A1ZZ90": "BR", "M0NDAY": "FR", "Z9Y8X7": "IN", "DRAFT1": "PL", "SUPPR1": "NG"}
					resp.Gender, resp.InstitutionType, resp.Country = "", "", states[r.code]
					resp.StateCountry = exPtr(states[r.code])
				}
				if err := tx.Create(&resp).Error; err != nil {
					return fmt.Errorf("respondent %s: %w", r.code, err)
				}
				rid, ids[r.code] = resp.ID, resp.ID
			}
			rsp := models.Response{RespondentID: rid, RoundID: r.round, Status: r.status, Version: 1, CreatedAt: now, UpdatedAt: now}
			if r.status == "submitted" {
				rsp.SubmittedAt = exPtr(r.at)
			}
			if err := tx.Create(&rsp).Error; err != nil {
				return fmt.Errorf("response %s: %w", r.code, err)
			}
			for _, a := range r.answers {
				sa := models.SubmittedAnswer{ResponseID: rsp.ID, RespondentID: rid, RoundID: r.round, QuestionID: a.q, RowKey: a.row, Value: a.value}
				if err := tx.Create(&sa).Error; err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("seed export fixture: %v", err)
	}
	return fx
}

func exportGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *updateGolden {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden %s: %v (run go test ./server -run Export -update-export)", path, err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s differs from the golden file:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestExportGolden(t *testing.T) {
	eachDB(t, func(t *testing.T, ta *testApp) {
		fx := seedExport(t, ta, models.UnitPerson, 2)
		_, tok := ta.newStaff("analyst")
		base := "/api/v1/consultations/" + exItoa(fx.ConsultationID) + "/export"

		r := ta.api("GET", base+"?format=csv", tok, nil)
		if r.Status != http.StatusOK {
			t.Fatalf("csv: %d %s", r.Status, r.Body)
		}
		if cd := r.Header.Get("Content-Disposition"); !strings.HasPrefix(cd, "attachment;") || !strings.Contains(cd, ".csv") {
			t.Fatalf("Content-Disposition = %q", cd)
		}
		if cc := r.Header.Get("Cache-Control"); cc != "no-store" {
			t.Fatalf("Cache-Control = %q", cc)
		}
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
			t.Fatalf("Content-Type = %q", ct)
		}
		exportGolden(t, "export_small.csv", r.Body)
		checkAnonymous(t, r.Body)

		r = ta.api("GET", base+"?format=ndjson", tok, nil)
		if r.Status != http.StatusOK || r.Header.Get("Content-Type") != "application/x-ndjson" {
			t.Fatalf("ndjson: %d %s", r.Status, r.Header.Get("Content-Type"))
		}
		exportGolden(t, "export_small.ndjson", r.Body)
		checkAnonymous(t, r.Body)
		for i, line := range strings.Split(strings.TrimSpace(string(r.Body)), "\n") {
			var m map[string]any
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Fatalf("ndjson line %d is not JSON: %v", i+1, err)
			}
		}

		// BOM option.
		r = ta.api("GET", base+"?format=csv&bom=true", tok, nil)
		if !bytes.HasPrefix(r.Body, []byte("\xEF\xBB\xBFrespondent,round,")) {
			t.Fatalf("bom=true: starts %q", r.Body[:min(20, len(r.Body))])
		}
	})
}

// checkAnonymous fails when a download holds anything identifying.
func checkAnonymous(t *testing.T, body []byte) {
	t.Helper()
	s := string(body)
	for _, bad := range []string{"Maria", "Gonzalez", "maria@", "example.org", "Kofi", "Anna Berger", "Dupont", "+43", "4242",
		"https://", "www.", "Ministry of Health", "23:59", "00:00:01", "T00:", "DRAFT1", "kofi.mensah"} {
		if strings.Contains(s, bad) {
			t.Errorf("the export contains %q", bad)
		}
	}
}

func TestExportRows(t *testing.T) {
	eachDB(t, func(t *testing.T, ta *testApp) {
		fx := seedExport(t, ta, models.UnitPerson, 2)
		_, tok := ta.newStaff("organizer")
		rows := exportCSV(t, ta, tok, fx.ConsultationID, "")
		hdr := rows[0]
		wantHdr := []string{"respondent", "round", "gender", "institution_type", "region", "country", "submitted_on"}
		if strings.Join(hdr[:7], ",") != strings.Join(wantHdr, ",") {
			t.Fatalf("header starts %v", hdr[:7])
		}
		col := map[string]int{}
		for i, h := range hdr {
			col[h] = i
		}
		q := func(kind, suffix string) string { return "q" + exItoa(fx.Q[kind]) + suffix }
		for _, name := range []string{q(models.QMultiChoice, "_youth"), q(models.QMultiChoice, "_women"), q(models.QMatrixYesNo, "_police"), q(models.QShortText, "")} {
			if _, ok := col[name]; !ok {
				t.Fatalf("no column %s in %v", name, hdr)
			}
		}
		byKey := map[string][]string{}
		var codes []string
		for _, r := range rows[1:] {
			byKey[r[0]+"/"+r[1]] = r
			codes = append(codes, r[0])
		}
		// Sorted by code; the draft is not exported; one row per respondent and round.
		want := []string{"A1ZZ90", "B4T9ZA", "M0NDAY", "QX7K2M", "QX7K2M", "SUPPR1", "Z9Y8X7"}
		if strings.Join(codes, " ") != strings.Join(want, " ") {
			t.Fatalf("codes %v, want %v", codes, want)
		}
		r1, r2 := exItoa(fx.Round1), exItoa(fx.Round2)
		cases := []struct {
			key, column, want string
		}{
			// AT has 2 respondents: shown. FR has 1 but WEOG has 3: generalised to the region.
			{"QX7K2M/" + r1, "country", "AT"}, {"QX7K2M/" + r1, "region", "WEOG"},
			{"M0NDAY/" + r1, "country", "WEOG"}, {"M0NDAY/" + r1, "region", "WEOG"},
			// KE and NG: one each, African has 2: generalised.
			{"B4T9ZA/" + r1, "country", "African"}, {"SUPPR1/" + r1, "country", "African"},
			{"Z9Y8X7/" + r1, "country", "prefer_not_to_say"},
			{"QX7K2M/" + r1, "submitted_on", "2026-03-01"}, {"QX7K2M/" + r2, "submitted_on", "2026-03-02"},
			{"QX7K2M/" + r1, q(models.QMultiChoice, "_youth"), "1"},
			{"QX7K2M/" + r1, q(models.QMultiChoice, "_women"), "0"},
			{"QX7K2M/" + r1, q(models.QMultiChoice, "_prisoners"), "1"},
			{"B4T9ZA/" + r1, q(models.QMultiChoice, "_women"), ""}, // chose nothing: no reply
			{"QX7K2M/" + r1, q(models.QMatrixYesNo, "_health"), "no"},
			{"QX7K2M/" + r1, q(models.QNumber, ""), "'-3"},
			{"QX7K2M/" + r1, q(models.QLongText, ""), "Ask [redacted] or write to [redacted]; call [redacted]."},
			{"QX7K2M/" + r2, q(models.QShortText, ""), "'=HYPERLINK(\"evil\",\"click\")"},
			{"QX7K2M/" + r2, q(models.QLongText, ""), ""},
			{"A1ZZ90/" + r1, q(models.QLongText, ""), "'@ 5 pm +1 -2"},
			{"B4T9ZA/" + r1, q(models.QLongText, ""), "I am [redacted]; see [redacted] and [redacted]\n\"Quoted\", line two"},
			{"Z9Y8X7/" + r1, q(models.QLongText, ""), "[redacted] and [redacted] helped. Année 2019-2023."},
		}
		for _, c := range cases {
			row := byKey[c.key]
			if row == nil {
				t.Fatalf("no row %s", c.key)
			}
			if got := row[col[c.column]]; got != c.want {
				t.Errorf("%s %s = %q, want %q", c.key, c.column, got, c.want)
			}
		}

		// One round only.
		rows = exportCSV(t, ta, tok, fx.ConsultationID, "&round="+r2)
		if len(rows) != 2 || rows[1][0] != "QX7K2M" || len(rows[0]) != 8 {
			t.Fatalf("round 2 export: %v", rows)
		}
		// Round 2 has 1 respondent (AT): below 2, and WEOG below 2 too: suppressed.
		if rows[1][4] != "suppressed" || rows[1][5] != "suppressed" {
			t.Fatalf("round 2 region/country = %q/%q, want suppressed", rows[1][4], rows[1][5])
		}
	})
}

func TestExportSuppression(t *testing.T) {
	eachDB(t, func(t *testing.T, ta *testApp) {
		fx := seedExport(t, ta, models.UnitPerson, 3)
		_, tok := ta.newStaff("analyst")
		rows := exportCSV(t, ta, tok, fx.ConsultationID, "&round="+exItoa(fx.Round1))
		got := map[string]string{}
		for _, r := range rows[1:] {
			got[r[0]] = r[4] + "/" + r[5]
		}
		// k=3: AT (2) → WEOG (3 with FR); FR → WEOG; KE, NG → African has 2 < 3: suppressed.
		want := map[string]string{"QX7K2M": "WEOG/WEOG", "A1ZZ90": "WEOG/WEOG", "M0NDAY": "WEOG/WEOG",
			"B4T9ZA": "suppressed/suppressed", "SUPPR1": "suppressed/suppressed", "Z9Y8X7": "prefer_not_to_say/prefer_not_to_say"}
		for code, w := range want {
			if got[code] != w {
				t.Errorf("%s region/country = %q, want %q", code, got[code], w)
			}
		}
	})
}

// In a consultation of States the country is kept, however few.
func TestExportStates(t *testing.T) {
	eachDB(t, func(t *testing.T, ta *testApp) {
		fx := seedExport(t, ta, models.UnitState, 5)
		_, tok := ta.newStaff("analyst")
		rows := exportCSV(t, ta, tok, fx.ConsultationID, "&round="+exItoa(fx.Round1))
		for _, r := range rows[1:] {
			if r[0] == "B4T9ZA" && (r[4] != "African" || r[5] != "KE" || r[2] != "") {
				t.Errorf("state consultation row %v: want the country kept", r)
			}
		}
	})
}

func exportCSV(t *testing.T, ta *testApp, tok string, id int64, extra string) [][]string {
	t.Helper()
	r := ta.api("GET", "/api/v1/consultations/"+exItoa(id)+"/export?format=csv"+extra, tok, nil)
	if r.Status != http.StatusOK {
		t.Fatalf("export: %d %s", r.Status, r.Body)
	}
	rows, err := csv.NewReader(bytes.NewReader(r.Body)).ReadAll()
	if err != nil {
		t.Fatalf("parse CSV: %v", err)
	}
	return rows
}

func TestExportXLSX(t *testing.T) {
	eachDB(t, func(t *testing.T, ta *testApp) {
		fx := seedExport(t, ta, models.UnitPerson, 2)
		_, tok := ta.newStaff("analyst")
		r := ta.api("GET", "/api/v1/consultations/"+exItoa(fx.ConsultationID)+"/export?format=xlsx", tok, nil)
		if r.Status != http.StatusOK || !strings.Contains(r.Header.Get("Content-Disposition"), ".xlsx") {
			t.Fatalf("xlsx: %d %v", r.Status, r.Header)
		}
		f, err := excelize.OpenReader(bytes.NewReader(r.Body))
		if err != nil {
			t.Fatalf("open xlsx: %v", err)
		}
		defer f.Close()
		if sheets := f.GetSheetList(); strings.Join(sheets, ",") != "data,codebook" {
			t.Fatalf("sheets %v", sheets)
		}
		rows, err := f.GetRows("data")
		if err != nil {
			t.Fatal(err)
		}
		csvRows := exportCSV(t, ta, tok, fx.ConsultationID, "")
		if len(rows) != len(csvRows) {
			t.Fatalf("xlsx has %d rows, csv %d", len(rows), len(csvRows))
		}
		for i := range rows {
			for j := range csvRows[i] {
				x := ""
				if j < len(rows[i]) {
					x = rows[i][j]
				}
				c := csvRows[i][j]
				if x != c && !(c == "'-3" && x == "-3") { // numbers are numbers in XLSX
					t.Errorf("cell %d,%d: xlsx %q, csv %q", i, j, x, c)
				}
			}
			for j := range rows[i] {
				ref, _ := excelize.CoordinatesToCellName(j+1, i+1)
				if fm, _ := f.GetCellFormula("data", ref); fm != "" {
					t.Errorf("cell %s holds a formula %q", ref, fm)
				}
				if v := rows[i][j]; v != "" && strings.ContainsRune("=+@\t\r", rune(v[0])) {
					t.Errorf("cell %s starts with a formula character: %q", ref, v)
				}
			}
		}
		// A number is a number cell, a text a string cell.
		hdr := rows[0]
		for j, h := range hdr {
			if h == "q"+exItoa(fx.Q[models.QNumber]) {
				ref, _ := excelize.CoordinatesToCellName(j+1, 5) // QX7K2M round 1
				if typ, _ := f.GetCellType("data", ref); typ != excelize.CellTypeNumber && typ != excelize.CellTypeUnset {
					t.Errorf("number cell %s has type %v", ref, typ)
				}
			}
		}
		cb, err := f.GetRows("codebook")
		if err != nil || len(cb) != len(hdr)+1 || cb[1][0] != "respondent" {
			t.Fatalf("codebook sheet: %v %v", cb, err)
		}
	})
}

func TestExportAccess(t *testing.T) {
	eachDB(t, func(t *testing.T, ta *testApp) {
		fx := seedExport(t, ta, models.UnitPerson, 2)
		path := "/api/v1/consultations/" + exItoa(fx.ConsultationID) + "/export?format=csv"
		if r := ta.api("GET", path, "", nil); r.Status != http.StatusUnauthorized {
			t.Fatalf("anonymous export: %d", r.Status)
		}
		// A respondent's personal link token is not a staff credential.
		if r := ta.api("GET", path, fx.InviteToken, nil); r.Status != http.StatusUnauthorized {
			t.Fatalf("export with a respondent token: %d %s", r.Status, r.Body)
		}
		if r := ta.api("GET", "/api/v1/consultations/"+exItoa(fx.ConsultationID)+"/codebook", fx.InviteToken, nil); r.Status != http.StatusUnauthorized {
			t.Fatalf("codebook with a respondent token: %d", r.Status)
		}
		_, analyst := ta.newStaff("analyst")
		_, organizer := ta.newStaff("organizer")
		ident := "/api/v1/consultations/" + exItoa(fx.ConsultationID) + "/export/identified"
		for _, tok := range []string{analyst, organizer} {
			if r := ta.api("POST", ident, tok, map[string]any{"format": "csv", "reason": "audit"}); r.Status != http.StatusForbidden {
				t.Fatalf("identified export by a non-admin: %d", r.Status)
			}
		}
		// Bad format and round: 422 naming the field.
		for _, c := range []struct{ q, field string }{{"?format=pdf", "format"}, {"?round=abc", "round"}, {"?round=999", "round"}, {"?format=csv&bom=maybe", "bom"}} {
			r := ta.api("GET", "/api/v1/consultations/"+exItoa(fx.ConsultationID)+"/export"+c.q, analyst, nil)
			if r.Status != http.StatusUnprocessableEntity || r.errorFields()[c.field] == nil {
				t.Errorf("export%s: %d %s, want 422 on %s", c.q, r.Status, r.Body, c.field)
			}
		}
		if r := ta.api("GET", "/api/v1/consultations/99999/export", analyst, nil); r.Status != http.StatusNotFound {
			t.Errorf("unknown consultation: %d", r.Status)
		}
	})
}

func TestExportIdentifiedAndAudit(t *testing.T) {
	eachDB(t, func(t *testing.T, ta *testApp) {
		fx := seedExport(t, ta, models.UnitPerson, 2)
		admin, adminTok := ta.newStaff("admin")
		analyst, analystTok := ta.newStaff("analyst")
		ident := "/api/v1/consultations/" + exItoa(fx.ConsultationID) + "/export/identified"
		r := ta.api("POST", ident, adminTok, map[string]any{"format": "csv"})
		if r.Status != http.StatusUnprocessableEntity || r.errorFields()["reason"] == nil {
			t.Fatalf("identified export without reason: %d %s", r.Status, r.Body)
		}
		r = ta.api("POST", ident, adminTok, map[string]any{"format": "csv", "round": fx.Round1, "reason": "Data subject access request #12"})
		if r.Status != http.StatusOK || !strings.Contains(string(r.Body), "maria@example.org") || !strings.Contains(string(r.Body), "Maria Gonzalez") {
			t.Fatalf("identified export: %d %s", r.Status, r.Body)
		}
		if r.Header.Get("Cache-Control") != "no-store" || !strings.HasPrefix(r.Header.Get("Content-Disposition"), "attachment") {
			t.Fatalf("identified export headers %v", r.Header)
		}
		for _, f := range []string{"csv", "ndjson", "xlsx"} {
			ta.mustAPI(http.StatusOK, "GET", "/api/v1/consultations/"+exItoa(fx.ConsultationID)+"/export?format="+f, analystTok, nil)
		}
		ta.mustAPI(http.StatusOK, "GET", "/api/v1/consultations/"+exItoa(fx.ConsultationID)+"/export?round="+exItoa(fx.Round2), analystTok, nil)

		entries, total, err := ta.Store.ListAudit(context.Background(), models.AuditFilter{Action: "export", Limit: 100})
		if err != nil || total != 5 {
			t.Fatalf("export audit entries: %d %v", total, err)
		}
		// Newest first: the round-2 CSV (1 row), then xlsx, ndjson, csv (7 rows), then the identified one.
		var d map[string]any
		json.Unmarshal([]byte(entries[0].Detail), &d)
		if entries[0].Actor != analyst.Email || entries[0].Action != "export.download" || d["format"] != "csv" || d["rows"] != 1.0 || d["round"] != float64(fx.Round2) {
			t.Fatalf("latest export entry %+v", entries[0])
		}
		json.Unmarshal([]byte(entries[1].Detail), &d)
		if d["format"] != "xlsx" || d["rows"] != 7.0 || d["round"] != "all" || entries[1].Target != "consultation:"+exItoa(fx.ConsultationID) {
			t.Fatalf("xlsx export entry %+v", entries[1])
		}
		json.Unmarshal([]byte(entries[4].Detail), &d)
		if entries[4].Action != "export.identified" || entries[4].Actor != admin.Email || d["reason"] != "Data subject access request #12" || d["rows"] != 6.0 {
			t.Fatalf("identified entry %+v", entries[4])
		}
	})
}

func TestExportPage(t *testing.T) {
	ta := sqliteApp(t)
	fx := seedExport(t, ta, models.UnitPerson, 2)
	admin, _ := ta.newStaff("admin")
	analyst, _ := ta.newStaff("analyst")
	page := "/staff/consultations/" + exItoa(fx.ConsultationID) + "/export"

	b := ta.browser()
	b.login(analyst.Email, testPassword)
	status, body := b.get(page)
	if status != http.StatusOK || !strings.Contains(body, `value="xlsx"`) || !strings.Contains(body, "/codebook") {
		t.Fatalf("export page for an analyst: %d", status)
	}
	if strings.Contains(body, "export/identified") {
		t.Fatal("an analyst sees the identified export form")
	}
	// The buttons' form downloads with the cookie session.
	resp, err := b.client.Get(ta.Srv.URL + "/api/v1/consultations/" + exItoa(fx.ConsultationID) + "/export?round=&bom=true&format=csv")
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("download from the page: %v %v", err, resp)
	}
	resp.Body.Close()

	a := ta.browser()
	a.login(admin.Email, testPassword)
	status, body = a.get(page)
	if status != http.StatusOK || !strings.Contains(body, "export/identified") {
		t.Fatalf("export page for an admin: %d", status)
	}
	status, _, body = a.post(page+"/identified", url.Values{"format": {"csv"}, "reason": {"  "}})
	if status != http.StatusUnprocessableEntity || !strings.Contains(body, `id="reason-error"`) {
		t.Fatalf("identified form without reason: %d", status)
	}
	status, _, body = a.post(page+"/identified", url.Values{"format": {"csv"}, "reason": {"Court order 7"}})
	if status != http.StatusOK || !strings.Contains(body, "maria@example.org") {
		t.Fatalf("identified form: %d", status)
	}
	// Without the CSRF token the form is refused.
	status, _, _ = a.post(page+"/identified", url.Values{"format": {"csv"}, "reason": {"x"}, "csrf_token": {"forged"}})
	if status != http.StatusForbidden {
		t.Fatalf("identified form with a forged CSRF token: %d", status)
	}
}

func TestCodebook(t *testing.T) {
	eachDB(t, func(t *testing.T, ta *testApp) {
		fx := seedExport(t, ta, models.UnitPerson, 2)
		_, tok := ta.newStaff("analyst")
		cb := ta.mustAPI(http.StatusOK, "GET", "/api/v1/consultations/"+exItoa(fx.ConsultationID)+"/codebook", tok, nil)
		cols, _ := cb["columns"].([]any)
		if len(cols) < 8 {
			t.Fatalf("codebook %v", cb)
		}
		names := []string{}
		for _, c := range cols {
			m := c.(map[string]any)
			names = append(names, m["name"].(string))
			if m["label"] == "" || m["type"] == "" {
				t.Errorf("column without label or type: %v", m)
			}
			if m["name"] == "gender" && len(m["values"].([]any)) != 4 {
				t.Errorf("gender values %v", m["values"])
			}
		}
		if names[0] != "respondent" || names[6] != "submitted_on" {
			t.Fatalf("codebook columns %v", names)
		}
		r := ta.api("GET", "/api/v1/consultations/"+exItoa(fx.ConsultationID)+"/codebook?round=x", tok, nil)
		if r.Status != http.StatusUnprocessableEntity {
			t.Fatalf("codebook bad round: %d", r.Status)
		}
	})
}

func exItoa(n int64) string { return strconv.FormatInt(n, 10) }

// A respondent's browser session (opened by the personal link) gives no
// access to the export, the codebook or the staff page.
func TestExportRefusesRespondentSession(t *testing.T) {
	ta := sqliteApp(t)
	fx := seedExport(t, ta, models.UnitPerson, 2)
	b := ta.browser()
	status, _ := b.get("/r/" + fx.InviteToken)
	if status != http.StatusSeeOther {
		t.Fatalf("opening the personal link: %d", status)
	}
	id := exItoa(fx.ConsultationID)
	for _, path := range []string{"/api/v1/consultations/" + id + "/export?format=csv", "/api/v1/consultations/" + id + "/codebook"} {
		if status, body := b.get(path); status != http.StatusUnauthorized || strings.Contains(body, "QX7K2M") {
			t.Errorf("%s with a respondent session: %d", path, status)
		}
	}
	if status, _ := b.get("/staff/consultations/" + id + "/export"); status != http.StatusSeeOther {
		t.Errorf("export page with a respondent session: %d, want a redirect to the login", status)
	}
}
