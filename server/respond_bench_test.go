package main

import (
	"io"
	"net/http"
	"syscall"
	"testing"

	"focalpoint/bench"
)

// BenchmarkRespondSaveSubmit is one respondent's save and submit over
// HTTP against the real router on SQLite (go test -bench SaveSubmit
// -run XXX ./server/; add -cpuprofile to see where the time goes).
func BenchmarkRespondSaveSubmit(b *testing.B) {
	ta := sqliteApp(b)
	f := ta.makeFixture("person", true)
	toks := make([]string, b.N)
	for i := range toks {
		toks[i], _ = ta.invite(f.ConsultationID, "")
		ta.mustAPI(http.StatusOK, "PUT", "/api/v1/respond/"+toks[i]+"/demographics", "", map[string]any{"gender": "female", "institution_type": "ngo", "country": "KE", "consent": true})
	}
	answers := fullAnswers(f, "A considered answer of moderate length about what works and why.")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		base := "/api/v1/respond/" + toks[i]
		ta.mustAPI(http.StatusOK, "PUT", base+"/answers", "", map[string]any{"version": 0, "answers": answers})
		ta.mustAPI(http.StatusOK, "POST", base+"/submit", "", nil)
	}
}

// BenchmarkRespondSaveSubmitParallel is the same with 16 respondents at a
// time (group commit at work).
func BenchmarkRespondSaveSubmitParallel(b *testing.B) {
	ta := sqliteApp(b)
	f := ta.makeFixture("person", true)
	toks := make(chan string, b.N)
	for i := 0; i < b.N; i++ {
		tok, _ := ta.invite(f.ConsultationID, "")
		ta.mustAPI(http.StatusOK, "PUT", "/api/v1/respond/"+tok+"/demographics", "", map[string]any{"gender": "female", "institution_type": "ngo", "country": "KE", "consent": true})
		toks <- tok
	}
	answers := fullAnswers(f, "A considered answer of moderate length about what works and why.")
	b.SetParallelism(8)
	defer reportCPU(b)()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			base := "/api/v1/respond/" + <-toks
			ta.mustAPI(http.StatusOK, "PUT", base+"/answers", "", map[string]any{"version": 0, "answers": answers})
			ta.mustAPI(http.StatusOK, "POST", base+"/submit", "", nil)
		}
	})
}

// respondentWithSavedAnswers returns a browser that has opened the
// personal link of a respondent with saved answers to every kind of
// question.
func respondentWithSavedAnswers(b testing.TB) *browser {
	ta := sqliteApp(b)
	f := ta.makeFixture("person", true)
	tok, _ := ta.invite(f.ConsultationID, "")
	ta.mustAPI(http.StatusOK, "PUT", "/api/v1/respond/"+tok+"/demographics", "", map[string]any{"gender": "female", "institution_type": "ngo", "country": "KE", "consent": true})
	ta.mustAPI(http.StatusOK, "PUT", "/api/v1/respond/"+tok+"/answers", "", map[string]any{"version": 0, "answers": fullAnswers(f, "Saved text.")})
	br := ta.browser()
	if status, _ := br.get("/r/" + tok); status != http.StatusSeeOther && status != http.StatusFound {
		b.Fatalf("opening the link: %d", status)
	}
	return br
}

// BenchmarkRespondPage is the personal-link page of a respondent with saved
// answers, loaded again and again through the browser session that the
// link set up (go test -bench RespondPage -run XXX ./server/).
func BenchmarkRespondPage(b *testing.B) {
	br := respondentWithSavedAnswers(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if status, _ := br.get("/respond/questions"); status != http.StatusOK {
			b.Fatalf("questions page: %d", status)
		}
	}
}

// BenchmarkRespondPageVsBare measures, one request at a time in one
// process, the personal-link page (as BenchmarkRespondPage) and the bare
// baseline of issue 8 (bench.PageBaseline: an Echo handler rendering an
// html/template page of the same size, no database, session or
// translation) through the same kind of client. The ratio of the two
// ns/op is the CPU ratio, which contention from other processes distorts
// far less than rates under load (go test -run '^$' -bench PageVsBare ./server/).
func BenchmarkRespondPageVsBare(b *testing.B) {
	br := respondentWithSavedAnswers(b)
	status, page := br.get("/respond/questions")
	if status != http.StatusOK {
		b.Fatalf("questions page: %d", status)
	}
	base, stop, err := bench.PageBaseline("127.0.0.1:0", len(page))
	if err != nil {
		b.Fatal(err)
	}
	defer stop()
	client := &http.Client{}
	b.Run("page", func(b *testing.B) {
		b.SetBytes(int64(len(page)))
		defer reportCPU(b)()
		for i := 0; i < b.N; i++ {
			if status, _ := br.get("/respond/questions"); status != http.StatusOK {
				b.Fatalf("questions page: %d", status)
			}
		}
	})
	b.Run("bare", func(b *testing.B) {
		b.SetBytes(int64(len(page)))
		defer reportCPU(b)()
		for i := 0; i < b.N; i++ {
			resp, err := client.Get(base + "/")
			if err != nil {
				b.Fatal(err)
			}
			raw, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || len(raw) == 0 {
				b.Fatalf("bare page: %d", resp.StatusCode)
			}
		}
	})
}

// reportCPU reports the process CPU time (user + system: server and
// client together) per operation as cpu-ns/op; call as defer reportCPU(b)().
func reportCPU(b *testing.B) func() {
	cpu := func() int64 {
		var ru syscall.Rusage
		syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
		return ru.Utime.Nano() + ru.Stime.Nano()
	}
	b.ResetTimer()
	start := cpu()
	return func() {
		b.StopTimer()
		b.ReportMetric(float64(cpu()-start)/float64(b.N), "cpu-ns/op")
	}
}
