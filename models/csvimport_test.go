package models_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"focalpoint/models"
	"focalpoint/models/modeltest"
)

func TestParseParticipantCSV(t *testing.T) {
	cases := []struct {
		name  string
		in    string
		rows  int
		errs  []models.ImportError
		check func(t *testing.T, rows []models.ImportRow)
	}{
		{name: "comma LF", in: "name,email,kind,country,organization\nAna,ANA@x.org,expert,at,Org A\n", rows: 1,
			check: func(t *testing.T, rows []models.ImportRow) {
				r := rows[0]
				if r.Row != 2 || r.Email != "ana@x.org" || r.Country != "AT" || r.Organization != "Org A" {
					t.Errorf("row = %+v", r)
				}
			}},
		{name: "BOM semicolon CRLF quoted", in: "\ufeffName;Email;Kind;Country;Organisation\r\n\"Müller; Zoë\";zoe@x.org;NGO;;\"Rede \"\"Viva\"\", Brasil\"\r\n", rows: 1,
			check: func(t *testing.T, rows []models.ImportRow) {
				r := rows[0]
				if r.Name != "Müller; Zoë" || r.Kind != "ngo" || r.Organization != `Rede "Viva", Brasil` || r.Country != "" {
					t.Errorf("row = %+v", r)
				}
			}},
		{name: "columns in any order, extra ignored, blank rows", in: "email,notes,kind,name\nb@x.org,hi,observer,Bo\n\n,,,\nc@x.org,,expert,Cy\n", rows: 2},
		{name: "missing columns", in: "name,mail\nA,a@x.org\n", errs: []models.ImportError{{1, "email", "import.error.missing_column"}, {1, "kind", "import.error.missing_column"}}},
		{name: "empty", in: "\ufeff  \r\n", errs: []models.ImportError{{1, "header", "import.error.empty"}}},
		{name: "bad rows listed with field", in: "name,email,kind,country\n,a@x.org,expert,AT\nB,not-an-email,boss,ZZ\nC,c@x.org,expert\nD,a@x.org,expert,FR\nE,e@x.org,expert,fr\n", rows: 1,
			errs: []models.ImportError{
				{2, "name", "error.required"},
				{3, "email", "error.email_invalid"}, {3, "kind", "roster.error.participant_kind"}, {3, "country", "roster.error.country"},
				{4, "row", "import.error.field_count"},
				{5, "email", "import.error.duplicate_in_file"},
			}},
		{name: "invalid utf8", in: "name,email,kind\n\xff\xfe,a@x.org,expert\n", errs: []models.ImportError{{2, "name", "error.text_invalid"}}},
		{name: "bad quote", in: "name,email,kind\nA \"x\" b,a@x.org,expert\nB,b@x.org,expert\n", rows: 1, errs: []models.ImportError{{2, "row", "import.error.malformed"}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rows, errs, err := models.ParseParticipantCSV(strings.NewReader(c.in))
			if err != nil {
				t.Fatal(err)
			}
			if len(rows) != c.rows {
				t.Errorf("rows = %d (%+v), want %d", len(rows), rows, c.rows)
			}
			if fmt.Sprint(errs) != fmt.Sprint(c.errs) && !(len(errs) == 0 && len(c.errs) == 0) {
				t.Errorf("errors = %v\nwant     %v", errs, c.errs)
			}
			if c.check != nil && len(rows) > 0 {
				c.check(t, rows)
			}
		})
	}
}

// FuzzParseParticipantCSV: the parser never panics, reports rows within
// the file, and only returns valid rows.
func FuzzParseParticipantCSV(f *testing.F) {
	for _, seed := range []string{
		"name,email,kind,country,organization\nAna,ana@x.org,expert,AT,Org\n",
		"\ufeffname;email;kind\r\n\"a;b\";a@x.org;ngo\r\n",
		"name,email,kind\n\"unterminated,a@x.org,expert\n",
		"name,email,kind\na,b,c,d\n\"\"\"\",x@y.z,observer\n",
		"",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, errs, err := models.ParseParticipantCSV(bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		lines := bytes.Count(data, []byte("\n")) + 1
		for _, e := range errs {
			if e.Row < 1 || e.Row > lines || e.Field == "" || e.Message == "" {
				t.Fatalf("bad error %+v (lines %d)", e, lines)
			}
		}
		for _, r := range rows {
			if r.Name == "" || !models.ValidEmail(r.Email) || r.Row < 2 || r.Row > lines {
				t.Fatalf("bad row %+v", r)
			}
			if _, ok := models.NormalizeCountry(r.Country); !ok {
				t.Fatalf("bad country %+v", r)
			}
		}
	})
}

