package main

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"gorm.io/gorm"

	"focalpoint/models"
)

var inviteSeq atomic.Int64

// invite makes a participant and a personal link to a consultation in the
// store (as the invitations area will), returning the token. stateCountry
// makes it the link of a State's focal point.
func (ta *testApp) invite(consultationID int64, stateCountry string) (string, int64) {
	ta.t.Helper()
	var tok string
	var invID int64
	n := inviteSeq.Add(1)
	err := ta.Store.Write(context.Background(), func(tx *gorm.DB) error {
		now := ta.Store.Now()
		p := models.Participant{Name: "Expert " + strconv.FormatInt(n, 10), Email: fmt.Sprintf("expert%d@example.org", n), Kind: models.KindExpert,
			Country: "AT", Language: "en", CreatedAt: now, UpdatedAt: now}
		if err := tx.Create(&p).Error; err != nil {
			return err
		}
		t, inv, err := models.IssueInvitation(tx, now, consultationID, p.ID)
		if err != nil {
			return err
		}
		if stateCountry != "" {
			if err := tx.Model(inv).Update("state_country", stateCountry).Error; err != nil {
				return err
			}
		}
		tok, invID = t, inv.ID
		return nil
	})
	if err != nil {
		ta.t.Fatalf("invite: %v", err)
	}
	return tok, invID
}

func qkey(id int64) string { return strconv.FormatInt(id, 10) }

// fullAnswers answers every question of the fixture.
func fullAnswers(f fixture, text string) map[string]any {
	return map[string]any{
		qkey(f.Q["long_text"]):     text,
		qkey(f.Q["short_text"]):    "Coordinator",
		qkey(f.Q["single_choice"]): "health",
		qkey(f.Q["multi_choice"]):  []string{"youth", "families"},
		qkey(f.Q["yes_no"]):        "yes",
		qkey(f.Q["matrix_yes_no"]): map[string]string{"families": "yes", "ngos": "no"},
		qkey(f.Q["scale"]):         4,
		qkey(f.Q["number"]):        12.5,
		qkey(f.Q["country"]):       "KE",
	}
}

func (ta *testApp) countRows(sql string, args ...any) int64 {
	ta.t.Helper()
	var n int64
	if err := ta.Store.R.Raw(sql, args...).Scan(&n).Error; err != nil {
		ta.t.Fatal(err)
	}
	return n
}

