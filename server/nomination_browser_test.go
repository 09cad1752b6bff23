package main

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"focalpoint/models"
)

// A focal point opens the State's link in a real browser, nominates two
// experts, the organizer approves one on the call's page, and the roster
// shows the approved expert as nominated by the State.
func TestBrowserNominationFlow(t *testing.T) {
	ta := sqliteApp(t)
	st, tok := ta.newStaff("organizer")
	cid := createConsultation(t, ta, "Prevention in schools")
	call := ta.mustAPI(http.StatusCreated, "POST", pathf("/api/v1/consultations/%d/nomination-calls", cid), tok,
		map[string]any{"closes_at": ta.Store.Now().Add(7 * 24 * time.Hour).Format(time.RFC3339), "max_per_country": 3, "countries": []string{"PE", "GH"}})
	link := ta.Srv.URL + "/n/" + tokenOf(linkOf(t, call, "PE"))
	callID := int64(call["id"].(float64))

	ctx := newChrome(t)
	nominate := func(name, email, inst, expertise string) chromedp.Tasks {
		return chromedp.Tasks{
			chromedp.Navigate(link),
			chromedp.WaitVisible(`#name`, chromedp.ByID),
			chromedp.SendKeys(`#name`, name, chromedp.ByID),
			chromedp.SendKeys(`#email`, email, chromedp.ByID),
			chromedp.SendKeys(`#institution`, inst, chromedp.ByID),
			chromedp.SendKeys(`#position`, "Director", chromedp.ByID),
			chromedp.SendKeys(`#expertise`, expertise, chromedp.ByID),
			chromedp.Submit(`#expertise`, chromedp.ByID),
			chromedp.WaitVisible(`.flash`, chromedp.ByQuery),
		}
	}
	var already string
	err := chromedp.Run(ctx,
		nominate("Rosa Quispe", "rosa@minsa.gob.pe", "Ministerio de Salud", "School-based prevention"),
		nominate("Jorge Ramos", "jorge@devida.gob.pe", "DEVIDA", "Alternative development"),
		chromedp.Text(`table tbody`, &already, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(already, "Rosa Quispe") || !strings.Contains(already, "Jorge Ramos") {
		t.Fatalf("already nominated = %q", already)
	}
	sum, err := ta.Store.NominationCallSummary(context.Background(), callID)
	if err != nil || sum.Nominees != 2 {
		t.Fatalf("summary %+v %v", sum, err)
	}
	var rosa models.Nomination
	for _, n := range sum.Nominations {
		if n.Email == "rosa@minsa.gob.pe" {
			rosa = n
		}
	}

	// The organizer approves Rosa through the staff page.
	var headline, roster string
	err = chromedp.Run(ctx,
		chromedp.Navigate(ta.Srv.URL+"/login"),
		chromedp.WaitVisible(`#email`, chromedp.ByID),
		chromedp.SendKeys(`#email`, st.Email, chromedp.ByID),
		chromedp.SendKeys(`#password`, testPassword, chromedp.ByID),
		chromedp.Submit(`#password`, chromedp.ByID),
		chromedp.WaitVisible(`header.site nav`, chromedp.ByQuery),
		chromedp.Navigate(ta.Srv.URL+pathf("/staff/nomination-calls/%d", callID)),
		chromedp.WaitVisible(`#call-headline`, chromedp.ByID),
		chromedp.Text(`#call-headline`, &headline, chromedp.ByID),
		chromedp.Click(pathf("#approve-%d", rosa.ID), chromedp.ByID),
		chromedp.WaitVisible(`.flash`, chromedp.ByQuery),
		chromedp.Navigate(ta.Srv.URL+"/staff/participants"),
		chromedp.WaitVisible(`table.participants`, chromedp.ByQuery),
		chromedp.Text(`table.participants tbody`, &roster, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatal(err)
	}
	if headline != "1 State nominated 2 experts" {
		t.Errorf("headline = %q", headline)
	}
	if !strings.Contains(roster, "Rosa Quispe") || !strings.Contains(roster, "Peru") || strings.Contains(roster, "Jorge Ramos") {
		t.Errorf("roster = %q", roster)
	}
	p, err := ta.Store.FindParticipantByEmail(context.Background(), "rosa@minsa.gob.pe")
	if err != nil || p.Kind != models.KindExpert || p.NominatedBy != "PE" {
		t.Errorf("participant = %+v %v", p, err)
	}
}
