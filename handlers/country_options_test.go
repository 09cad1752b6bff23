package handlers

import (
	"strings"
	"testing"

	"focalpoint/i18n"
)

func TestCountryOptionsHTML(t *testing.T) {
	b, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	got := string(countryOptionsHTML(b.Localizer("en"), "KE"))
	if n := strings.Count(got, "<option "); n != 249 {
		t.Fatalf("%d options, want 249", n)
	}
	if !strings.Contains(got, `<option value="KE" selected>Kenya</option>`) || strings.Count(got, " selected") != 1 {
		t.Fatalf("Kenya is not the one selected option")
	}
	// Sorted by name for the reader, and names escaped.
	if strings.Index(got, ">Afghanistan<") > strings.Index(got, ">Zimbabwe<") {
		t.Fatalf("options are not sorted by name")
	}
	if strings.Contains(got, "Côte d'Ivoire") || !strings.Contains(got, "Côte d&#39;Ivoire") {
		t.Fatalf("the apostrophe in Côte d'Ivoire is not escaped")
	}
}
