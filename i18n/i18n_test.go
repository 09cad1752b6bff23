package i18n

import "testing"

func TestLocalizerPicksLanguageAndDirection(t *testing.T) {
	b, err := New()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		prefs     []string
		lang, dir string
	}{
		{[]string{"ar"}, "ar", "rtl"},
		{[]string{"", "fr-CH, ar;q=0.8"}, "ar", "rtl"},
		{[]string{"de"}, "en", "ltr"},
		{nil, "en", "ltr"},
	}
	for _, c := range cases {
		l := b.Localizer(c.prefs...)
		if l.Lang() != c.lang || l.Dir() != c.dir {
			t.Errorf("Localizer(%q) = %s/%s, want %s/%s", c.prefs, l.Lang(), l.Dir(), c.lang, c.dir)
		}
	}
	if got := b.Localizer("en").T("app.name"); got != "Focal Point" {
		t.Errorf("T(app.name) = %q", got)
	}
}

func BenchmarkLocalizer(b *testing.B) {
	bundle, err := New()
	if err != nil {
		b.Fatal(err)
	}
	for i := 0; i < b.N; i++ {
		bundle.Localizer("", "en-GB,en;q=0.9,fr;q=0.5").T("app.name")
	}
}
