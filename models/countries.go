package models

import "sort"

// UN regional groups (API.md); "Other" for non-members and territories.
const (
	RegionAfrican     = "African"
	RegionAsiaPacific = "Asia-Pacific"
	RegionEEG         = "EEG"
	RegionGRULAC      = "GRULAC"
	RegionWEOG        = "WEOG"
	RegionOther       = "Other"
)

// Regions lists the regional groups in display order.
var Regions = []string{RegionAfrican, RegionAsiaPacific, RegionEEG, RegionGRULAC, RegionWEOG, RegionOther}

// Country is an ISO 3166-1 alpha-2 country with its English name and UN
// regional group. Member reports UN membership.
type Country struct {
	Code   string `json:"code"`
	Name   string `json:"name"`
	Region string `json:"region"`
	Member bool   `json:"-"`
}

// countryList is the built-in list (the roster area completes it to every
// ISO 3166-1 code).
var countryList = []Country{
	{"AT", "Austria", RegionWEOG, true},
	{"BR", "Brazil", RegionGRULAC, true},
	{"FR", "France", RegionWEOG, true},
	{"IN", "India", RegionAsiaPacific, true},
	{"KE", "Kenya", RegionAfrican, true},
	{"NG", "Nigeria", RegionAfrican, true},
	{"PL", "Poland", RegionEEG, true},
}

var countryIndex = func() map[string]Country {
	m := make(map[string]Country, len(countryList))
	for _, c := range countryList {
		m[c.Code] = c
	}
	return m
}()

// Countries returns every country, sorted by code.
func Countries() []Country {
	out := append([]Country(nil), countryList...)
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out
}

// FindCountry looks a country up by its alpha-2 code (upper case).
func FindCountry(code string) (Country, bool) {
	c, ok := countryIndex[code]
	return c, ok
}

// RegionOf returns the regional group of a country code, "Other" when the
// code is unknown or empty.
func RegionOf(code string) string {
	if c, ok := countryIndex[code]; ok {
		return c.Region
	}
	return RegionOther
}