func TestImportParticipants(t *testing.T) {
	modeltest.Stores(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		org, err := s.CreateOrganization(ctx, models.OrganizationInput{Name: models.Str("Harm Reduction Network"), Kind: models.Str("ngo")}, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateParticipant(ctx, models.ParticipantInput{Name: models.Str("Ana"), Email: models.Str("ana@x.org"), Kind: models.Str("expert"), Country: models.Str("BR")}, nil); err != nil {
			t.Fatal(err)
		}
		if _, err := s.CreateParticipant(ctx, models.ParticipantInput{Name: models.Str("Same"), Email: models.Str("same@x.org"), Kind: models.Str("ngo"), Country: models.Str("FR")}, nil); err != nil {
			t.Fatal(err)
		}
		file := "name,email,kind,country,organization\n" +
			"Ana Silva,ANA@x.org,expert,,harm reduction network\n" + // update, matched org
			"Same,same@x.org,ngo,,\n" + // nothing changes: skipped
			"Bo,bo@x.org,ngo,KE,New Collective\n" + // create + org created
			"Cy,cy@x.org,expert,KE,New Collective\n" // create, same new org
		res, err := s.ImportParticipants(ctx, strings.NewReader(file), true, nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.Created != 2 || res.Updated != 1 || res.Skipped != 1 || res.OrganizationsCreated != 1 || len(res.Errors) != 0 {
			t.Fatalf("dry run = %+v", res)
		}
		if _, total, _ := s.ListParticipants(ctx, models.ParticipantFilter{}); total != 2 {
			t.Fatalf("dry run wrote: %d participants", total)
		}
		// A bad row: the real run writes nothing.
		res, err = s.ImportParticipants(ctx, strings.NewReader(file+"Bad,bad,expert,,\n"), false, nil)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Errors) != 1 || res.Errors[0].Row != 6 || res.Errors[0].Field != "email" {
			t.Fatalf("errors = %+v", res.Errors)
		}
		if _, total, _ := s.ListParticipants(ctx, models.ParticipantFilter{}); total != 2 {
			t.Fatalf("failed import wrote: %d participants", total)
		}
		res, err = s.ImportParticipants(ctx, strings.NewReader(file), false, nil)
		if err != nil || res.Created != 2 || res.Updated != 1 || res.Skipped != 1 {
			t.Fatalf("import = %+v, %v", res, err)
		}
		ana, _ := s.FindParticipantByEmail(ctx, "ana@x.org")
		if ana.Name != "Ana Silva" || ana.Country != "BR" || ana.OrganizationID == nil || *ana.OrganizationID != org.ID {
			t.Errorf("ana = %+v", ana)
		}
		bo, _ := s.FindParticipantByEmail(ctx, "bo@x.org")
		cy, _ := s.FindParticipantByEmail(ctx, "cy@x.org")
		if bo == nil || cy == nil || bo.OrganizationID == nil || cy.OrganizationID == nil || *bo.OrganizationID != *cy.OrganizationID {
			t.Fatalf("bo %+v cy %+v", bo, cy)
		}
		if o, _ := s.FindOrganization(ctx, *bo.OrganizationID); o.Name != "New Collective" || o.Kind != models.OrgNGO || o.Country != "KE" {
			t.Errorf("created org = %+v", o)
		}
		// Running it again changes nothing.
		res, _ = s.ImportParticipants(ctx, strings.NewReader(file), false, nil)
		if res.Created != 0 || res.Updated != 0 || res.Skipped != 4 {
			t.Errorf("re-import = %+v", res)
		}
	})
}

func benchCSV(n int) string {
	var b strings.Builder
	b.WriteString("name,email,kind,country,organization\r\n")
	kinds := models.ParticipantKinds
	codes := models.MemberStates()
	for i := 0; i < n; i++ {
		fmt.Fprintf(&b, "\"Person %d, Jr\",person%d@example.org,%s,%s,Org %d\r\n", i, i, kinds[i%len(kinds)], codes[i%len(codes)].Code, i%40)
	}
	return b.String()
}

// BenchmarkImport50k imports 50,000 new people (parse, validate, match by
// email, insert) in one transaction and, as a baseline in the same
// iteration, inserts the same pre-parsed rows with a bare loop of INSERTs
// in one transaction; it reports both times and their ratio.
// Run: go test ./models -run '^$' -bench Import50k -benchtime 1x -count 5
func BenchmarkImport50k(b *testing.B) {
	const n = 50_000
	data := benchCSV(n)
	rows, errs, _ := models.ParseParticipantCSV(strings.NewReader(data))
	if len(rows) != n || len(errs) != 0 {
		b.Fatalf("rows %d errs %v", len(rows), errs)
	}
	var imp, loop time.Duration
	for i := 0; i < b.N; i++ {
		s1, s2 := modeltest.SQLite(b), modeltest.SQLite(b)
		t0 := time.Now()
		res, err := s1.ImportParticipants(context.Background(), strings.NewReader(data), false, nil)
		if err != nil || res.Created != n {
			b.Fatalf("%+v %v", res, err)
		}
		imp += time.Since(t0)
		t0 = time.Now()
		now := time.Now().UTC()
		err = s2.Write(context.Background(), func(tx *gorm.DB) error {
			for _, r := range rows {
				if err := tx.Exec("INSERT INTO participants (name, email, kind, country, language, created_at, updated_at) VALUES (?, ?, ?, ?, 'en', ?, ?)",
					r.Name, r.Email, r.Kind, r.Country, now, now).Error; err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		loop += time.Since(t0)
	}
	b.ReportMetric(imp.Seconds()/float64(b.N), "import_s")
	b.ReportMetric(loop.Seconds()/float64(b.N), "loop_s")
	b.ReportMetric(imp.Seconds()/loop.Seconds(), "import/loop")
}