func TestRespondAPI(t *testing.T) {
	eachDB(t, func(t *testing.T, ta *testApp) {
		f := ta.makeFixture("person", true)
		tok, invID := ta.invite(f.ConsultationID, "")
		base := "/api/v1/respond/" + tok

		if r := ta.api("GET", "/api/v1/respond/not-a-real-token", "", nil); r.Status != http.StatusNotFound {
			t.Fatalf("unknown token: %d", r.Status)
		}
		g := ta.mustAPI(http.StatusOK, "GET", base, "", nil)
		if g["status"] != "not_started" || g["version"] != 0.0 || len(g["questions"].([]any)) != 9 || len(g["answers"].(map[string]any)) != 0 {
			t.Fatalf("first GET = %v", g)
		}
		if d := g["demographics"].(map[string]any); d["consent"] != false || d["gender"] != nil {
			t.Fatalf("demographics = %v", d)
		}
		var inv models.Invitation
		ta.Store.R.First(&inv, invID)
		if inv.Status != models.InvOpened || inv.OpenedAt == nil {
			t.Fatalf("invitation after open: %+v", inv)
		}
		var code string
		ta.Store.R.Raw("SELECT code FROM respondents WHERE consultation_id = ?", f.ConsultationID).Scan(&code)
		if len(code) != 16 || strings.Contains(code, strconv.FormatInt(invID, 10)+"") && len(code) < 5 {
			t.Fatalf("respondent code %q", code)
		}

		// Demographics: bad values named, good ones kept.
		r := ta.api("PUT", base+"/demographics", "", map[string]any{"gender": "robot", "institution_type": "x", "country": "ZZ", "consent": false})
		if r.Status != http.StatusUnprocessableEntity || len(r.errorFields()) != 4 {
			t.Fatalf("bad demographics: %d %s", r.Status, r.Body)
		}
		ta.mustAPI(http.StatusOK, "PUT", base+"/demographics", "", map[string]any{"gender": "female", "institution_type": "ngo", "country": "prefer_not_to_say", "consent": true})

		// A draft need not be complete.
		v := ta.mustAPI(http.StatusOK, "PUT", base+"/answers", "", map[string]any{"version": 0, "answers": map[string]any{qkey(f.Q["short_text"]): "Nurse"}})
		if v["version"] != 1.0 {
			t.Fatalf("first save: %v", v)
		}
		ta.Store.R.First(&inv, invID)
		if inv.Status != models.InvStarted || inv.StartedAt == nil {
			t.Fatalf("invitation after save: %+v", inv)
		}
		// The stale tab gets 409 and nothing is overwritten.
		r = ta.api("PUT", base+"/answers", "", map[string]any{"version": 0, "answers": map[string]any{qkey(f.Q["short_text"]): "Overwritten"}})
		if r.Status != http.StatusConflict || r.errorCode() != "stale_version" {
			t.Fatalf("stale save: %d %s", r.Status, r.Body)
		}
		// Values outside the options, unknown questions, wrong types.
		for _, c := range []struct {
			answers map[string]any
			field   string
		}{
			{map[string]any{qkey(f.Q["single_choice"]): "finance"}, "answers." + qkey(f.Q["single_choice"])},
			{map[string]any{qkey(f.Q["multi_choice"]): []string{"youth", "aliens"}}, "answers." + qkey(f.Q["multi_choice"])},
			{map[string]any{qkey(f.Q["matrix_yes_no"]): map[string]string{"families": "maybe"}}, "answers." + qkey(f.Q["matrix_yes_no"])},
			{map[string]any{qkey(f.Q["scale"]): 9}, "answers." + qkey(f.Q["scale"])},
			{map[string]any{qkey(f.Q["yes_no"]): "perhaps"}, "answers." + qkey(f.Q["yes_no"])},
			{map[string]any{qkey(f.Q["country"]): "XX"}, "answers." + qkey(f.Q["country"])},
			{map[string]any{qkey(f.Q["number"]): "twelve"}, "answers." + qkey(f.Q["number"])},
			{map[string]any{"999999": "x"}, "answers.999999"},
		} {
			r := ta.api("PUT", base+"/answers", "", map[string]any{"version": 1, "answers": c.answers})
			if r.Status != http.StatusUnprocessableEntity || r.errorFields()[c.field] == nil {
				t.Errorf("%v: %d %s", c.answers, r.Status, r.Body)
			}
		}
		// Missing required answers: 422 naming each.
		r = ta.api("POST", base+"/submit", "", nil)
		if r.Status != http.StatusUnprocessableEntity || r.errorFields()["answers."+qkey(f.Q["long_text"])] == nil || r.errorFields()["answers."+qkey(f.Q["yes_no"])] == nil {
			t.Fatalf("submit incomplete: %d %s", r.Status, r.Body)
		}
		v = ta.mustAPI(http.StatusOK, "PUT", base+"/answers", "", map[string]any{"version": 1, "answers": fullAnswers(f, "Peer support works.")})
		s := ta.mustAPI(http.StatusOK, "POST", base+"/submit", "", nil)
		if s["status"] != "submitted" || s["receipt"] == "" {
			t.Fatalf("submit: %v", s)
		}
		// Exploded rows: one per value.
		rows := func(q string) int64 {
			return ta.countRows("SELECT COUNT(*) FROM submitted_answers WHERE question_id = ?", f.Q[q])
		}
		if rows("multi_choice") != 2 || rows("matrix_yes_no") != 2 || rows("long_text") != 1 || rows("number") != 1 {
			t.Fatalf("exploded rows: multi %d matrix %d text %d", rows("multi_choice"), rows("matrix_yes_no"), rows("long_text"))
		}
		var num float64
		ta.Store.R.Raw("SELECT num FROM submitted_answers WHERE question_id = ?", f.Q["number"]).Scan(&num)
		if num != 12.5 {
			t.Fatalf("number row num = %v", num)
		}
		if n := ta.countRows("SELECT COUNT(*) FROM submitted_answers WHERE question_id = ? AND row_key = 'ngos' AND value = 'no'", f.Q["matrix_yes_no"]); n != 1 {
			t.Fatalf("matrix row ngos=no: %d", n)
		}
		ta.Store.R.First(&inv, invID)
		if inv.Status != models.InvSubmitted || inv.SubmittedAt == nil {
			t.Fatalf("invitation after submit: %+v", inv)
		}
		// A draft on top of the submission.
		g = ta.mustAPI(http.StatusOK, "GET", base, "", nil)
		ver := int(g["version"].(float64))
		ta.mustAPI(http.StatusOK, "PUT", base+"/answers", "", map[string]any{"version": ver, "answers": map[string]any{qkey(f.Q["long_text"]): "Second thoughts."}})
		g = ta.mustAPI(http.StatusOK, "GET", base, "", nil)
		if g["status"] != "submitted" || g["unsubmitted_changes"] != true || g["answers"].(map[string]any)[qkey(f.Q["long_text"])] != "Second thoughts." {
			t.Fatalf("draft on top: %v", g)
		}
		var submitted string
		ta.Store.R.Raw("SELECT value FROM submitted_answers WHERE question_id = ?", f.Q["long_text"]).Scan(&submitted)
		if submitted != "Peer support works." {
			t.Fatalf("synthesis would read %q before resubmit", submitted)
		}
		s = ta.mustAPI(http.StatusOK, "POST", base+"/submit", "", nil)
		ta.Store.R.Raw("SELECT value FROM submitted_answers WHERE question_id = ?", f.Q["long_text"]).Scan(&submitted)
		if submitted != "Second thoughts." || rows("long_text") != 1 || rows("multi_choice") != 2 {
			t.Fatalf("after resubmit: %q, %d rows", submitted, rows("long_text"))
		}
		if g = ta.mustAPI(http.StatusOK, "GET", base, "", nil); g["unsubmitted_changes"] != false {
			t.Fatalf("after resubmit: %v", g)
		}
		// A receipt by email at each submission, with the answers: the row
		// stores what it says (no rendered bodies), and the outbox list (as
		// the mail worker) renders it.
		var stored []models.OutboxMessage
		ta.Store.R.Where("kind = ?", "respond_receipt").Order("id").Find(&stored)
		for _, m := range stored {
			if m.TextBody != "" || m.HTMLBody != "" || !strings.Contains(m.Payload, `"Receipt":"`) {
				t.Fatalf("receipt row %d: text %d bytes, html %d bytes, payload %q", m.ID, len(m.TextBody), len(m.HTMLBody), m.Payload)
			}
		}
		mails, _, err := ta.Store.ListOutbox(context.Background(), models.OutboxFilter{Kind: "respond_receipt"})
		if err != nil {
			t.Fatal(err)
		}
		slices.Reverse(mails) // the list is newest first
		if len(mails) != 2 || mails[1].ToAddress == "" || !strings.Contains(mails[1].TextBody, "Second thoughts.") || !strings.Contains(mails[1].HTMLBody, "Second thoughts.") || !strings.Contains(mails[1].TextBody, s["receipt"].(string)) {
			t.Fatalf("receipt mails: %+v", mails)
		}
		// Every text translated (no message id left), the page's language set.
		for _, body := range []string{mails[1].TextBody, mails[1].HTMLBody} {
			if strings.Contains(body, "respond.") || strings.Contains(body, `lang=""`) || strings.Count(body, "\n") < 8 {
				t.Fatalf("receipt mail body:\n%s", body)
			}
		}

		// Kind and options are locked once answers are submitted; wording is not.
		qpath := fmt.Sprintf("/api/v1/questions/%d", f.Q["multi_choice"])
		opts := []map[string]string{{"value": "families", "label": "Families"}, {"value": "youth", "label": "Young people"}, {"value": "women", "label": "Women"}}
		r = ta.api("PUT", qpath, f.Token, map[string]any{"kind": "multi_choice", "prompt": "Groups", "options": opts[:2]})
		if r.Status != http.StatusConflict || r.errorCode() != "question_locked" {
			t.Fatalf("changing options after answers: %d %s", r.Status, r.Body)
		}
		r = ta.api("PUT", qpath, f.Token, map[string]any{"kind": "single_choice", "prompt": "Groups", "options": opts})
		if r.Status != http.StatusConflict {
			t.Fatalf("changing kind after answers: %d", r.Status)
		}
		ta.mustAPI(http.StatusOK, "PUT", qpath, f.Token, map[string]any{"kind": "multi_choice", "prompt": "Which groups do you work with?", "options": opts})
		if n := ta.countRows("SELECT COUNT(*) FROM audit_log WHERE action = 'question.update' AND target = ?", fmt.Sprintf("question:%d", f.Q["multi_choice"])); n != 1 {
			t.Fatalf("wording fix audit entries: %d", n)
		}

		// Closed: no more answers.
		ta.mustAPI(http.StatusOK, "POST", fmt.Sprintf("/api/v1/rounds/%d/close", f.RoundID), f.Token, nil)
		g = ta.mustAPI(http.StatusOK, "GET", base, "", nil)
		r = ta.api("PUT", base+"/answers", "", map[string]any{"version": int(g["version"].(float64)), "answers": map[string]any{}})
		if r.Status != http.StatusConflict || r.errorCode() != "round_closed" {
			t.Fatalf("save after close: %d %s", r.Status, r.Body)
		}
		if r := ta.api("POST", base+"/submit", "", nil); r.Status != http.StatusConflict || r.errorCode() != "round_closed" {
			t.Fatalf("submit after close: %d %s", r.Status, r.Body)
		}
	})
}

