package models

import (
	"fmt"
	"sort"
	"strings"
)

//go:generate go run ./internal/gencountries ../i18n/locales/countries.en.toml

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

// countryList is every ISO 3166-1 alpha-2 code (249) with its English short
// name and UN regional group. Membership follows the 193 UN Member States;
// observers (Holy See, State of Palestine) and territories are "Other".
// Electoral groups as the UN uses them: Türkiye and Israel sit in WEOG, the
// USA (a WEOG observer) is counted in WEOG, Kiribati in Asia-Pacific.
// Display names go through the translator as "country.XX"; the English
// catalogue i18n/locales/countries.en.toml is generated from this list
// (go generate ./models, checked by TestCountryCatalogueInSync).
var countryList = []Country{
	{"AD", "Andorra", RegionWEOG, true},
	{"AE", "United Arab Emirates", RegionAsiaPacific, true},
	{"AF", "Afghanistan", RegionAsiaPacific, true},
	{"AG", "Antigua and Barbuda", RegionGRULAC, true},
	{"AI", "Anguilla", RegionOther, false},
	{"AL", "Albania", RegionEEG, true},
	{"AM", "Armenia", RegionEEG, true},
	{"AO", "Angola", RegionAfrican, true},
	{"AQ", "Antarctica", RegionOther, false},
	{"AR", "Argentina", RegionGRULAC, true},
	{"AS", "American Samoa", RegionOther, false},
	{"AT", "Austria", RegionWEOG, true},
	{"AU", "Australia", RegionWEOG, true},
	{"AW", "Aruba", RegionOther, false},
	{"AX", "Åland Islands", RegionOther, false},
	{"AZ", "Azerbaijan", RegionEEG, true},
	{"BA", "Bosnia and Herzegovina", RegionEEG, true},
	{"BB", "Barbados", RegionGRULAC, true},
	{"BD", "Bangladesh", RegionAsiaPacific, true},
	{"BE", "Belgium", RegionWEOG, true},
	{"BF", "Burkina Faso", RegionAfrican, true},
	{"BG", "Bulgaria", RegionEEG, true},
	{"BH", "Bahrain", RegionAsiaPacific, true},
	{"BI", "Burundi", RegionAfrican, true},
	{"BJ", "Benin", RegionAfrican, true},
	{"BL", "Saint Barthélemy", RegionOther, false},
	{"BM", "Bermuda", RegionOther, false},
	{"BN", "Brunei Darussalam", RegionAsiaPacific, true},
	{"BO", "Bolivia (Plurinational State of)", RegionGRULAC, true},
	{"BQ", "Bonaire, Sint Eustatius and Saba", RegionOther, false},
	{"BR", "Brazil", RegionGRULAC, true},
	{"BS", "Bahamas", RegionGRULAC, true},
	{"BT", "Bhutan", RegionAsiaPacific, true},
	{"BV", "Bouvet Island", RegionOther, false},
	{"BW", "Botswana", RegionAfrican, true},
	{"BY", "Belarus", RegionEEG, true},
	{"BZ", "Belize", RegionGRULAC, true},
	{"CA", "Canada", RegionWEOG, true},
	{"CC", "Cocos (Keeling) Islands", RegionOther, false},
	{"CD", "Democratic Republic of the Congo", RegionAfrican, true},
	{"CF", "Central African Republic", RegionAfrican, true},
	{"CG", "Congo", RegionAfrican, true},
	{"CH", "Switzerland", RegionWEOG, true},
	{"CI", "Côte d'Ivoire", RegionAfrican, true},
	{"CK", "Cook Islands", RegionOther, false},
	{"CL", "Chile", RegionGRULAC, true},
	{"CM", "Cameroon", RegionAfrican, true},
	{"CN", "China", RegionAsiaPacific, true},
	{"CO", "Colombia", RegionGRULAC, true},
	{"CR", "Costa Rica", RegionGRULAC, true},
	{"CU", "Cuba", RegionGRULAC, true},
	{"CV", "Cabo Verde", RegionAfrican, true},
	{"CW", "Curaçao", RegionOther, false},
	{"CX", "Christmas Island", RegionOther, false},
	{"CY", "Cyprus", RegionAsiaPacific, true},
	{"CZ", "Czechia", RegionEEG, true},
	{"DE", "Germany", RegionWEOG, true},
	{"DJ", "Djibouti", RegionAfrican, true},
	{"DK", "Denmark", RegionWEOG, true},
	{"DM", "Dominica", RegionGRULAC, true},
	{"DO", "Dominican Republic", RegionGRULAC, true},
	{"DZ", "Algeria", RegionAfrican, true},
	{"EC", "Ecuador", RegionGRULAC, true},
	{"EE", "Estonia", RegionEEG, true},
	{"EG", "Egypt", RegionAfrican, true},
	{"EH", "Western Sahara", RegionOther, false},
	{"ER", "Eritrea", RegionAfrican, true},
	{"ES", "Spain", RegionWEOG, true},
	{"ET", "Ethiopia", RegionAfrican, true},
	{"FI", "Finland", RegionWEOG, true},
	{"FJ", "Fiji", RegionAsiaPacific, true},
	{"FK", "Falkland Islands (Malvinas)", RegionOther, false},
	{"FM", "Micronesia (Federated States of)", RegionAsiaPacific, true},
	{"FO", "Faroe Islands", RegionOther, false},
	{"FR", "France", RegionWEOG, true},
	{"GA", "Gabon", RegionAfrican, true},
	{"GB", "United Kingdom", RegionWEOG, true},
	{"GD", "Grenada", RegionGRULAC, true},
	{"GE", "Georgia", RegionEEG, true},
	{"GF", "French Guiana", RegionOther, false},
	{"GG", "Guernsey", RegionOther, false},
	{"GH", "Ghana", RegionAfrican, true},
	{"GI", "Gibraltar", RegionOther, false},
	{"GL", "Greenland", RegionOther, false},
	{"GM", "Gambia", RegionAfrican, true},
	{"GN", "Guinea", RegionAfrican, true},
	{"GP", "Guadeloupe", RegionOther, false},
	{"GQ", "Equatorial Guinea", RegionAfrican, true},
	{"GR", "Greece", RegionWEOG, true},
	{"GS", "South Georgia and the South Sandwich Islands", RegionOther, false},
	{"GT", "Guatemala", RegionGRULAC, true},
	{"GU", "Guam", RegionOther, false},
	{"GW", "Guinea-Bissau", RegionAfrican, true},
	{"GY", "Guyana", RegionGRULAC, true},
	{"HK", "Hong Kong", RegionOther, false},
	{"HM", "Heard Island and McDonald Islands", RegionOther, false},
	{"HN", "Honduras", RegionGRULAC, true},
	{"HR", "Croatia", RegionEEG, true},
	{"HT", "Haiti", RegionGRULAC, true},
	{"HU", "Hungary", RegionEEG, true},
	{"ID", "Indonesia", RegionAsiaPacific, true},
	{"IE", "Ireland", RegionWEOG, true},
	{"IL", "Israel", RegionWEOG, true},
	{"IM", "Isle of Man", RegionOther, false},
	{"IN", "India", RegionAsiaPacific, true},
	{"IO", "British Indian Ocean Territory", RegionOther, false},
	{"IQ", "Iraq", RegionAsiaPacific, true},
	{"IR", "Iran (Islamic Republic of)", RegionAsiaPacific, true},
	{"IS", "Iceland", RegionWEOG, true},
	{"IT", "Italy", RegionWEOG, true},
	{"JE", "Jersey", RegionOther, false},
	{"JM", "Jamaica", RegionGRULAC, true},
	{"JO", "Jordan", RegionAsiaPacific, true},
	{"JP", "Japan", RegionAsiaPacific, true},
	{"KE", "Kenya", RegionAfrican, true},
	{"KG", "Kyrgyzstan", RegionAsiaPacific, true},
	{"KH", "Cambodia", RegionAsiaPacific, true},
	{"KI", "Kiribati", RegionAsiaPacific, true},
	{"KM", "Comoros", RegionAfrican, true},
	{"KN", "Saint Kitts and Nevis", RegionGRULAC, true},
	{"KP", "Democratic People's Republic of Korea", RegionAsiaPacific, true},
	{"KR", "Republic of Korea", RegionAsiaPacific, true},
	{"KW", "Kuwait", RegionAsiaPacific, true},
	{"KY", "Cayman Islands", RegionOther, false},
	{"KZ", "Kazakhstan", RegionAsiaPacific, true},
	{"LA", "Lao People's Democratic Republic", RegionAsiaPacific, true},
	{"LB", "Lebanon", RegionAsiaPacific, true},
	{"LC", "Saint Lucia", RegionGRULAC, true},
	{"LI", "Liechtenstein", RegionWEOG, true},
	{"LK", "Sri Lanka", RegionAsiaPacific, true},
	{"LR", "Liberia", RegionAfrican, true},
	{"LS", "Lesotho", RegionAfrican, true},
	{"LT", "Lithuania", RegionEEG, true},
	{"LU", "Luxembourg", RegionWEOG, true},
	{"LV", "Latvia", RegionEEG, true},
	{"LY", "Libya", RegionAfrican, true},
	{"MA", "Morocco", RegionAfrican, true},
	{"MC", "Monaco", RegionWEOG, true},
	{"MD", "Republic of Moldova", RegionEEG, true},
	{"ME", "Montenegro", RegionEEG, true},
	{"MF", "Saint Martin (French part)", RegionOther, false},
	{"MG", "Madagascar", RegionAfrican, true},
	{"MH", "Marshall Islands", RegionAsiaPacific, true},
	{"MK", "North Macedonia", RegionEEG, true},
	{"ML", "Mali", RegionAfrican, true},
	{"MM", "Myanmar", RegionAsiaPacific, true},
	{"MN", "Mongolia", RegionAsiaPacific, true},
	{"MO", "Macao", RegionOther, false},
	{"MP", "Northern Mariana Islands", RegionOther, false},
	{"MQ", "Martinique", RegionOther, false},
	{"MR", "Mauritania", RegionAfrican, true},
	{"MS", "Montserrat", RegionOther, false},
	{"MT", "Malta", RegionWEOG, true},
	{"MU", "Mauritius", RegionAfrican, true},
	{"MV", "Maldives", RegionAsiaPacific, true},
	{"MW", "Malawi", RegionAfrican, true},
	{"MX", "Mexico", RegionGRULAC, true},
	{"MY", "Malaysia", RegionAsiaPacific, true},
	{"MZ", "Mozambique", RegionAfrican, true},
	{"NA", "Namibia", RegionAfrican, true},
	{"NC", "New Caledonia", RegionOther, false},
	{"NE", "Niger", RegionAfrican, true},
	{"NF", "Norfolk Island", RegionOther, false},
	{"NG", "Nigeria", RegionAfrican, true},
	{"NI", "Nicaragua", RegionGRULAC, true},
	{"NL", "Netherlands", RegionWEOG, true},
	{"NO", "Norway", RegionWEOG, true},
	{"NP", "Nepal", RegionAsiaPacific, true},
	{"NR", "Nauru", RegionAsiaPacific, true},
	{"NU", "Niue", RegionOther, false},
	{"NZ", "New Zealand", RegionWEOG, true},
	{"OM", "Oman", RegionAsiaPacific, true},
	{"PA", "Panama", RegionGRULAC, true},
	{"PE", "Peru", RegionGRULAC, true},
	{"PF", "French Polynesia", RegionOther, false},
	{"PG", "Papua New Guinea", RegionAsiaPacific, true},
	{"PH", "Philippines", RegionAsiaPacific, true},
	{"PK", "Pakistan", RegionAsiaPacific, true},
	{"PL", "Poland", RegionEEG, true},
	{"PM", "Saint Pierre and Miquelon", RegionOther, false},
	{"PN", "Pitcairn", RegionOther, false},
	{"PR", "Puerto Rico", RegionOther, false},
	{"PS", "State of Palestine", RegionOther, false},
	{"PT", "Portugal", RegionWEOG, true},
	{"PW", "Palau", RegionAsiaPacific, true},
	{"PY", "Paraguay", RegionGRULAC, true},
	{"QA", "Qatar", RegionAsiaPacific, true},
	{"RE", "Réunion", RegionOther, false},
	{"RO", "Romania", RegionEEG, true},
	{"RS", "Serbia", RegionEEG, true},
	{"RU", "Russian Federation", RegionEEG, true},
	{"RW", "Rwanda", RegionAfrican, true},
	{"SA", "Saudi Arabia", RegionAsiaPacific, true},
	{"SB", "Solomon Islands", RegionAsiaPacific, true},
	{"SC", "Seychelles", RegionAfrican, true},
	{"SD", "Sudan", RegionAfrican, true},
	{"SE", "Sweden", RegionWEOG, true},
	{"SG", "Singapore", RegionAsiaPacific, true},
	{"SH", "Saint Helena, Ascension and Tristan da Cunha", RegionOther, false},
	{"SI", "Slovenia", RegionEEG, true},
	{"SJ", "Svalbard and Jan Mayen", RegionOther, false},
	{"SK", "Slovakia", RegionEEG, true},
	{"SL", "Sierra Leone", RegionAfrican, true},
	{"SM", "San Marino", RegionWEOG, true},
	{"SN", "Senegal", RegionAfrican, true},
	{"SO", "Somalia", RegionAfrican, true},
	{"SR", "Suriname", RegionGRULAC, true},
	{"SS", "South Sudan", RegionAfrican, true},
	{"ST", "Sao Tome and Principe", RegionAfrican, true},
	{"SV", "El Salvador", RegionGRULAC, true},
	{"SX", "Sint Maarten (Dutch part)", RegionOther, false},
	{"SY", "Syrian Arab Republic", RegionAsiaPacific, true},
	{"SZ", "Eswatini", RegionAfrican, true},
	{"TC", "Turks and Caicos Islands", RegionOther, false},
	{"TD", "Chad", RegionAfrican, true},
	{"TF", "French Southern Territories", RegionOther, false},
	{"TG", "Togo", RegionAfrican, true},
	{"TH", "Thailand", RegionAsiaPacific, true},
	{"TJ", "Tajikistan", RegionAsiaPacific, true},
	{"TK", "Tokelau", RegionOther, false},
	{"TL", "Timor-Leste", RegionAsiaPacific, true},
	{"TM", "Turkmenistan", RegionAsiaPacific, true},
	{"TN", "Tunisia", RegionAfrican, true},
	{"TO", "Tonga", RegionAsiaPacific, true},
	{"TR", "Türkiye", RegionWEOG, true},
	{"TT", "Trinidad and Tobago", RegionGRULAC, true},
	{"TV", "Tuvalu", RegionAsiaPacific, true},
	{"TW", "Taiwan, Province of China", RegionOther, false},
	{"TZ", "United Republic of Tanzania", RegionAfrican, true},
	{"UA", "Ukraine", RegionEEG, true},
	{"UG", "Uganda", RegionAfrican, true},
	{"UM", "United States Minor Outlying Islands", RegionOther, false},
	{"US", "United States of America", RegionWEOG, true},
	{"UY", "Uruguay", RegionGRULAC, true},
	{"UZ", "Uzbekistan", RegionAsiaPacific, true},
	{"VA", "Holy See", RegionOther, false},
	{"VC", "Saint Vincent and the Grenadines", RegionGRULAC, true},
	{"VE", "Venezuela (Bolivarian Republic of)", RegionGRULAC, true},
	{"VG", "Virgin Islands (British)", RegionOther, false},
	{"VI", "Virgin Islands (U.S.)", RegionOther, false},
	{"VN", "Viet Nam", RegionAsiaPacific, true},
	{"VU", "Vanuatu", RegionAsiaPacific, true},
	{"WF", "Wallis and Futuna", RegionOther, false},
	{"WS", "Samoa", RegionAsiaPacific, true},
	{"YE", "Yemen", RegionAsiaPacific, true},
	{"YT", "Mayotte", RegionOther, false},
	{"ZA", "South Africa", RegionAfrican, true},
	{"ZM", "Zambia", RegionAfrican, true},
	{"ZW", "Zimbabwe", RegionAfrican, true},
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

// MemberStates returns the 193 UN Member States, sorted by code.
func MemberStates() []Country {
	out := make([]Country, 0, 193)
	for _, c := range Countries() {
		if c.Member {
			out = append(out, c)
		}
	}
	return out
}

// CountryMessageID is the translator's message id of a country's display
// name ("country.AT"); the English text is Country.Name.
func CountryMessageID(code string) string { return "country." + code }

// NormalizeCountry upper-cases and trims a code and reports whether it is a
// known ISO 3166-1 alpha-2 code. The empty string is returned as ("", true)
// so optional country fields stay optional.
func NormalizeCountry(code string) (string, bool) {
	code = strings.ToUpper(strings.TrimSpace(code))
	if code == "" {
		return "", true
	}
	_, ok := countryIndex[code]
	return code, ok
}

// CountryCatalogue renders the generated English TOML catalogue of country
// names (see gencountries).
func CountryCatalogue() string {
	var b strings.Builder
	b.WriteString("# Generated by `go generate ./models` from models/countries.go. DO NOT EDIT.\n")
	for _, c := range Countries() {
		fmt.Fprintf(&b, "%q = %q\n", CountryMessageID(c.Code), c.Name)
	}
	return b.String()
}
