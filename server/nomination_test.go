package main

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"focalpoint/models"
)

// outboxTo returns the messages queued to an address.
func outboxTo(t testing.TB, ta *testApp, to string) []models.OutboxMessage {
	t.Helper()
	var out []models.OutboxMessage
	if err := ta.Store.R.Where("to_address = ?", to).Order("id").Find(&out).Error; err != nil {
		t.Fatal(err)
	}
	return composed(t, out)
}

// linkOf finds a country's link in a call-creation answer.
func linkOf(t testing.TB, js map[string]any, country string) string {
	t.Helper()
	for _, l := range js["links"].([]any) {
		m := l.(map[string]any)
		if m["country"] == country {
			return m["url"].(string)
		}
	}
	t.Fatalf("no link for %s in %v", country, js)
	return ""
}

func tokenOf(link string) string { return link[strings.LastIndex(link, "/")+1:] }

func TestNominationCallsAPI(t *testing.T) {
	eachDB(t, func(t *testing.T, ta *testApp) {
		_, org := ta.newStaff("organizer")
		_, ana := ta.newStaff("analyst")
		cid := createConsultation(t, ta, "Drug policy and health")
		closes := ta.Store.Now().Add(14 * 24 * time.Hour).Format(time.RFC3339)
		// A focal point on the roster: Austria's ministry.
		ms := ta.mustAPI(http.StatusCreated, "POST", "/api/v1/organizations", org, map[string]any{"name": "BMSGPK", "kind": "member_state", "country": "AT"})
		ta.mustAPI(http.StatusCreated, "POST", "/api/v1/participants", org, map[string]any{"name": "Eva Gruber", "email": "eva@bmsgpk.gv.at", "kind": "observer", "country": "AT", "organization_id": ms["id"]})
		// An NGO person from Austria is not a focal point.
		ta.mustAPI(http.StatusCreated, "POST", "/api/v1/participants", org, map[string]any{"name": "Ngo Person", "email": "ngo@x.org", "kind": "ngo", "country": "AT"})

		path := pathf("/api/v1/consultations/%d/nomination-calls", cid)
		ta.mustAPI(http.StatusForbidden, "POST", path, ana, map[string]any{"closes_at": closes})
		ta.mustAPI(http.StatusNotFound, "POST", "/api/v1/consultations/9999/nomination-calls", org, map[string]any{"closes_at": closes})
		r := ta.api("POST", path, org, map[string]any{"closes_at": "2020-01-01T00:00:00Z", "max_per_country": -1, "countries": []string{"AT", "XX"}})
		if r.Status != http.StatusUnprocessableEntity || len(r.errorFields()) != 3 {
			t.Fatalf("invalid call: %d %s", r.Status, r.Body)
		}
		if r := ta.api("POST", path, org, map[string]any{"closes_at": "tomorrow"}); r.Status != http.StatusUnprocessableEntity || r.errorFields()["closes_at"] == nil {
			t.Fatalf("bad time: %d %s", r.Status, r.Body)
		}
		// Default: every Member State.
		all := ta.mustAPI(http.StatusCreated, "POST", path, org, map[string]any{"closes_at": closes})
		if n := len(all["links"].([]any)); n != 193 {
			t.Fatalf("default call has %d links", n)
		}
		if !strings.HasPrefix(linkOf(t, all, "AT"), "http://focal.test/n/") || len(tokenOf(linkOf(t, all, "AT"))) != 43 {
			t.Errorf("link = %s", linkOf(t, all, "AT"))
		}
		call := ta.mustAPI(http.StatusCreated, "POST", path, org, map[string]any{"closes_at": closes, "max_per_country": 2, "countries": []string{"at", "KE", "BR", "KE"}})
		if n := len(call["links"].([]any)); n != 3 {
			t.Fatalf("call has %d links", n)
		}
		// Only hashes are stored.
		var stored int64
		ta.Store.R.Table("nomination_links").Where("token_hash = ?", tokenOf(linkOf(t, call, "AT"))).Count(&stored)
		if stored != 0 {
			t.Error("a token is stored in clear")
		}
		// The focal point got both calls' links by email; the NGO person none.
		mails := outboxTo(t, ta, "eva@bmsgpk.gv.at")
		if len(mails) != 2 || !strings.Contains(mails[1].TextBody, linkOf(t, call, "AT")) || !strings.Contains(mails[1].Subject, "Austria") {
			t.Fatalf("focal point mails = %d %+v", len(mails), mails)
		}
		if len(outboxTo(t, ta, "ngo@x.org")) != 0 {
			t.Error("the NGO person got a call")
		}
		callID := int(call["id"].(float64))
		at, ke := tokenOf(linkOf(t, call, "AT")), tokenOf(linkOf(t, call, "KE"))

		// Nominate through the public API.
		nom := func(tok string, body map[string]any) apiResult {
			return ta.api("POST", "/api/v1/nominate/"+tok, "", body)
		}
		if r := nom(at, map[string]any{"name": "", "email": "x", "institution": "", "expertise": ""}); r.Status != http.StatusUnprocessableEntity || len(r.errorFields()) != 4 {
			t.Fatalf("invalid nominee: %d %s", r.Status, r.Body)
		}
		r1 := nom(at, map[string]any{"name": "Dr. Anna Berger", "email": "Anna@uni.at", "institution": "Medical University of Vienna", "expertise": "Opioid agonist treatment", "nominator_email": "eva@bmsgpk.gv.at"})
		if r1.Status != http.StatusCreated || r1.JSON["country"] != "AT" || r1.JSON["status"] != "pending" {
			t.Fatalf("nominate: %d %s", r1.Status, r1.Body)
		}
		if mails := outboxTo(t, ta, "eva@bmsgpk.gv.at"); len(mails) != 3 || !strings.Contains(mails[2].TextBody, "Dr. Anna Berger") {
			t.Errorf("no confirmation to the nominator")
		}
		if r := nom(at, map[string]any{"name": "Anna again", "email": "ANNA@uni.at", "institution": "MUW", "expertise": "x"}); r.Status != http.StatusConflict || r.errorCode() != "duplicate_nominee" {
			t.Errorf("duplicate nominee: %d %s", r.Status, r.Body)
		}
		r2 := nom(at, map[string]any{"name": "Karl Huber", "email": "karl@x.at", "institution": "Suchthilfe Wien", "expertise": "Harm reduction"})
		if r2.Status != http.StatusCreated {
			t.Fatalf("second: %d", r2.Status)
		}
		// Over max_per_country: 409.
		if r := nom(at, map[string]any{"name": "Third", "email": "third@x.at", "institution": "X", "expertise": "Y"}); r.Status != http.StatusConflict || r.errorCode() != "nomination_cap_reached" {
			t.Errorf("over the cap: %d %s", r.Status, r.Body)
		}
		if r := nom(ke, map[string]any{"name": "Wanjiru Kamau", "email": "wanjiru@x.ke", "institution": "NACADA", "expertise": "Prevention"}); r.Status != http.StatusCreated {
			t.Fatalf("KE: %d", r.Status)
		}
		// Unknown token: 404, then 429 once the caller keeps guessing.
		if r := nom("nope", map[string]any{"name": "x"}); r.Status != http.StatusNotFound {
			t.Errorf("unknown token: %d", r.Status)
		}
		info := ta.mustAPI(http.StatusOK, "GET", "/api/v1/nominate/"+ke, "", nil)
		if info["country"] != "KE" || info["nominated"].(float64) != 1 || info["open"] != true {
			t.Errorf("link info = %v", info)
		}

		sum := ta.mustAPI(http.StatusOK, "GET", pathf("/api/v1/nomination-calls/%d", callID), ana, nil)
		if sum["countries_nominated"].(float64) != 2 || sum["nominees"].(float64) != 3 || len(sum["nominations"].([]any)) != 3 {
			t.Fatalf("summary = %v", sum)
		}
		anna := int(r1.JSON["id"].(float64))
		karl := int(r2.JSON["id"].(float64))
		ta.mustAPI(http.StatusForbidden, "POST", pathf("/api/v1/nominations/%d/approve", anna), ana, nil)
		ap := ta.mustAPI(http.StatusOK, "POST", pathf("/api/v1/nominations/%d/approve", anna), org, nil)
		p := ap["participant"].(map[string]any)
		if p["kind"] != "expert" || p["nominated_by"] != "AT" || p["country"] != "AT" || p["email"] != "anna@uni.at" {
			t.Errorf("approved participant = %v", p)
		}
		if r := ta.api("POST", pathf("/api/v1/nominations/%d/approve", anna), org, nil); r.Status != http.StatusConflict || r.errorCode() != "already_decided" {
			t.Errorf("approve twice: %d %s", r.Status, r.Body)
		}
		if r := ta.api("POST", pathf("/api/v1/nominations/%d/decline", karl), org, map[string]any{"reason": "  "}); r.Status != http.StatusUnprocessableEntity || r.errorFields()["reason"] == nil {
			t.Errorf("decline without reason: %d %s", r.Status, r.Body)
		}
		dc := ta.mustAPI(http.StatusOK, "POST", pathf("/api/v1/nominations/%d/decline", karl), org, map[string]any{"reason": "Not a health expert"})
		if dc["nomination"].(map[string]any)["status"] != "declined" {
			t.Errorf("declined = %v", dc)
		}
		if r := ta.api("POST", pathf("/api/v1/nominations/%d/approve", karl), org, nil); r.Status != http.StatusConflict {
			t.Errorf("approve declined: %d", r.Status)
		}
		ta.mustAPI(http.StatusNotFound, "POST", "/api/v1/nominations/99999/approve", org, nil)
		// A declined nominee frees a place.
		if r := nom(at, map[string]any{"name": "Third", "email": "third@x.at", "institution": "X", "expertise": "Y"}); r.Status != http.StatusCreated {
			t.Errorf("after a decline: %d %s", r.Status, r.Body)
		}
		// An existing participant with the nominee's email is linked, not duplicated.
		existing := ta.mustAPI(http.StatusCreated, "POST", "/api/v1/participants", org, map[string]any{"name": "W. Kamau", "email": "wanjiru@x.ke", "kind": "researcher", "country": "KE"})
		kenom := sumNomination(t, ta, ana, callID, "wanjiru@x.ke")
		ap = ta.mustAPI(http.StatusOK, "POST", pathf("/api/v1/nominations/%d/approve", kenom), org, nil)
		if ap["participant"].(map[string]any)["id"] != existing["id"] {
			t.Errorf("approve did not link the existing participant: %v", ap)
		}
		roster := ta.mustAPI(http.StatusOK, "GET", "/api/v1/participants?nominated_by=AT", ana, nil)
		if roster["total"].(float64) != 1 {
			t.Errorf("roster nominated_by=AT: %v", roster)
		}
		// Audit entries for the decisions.
		var audits int64
		ta.Store.R.Table("audit_log").Where("action IN ?", []string{"nomination.approve", "nomination.decline"}).Count(&audits)
		if audits != 3 {
			t.Errorf("audit entries = %d", audits)
		}
		sum = ta.mustAPI(http.StatusOK, "GET", pathf("/api/v1/nomination-calls/%d", callID), ana, nil)
		if sum["countries_nominated"].(float64) != 2 || sum["nominees"].(float64) != 4 || sum["approved"].(float64) != 2 || sum["pending"].(float64) != 1 {
			t.Errorf("summary after decisions = %v", sum)
		}
		// Reissue: the old link stops, the new one works.
		re := ta.mustAPI(http.StatusOK, "POST", pathf("/api/v1/nomination-calls/%d/links/BR", callID), org, nil)
		if r := ta.api("GET", "/api/v1/nominate/"+tokenOf(linkOf(t, call, "BR")), "", nil); r.Status != http.StatusNotFound {
			t.Errorf("old link after reissue: %d", r.Status)
		}
		ta.mustAPI(http.StatusOK, "GET", "/api/v1/nominate/"+tokenOf(re["url"].(string)), "", nil)
		ta.mustAPI(http.StatusNotFound, "POST", pathf("/api/v1/nomination-calls/%d/links/FR", callID), org, nil)
		// After closes_at: 409.
		ta.Clock.Advance(15 * 24 * time.Hour)
		if r := nom(ke, map[string]any{"name": "Late", "email": "late@x.ke", "institution": "X", "expertise": "Y"}); r.Status != http.StatusConflict || r.errorCode() != "nominations_closed" {
			t.Errorf("after the deadline: %d %s", r.Status, r.Body)
		}
		list := ta.mustAPI(http.StatusOK, "GET", pathf("/api/v1/consultations/%d/nomination-calls", cid), ana, nil)
		if list["total"].(float64) != 2 {
			t.Errorf("calls = %v", list)
		}
	})
}

