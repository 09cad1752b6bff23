package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"gorm.io/gorm"

	"focalpoint/mail"
	"focalpoint/models"
)

// path formats an URL path.
func (ta *testApp) path(format string, a ...any) string { return fmt.Sprintf(format, a...) }

// consultation creates a consultation with one open round closing in 30
// days, directly in the store (the consultations API is another area's).
func (ta *testApp) consultation(title, unit string) int64 {
	ta.t.Helper()
	now := ta.Clock.Now()
	closes := now.Add(30 * 24 * time.Hour)
	c := &models.Consultation{Title: title, Unit: unit, Languages: `["en"]`, MinCellSize: 5, CreatedAt: now, UpdatedAt: now}
	err := ta.Store.Write(context.Background(), func(tx *gorm.DB) error {
		if err := tx.Create(c).Error; err != nil {
			return err
		}
		return tx.Create(&models.Round{ConsultationID: c.ID, Title: "Round 1", OpensAt: &now, ClosesAt: &closes, State: models.RoundOpen, CreatedAt: now, UpdatedAt: now}).Error
	})
	if err != nil {
		ta.t.Fatal(err)
	}
	return c.ID
}

// participant creates a roster entry directly in the store.
func (ta *testApp) participant(name, email, country, nominatedBy string) int64 {
	ta.t.Helper()
	now := ta.Clock.Now()
	kind := models.KindNGO
	if nominatedBy != "" {
		kind = models.KindExpert
	}
	p := &models.Participant{Name: name, Email: email, Kind: kind, Country: country, Language: "en", NominatedBy: nominatedBy, CreatedAt: now, UpdatedAt: now}
	if err := ta.Store.Write(context.Background(), func(tx *gorm.DB) error { return tx.Create(p).Error }); err != nil {
		ta.t.Fatal(err)
	}
	return p.ID
}