func TestRespondStateConsultation(t *testing.T) {
	eachDB(t, func(t *testing.T, ta *testApp) {
		f := ta.makeFixture("state", true)
		tok, _ := ta.invite(f.ConsultationID, "KE")
		base := "/api/v1/respond/" + tok
		g := ta.mustAPI(http.StatusOK, "GET", base, "", nil)
		if g["demographics"] != nil {
			t.Fatalf("a State has no demographics: %v", g["demographics"])
		}
		r := ta.api("PUT", base+"/demographics", "", map[string]any{"gender": "female", "institution_type": "ngo", "country": "KE", "consent": true})
		if r.Status != http.StatusConflict {
			t.Fatalf("demographics in a State consultation: %d", r.Status)
		}
		var resp models.Respondent
		ta.Store.R.Where("consultation_id = ?", f.ConsultationID).First(&resp)
		if resp.Country != "KE" || resp.StateCountry == nil || *resp.StateCountry != "KE" || resp.ParticipantID != nil {
			t.Fatalf("State respondent: %+v", resp)
		}
		ta.mustAPI(http.StatusOK, "PUT", base+"/answers", "", map[string]any{"version": 0, "answers": fullAnswers(f, "Official reply.")})
		ta.mustAPI(http.StatusOK, "POST", base+"/submit", "", nil)
	})
}

