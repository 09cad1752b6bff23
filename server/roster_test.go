package main

import (
	"net/http"
	"testing"
)

func TestCountriesAPI(t *testing.T) {
	ta := sqliteApp(t)
	_, tok := ta.newStaff("analyst")
	ta.mustAPI(http.StatusUnauthorized, "GET", "/api/v1/countries", "", nil)
	js := ta.mustAPI(http.StatusOK, "GET", "/api/v1/countries", tok, nil)
	items, _ := js["items"].([]any)
	if len(items) != 249 || js["total"].(float64) != 249 {
		t.Fatalf("items = %d, total %v", len(items), js["total"])
	}
	byCode := map[string]map[string]any{}
	for _, it := range items {
		m := it.(map[string]any)
		byCode[m["code"].(string)] = m
	}
	at := byCode["AT"]
	if at["name"] != "Austria" || at["region"] != "WEOG" {
		t.Errorf("AT = %v", at)
	}
	if byCode["KI"]["region"] != "Asia-Pacific" || byCode["VA"]["region"] != "Other" || byCode["CI"]["name"] != "Côte d'Ivoire" {
		t.Errorf("KI %v VA %v CI %v", byCode["KI"], byCode["VA"], byCode["CI"])
	}
}