func TestInvitationsDeliverDistinctLinksOnce(t *testing.T) {
	eachDB(t, func(t *testing.T, ta *testApp) {
		_, tok := ta.newStaff("organizer")
		cid := ta.consultation("Drug policy 2026", models.UnitPerson)
		ids := []int64{ta.participant("Ana", "ana@example.org", "AT", "AT"), ta.participant("Bo", "bo@example.org", "FR", ""),
			ta.participant("Cy", "cy@example.org", "KE", "")}
		srv := newTestSMTP(t)
		r := ta.mustAPI(202, "POST", ta.path("/api/v1/consultations/%d/invitations", cid), tok, map[string]any{"participant_ids": ids})
		if r["queued"].(float64) != 3 || r["job_id"] == nil {
			t.Fatalf("invite: %v", r)
		}
		job := ta.mustAPI(200, "GET", ta.path("/api/v1/jobs/%.0f", r["job_id"]), tok, nil)
		if job["state"] != "queued" || job["total"].(float64) != 3 || job["done"].(float64) != 0 {
			t.Fatalf("job before running: %v", job)
		}
		ta.runJobs()
		job = ta.mustAPI(200, "GET", ta.path("/api/v1/jobs/%.0f", r["job_id"]), tok, nil)
		if job["state"] != "done" || job["done"].(float64) != 3 {
			t.Fatalf("job after running: %v", job)
		}
		list := ta.mustAPI(200, "GET", ta.path("/api/v1/consultations/%d/invitations", cid), tok, nil)
		for _, it := range list["items"].([]any) {
			if it.(map[string]any)["status"] != "queued" {
				t.Fatalf("before sending: %v", it)
			}
		}
		w := ta.mailWorker(srv.URL, 2)
		if err := w.Drain(context.Background()); err != nil {
			t.Fatal(err)
		}
		got := srv.received()
		if len(got) != 3 {
			t.Fatalf("server got %d messages, want 3", len(got))
		}
		tokens := map[string]bool{}
		for _, m := range got {
			if len(m.To) != 1 {
				t.Fatalf("recipients %v", m.To)
			}
			k := tokenIn(t, m.Data)
			tokens[k] = true
			inv, err := ta.Store.FindInvitationByToken(context.Background(), k)
			if err != nil {
				t.Fatalf("link of %s does not work: %v", m.To[0], err)
			}
			var p models.Participant
			ta.Store.R.Take(&p, inv.ParticipantID)
			if p.Email != m.To[0] {
				t.Fatalf("%s got the link of %s", m.To[0], p.Email)
			}
			if !strings.Contains(m.Data, "Drug policy 2026") || !strings.Contains(m.Data, "UTC") || !strings.Contains(m.Data, "organizer-") {
				t.Fatalf("message lacks title, deadline or contact:\n%s", m.Data)
			}
		}
		if len(tokens) != 3 {
			t.Fatalf("links are not distinct: %v", tokens)
		}
		list = ta.mustAPI(200, "GET", ta.path("/api/v1/consultations/%d/invitations", cid), tok, nil)
		if list["total"].(float64) != 3 {
			t.Fatalf("list: %v", list)
		}
		for _, it := range list["items"].([]any) {
			m := it.(map[string]any)
			if m["status"] != "sent" || m["sent_at"] == nil {
				t.Fatalf("after sending: %v", m)
			}
			for _, k := range []string{"id", "participant_id", "status", "sent_at", "opened_at", "submitted_at"} {
				if _, ok := m[k]; !ok {
					t.Fatalf("invitation item lacks %q", k)
				}
			}
		}
		// Inviting the same people again sends nothing new.
		r = ta.mustAPI(202, "POST", ta.path("/api/v1/consultations/%d/invitations", cid), tok, map[string]any{"participant_ids": ids})
		if r["queued"].(float64) != 0 {
			t.Fatalf("re-invite queued %v", r["queued"])
		}
		ta.runJobs()
		if err := w.Drain(context.Background()); err != nil {
			t.Fatal(err)
		}
		if n := len(srv.received()); n != 3 {
			t.Fatalf("re-invite sent again: server has %d", n)
		}
		// Filters.
		list = ta.mustAPI(200, "GET", ta.path("/api/v1/consultations/%d/invitations?country=fr", cid), tok, nil)
		if list["total"].(float64) != 1 {
			t.Fatalf("country filter: %v", list)
		}
		if r := ta.api("GET", ta.path("/api/v1/consultations/%d/invitations?status=bogus", cid), tok, nil); r.Status != 422 || r.errorFields()["status"] == nil {
			t.Fatalf("bad status filter: %d %s", r.Status, r.Body)
		}
		// Bad input.
		if r := ta.api("POST", ta.path("/api/v1/consultations/%d/invitations", cid), tok, map[string]any{"participant_ids": []int64{999999}}); r.Status != 422 {
			t.Fatalf("unknown participant: %d", r.Status)
		}
		if r := ta.api("POST", ta.path("/api/v1/consultations/%d/invitations", cid), tok, `{"participant_ids": "x"}`); r.Status != 400 {
			t.Fatalf("malformed: %d", r.Status)
		}
		if r := ta.api("POST", "/api/v1/consultations/999999/invitations", tok, map[string]any{"participant_ids": ids}); r.Status != 404 {
			t.Fatalf("unknown consultation: %d", r.Status)
		}
		_, atok := ta.newStaff("analyst")
		if r := ta.api("POST", ta.path("/api/v1/consultations/%d/invitations", cid), atok, map[string]any{"participant_ids": ids}); r.Status != 403 {
			t.Fatalf("analyst invites: %d", r.Status)
		}
		var audits int64
		ta.Store.R.Model(&models.AuditEntry{}).Where("action = ?", "invitation.send").Count(&audits)
		if audits != 2 {
			t.Fatalf("audit entries for sending: %d", audits)
		}
	})
}

func TestStateConsultationOneInvitationPerState(t *testing.T) {
	eachDB(t, func(t *testing.T, ta *testApp) {
		_, tok := ta.newStaff("organizer")
		cid := ta.consultation("Country questionnaire", models.UnitState)
		a := ta.participant("Focal AT", "at1@example.org", "AT", "AT")
		b := ta.participant("Second AT", "at2@example.org", "DE", "AT") // nominated by Austria
		c := ta.participant("Focal FR", "fr@example.org", "FR", "")
		if r := ta.api("POST", ta.path("/api/v1/consultations/%d/invitations", cid), tok, map[string]any{"participant_ids": []int64{a, b}}); r.Status != 409 {
			t.Fatalf("two for one State in one call: %d %s", r.Status, r.Body)
		}
		ta.mustAPI(202, "POST", ta.path("/api/v1/consultations/%d/invitations", cid), tok, map[string]any{"participant_ids": []int64{a, c}})
		r := ta.api("POST", ta.path("/api/v1/consultations/%d/invitations", cid), tok, map[string]any{"participant_ids": []int64{b}})
		if r.Status != 409 || r.errorCode() != "state_already_invited" {
			t.Fatalf("second for a State: %d %s", r.Status, r.Body)
		}
		ta.runJobs()
		list := ta.mustAPI(200, "GET", ta.path("/api/v1/consultations/%d/invitations", cid), tok, nil)
		if list["total"].(float64) != 2 {
			t.Fatalf("invitations: %v", list)
		}
		states := map[string]bool{}
		for _, it := range list["items"].([]any) {
			states[it.(map[string]any)["state_country"].(string)] = true
		}
		if !states["AT"] || !states["FR"] {
			t.Fatalf("states %v", states)
		}
	})
}

