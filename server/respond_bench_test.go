package main

import (
	"net/http"
	"testing"
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
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			base := "/api/v1/respond/" + <-toks
			ta.mustAPI(http.StatusOK, "PUT", base+"/answers", "", map[string]any{"version": 0, "answers": answers})
			ta.mustAPI(http.StatusOK, "POST", base+"/submit", "", nil)
		}
	})
}

// BenchmarkRespondPage is the personal-link page of a respondent with saved
// answers, loaded again and again through the browser session that the
// link set up (go test -bench RespondPage -run XXX ./server/).
func BenchmarkRespondPage(b *testing.B) {
	ta := sqliteApp(b)
	f := ta.makeFixture("person", true)
	tok, _ := ta.invite(f.ConsultationID, "")
	ta.mustAPI(http.StatusOK, "PUT", "/api/v1/respond/"+tok+"/demographics", "", map[string]any{"gender": "female", "institution_type": "ngo", "country": "KE", "consent": true})
	ta.mustAPI(http.StatusOK, "PUT", "/api/v1/respond/"+tok+"/answers", "", map[string]any{"version": 0, "answers": fullAnswers(f, "Saved text.")})
	br := ta.browser()
	if status, _ := br.get("/r/" + tok); status != http.StatusSeeOther && status != http.StatusFound {
		b.Fatalf("opening the link: %d", status)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if status, _ := br.get("/respond/questions"); status != http.StatusOK {
			b.Fatalf("questions page: %d", status)
		}
	}
}
