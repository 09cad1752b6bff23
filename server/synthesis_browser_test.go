package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"focalpoint/models"
)

// TestBrowserSynthesisDashboard opens the dashboard in Chromium, applies a
// filter with the form, and downloads a chart as SVG and PNG from the
// filtered page (content type and content checked).
func TestBrowserSynthesisDashboard(t *testing.T) {
	ta := sqliteApp(t)
	analyst, _ := ta.newStaff("analyst")
	f := newSynthFixture(t, ta, models.UnitPerson, 5)
	for i := 0; i < 9; i++ {
		g := "female"
		if i%3 == 0 {
			g = "male"
		}
		yn := "yes"
		if i%2 == 0 {
			yn = "no"
		}
		f.respond(t, g, "ngo", []string{"AT", "KE", "BR"}[i%3], map[string]any{"yes_no": yn})
	}
	ctx := newChrome(t)
	qid := f.Q["yes_no"].ID
	var headline, svgInfo, pngInfo, href string
	err := chromedp.Run(ctx,
		chromedp.Navigate(ta.Srv.URL+"/login"),
		chromedp.WaitVisible(`#email`, chromedp.ByID),
		chromedp.SendKeys(`#email`, analyst.Email, chromedp.ByID),
		chromedp.SendKeys(`#password`, testPassword, chromedp.ByID),
		chromedp.Submit(`#password`, chromedp.ByID),
		// Wait for the login's redirect to land before navigating on.
		chromedp.WaitVisible(`header.site .who`, chromedp.ByQuery),
		chromedp.Navigate(fmt.Sprintf("%s/staff/consultations/%d/synthesis", ta.Srv.URL, f.C.ID)),
		chromedp.WaitVisible(`#headline`, chromedp.ByID),
		chromedp.Evaluate(`document.getElementById("headline").textContent`, &headline),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(headline, "9 respondents from 3 countries") {
		t.Fatalf("headline %q", headline)
	}
	if err := chromedp.Run(ctx,
		chromedp.SetValue(`#gender`, "female", chromedp.ByID),
		chromedp.Click(`#apply-filters`, chromedp.ByID),
	); err != nil {
		t.Fatal(err)
	}
	// The filtered page: poll with plain JavaScript (node ids die with the
	// old document while it navigates).
	for i := 0; i < 50 && !strings.Contains(headline, "6 respondents"); i++ {
		time.Sleep(200 * time.Millisecond)
		_ = chromedp.Run(ctx, chromedp.Evaluate(`document.readyState === "complete" && document.getElementById("headline") ? document.getElementById("headline").textContent : ""`, &headline))
	}
	err = chromedp.Run(ctx,
		chromedp.Evaluate(fmt.Sprintf(`document.getElementById("dl-q%d-svg").href`, qid), &href),
		chromedp.Evaluate(fmt.Sprintf(`fetch(document.getElementById("dl-q%d-svg").href).then(r => r.text().then(t => r.headers.get("content-type") + "|" + t))`, qid), &svgInfo, awaitPromise),
		chromedp.Evaluate(fmt.Sprintf(`fetch(document.getElementById("dl-q%d-png").href).then(r => r.arrayBuffer().then(b => r.headers.get("content-type") + "|" + Array.from(new Uint8Array(b).slice(0, 4)).join(",")))`, qid), &pngInfo, awaitPromise),
	)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(headline, "6 respondents from") {
		t.Fatalf("filtered headline %q", headline)
	}
	if !strings.Contains(href, "gender=female") {
		t.Fatalf("the download link does not carry the filter: %q", href)
	}
	// Female respondents: i = 1,2,4,5,7,8 → yes for 1,5,7 and no for 2,4,8.
	if !strings.HasPrefix(svgInfo, "image/svg+xml|") || !strings.Contains(svgInfo, "<svg") || !strings.Contains(svgInfo, "3 (50.0 %)") {
		t.Fatalf("SVG download: %.300s", svgInfo)
	}
	if pngInfo != "image/png|137,80,78,71" {
		t.Fatalf("PNG download: %q", pngInfo)
	}
}

func awaitPromise(p *runtime.EvaluateParams) *runtime.EvaluateParams { return p.WithAwaitPromise(true) }