func TestRemindersSkipSubmitters(t *testing.T) {
	eachDB(t, func(t *testing.T, ta *testApp) {
		_, tok := ta.newStaff("organizer")
		cid := ta.consultation("Reminders", models.UnitPerson)
		ids := []int64{ta.participant("Ana", "ana@example.org", "AT", ""), ta.participant("Bo", "bo@example.org", "FR", ""),
			ta.participant("Cy", "cy@example.org", "KE", "")}
		srv := newTestSMTP(t)
		ta.mustAPI(202, "POST", ta.path("/api/v1/consultations/%d/invitations", cid), tok, map[string]any{"participant_ids": ids})
		ta.runJobs()
		w := ta.mailWorker(srv.URL, 10)
		if err := w.Drain(context.Background()); err != nil {
			t.Fatal(err)
		}
		first := map[string]string{}
		for _, m := range srv.received() {
			first[m.To[0]] = tokenIn(t, m.Data)
		}
		// Bo submits through the respond API; Cy's link is revoked.
		bo := first["bo@example.org"]
		ta.mustAPI(200, "GET", "/api/v1/respond/"+bo, "", nil)
		ta.mustAPI(200, "PUT", "/api/v1/respond/"+bo+"/demographics", "", map[string]any{"gender": "prefer_not_to_say",
			"institution_type": "prefer_not_to_say", "country": "prefer_not_to_say", "consent": true})
		if r := ta.mustAPI(200, "POST", "/api/v1/respond/"+bo+"/submit", "", map[string]any{}); r["status"] != "submitted" {
			t.Fatalf("submit: %v", r)
		}
		list0 := ta.mustAPI(200, "GET", ta.path("/api/v1/consultations/%d/invitations?status=submitted", cid), tok, nil)
		if list0["total"].(float64) != 1 {
			t.Fatalf("submitted invitations: %v", list0)
		}
		list := ta.mustAPI(200, "GET", ta.path("/api/v1/consultations/%d/invitations?participant_id=%d", cid, ids[2]), tok, nil)
		invC := list["items"].([]any)[0].(map[string]any)["id"].(float64)
		ta.mustAPI(200, "POST", ta.path("/api/v1/invitations/%.0f/revoke", invC), tok, nil)

		r := ta.mustAPI(202, "POST", ta.path("/api/v1/consultations/%d/reminders", cid), tok, nil)
		if r["queued"].(float64) != 1 {
			t.Fatalf("reminders queued %v, want 1", r["queued"])
		}
		ta.runJobs()
		if err := w.Drain(context.Background()); err != nil {
			t.Fatal(err)
		}
		var got []receivedMail // the reminders (Bo also got his receipt)
		for _, m := range srv.received() {
			if strings.Contains(m.Data, "Subject: Reminder:") {
				got = append(got, m)
			}
		}
		if len(got) != 1 || got[0].To[0] != "ana@example.org" {
			t.Fatalf("reminders went to %v", got)
		}
		if !strings.Contains(got[0].Data, "Reminder: Reminders") {
			t.Fatalf("reminder template not used:\n%s", got[0].Data)
		}
		// The reminder's link works, and so does the first one.
		for _, k := range []string{tokenIn(t, got[0].Data), first["ana@example.org"]} {
			if _, err := ta.Store.FindInvitationByToken(context.Background(), k); err != nil {
				t.Fatalf("link dead after a reminder: %v", err)
			}
		}
		list = ta.mustAPI(200, "GET", ta.path("/api/v1/consultations/%d/invitations?participant_id=%d", cid, ids[0]), tok, nil)
		if it := list["items"].([]any)[0].(map[string]any); it["reminders"].(float64) != 1 || it["reminded_at"] == nil {
			t.Fatalf("reminder not recorded: %v", it)
		}
	})
}

