package handlers

import (
	"encoding/json"
	"html/template"
	"regexp"
	"strings"
	"testing"

	"focalpoint/i18n"
	"focalpoint/models"
)

var (
	betweenTags = regexp.MustCompile(`>\s+<`)
	spaces      = regexp.MustCompile(`\s+`)
)

// normalizeSpace makes two renderings that differ only in layout
// whitespace compare equal.
func normalizeSpace(s string) string {
	return strings.TrimSpace(betweenTags.ReplaceAllString(spaces.ReplaceAllString(s, " "), "><"))
}

func choicesJSON(t *testing.T, cs ...models.Choice) string {
	b, err := json.Marshal(cs)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestQuestionHTMLMatchesTemplate renders every kind of question, with
// and without help, error, answers and preview, in English and Arabic,
// with values that need escaping, both through the Go builder and
// through the template partial it replaced: the markup must be the same.
func TestQuestionHTMLMatchesTemplate(t *testing.T) {
	b, err := i18n.New()
	if err != nil {
		t.Fatal(err)
	}
	tpl := template.Must(template.ParseFiles("testdata/respond_question.tmpl"))
	nasty := `<script>alert("x")</script> & 'quoted' + a+b ` + "\x00 تقليل الضرر \u202e"
	f := func(x float64) *float64 { return &x }
	opts := choicesJSON(t, models.Choice{Value: "a&b", Label: "A <b>&</b> B"}, models.Choice{Value: `"q"`, Label: nasty}, models.Choice{Value: "c+d", Label: "C"})
	rows := choicesJSON(t, models.Choice{Value: "r<1>", Label: "Row " + nasty}, models.Choice{Value: "r2", Label: "Row 2"})
	questions := []models.Question{
		{ID: 11, Kind: models.QLongText, Prompt: nasty, Help: "Help " + nasty, Required: true},
		{ID: 12, Kind: models.QShortText, Prompt: "Short"},
		{ID: 13, Kind: models.QNumber, Prompt: "How many?", Help: "A number", MinValue: f(0), MaxValue: f(10)},
		{ID: 14, Kind: models.QCountry, Prompt: "Country", Required: true},
		{ID: 15, Kind: models.QSingleChoice, Prompt: "One", Options: opts, Help: "h"},
		{ID: 16, Kind: models.QMultiChoice, Prompt: "Many", Options: opts},
		{ID: 17, Kind: models.QYesNo, Prompt: "Yes or no", Required: true},
		{ID: 18, Kind: models.QScale, Prompt: "Scale", MinValue: f(1), MaxValue: f(5)},
		{ID: 19, Kind: models.QMatrixYesNo, Prompt: "Matrix", RowsJSON: rows, Help: nasty},
	}
	answers := map[string]string{
		models.QLongText: `"` + strings.ReplaceAll(nasty, "\x00", "") + `\nsecond line"`, models.QShortText: `"short <i>"`, models.QNumber: `7.5`,
		models.QCountry: `"KE"`, models.QSingleChoice: `"\"q\""`, models.QMultiChoice: `["a&b","c+d"]`, models.QYesNo: `"no"`,
		models.QScale: `3`, models.QMatrixYesNo: `{"r<1>":"yes","r2":"no"}`,
	}
	h := &Handler{}
	n := 0
	for _, lang := range []string{"en", "ar"} {
		l := b.Localizer(lang)
		for i := range questions {
			q := &questions[i]
			for _, raw := range []string{"", answers[q.Kind]} {
				for _, errMsg := range []string{"", "Answer this <question>"} {
					for _, preview := range []bool{false, true} {
						v := h.questionView(l, q, i+1, raw, errMsg)
						v.Preview = preview
						var want strings.Builder
						if err := tpl.ExecuteTemplate(&want, "respond-question", v); err != nil {
							t.Fatal(err)
						}
						got := string(v.HTML())
						if normalizeSpace(got) != normalizeSpace(want.String()) {
							t.Fatalf("%s %s answer=%q error=%q preview=%v:\n got: %s\nwant: %s", lang, q.Kind, raw, errMsg, preview,
								normalizeSpace(got), normalizeSpace(want.String()))
						}
						n++
					}
				}
			}
		}
	}
	// The list form is the same markup, one question after the other.
	l := b.Localizer("en")
	views := []QuestionView{h.questionView(l, &questions[0], 1, answers[models.QLongText], ""), h.questionView(l, &questions[8], 2, "", "")}
	if got := string(questionsHTML(views)); got != string(views[0].HTML())+string(views[1].HTML()) {
		t.Fatal("questionsHTML differs from the questions' HTML in turn")
	}
	if got := string(views[0].HTML()); strings.Contains(got, "<script>") || !strings.Contains(got, "&lt;script&gt;") {
		t.Fatalf("the answer is not escaped: %s", got)
	}
	t.Logf("%d renderings compared", n)
}
