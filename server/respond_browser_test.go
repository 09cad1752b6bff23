package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserRespondJourney walks the respondent journey in Chromium: open
// the link, fill "about you", answer, save, reload (answers kept),
// autosave, submit, edit, resubmit, receipt; then the closed round is
// read-only.
func TestBrowserRespondJourney(t *testing.T) {
	ta := sqliteApp(t)
	f := ta.makeFixture("person", true)
	tok, _ := ta.invite(f.ConsultationID, "")
	ctx := newChrome(t)
	long := fmt.Sprintf("#q%d", f.Q["long_text"])
	short := fmt.Sprintf("#q%d", f.Q["short_text"])
	yes := fmt.Sprintf("#q%d-0", f.Q["yes_no"])
	youth := fmt.Sprintf("#q%d-1", f.Q["multi_choice"])

	var text, receipt1, receipt2, closed, status, heading string
	err := chromedp.Run(ctx,
		chromedp.Navigate(ta.Srv.URL+"/r/"+tok),
		chromedp.WaitVisible(`#consent`, chromedp.ByID),
		chromedp.Click(`#consent`, chromedp.ByID),
		chromedp.Click(`main button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#gender-0`, chromedp.ByID),
		chromedp.Click(`#gender-0`, chromedp.ByID),
		chromedp.Click(`#institution_type-2`, chromedp.ByID),
		chromedp.SetValue(`#country`, "KE", chromedp.ByID),
		chromedp.Click(`main button[type=submit]`, chromedp.ByQuery),
		chromedp.WaitVisible(long, chromedp.ByQuery),
		chromedp.SendKeys(long, "Peer support — دعم الأقران", chromedp.ByQuery),
		chromedp.Click(yes, chromedp.ByQuery),
		chromedp.Click(youth, chromedp.ByQuery),
		chromedp.Click(`#save-button`, chromedp.ByID),
		chromedp.WaitVisible(`.flash`, chromedp.ByQuery),
		chromedp.Reload(),
		chromedp.WaitVisible(long, chromedp.ByQuery),
		chromedp.Value(long, &text, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatal(err)
	}
	if text != "Peer support — دعم الأقران" {
		t.Fatalf("after save and reload the answer is %q", text)
	}
	// Autosave: type, wait for "saved", reload.
	err = chromedp.Run(ctx,
		chromedp.SendKeys(short, "Autosaved role", chromedp.ByQuery),
		waitText(`#save-status`, "Your answers are saved."),
		chromedp.Reload(),
		chromedp.WaitVisible(short, chromedp.ByQuery),
		chromedp.Value(short, &text, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatal(err)
	}
	if text != "Autosaved role" {
		t.Fatalf("autosaved answer after reload: %q", text)
	}
	// Two tabs on one link: the second tab saves first; the first is told
	// to reload, and nothing it typed overwrites the second's answer.
	tab2, cancel2 := chromedp.NewContext(ctx)
	defer cancel2()
	err = chromedp.Run(tab2,
		chromedp.Navigate(ta.Srv.URL+"/respond/questions"),
		chromedp.WaitVisible(short, chromedp.ByQuery),
		chromedp.SendKeys(short, " from tab two", chromedp.ByQuery),
		waitText(`#save-status`, "Your answers are saved."),
	)
	if err != nil {
		t.Fatal(err)
	}
	var staleMsg string
	err = chromedp.Run(ctx,
		chromedp.SendKeys(short, " and tab one", chromedp.ByQuery),
		waitContains(`#save-status`, "another window or device"),
		chromedp.Text(`#save-status`, &staleMsg, chromedp.ByQuery),
		chromedp.Navigate(ta.Srv.URL+"/respond/questions"),
		chromedp.WaitVisible(short, chromedp.ByQuery),
		chromedp.Value(short, &text, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, "from tab two") || strings.Contains(text, "tab one") || !strings.Contains(staleMsg, "Reload") {
		t.Fatalf("after two tabs: answer %q, message %q", text, staleMsg)
	}
	err = chromedp.Run(ctx,
		chromedp.Click(`button[value=review]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#submit-button`, chromedp.ByID),
		chromedp.Click(`#submit-button`, chromedp.ByID),
		chromedp.WaitVisible(`#receipt-code`, chromedp.ByID),
		chromedp.Text(`#receipt-code`, &receipt1, chromedp.ByID),
		chromedp.Click(`#edit-link`, chromedp.ByID),
		chromedp.WaitVisible(long, chromedp.ByQuery),
		chromedp.SetValue(long, "Edited in the browser", chromedp.ByQuery),
		chromedp.Click(`button[value=review]`, chromedp.ByQuery),
		chromedp.WaitVisible(`#submit-button`, chromedp.ByID),
		chromedp.Click(`#submit-button`, chromedp.ByID),
		chromedp.WaitVisible(`#receipt-code`, chromedp.ByID),
		chromedp.Text(`#receipt-code`, &receipt2, chromedp.ByID),
		chromedp.Text(`main`, &status, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatal(err)
	}
	if receipt1 == "" || receipt2 == "" || receipt1 == receipt2 || !strings.Contains(status, "Edited in the browser") {
		t.Fatalf("receipts %q, %q; page: %s", receipt1, receipt2, status)
	}
	if _, err := ta.Store.CloseRound(context.Background(), f.RoundID, nil); err != nil {
		t.Fatal(err)
	}
	err = chromedp.Run(ctx,
		chromedp.Navigate(ta.Srv.URL+"/respond"),
		chromedp.WaitVisible(`#closed-notice`, chromedp.ByID),
		chromedp.Text(`h1`, &heading, chromedp.ByQuery),
		chromedp.Text(`main`, &closed, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatal(err)
	}
	if heading != "This round is closed" || !strings.Contains(closed, "Edited in the browser") || !strings.Contains(closed, receipt2) {
		t.Fatalf("closed page: %s / %s", heading, closed)
	}
	var inputs int
	if err := chromedp.Run(ctx, chromedp.Evaluate(`document.querySelectorAll("main textarea, main input[type=radio], main input[type=text]").length`, &inputs)); err != nil {
		t.Fatal(err)
	}
	if inputs != 0 {
		t.Fatalf("the closed page has %d inputs", inputs)
	}
}

// waitContains polls until the element's text contains want (up to 20 s).
func waitContains(sel, want string) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		deadline := time.Now().Add(20 * time.Second)
		var got string
		for time.Now().Before(deadline) {
			if err := chromedp.Run(ctx, chromedp.Text(sel, &got, chromedp.ByQuery)); err != nil {
				return err
			}
			if strings.Contains(got, want) {
				return nil
			}
			time.Sleep(100 * time.Millisecond)
		}
		return fmt.Errorf("%s says %q, want it to contain %q", sel, got, want)
	})
}

// waitText polls until the element's text equals want (up to 20 s).
func waitText(sel, want string) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		deadline := time.Now().Add(20 * time.Second)
		var got string
		for time.Now().Before(deadline) {
			if err := chromedp.Run(ctx, chromedp.Text(sel, &got, chromedp.ByQuery)); err != nil {
				return err
			}
			if strings.TrimSpace(got) == want {
				return nil
			}
			time.Sleep(100 * time.Millisecond)
		}
		return fmt.Errorf("%s says %q, want %q", sel, got, want)
	})
}