func TestRevokeAndReissue(t *testing.T) {
	eachDB(t, func(t *testing.T, ta *testApp) {
		_, tok := ta.newStaff("organizer")
		cid := ta.consultation("Revoke", models.UnitPerson)
		pid := ta.participant("Ana", "ana@example.org", "AT", "")
		srv := newTestSMTP(t)
		ta.mustAPI(202, "POST", ta.path("/api/v1/consultations/%d/invitations", cid), tok, map[string]any{"participant_ids": []int64{pid}})
		ta.runJobs()
		w := ta.mailWorker(srv.URL, 10)
		if err := w.Drain(context.Background()); err != nil {
			t.Fatal(err)
		}
		old := tokenIn(t, srv.received()[0].Data)
		inv, err := ta.Store.FindInvitationByToken(context.Background(), old)
		if err != nil {
			t.Fatal(err)
		}
		r := ta.mustAPI(200, "POST", ta.path("/api/v1/invitations/%d/revoke", inv.ID), tok, nil)
		if r["status"] != "revoked" {
			t.Fatalf("revoke: %v", r)
		}
		if _, err := ta.Store.FindInvitationByToken(context.Background(), old); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("revoked link still works: %v", err)
		}
		if r := ta.api("GET", "/api/v1/respond/"+old, "", nil); r.Status != http.StatusNotFound {
			t.Fatalf("GET /api/v1/respond/{revoked}: %d", r.Status)
		}
		// Reissue: a new invitation and message; the old link stays dead.
		r = ta.mustAPI(201, "POST", ta.path("/api/v1/invitations/%d/reissue", inv.ID), tok, nil)
		if r["id"].(float64) == float64(inv.ID) || r["status"] != "queued" {
			t.Fatalf("reissue: %v", r)
		}
		if err := w.Drain(context.Background()); err != nil {
			t.Fatal(err)
		}
		got := srv.received()
		if len(got) != 2 {
			t.Fatalf("server got %d", len(got))
		}
		fresh := tokenIn(t, got[1].Data)
		if fresh == old {
			t.Fatal("reissue sent the same link")
		}
		if inv2, err := ta.Store.FindInvitationByToken(context.Background(), fresh); err != nil || inv2.ID == inv.ID {
			t.Fatalf("new link: %v %v", inv2, err)
		}
		if _, err := ta.Store.FindInvitationByToken(context.Background(), old); !errors.Is(err, models.ErrNotFound) {
			t.Fatal("old link revived by reissue")
		}
		if r := ta.api("POST", "/api/v1/invitations/999999/revoke", tok, nil); r.Status != 404 {
			t.Fatalf("unknown invitation: %d", r.Status)
		}
		var n int64
		ta.Store.R.Model(&models.AuditEntry{}).Where("action IN ?", []string{"invitation.revoke", "invitation.reissue"}).Count(&n)
		if n != 2 {
			t.Fatalf("audit entries for revoke/reissue: %d", n)
		}
	})
}

func TestCRLFInTitleCannotInjectHeaders(t *testing.T) {
	ta := sqliteApp(t)
	_, tok := ta.newStaff("organizer")
	cid := ta.consultation("Budget\r\nBcc: evil@attacker.example\r\nX-Evil: 1", models.UnitPerson)
	pid := ta.participant("Ana", "ana@example.org", "AT", "")
	srv := newTestSMTP(t)
	ta.mustAPI(202, "POST", ta.path("/api/v1/consultations/%d/invitations", cid), tok, map[string]any{"participant_ids": []int64{pid}})
	ta.runJobs()
	if err := ta.mailWorker(srv.URL, 10).Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := srv.received()
	if len(got) != 1 || len(got[0].To) != 1 || got[0].To[0] != "ana@example.org" {
		t.Fatalf("recipients: %+v", got)
	}
	head := got[0].Data[:strings.Index(got[0].Data, "\r\n\r\n")]
	for _, line := range strings.Split(head, "\r\n") {
		l := strings.ToLower(line)
		if strings.HasPrefix(l, "bcc:") || strings.HasPrefix(l, "x-evil:") {
			t.Fatalf("injected header %q in:\n%s", line, head)
		}
	}
	if !strings.Contains(head, "Subject: Invitation: Budget Bcc: evil@attacker.example X-Evil: 1") {
		t.Fatalf("subject not flattened:\n%s", head)
	}
	if s := mail.HeaderSafe("a\u2028b\nc\rd\te"); s != "a b c d e" {
		t.Fatalf("HeaderSafe: %q", s)
	}
}

