// Package anonymize removes personal data from what leaves Focal Point in
// an anonymised download: Scrubber replaces names, email addresses, phone
// numbers and URLs in free text with "[redacted]", and Neutralize keeps a
// spreadsheet from reading a cell as a formula.
package anonymize

import (
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Redacted replaces every piece of personal data found in free text.
const Redacted = "[redacted]"

// Neutralize prefixes a cell that a spreadsheet could read as a formula or
// a command (it starts with = + - @, a tab or a carriage return) with an
// apostrophe, so it is shown as text.
func Neutralize(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}

var (
	// An email address: a local part, "@", a domain with a dot.
	// Any "@" with something after it goes, with what is glued to it on
	// both sides: handles and obfuscated addresses too.
	emailRe = regexp.MustCompile(`[^\s@()<>\[\]"',;:]*@[^\s@()<>\[\]"',;:]+`)
	// A URL with a scheme ("https://", "ftp://") or starting with "www.".
	urlRe = regexp.MustCompile(`(?i)[a-z][a-z0-9+.\-]*://\S*|://\S*|\bwww\.\S*`)
	// A bare domain name ("example.org/path"), with a common generic or
	// any two-letter country top-level domain.
	domainRe = regexp.MustCompile(`(?i)\b(?:[a-z0-9](?:[a-z0-9\-]*[a-z0-9])?\.)+(?:com|org|net|int|edu|gov|info|biz|mil|app|dev|io|[a-z]{2})\b(?:/\S*)?`)
	// A phone number: 7 to 15 digits, with optional +, spaces, dots,
	// dashes and brackets between them.
	phoneRe = regexp.MustCompile(`\+?\(?\d[\d\s().\-/]{5,}\d`)
	// A span of years ("2019-2023") is not a phone number.
	yearsRe = regexp.MustCompile(`^(?:19|20)\d\d\s*[\-/]\s*(?:19|20)\d\d$`)
)

// Scrubber replaces personal data in free text. Build it once per export
// with every roster name (NewScrubber/Add), then call Scrub for each text;
// it is safe for concurrent use once built.
//
// Names are matched as sequences of words, case-insensitively, through a
// set of 64-bit hashes of the normalised word sequences: memory is a few
// bytes a name and each word of a text costs one bit test, however long
// the roster (a regular expression alternation of thousands of names would
// be far slower).
type Scrubber struct {
	names    []uint64 // sorted hashes of whole names (word sequences)
	firsts   []uint64 // first-word hashes, only until Build
	bloom    []uint64 // bitset over first-word hashes: a fast "no"
	maxWords int
}

// maxNameWords bounds how many words of a name are matched.
const maxNameWords = 8

// NewScrubber returns an empty scrubber; Add names, then Build. sizeHint
// (the number of names to come, or 0) spares regrowing.
func NewScrubber(sizeHint ...int) *Scrubber {
	s := &Scrubber{}
	if len(sizeHint) > 0 && sizeHint[0] > 0 {
		// Sized up front: first words go straight into the bitset.
		s.names = make([]uint64, 0, min(sizeHint[0], 1<<16))
		s.bloom = make([]uint64, bloomWords(sizeHint[0]))
	}
	return s
}

// Add registers a person's name (any script with spaces between words).
// A name of a single short word (fewer than 3 letters) is ignored: it
// would redact ordinary words.
func (s *Scrubber) Add(name string) {
	ws := words(name, nil)
	if len(ws) == 0 {
		return
	}
	if len(ws) > maxNameWords {
		ws = ws[:maxNameWords]
	}
	if len(ws) == 1 && utf8.RuneCountInString(name[ws[0].start:ws[0].end]) < 3 {
		return
	}
	h := hashSeed
	for i, w := range ws {
		if i > 0 {
			h = mix(h, ' ')
		}
		h = hashWord(h, name[w.start:w.end])
	}
	if len(s.names) == cap(s.names) && len(s.names) >= 1024 {
		// Rosters repeat names: drop duplicates before growing, so memory
		// follows the distinct names, not the roster's length.
		// (append grows the slice only if that freed too little.)
		slices.Sort(s.names)
		s.names = slices.Compact(s.names)
	}
	s.names = append(s.names, h)
	first := hashWord(hashSeed, name[ws[0].start:ws[0].end])
	if s.bloom != nil {
		s.setBloom(first)
	} else {
		s.firsts = append(s.firsts, first)
	}
	s.maxWords = max(s.maxWords, len(ws))
}

// Build sorts the name sets; call it after the last Add.
func (s *Scrubber) Build() *Scrubber {
	slices.Sort(s.names)
	s.names = slices.Compact(s.names)
	if s.bloom == nil {
		s.bloom = make([]uint64, bloomWords(len(s.firsts)))
		for _, h := range s.firsts {
			s.setBloom(h)
		}
	}
	// Only the bitset is kept: a false "maybe" costs a few lookups in names.
	s.firsts = nil
	return s
}

// Names reports how many distinct names are registered.
func (s *Scrubber) Names() int { return len(s.names) }

// Person is the respondent whose text is scrubbed: their own name's words
// are redacted one by one too, and their own email address wherever it is.
type Person struct {
	Name  string
	Email string
}

// Scrub returns text with every registered name, the person's own name
// (and each word of it), the person's email, and any email address, URL or
// phone number replaced by "[redacted]".
func (s *Scrubber) Scrub(text string, own Person) string {
	if text == "" {
		return text
	}
	if own.Email != "" && len(own.Email) >= 3 {
		text = replaceFold(text, own.Email)
	}
	text = scrubPatterns(text)
	text = s.scrubNames(text, own)
	// Redacting a name may join what is around it into something that
	// looks like an address again: run the patterns once more.
	return scrubPatterns(text)
}

// scrubPatterns replaces emails, URLs, domains and phone numbers until none
// is left. Each pass removes at least one "@", "://", "." or digit and
// "[redacted]" has none, so the loop ends.
func scrubPatterns(text string) string {
	for {
		out := text
		if strings.IndexByte(out, '@') >= 0 {
			out = emailRe.ReplaceAllLiteralString(out, Redacted)
		}
		if strings.Contains(out, "://") || hasWWW(out) {
			out = urlRe.ReplaceAllLiteralString(out, Redacted)
		}
		if hasDomainDot(out) {
			out = domainRe.ReplaceAllLiteralString(out, Redacted)
		}
		if hasPhoneRun(out) {
			out = phoneRe.ReplaceAllStringFunc(out, func(m string) string {
				d := countDigits(m)
				if d < 7 || d > 15 || yearsRe.MatchString(m) {
					return m
				}
				return Redacted
			})
		}
		if out == text {
			return out
		}
		text = out
	}
}

// hasPhoneRun reports whether s has 7 digits with only phone separators
// between them, so the phone pattern runs only where it may match.
func hasPhoneRun(s string) bool {
	n := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9':
			if n++; n >= 7 {
				return true
			}
		case c == ' ' || c == '(' || c == ')' || c == '.' || c == '-' || c == '/' || c == '+' || c == '\t':
		default:
			n = 0
		}
	}
	return false
}