func TestRespondLimitsAndText(t *testing.T) {
	eachDB(t, func(t *testing.T, ta *testApp) {
		f := ta.makeFixture("person", true)
		tok, _ := ta.invite(f.ConsultationID, "")
		base := "/api/v1/respond/" + tok
		lq := qkey(f.Q["long_text"])

		// Any script, byte for byte: Arabic, Chinese, emoji, RTL marks,
		// combining characters, a non-breaking space and CRLF.
		text := "مرحبا بالعالم — 你好，世界 👩🏽‍⚕️🌍 \u200fRTL mark\u200e e\u0301 \u00a0 <b>&amp;</b>\r\nline\u2028two"
		v := ta.mustAPI(http.StatusOK, "PUT", base+"/answers", "", map[string]any{"version": 0, "answers": map[string]any{lq: text, qkey(f.Q["yes_no"]): "no"}})
		g := ta.mustAPI(http.StatusOK, "GET", base, "", nil)
		if got := g["answers"].(map[string]any)[lq]; got != text {
			t.Fatalf("round trip:\n got %q\nwant %q", got, text)
		}
		ta.mustAPI(http.StatusOK, "POST", base+"/submit", "", nil)
		var stored string
		ta.Store.R.Raw("SELECT value FROM submitted_answers WHERE question_id = ?", f.Q["long_text"]).Scan(&stored)
		if stored != text {
			t.Fatalf("submitted row: %q", stored)
		}
		ver := int(ta.mustAPI(http.StatusOK, "GET", base, "", nil)["version"].(float64))
		_ = v

		// 100,000 characters (of 4 bytes each) are fine; one more is too long.
		long := strings.Repeat("😀", models.MaxAnswerLen)
		ta.mustAPI(http.StatusOK, "PUT", base+"/answers", "", map[string]any{"version": ver, "answers": map[string]any{lq: long}})
		// ...and can be submitted (400 kB in one submitted_answers row).
		ta.mustAPI(http.StatusOK, "POST", base+"/submit", "", nil)
		ta.Store.R.Raw("SELECT value FROM submitted_answers WHERE question_id = ?", f.Q["long_text"]).Scan(&stored)
		if stored != long {
			t.Fatalf("the 100,000-character answer was submitted as %d bytes", len(stored))
		}
		ver = int(ta.mustAPI(http.StatusOK, "GET", base, "", nil)["version"].(float64))
		r := ta.api("PUT", base+"/answers", "", map[string]any{"version": ver, "answers": map[string]any{lq: long + "x"}})
		if r.Status != http.StatusUnprocessableEntity || r.errorCode() != "too_long" || r.errorFields()["answers."+lq] == nil {
			t.Fatalf("too long: %d %.200s", r.Status, r.Body)
		}
		// NUL and other control characters: 422 for the field.
		r = ta.api("PUT", base+"/answers", "", `{"version":`+strconv.Itoa(ver)+`,"answers":{"`+lq+`":"a\u0000b"}}`)
		if r.Status != http.StatusUnprocessableEntity || r.errorFields()["answers."+lq] == nil {
			t.Fatalf("NUL: %d %s", r.Status, r.Body)
		}
		// Invalid UTF-8: 400 before anything is decoded.
		r = ta.api("PUT", base+"/answers", "", []byte(`{"version":`+strconv.Itoa(ver)+`,"answers":{"`+lq+`":"caf`+"\xe9"+`"}}`))
		if r.Status != http.StatusBadRequest || r.errorCode() != "invalid_utf8" {
			t.Fatalf("invalid UTF-8: %d %s", r.Status, r.Body)
		}
		// A body over the limit: 413.
		huge := `{"version":` + strconv.Itoa(ver) + `,"answers":{"` + lq + `":"` + strings.Repeat("a", 9<<20) + `"}}`
		if r := ta.api("PUT", base+"/answers", "", huge); r.Status != http.StatusRequestEntityTooLarge {
			t.Fatalf("huge body: %d", r.Status)
		}
		// Malformed JSON and a missing version.
		if r := ta.api("PUT", base+"/answers", "", `{"version":`); r.Status != http.StatusBadRequest {
			t.Fatalf("malformed: %d", r.Status)
		}
		if r := ta.api("PUT", base+"/answers", "", `{"answers":{}}`); r.Status != http.StatusUnprocessableEntity || r.errorFields()["version"] == nil {
			t.Fatalf("no version: %d %s", r.Status, r.Body)
		}
		// Nothing of the refused saves was written.
		g = ta.mustAPI(http.StatusOK, "GET", base, "", nil)
		if g["answers"].(map[string]any)[lq] != long || int(g["version"].(float64)) != ver {
			t.Fatalf("refused saves changed something (version %v)", g["version"])
		}
	})
}

func TestRespondParallelSubmits(t *testing.T) {
	eachDB(t, func(t *testing.T, ta *testApp) {
		f := ta.makeFixture("person", true)
		tok, _ := ta.invite(f.ConsultationID, "")
		base := "/api/v1/respond/" + tok
		ta.mustAPI(http.StatusOK, "PUT", base+"/answers", "", map[string]any{"version": 0, "answers": fullAnswers(f, "Same answer.")})
		var wg sync.WaitGroup
		var ok atomic.Int64
		for i := 0; i < 20; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if r := ta.api("POST", base+"/submit", "", nil); r.Status == http.StatusOK {
					ok.Add(1)
				}
			}()
		}
		wg.Wait()
		if ok.Load() != 20 {
			t.Fatalf("%d of 20 identical submits succeeded", ok.Load())
		}
		if n := ta.countRows("SELECT COUNT(*) FROM responses"); n != 1 {
			t.Fatalf("%d responses", n)
		}
		// 9 questions: multi (2) and matrix (2) rows, 7 others: 11 rows.
		if n := ta.countRows("SELECT COUNT(*) FROM submitted_answers"); n != 11 {
			t.Fatalf("%d submitted rows, want one set of 11", n)
		}
	})
}