func TestLinkAgainFormAnswersAlike(t *testing.T) {
	ta := sqliteApp(t)
	_, tok := ta.newStaff("organizer")
	cid := ta.consultation("Lost links", models.UnitPerson)
	pid := ta.participant("Ana", "ana@example.org", "AT", "")
	ta.mustAPI(202, "POST", ta.path("/api/v1/consultations/%d/invitations", cid), tok, map[string]any{"participant_ids": []int64{pid}})
	ta.runJobs()
	b := ta.browser()
	if st, _ := b.get("/link"); st != 200 {
		t.Fatalf("GET /link: %d", st)
	}
	stK, _, bodyK := b.post("/link", url.Values{"email": {"Ana@Example.org"}})
	stU, _, bodyU := b.post("/link", url.Values{"email": {"nobody@example.org"}})
	strip := func(s string) string { return csrfRe.ReplaceAllString(s, "") }
	if stK != 200 || stU != 200 || strip(bodyK) != strip(bodyU) {
		t.Fatalf("known and unknown answer differently: %d %d", stK, stU)
	}
	r := ta.mustAPI(200, "GET", "/api/v1/outbox?to=ana@example.org", tok, nil)
	if r["total"].(float64) != 2 {
		t.Fatalf("outbox: %v", r)
	}
	msg := r["items"].([]any)[0].(map[string]any)
	if !strings.HasPrefix(msg["subject"].(string), "Your link:") {
		t.Fatalf("newest message: %v", msg["subject"])
	}
	k := tokenIn(t, msg["text"].(string))
	if _, err := ta.Store.FindInvitationByToken(context.Background(), k); err != nil {
		t.Fatalf("new link: %v", err)
	}
	if r := ta.mustAPI(200, "GET", "/api/v1/outbox?to=nobody@example.org", tok, nil); r["total"].(float64) != 0 {
		t.Fatal("mail to an unknown address")
	}
	// Per-address limit (3 an hour), whatever the client address.
	b.post("/link", url.Values{"email": {"ana@example.org"}})
	b.post("/link", url.Values{"email": {"ana@example.org"}})
	if st, _, _ := b.post("/link", url.Values{"email": {"ana@example.org"}}); st != http.StatusTooManyRequests {
		t.Fatalf("4th request for one address: %d", st)
	}
	if st, _, _ := b.post("/link", url.Values{"email": {"not an address"}}); st != 422 {
		t.Fatalf("bad address: %d", st)
	}
}

