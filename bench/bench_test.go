package bench

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"focalpoint/models"
	"focalpoint/models/modeltest"
)

// The generator writes exactly what it reports, through the bulk path,
// across several transactions, on both databases, and the tallies it
// rebuilds equal what the submitted answers say.
func TestGenerateSmall(t *testing.T) {
	modeltest.Stores(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		res, err := Generate(ctx, s, GenConfig{Respondents: 200, Fresh: 30, AllKinds: true, Seed: 7, Chunk: 64})
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Questions) != len(models.QuestionKinds) {
			t.Fatalf("%d questions, want one of every kind (%d)", len(res.Questions), len(models.QuestionKinds))
		}
		count := func(q string, args ...any) int64 {
			var n int64
			if err := s.ReadDB(ctx).Raw(q, args...).Scan(&n).Error; err != nil {
				t.Fatalf("%s: %v", q, err)
			}
			return n
		}
		for table, n := range res.Rows {
			if got := count("SELECT COUNT(*) FROM " + table); got != n {
				t.Errorf("%s: %d rows in the database, generator says %d", table, got, n)
			}
		}
		if n := count("SELECT COUNT(*) FROM respondents WHERE consultation_id = ?", res.ConsultationID); n != 200 {
			t.Errorf("%d respondents, want 200", n)
		}
		if n := count("SELECT COUNT(*) FROM responses WHERE round_id = ? AND status = 'submitted'", res.RoundID); n != 200 {
			t.Errorf("%d submitted responses, want 200", n)
		}
		if n := count("SELECT COUNT(*) FROM invitations WHERE consultation_id = ? AND status = 'sent'", res.ConsultationID); n != 30 {
			t.Errorf("%d fresh invitations, want 30", n)
		}
		// Every demographic country is a real one (or prefer_not_to_say).
		var countries []string
		s.ReadDB(ctx).Raw("SELECT DISTINCT country FROM respondents").Scan(&countries)
		if len(countries) < 10 {
			t.Errorf("only %d distinct countries among 200 respondents", len(countries))
		}
		for _, c := range countries {
			if _, ok := models.FindCountry(c); !ok && c != models.PreferNotToSay {
				t.Errorf("country %q is not in the country list", c)
			}
		}
		// Open texts in several scripts survive the bulk path byte for byte.
		var texts []string
		s.ReadDB(ctx).Raw("SELECT sa.value FROM submitted_answers sa JOIN questions q ON q.id = sa.question_id WHERE q.kind = 'long_text'").Scan(&texts)
		scripts := map[string]bool{}
		for _, tx := range texts {
			for _, r := range tx {
				switch {
				case r >= 0x0400 && r <= 0x04FF:
					scripts["cyrillic"] = true
				case r >= 0x0600 && r <= 0x06FF:
					scripts["arabic"] = true
				case r >= 0x4E00 && r <= 0x9FFF:
					scripts["chinese"] = true
				}
			}
		}
		if len(scripts) != 3 {
			t.Errorf("open texts cover %v, want Cyrillic, Arabic and Chinese besides Latin", scripts)
		}
		// The tallies were rebuilt from the bulk-loaded rows.
		if n := count("SELECT COALESCE(SUM(respondents), 0) FROM tally_cells WHERE round_id = ?", res.RoundID); n != 200 {
			t.Errorf("tally_cells count %d respondents, want 200", n)
		}
		// Tokens: the fresh ones open live invitations, and differ.
		toks := res.FreshTokens(30)
		seen := map[string]bool{}
		for _, tok := range toks {
			if seen[tok] {
				t.Fatal("duplicate token")
			}
			seen[tok] = true
			inv, err := s.FindInvitationByToken(ctx, tok)
			if err != nil || inv.Status != models.InvSent || inv.ConsultationID != res.ConsultationID {
				t.Fatalf("fresh token does not open a sent invitation: %v %+v", err, inv)
			}
		}
		if _, err := s.FindInvitationByToken(ctx, res.AnsweredTokens(1)[0]); err != nil {
			t.Fatalf("answered token: %v", err)
		}
		// A second load into the same database does not collide.
		if _, err := Generate(ctx, s, GenConfig{Respondents: 20, Fresh: 5, Seed: 8, Chunk: 7}); err != nil {
			t.Fatalf("second load: %v", err)
		}
	})
}

