package models

import (
	"encoding/json"
	"math/rand/v2"
	"testing"
)

// TestDecodeTextAnswerAsTheJSONDecoderDoes: the fast path for stored text
// answers returns exactly what encoding/json returns, for every string
// json.Marshal can store and for damaged ones.
func TestDecodeTextAnswerAsTheJSONDecoderDoes(t *testing.T) {
	q := &Question{Kind: QLongText}
	raws := []string{`""`, `"plain"`, `"a\"b"`, `"a\\b"`, `"\u00e9t\u00e9"`, `"line\nbreak"`, "\"tab\there\"",
		`"a"b"`, `"unterminated`, `x"`, `"`, `"\/"`, "\"\xff\xfe\"", `"مرحبا ‏שלום"`, `"中文🙂"`, `"<script>&amp;"`}
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []rune("aé中🙂\"\\/\n\t\x00\u2028\u200f<&>' ")
	for range 2000 {
		n := r.IntN(12)
		rs := make([]rune, n)
		for i := range rs {
			rs[i] = alphabet[r.IntN(len(alphabet))]
		}
		b, _ := json.Marshal(string(rs))
		raws = append(raws, string(b))
	}
	for _, raw := range raws {
		var want any
		var s string
		if json.Unmarshal([]byte(raw), &s) == nil {
			want = s
		}
		if got := DecodeAnswer(q, raw); got != want {
			t.Fatalf("DecodeAnswer(%q) = %#v, the JSON decoder gives %#v", raw, got, want)
		}
	}
	if _, ok := plainJSONString(`"fast"`); !ok {
		t.Fatal("a plain string did not take the fast path")
	}
}
