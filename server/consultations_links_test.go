package main

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// The consultation page is the hub: it links to every area's page of that
// consultation, and each link answers for an analyst.
func TestConsultationPageLinksEveryArea(t *testing.T) {
	ta := sqliteApp(t)
	org, orgTok := ta.newStaff("organizer")
	c := ta.mustAPI(http.StatusCreated, "POST", "/api/v1/consultations", orgTok, map[string]any{
		"title": "Hub", "unit": "person", "languages": []string{"en"}, "min_cell_size": 5})
	id := int64(c["id"].(float64))
	b := ta.browser()
	b.login(org.Email, testPassword)
	status, body := b.get("/staff/consultations/" + strconv.FormatInt(id, 10))
	if status != http.StatusOK {
		t.Fatalf("consultation page: %d", status)
	}
	for _, suffix := range []string{"/synthesis", "/answers", "/nomination-calls", "/export", "/invitations"} {
		path := "/staff/consultations/" + strconv.FormatInt(id, 10) + suffix
		if !strings.Contains(body, `href="`+path+`"`) {
			t.Errorf("the consultation page does not link to %s", path)
			continue
		}
		if st, _ := b.get(path); st != http.StatusOK {
			t.Errorf("%s answers %d", path, st)
		}
	}
}
