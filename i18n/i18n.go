// Package i18n translates every visible string through go-i18n. Catalogues
// live in locales/ as one TOML file per area and language
// (e.g. auth.en.toml), so areas can grow their own without colliding.
package i18n

import (
	"embed"
	"fmt"
	"io/fs"
	"strings"

	"github.com/BurntSushi/toml"
	goi18n "github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"
	"golang.org/x/text/language/display"
)

//go:embed locales/*.toml
var locales embed.FS

// Default is the fallback language.
var Default = language.English

// rtl lists the right-to-left languages among those we may carry.
var rtl = map[string]bool{"ar": true, "he": true, "fa": true, "ur": true}

// Bundle holds the loaded catalogues.
type Bundle struct {
	b     *goi18n.Bundle
	langs []language.Tag
	ids   map[string]bool
	// matcher is built once: it is costly and every request needs it.
	matcher language.Matcher
}

// New loads every catalogue in locales/.
func New() (*Bundle, error) {
	b := goi18n.NewBundle(Default)
	b.RegisterUnmarshalFunc("toml", toml.Unmarshal)
	files, err := fs.Glob(locales, "locales/*.toml")
	if err != nil {
		return nil, err
	}
	ids := map[string]bool{}
	for _, f := range files {
		mf, err := b.LoadMessageFileFS(locales, f)
		if err != nil {
			return nil, fmt.Errorf("load %s: %w", f, err)
		}
		for _, m := range mf.Messages {
			if mf.Tag == Default {
				ids[m.ID] = true
			}
		}
	}
	langs := b.LanguageTags()
	return &Bundle{b: b, langs: langs, ids: ids, matcher: language.NewMatcher(langs)}, nil
}

// Has reports whether the default catalogue defines id.
func (b *Bundle) Has(id string) bool { return b.ids[id] }

// IDs returns every message ID of the default catalogue.
func (b *Bundle) IDs() map[string]bool { return b.ids }

// Languages lists the languages with a catalogue.
func (b *Bundle) Languages() []string {
	out := make([]string, len(b.langs))
	for i, t := range b.langs {
		out[i] = t.String()
	}
	return out
}

// SelfName is a language's name in that language ("العربية" for ar), as
// language pickers show it.
func SelfName(code string) string {
	tag, err := language.Parse(code)
	if err != nil {
		return code
	}
	if n := display.Self.Name(tag); n != "" {
		return n
	}
	return code
}

// Localizer translates for one reader.
type Localizer struct {
	l    *goi18n.Localizer
	lang string
}

// Localizer picks the best catalogue for prefs, in order (an explicit
// choice first, then Accept-Language values).
func (b *Bundle) Localizer(prefs ...string) *Localizer {
	l := goi18n.NewLocalizer(b.b, prefs...)
	lang := Default.String()
	matcher := b.matcher
	for _, p := range prefs {
		if p == "" {
			continue
		}
		tags, _, err := language.ParseAcceptLanguage(p)
		if err != nil || len(tags) == 0 {
			continue
		}
		tag, _, conf := matcher.Match(tags...)
		if conf != language.No {
			base, _ := tag.Base()
			lang = base.String()
			break
		}
	}
	return &Localizer{l: l, lang: lang}
}

// Lang is the chosen language's code, for <html lang>.
func (l *Localizer) Lang() string { return l.lang }

// Dir is "rtl" or "ltr", for <html dir>.
func (l *Localizer) Dir() string {
	if rtl[l.lang] {
		return "rtl"
	}
	return "ltr"
}

// T translates id with optional template data given as key, value pairs.
// A missing id comes back as itself, so a gap shows rather than breaks.
func (l *Localizer) T(id string, kv ...any) string {
	var data map[string]any
	if len(kv) > 1 {
		data = make(map[string]any, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			data[fmt.Sprint(kv[i])] = kv[i+1]
		}
	}
	cfg := &goi18n.LocalizeConfig{MessageID: id, TemplateData: data}
	if c, ok := data["Count"]; ok {
		cfg.PluralCount = c
	}
	s, err := l.l.Localize(cfg)
	if err != nil || s == "" {
		return id
	}
	return s
}

// Msg translates id when it looks like a message ID (contains a dot and no
// space), and returns plain sentences unchanged.
func (l *Localizer) Msg(s string) string {
	if strings.Contains(s, ".") && !strings.Contains(s, " ") {
		return l.T(s)
	}
	return s
}