func countDigits(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			n++
		}
	}
	return n
}

// hasWWW reports whether s contains "www." in any case.
func hasWWW(s string) bool {
	for i := 0; i+4 <= len(s); i++ {
		if s[i]|0x20 == 'w' && s[i+1]|0x20 == 'w' && s[i+2]|0x20 == 'w' && s[i+3] == '.' {
			return true
		}
	}
	return false
}

// hasDomainDot reports whether s has a dot between a letter or digit and a
// letter, as every domain name has (prose puts a space after its dots), so
// the domain pattern runs only on the few texts that may hold one.
func hasDomainDot(s string) bool {
	for i := 1; i+1 < len(s); i++ {
		if s[i] == '.' && isAlnum(s[i-1]) && isAlnum(s[i+1]) && s[i+1] > '9' {
			return true
		}
	}
	return false
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c|0x20 >= 'a' && c|0x20 <= 'z'
}

// replaceFold replaces every case-insensitive occurrence of old (ASCII
// folding is enough for email addresses) with Redacted.
func replaceFold(text, old string) string {
	if indexFold(text, old) < 0 {
		return text
	}
	lt, lo := lowerASCII(text), lowerASCII(old)
	var b strings.Builder
	i := 0
	for {
		j := strings.Index(lt[i:], lo)
		if j < 0 {
			break
		}
		b.WriteString(text[i : i+j])
		b.WriteString(Redacted)
		i += j + len(lo)
	}
	b.WriteString(text[i:])
	return b.String()
}

