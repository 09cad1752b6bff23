package anonymize

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

func roster() *Scrubber {
	s := NewScrubber()
	for _, n := range []string{"Maria Gonzalez", "Jean-Luc Picard", "Ada", "Müller Anne-Marie", "李 小龙", "Al"} {
		s.Add(n)
	}
	return s.Build()
}

func TestScrub(t *testing.T) {
	s := roster()
	own := Person{Name: "Kofi Annan Mensah", Email: "k.mensah@example.org"}
	cases := []struct{ in, want string }{
		{"Nothing personal here. Policies work.", "Nothing personal here. Policies work."},
		{"Ask maria gonzalez about it.", "Ask [redacted] about it."},
		{"MARIA GONZALEZ said so", "[redacted] said so"},
		{"Maria alone is not a roster name", "Maria alone is not a roster name"},
		{"Jean-Luc Picard, captain", "[redacted], captain"},
		{"Ada wrote it", "[redacted] wrote it"},
		{"Al is too short to be a name", "Al is too short to be a name"},
		{"Anne-Marie Müller? no: Müller Anne-Marie", "Anne-Marie Müller? no: [redacted]"},
		{"我们和 李 小龙 谈过", "我们和 [redacted] 谈过"},
		{"I am Kofi, from Accra", "I am [redacted], from Accra"},
		{"Signed: Kofi Annan Mensah.", "Signed: [redacted]."},
		{"Write to K.Mensah@Example.org today", "Write to [redacted] today"},
		{"Write to someone@else.net, or (x@y.co)", "Write to [redacted], or ([redacted])"},
		{"See https://example.org/a?b=c and www.foo.bar/x.", "See [redacted] and [redacted]"},
		{"Visit unodc.org/reports for more", "Visit [redacted] for more"},
		{"Call +43 1 26060 4242 or (212) 555-0199.", "Call [redacted] or [redacted]."},
		{"Between 2019-2023 we saw 12.5 % more, 1,234 cases", "Between 2019-2023 we saw 12.5 % more, 1,234 cases"},
		{"e.g. this, i.e. that. End.Next", "e.g. this, i.e. that. End.Next"},
	}
	for _, c := range cases {
		if got := s.Scrub(c.in, own); got != c.want {
			t.Errorf("Scrub(%q)\n got %q\nwant %q", c.in, got, c.want)
		}
	}
}

// A scrubber sized up front matches the same names as one that is not.
func TestScrubSized(t *testing.T) {
	a, b := NewScrubber(), NewScrubber(3)
	for _, n := range []string{"Maria Gonzalez", "Jean Dupont", "Kwame"} {
		a.Add(n)
		b.Add(n)
	}
	a.Build()
	b.Build()
	for _, in := range []string{"ask Maria Gonzalez", "Jean Dupont!", "kwame said", "Maria said"} {
		if x, y := a.Scrub(in, Person{}), b.Scrub(in, Person{}); x != y {
			t.Errorf("%q: %q vs %q", in, x, y)
		}
	}
	if got := b.Scrub("Kwame and Jean Dupont", Person{}); got != "[redacted] and [redacted]" {
		t.Errorf("sized scrubber: %q", got)
	}
}

func TestNeutralize(t *testing.T) {
	for in, want := range map[string]string{
		"=1+1": "'=1+1", "+33": "'+33", "-2+3+cmd|' /C calc'!A0": "'-2+3+cmd|' /C calc'!A0",
		"@SUM(A1)": "'@SUM(A1)", "\tx": "'\tx", "\rx": "'\rx", "plain": "plain", "": "", "'=x": "'=x",
	} {
		if got := Neutralize(in); got != want {
			t.Errorf("Neutralize(%q) = %q, want %q", in, got, want)
		}
	}
}

// What no scrubbed text may still hold.
var (
	leftEmail = regexp.MustCompile(`(?i)[a-z0-9._%+\-]+@[a-z0-9\-]+(\.[a-z0-9\-]+)+`)
	leftURL   = regexp.MustCompile(`(?i)[a-z][a-z0-9+.\-]*://|\bwww\.`)
)

func FuzzScrub(f *testing.F) {
	for _, seed := range []string{
		"", "maria gonzalez@x.org", "mail me: a.b@c.de.", "https://x.y/z", "htthttps://p://x", "www.x.org",
		"Maria Gonzalez www.", "a@b@c.d", "+1 (555) 010-9999", "李 小龙@例子.中国", "Kofi@", "p@://q.r",
	} {
		f.Add(seed, "Kofi Mensah", "kofi@example.org")
	}
	s := roster()
	f.Fuzz(func(t *testing.T, text, name, email string) {
		out := s.Scrub(text, Person{Name: name, Email: email})
		if utf8.ValidString(text) && !utf8.ValidString(out) {
			t.Fatalf("valid UTF-8 %q became invalid %q", text, out)
		}
		if m := leftEmail.FindString(out); m != "" {
			t.Fatalf("email %q survived in %q (from %q)", m, out, text)
		}
		if m := leftURL.FindString(out); m != "" {
			t.Fatalf("URL %q survived in %q (from %q)", m, out, text)
		}
		if email != "" && len(email) >= 3 && strings.Contains(lowerASCII(out), lowerASCII(email)) && !strings.Contains(Redacted, lowerASCII(email)) {
			t.Fatalf("own email %q survived in %q", email, out)
		}
	})
}

func FuzzNeutralize(f *testing.F) {
	for _, seed := range []string{"", "=", "+", "-", "@", "\t", "\r", "'=", "a=b", "=HYPERLINK(\"x\")"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, cell string) {
		out := Neutralize(cell)
		if out != "" && strings.ContainsRune("=+-@\t\r", rune(out[0])) {
			t.Fatalf("Neutralize(%q) = %q starts with a formula character", cell, out)
		}
		if !strings.HasSuffix(out, cell) || len(out) > len(cell)+1 {
			t.Fatalf("Neutralize(%q) = %q changed the content", cell, out)
		}
	})
}

func BenchmarkScrub(b *testing.B) {
	s := NewScrubber()
	for i := 0; i < 10000; i++ {
		s.Add("Person" + strings.Repeat("x", i%7) + " Number" + string(rune('a'+i%26)))
	}
	s.Build()
	text := strings.Repeat("Harm reduction services reached more people in 2023 than before. ", 8)
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		s.Scrub(text, Person{Name: "Kofi Mensah", Email: "kofi@example.org"})
	}
}
