package models

import (
	"os"
	"testing"

	"golang.org/x/text/language"
)

func TestCountriesComplete(t *testing.T) {
	all := Countries()
	if len(all) != 249 {
		t.Fatalf("countries = %d, want 249 ISO 3166-1 alpha-2 codes", len(all))
	}
	valid := map[string]bool{}
	for _, r := range Regions {
		valid[r] = true
	}
	members, perRegion := 0, map[string]int{}
	seen := map[string]bool{}
	for _, c := range all {
		if seen[c.Code] {
			t.Errorf("duplicate %s", c.Code)
		}
		seen[c.Code] = true
		if r, err := language.ParseRegion(c.Code); err != nil || !r.IsCountry() || r.String() != c.Code {
			t.Errorf("%s is not an ISO 3166-1 country code (%v)", c.Code, err)
		}
		if c.Name == "" || !valid[c.Region] {
			t.Errorf("%s: name %q region %q", c.Code, c.Name, c.Region)
		}
		if c.Member {
			members++
			if c.Region == RegionOther {
				t.Errorf("member %s has no regional group", c.Code)
			}
		} else if c.Region != RegionOther {
			t.Errorf("non-member %s in group %s", c.Code, c.Region)
		}
		perRegion[c.Region]++
	}
	if members != 193 || len(MemberStates()) != 193 {
		t.Errorf("members = %d, want 193", members)
	}
	want := map[string]int{RegionAfrican: 54, RegionAsiaPacific: 54, RegionEEG: 23, RegionGRULAC: 33, RegionWEOG: 29, RegionOther: 56}
	for r, n := range want {
		if perRegion[r] != n {
			t.Errorf("%s: %d countries, want %d", r, perRegion[r], n)
		}
	}
}

func TestCountryRegionSample(t *testing.T) {
	for code, region := range map[string]string{
		"AT": RegionWEOG, "TR": RegionWEOG, "IL": RegionWEOG, "US": RegionWEOG, "AU": RegionWEOG,
		"KI": RegionAsiaPacific, "CY": RegionAsiaPacific, "SA": RegionAsiaPacific, "JP": RegionAsiaPacific,
		"KZ": RegionAsiaPacific, "PG": RegionAsiaPacific,
		"EE": RegionEEG, "RU": RegionEEG, "GE": RegionEEG, "PL": RegionEEG,
		"BR": RegionGRULAC, "TT": RegionGRULAC, "MX": RegionGRULAC, "KN": RegionGRULAC,
		"EG": RegionAfrican, "SS": RegionAfrican, "MA": RegionAfrican, "ZA": RegionAfrican,
		"VA": RegionOther, "PS": RegionOther, "TW": RegionOther, "PR": RegionOther, "XK": RegionOther, "": RegionOther,
	} {
		if got := RegionOf(code); got != region {
			t.Errorf("RegionOf(%q) = %s, want %s", code, got, region)
		}
	}
	for _, code := range []string{"VA", "PS", "HK"} {
		if c, ok := FindCountry(code); !ok || c.Member {
			t.Errorf("%s should be a known non-member", code)
		}
	}
	if c, ok := FindCountry("CI"); !ok || c.Name != "Côte d'Ivoire" || !c.Member {
		t.Errorf("CI = %+v", c)
	}
	if code, ok := NormalizeCountry(" at "); !ok || code != "AT" {
		t.Errorf("NormalizeCountry = %q %v", code, ok)
	}
	if _, ok := NormalizeCountry("ZZ"); ok {
		t.Error("ZZ accepted")
	}
}

// The English catalogue is generated from the list; a stale file fails here.
func TestCountryCatalogueInSync(t *testing.T) {
	b, err := os.ReadFile("../i18n/locales/countries.en.toml")
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != CountryCatalogue() {
		t.Fatal("i18n/locales/countries.en.toml is stale: run go generate ./models")
	}
}