// indexFold finds sub in s ignoring ASCII case, without allocating.
func indexFold(s, sub string) int {
	if len(sub) == 0 {
		return 0
	}
	c0 := sub[0] | 0x20
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i]|0x20 != c0 {
			continue
		}
		j := 1
		for ; j < len(sub); j++ {
			a, b := s[i+j], sub[j]
			if a != b && !(a|0x20 == b|0x20 && a|0x20 >= 'a' && a|0x20 <= 'z') {
				break
			}
		}
		if j == len(sub) {
			return i
		}
	}
	return -1
}

func lowerASCII(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}

type span struct{ start, end int }

// words appends the byte spans of the words of s: runs of letters, marks
// and digits.
func words(s string, out []span) []span {
	start := -1
	for i, r := range s {
		if r < utf8.RuneSelf {
			if isAlnum(byte(r)) {
				if start < 0 {
					start = i
				}
				continue
			}
		} else if unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r) {
			if start < 0 {
				start = i
			}
			continue
		}
		if start >= 0 {
			out = append(out, span{start, i})
			start = -1
		}
	}
	if start >= 0 {
		out = append(out, span{start, len(s)})
	}
	return out
}

const hashSeed uint64 = 14695981039346656037

func mix(h uint64, r rune) uint64 {
	h ^= uint64(r)
	h *= 1099511628211
	return h
}

// hashWord folds the case of each rune of w into h (FNV-1a over runes).
func hashWord(h uint64, w string) uint64 {
	for _, r := range w {
		h = mix(h, unicode.ToLower(r))
	}
	return h
}

// bloomWords sizes the first-word bitset: about 8 bits a name (a power of
// two), so a word that starts no name is turned away at once ~9 times in 10.
func bloomWords(names int) int {
	n := 1024
	for n < names*8 {
		n *= 2
	}
	return n / 64
}

func (s *Scrubber) setBloom(h uint64) {
	b := h & uint64(len(s.bloom)*64-1)
	s.bloom[b/64] |= 1 << (b % 64)
}

func (s *Scrubber) maybeFirst(h uint64) bool {
	if len(s.bloom) == 0 {
		return false
	}
	b := h & uint64(len(s.bloom)*64-1)
	return s.bloom[b/64]&(1<<(b%64)) != 0
}

func (s *Scrubber) scrubNames(text string, own Person) string {
	var ownWords map[uint64]bool
	var ownFull, ownFirst uint64
	ownN := 0
	if own.Name != "" {
		ws := words(own.Name, nil)
		ownWords = make(map[uint64]bool, len(ws))
		h := hashSeed
		for i, w := range ws {
			word := own.Name[w.start:w.end]
			if utf8.RuneCountInString(word) >= 2 {
				ownWords[hashWord(hashSeed, word)] = true
			}
			if i == 0 {
				ownFirst = hashWord(hashSeed, word)
			} else {
				h = mix(h, ' ')
			}
			h = hashWord(h, word)
		}
		ownFull, ownN = h, min(len(ws), 64)
	}
	if len(s.names) == 0 && len(ownWords) == 0 {
		return text
	}
	var buf [64]span
	ws := words(text, buf[:0])
	var cut []span
	for i := 0; i < len(ws); {
		first := hashWord(hashSeed, text[ws[i].start:ws[i].end])
		best := 0
		if s.maybeFirst(first) || (ownN > 0 && first == ownFirst) {
			h := first
			for n := 1; n <= max(s.maxWords, ownN) && i+n <= len(ws); n++ {
				if n > 1 {
					h = hashWord(mix(h, ' '), text[ws[i+n-1].start:ws[i+n-1].end])
				}
				if _, ok := slices.BinarySearch(s.names, h); ok || (n == ownN && h == ownFull) {
					best = n
				}
			}
		}
		if best == 0 && ownWords[first] {
			best = 1
		}
		if best > 0 {
			cut = append(cut, span{ws[i].start, ws[i+best-1].end})
			i += best
			continue
		}
		i++
	}
	if len(cut) == 0 {
		return text
	}
	var b strings.Builder
	b.Grow(len(text))
	prev := 0
	for _, c := range cut {
		b.WriteString(text[prev:c.start])
		b.WriteString(Redacted)
		prev = c.end
	}
	b.WriteString(text[prev:])
	return b.String()
}