func TestInvitationStaffPages(t *testing.T) {
	ta := sqliteApp(t)
	st, _ := ta.newStaff("organizer")
	cid := ta.consultation("Pages", models.UnitPerson)
	a := ta.participant("Ana Nominee", "ana@example.org", "AT", "AT")
	ta.participant("Bo Ngo", "bo@example.org", "FR", "")
	b := ta.browser()
	b.login(st.Email, testPassword)
	status, body := b.get(ta.path("/staff/consultations/%d/invitations/new?nominees=1", cid))
	if status != 200 || !strings.Contains(body, "Ana Nominee") || strings.Contains(body, "Bo Ngo") {
		t.Fatalf("pick page (nominees): %d", status)
	}
	status, _, body = b.post(ta.path("/staff/consultations/%d/invitations/preview", cid), url.Values{"participant_ids": {fmt.Sprint(a)}})
	if status != 200 || !strings.Contains(body, "Invitation: Pages") || !strings.Contains(body, "Send 1 invitations") {
		t.Fatalf("preview: %d\n%s", status, body)
	}
	status, _, _ = b.post(ta.path("/staff/consultations/%d/invitations/preview", cid), url.Values{})
	if status != 422 {
		t.Fatalf("preview without recipients: %d", status)
	}
	status, loc, _ := b.post(ta.path("/staff/consultations/%d/invitations", cid), url.Values{"all_matching": {"1"}, "nominees": {"1"}})
	if status != http.StatusSeeOther || !strings.HasPrefix(loc, "/staff/jobs/") {
		t.Fatalf("send: %d %s", status, loc)
	}
	if status, body = b.get(loc); status != 200 || !strings.Contains(body, "0 of 1 done") || !strings.Contains(body, `href="`+loc+`"`) {
		t.Fatalf("job page: %d\n%s", status, body)
	}
	ta.runJobs()
	if _, body = b.get(loc); !strings.Contains(body, "1 of 1 done") {
		t.Fatal("job page after running")
	}
	status, body = b.get(ta.path("/staff/consultations/%d/invitations", cid))
	if status != 200 || !strings.Contains(body, "Ana Nominee") || strings.Contains(body, "Bo Ngo") {
		t.Fatalf("status page: %d", status)
	}
	if status, body = b.get(ta.path("/staff/consultations/%d/reminders", cid)); status != 200 || !strings.Contains(body, "Reminder: Pages") {
		t.Fatalf("reminder page: %d", status)
	}
	if err := ta.mailWorker("", 10).Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	if status, body = b.get("/staff/outbox"); status != 200 || !strings.Contains(body, "ana@example.org") || !strings.Contains(body, "not sent") {
		t.Fatalf("outbox page: %d", status)
	}
	if status, loc, _ = b.post("/staff/outbox/release-held", nil); status != http.StatusSeeOther {
		t.Fatalf("release held: %d", status)
	}
	if ob := outboxOf(t, ta.Store); ob[0].Status != models.MailQueued {
		t.Fatalf("released message: %s", ob[0].Status)
	}
	var inv models.Invitation
	ta.Store.R.Where("participant_id = ?", a).Take(&inv)
	if status, _, _ = b.post(ta.path("/staff/invitations/%d/revoke", inv.ID), nil); status != http.StatusSeeOther {
		t.Fatalf("revoke form: %d", status)
	}
	if status, _, _ = b.post(ta.path("/staff/invitations/%d/revoke", inv.ID), url.Values{"csrf_token": {"forged"}}); status != http.StatusForbidden {
		t.Fatalf("revoke without CSRF: %d", status)
	}
}

func TestLinkLivesUntilLastRoundCloses(t *testing.T) {
	ta := sqliteApp(t)
	_, tok := ta.newStaff("organizer")
	cid := ta.consultation("Expiry", models.UnitPerson) // one round closing in 30 days
	pid := ta.participant("Ana", "ana@example.org", "AT", "")
	ta.mustAPI(202, "POST", ta.path("/api/v1/consultations/%d/invitations", cid), tok, map[string]any{"participant_ids": []int64{pid}})
	ta.runJobs()
	if err := ta.mailWorker("", 10).Drain(context.Background()); err != nil {
		t.Fatal(err)
	}
	link := tokenIn(t, outboxOf(t, ta.Store)[0].TextBody)
	ctx := context.Background()
	inv, err := ta.Store.FindInvitationByToken(ctx, link)
	if err != nil || inv.ExpiresAt == nil || !inv.ExpiresAt.Equal(ta.Clock.Now().Add(30*24*time.Hour)) {
		t.Fatalf("expiry %v, %v", inv, err)
	}
	// A second round added later, closing in 60 days, keeps the link alive past the first.
	now := ta.Clock.Now()
	closes := now.Add(60 * 24 * time.Hour)
	if err := ta.Store.Write(ctx, func(tx *gorm.DB) error {
		return tx.Create(&models.Round{ConsultationID: cid, Position: 1, Title: "Round 2", ClosesAt: &closes, State: models.RoundDraft, CreatedAt: now, UpdatedAt: now}).Error
	}); err != nil {
		t.Fatal(err)
	}
	ta.Clock.Advance(45 * 24 * time.Hour)
	if _, err := ta.Store.FindInvitationByToken(ctx, link); err != nil {
		t.Fatalf("link died with the first round although a later one is open: %v", err)
	}
	ta.Clock.Advance(16 * 24 * time.Hour)
	if _, err := ta.Store.FindInvitationByToken(ctx, link); !errors.Is(err, models.ErrNotFound) {
		t.Fatalf("link alive after the last round closed: %v", err)
	}
}