func sumNomination(t *testing.T, ta *testApp, tok string, callID int, email string) int {
	t.Helper()
	sum := ta.mustAPI(http.StatusOK, "GET", pathf("/api/v1/nomination-calls/%d", callID), tok, nil)
	for _, n := range sum["nominations"].([]any) {
		m := n.(map[string]any)
		if m["email"] == email {
			return int(m["id"].(float64))
		}
	}
	t.Fatalf("no nomination of %s", email)
	return 0
}

func TestUnknownNominationTokenIsRateLimited(t *testing.T) {
	ta := sqliteApp(t)
	var last int
	for i := 0; i < 40; i++ {
		last = ta.api("POST", "/api/v1/nominate/guess"+strings.Repeat("x", i), "", map[string]any{}).Status
		if last == http.StatusTooManyRequests {
			break
		}
		if last != http.StatusNotFound {
			t.Fatalf("guess %d: %d", i, last)
		}
	}
	if last != http.StatusTooManyRequests {
		t.Fatalf("40 guesses and no 429")
	}
	b := ta.browser()
	if status, _ := b.get("/n/another-guess"); status != http.StatusTooManyRequests {
		t.Errorf("form after guesses: %d", status)
	}
}

var nomLinkRe = regexp.MustCompile(`http://focal\.test/n/[A-Za-z0-9_-]{43}`)