// The bare baselines run (tiny sizes) and the driver refuses anything but
// loopback.
func TestBaselinesSmall(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	ins, err := InsertBaseline(ctx, dir+"/bare.db", 50, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if ins.Submissions != 50 || ins.RowsPerSub < 4 {
		t.Fatalf("insert baseline: %+v", ins)
	}
	// It writes the open answers' search index entries too, as the
	// application does.
	bare, err := sql.Open("sqlite3", dir+"/bare.db")
	if err != nil {
		t.Fatal(err)
	}
	var open, indexed int64
	bare.QueryRow(`SELECT COUNT(*) FROM submitted_answers sa JOIN questions q ON q.id = sa.question_id
		WHERE q.kind IN ('long_text','short_text')`).Scan(&open)
	bare.QueryRow(`SELECT COUNT(*) FROM answer_fts`).Scan(&indexed)
	bare.Close()
	if open == 0 || indexed != open {
		t.Fatalf("the bare insert indexed %d of %d open answers", indexed, open)
	}
	agg, err := AggregateBaseline(ctx, dir+"/bare.db", 1)
	if err != nil {
		t.Fatal(err)
	}
	if agg.Groups == 0 {
		t.Fatalf("aggregation found no groups: %+v", agg)
	}
	url, stop, err := PageBaseline("127.0.0.1:0", 9000)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	n, err := PageSize(ctx, url, "/")
	if err != nil || n > 9000 || n < 8000 {
		t.Fatalf("bare page is %d bytes (%v), want just under 9000", n, err)
	}
	rep, err := RunLoad(ctx, LoadConfig{BaseURL: url, Flow: "get", Path: "/", Concurrency: 4, Max: 40, Duration: 5 * time.Second})
	if err != nil || rep.Units != 40 || rep.Errors != 0 {
		t.Fatalf("get flow: %v %+v", err, rep)
	}
	for _, bad := range []string{"http://example.org", "http://10.0.0.1:8080", "http://0.0.0.0:80"} {
		if err := CheckLoopback(bad); err == nil {
			t.Errorf("%s accepted as loopback", bad)
		}
	}
	if _, err := RunLoad(ctx, LoadConfig{BaseURL: "http://example.org", Flow: "get"}); err == nil {
		t.Error("the driver ran against a remote host")
	}
}

// Interleaving: a load in slices runs Between between them, counts only
// the slices' time, and a baseline run a slice at a time adds up.
func TestSlicesInterleave(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	bare, err := NewBareInsert(ctx, dir+"/bare.db", 60)
	if err != nil {
		t.Fatal(err)
	}
	defer bare.Close()
	url, stop, err := PageBaseline("127.0.0.1:0", 4000)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	var between []*LoadReport
	rep, err := RunLoad(ctx, LoadConfig{BaseURL: url, Flow: "get", Path: "/", Concurrency: 2, Duration: 600 * time.Millisecond, Slices: 3,
		Between: func() {
			// Each pause is longer than the whole timed phase: it must not count.
			time.Sleep(time.Second)
			if err := bare.Run(ctx, 50*time.Millisecond); err != nil {
				t.Error(err)
			}
			r, err := RunLoad(ctx, LoadConfig{BaseURL: url, Flow: "get", Path: "/", Concurrency: 2, Max: 5, Duration: time.Second})
			if err != nil {
				t.Error(err)
			}
			between = append(between, r)
		}})
	if err != nil {
		t.Fatal(err)
	}
	if len(between) != 2 {
		t.Fatalf("Between ran %d times for 3 slices, want 2", len(between))
	}
	if rep.Units == 0 || rep.Errors != 0 || rep.Elapsed < 600*time.Millisecond || rep.Elapsed > 1500*time.Millisecond {
		t.Fatalf("sliced load: %d units, %d errors in %s (the pauses took 2 s)", rep.Units, rep.Errors, rep.Elapsed)
	}
	m := MergeReports(between...)
	if m.Units != between[0].Units+between[1].Units || m.Units != 10 || m.Elapsed != between[0].Elapsed+between[1].Elapsed || m.P99 < m.P50 || m.P50 <= 0 {
		t.Fatalf("merged: %+v from %+v and %+v", m, between[0], between[1])
	}
	first := bare.Result().Submissions
	if err := bare.Run(ctx, time.Minute); err != nil {
		t.Fatal(err)
	}
	res := bare.Result()
	if first == 0 || res.Submissions != 60 || res.Rate <= 0 || res.RowsPerSub < 4 {
		t.Fatalf("bare insert in slices: %d after two slices, then %+v (want all 60)", first, res)
	}
}