// The public form works without JavaScript: a plain form client nominates,
// sees the confirmation, and gets a clear page when the places are used.
func TestNominationFormWithoutJS(t *testing.T) {
	ta := sqliteApp(t)
	st, _ := ta.newStaff("organizer")
	cid := createConsultation(t, ta, "Treatment services")
	staff := ta.browser()
	staff.login(st.Email, testPassword)
	status, body := staff.get(pathf("/staff/consultations/%d/nomination-calls", cid))
	if status != http.StatusOK {
		t.Fatalf("calls page: %d", status)
	}
	status, _, body = staff.post(pathf("/staff/consultations/%d/nomination-calls", cid), url.Values{"closes_at": {"2020-01-01T10:00"}, "max_per_country": {"1"}, "scope": {"some"}, "countries": {"GH"}})
	if status != http.StatusUnprocessableEntity || !strings.Contains(body, "deadline in the future") {
		t.Fatalf("past deadline: %d", status)
	}
	status, _, body = staff.post(pathf("/staff/consultations/%d/nomination-calls", cid), url.Values{"closes_at": {"2026-04-01T10:00"}, "max_per_country": {"1"}, "scope": {"some"}, "countries": {"GH", "PE"}})
	links := nomLinkRe.FindAllString(body, -1)
	if status != http.StatusCreated || len(links) != 6 { // each link in a hidden field, an href and its text
		t.Fatalf("create call page: %d, %d links", status, len(links))
	}
	callID := regexp.MustCompile(`/staff/nomination-calls/(\d+)/links\.csv`).FindStringSubmatch(body)[1]
	// CSV of the links, sent back by the page.
	form := url.Values{}
	for _, m := range regexp.MustCompile(`name="country" value="([A-Z]{2})"><input type="hidden" name="url" value="([^"]+)"`).FindAllStringSubmatch(body, -1) {
		form.Add("country", m[1])
		form.Add("url", m[2])
	}
	status, _, csvBody := staff.post("/staff/nomination-calls/"+callID+"/links.csv", form)
	if status != http.StatusOK || !strings.HasPrefix(csvBody, "country,name,link\n") || !strings.Contains(csvBody, "GH,Ghana,http://focal.test/n/") {
		t.Fatalf("links CSV: %d %q", status, csvBody)
	}
	if status, _, _ := staff.post("/staff/nomination-calls/"+callID+"/links.csv", url.Values{"country": {"GH"}, "url": {"https://evil.example/x"}}); status != http.StatusUnprocessableEntity {
		t.Errorf("foreign link in CSV: %d", status)
	}
	var gh string
	for _, m := range regexp.MustCompile(`data-country="([A-Z]{2})"`).FindAllStringSubmatch(body, -1) {
		_ = m
	}
	for _, m := range regexp.MustCompile(`<a href="(http://focal\.test/n/[^"]+)" data-country="GH"`).FindAllStringSubmatch(body, -1) {
		gh = m[1]
	}
	if gh == "" {
		t.Fatal("no GH link")
	}
	fp := ta.browser()
	status, body = fp.get(strings.TrimPrefix(gh, "http://focal.test"))
	if status != http.StatusOK || !strings.Contains(body, "Nominate experts for Ghana") || !strings.Contains(body, `<label for="expertise">`) {
		t.Fatalf("form: %d", status)
	}
	p := strings.TrimPrefix(gh, "http://focal.test")
	status, _, body = fp.post(p, url.Values{"name": {"Ama Owusu"}, "email": {"bad"}, "institution": {""}, "expertise": {"x"}})
	if status != http.StatusUnprocessableEntity || !strings.Contains(body, `aria-describedby="email-error"`) || !strings.Contains(body, `value="Ama Owusu"`) {
		t.Fatalf("invalid: %d", status)
	}
	if status, _, _ := fp.post(p, url.Values{"csrf_token": {"forged"}, "name": {"X"}}); status != http.StatusForbidden {
		t.Errorf("forged CSRF: %d", status)
	}
	status, loc, _ := fp.post(p, url.Values{"name": {"Ama Owusu"}, "email": {"ama@ug.edu.gh"}, "institution": {"University of Ghana"}, "position": {"Professor"}, "expertise": {"Epidemiology"}, "nominator_email": {"fp@mfa.gov.gh"}})
	if status != http.StatusSeeOther || loc != p {
		t.Fatalf("nominate: %d %s", status, loc)
	}
	status, body = fp.get(p)
	if status != http.StatusOK || !strings.Contains(body, "All places are used") || !strings.Contains(body, "Ama Owusu") || !strings.Contains(body, "nomination was received") {
		t.Fatalf("after nominating: %d %s", status, body)
	}
	status, _, body = fp.post(p, url.Values{"name": {"Kwame"}, "email": {"kwame@x.gh"}, "institution": {"X"}, "expertise": {"Y"}})
	if status != http.StatusConflict || !strings.Contains(body, "All places are used") {
		t.Fatalf("over the cap: %d", status)
	}
	if m := outboxTo(t, ta, "fp@mfa.gov.gh"); len(m) != 1 || !strings.Contains(m[0].HTMLBody, "University of Ghana") {
		t.Errorf("confirmation mail: %+v", m)
	}
	// The staff page: headline, table per State, decline needs a reason.
	status, body = staff.get("/staff/nomination-calls/" + callID)
	if status != http.StatusOK || !strings.Contains(body, "1 State nominated 1 expert") || !strings.Contains(body, `<th scope="row">Ghana</th><td>1</td><td>0</td><td>1</td>`) {
		t.Fatalf("call page: %d %s", status, body)
	}
	// Replace Peru's link on the page: shown once, the old one stops.
	status, _, body = staff.post("/staff/nomination-calls/"+callID+"/links", url.Values{"country": {"PE"}})
	if newLinks := nomLinkRe.FindAllString(body, -1); status != http.StatusOK || len(newLinks) != 3 || !strings.Contains(body, "Peru") {
		t.Fatalf("reissue page: %d %d", status, len(newLinks))
	}
	n, _ := ta.Store.NominationCallSummary(context.Background(), mustAtoi(t, callID))
	status, _, body = staff.post(pathf("/staff/nominations/%d/decline", n.Nominations[0].ID), url.Values{"reason": {""}})
	if status != http.StatusUnprocessableEntity || !strings.Contains(body, pathf(`aria-describedby="reason-%d-error"`, n.Nominations[0].ID)) {
		t.Fatalf("decline without reason: %d", status)
	}
	if status, body = staff.get("/staff/nomination-calls"); !strings.Contains(body, "Treatment services") || !strings.Contains(body, "1 State nominated 1 expert") {
		t.Errorf("calls overview: %d %s", status, body)
	}
	// After the deadline the form says so.
	ta.Clock.Set(time.Date(2026, 4, 2, 0, 0, 0, 0, time.UTC))
	if _, body = ta.browser().get(p); !strings.Contains(body, "Nominations are closed") {
		t.Errorf("closed page")
	}
	if status, _ := ta.browser().get("/n/unknown-token"); status != http.StatusNotFound {
		t.Errorf("unknown token page: %d", status)
	}
}

func mustAtoi(t *testing.T, s string) int64 {
	t.Helper()
	var n int64
	for _, c := range s {
		n = n*10 + int64(c-'0')
	}
	return n
}

// Concurrent nominations from one State never exceed max_per_country.
func TestNominationCapUnderConcurrency(t *testing.T) {
	eachDB(t, func(t *testing.T, ta *testApp) {
		_, org := ta.newStaff("organizer")
		cid := createConsultation(t, ta, "Cap")
		call := ta.mustAPI(http.StatusCreated, "POST", pathf("/api/v1/consultations/%d/nomination-calls", cid), org,
			map[string]any{"closes_at": ta.Store.Now().Add(time.Hour).Format(time.RFC3339), "max_per_country": 2, "countries": []string{"CL"}})
		tok := tokenOf(linkOf(t, call, "CL"))
		const n = 10
		statuses := make(chan int, n)
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				statuses <- ta.api("POST", "/api/v1/nominate/"+tok, "", map[string]any{"name": pathf("Expert %d", i),
					"email": pathf("e%d@x.cl", i), "institution": "U", "expertise": "E"}).Status
			}(i)
		}
		wg.Wait()
		close(statuses)
		count := map[int]int{}
		for s := range statuses {
			count[s]++
		}
		if count[http.StatusCreated] != 2 || count[http.StatusConflict] != n-2 {
			t.Fatalf("statuses = %v", count)
		}
		sum, _ := ta.Store.NominationCallSummary(context.Background(), int64(call["id"].(float64)))
		if sum.Nominees != 2 {
			t.Fatalf("nominees = %d", sum.Nominees)
		}
	})
}
