package handlers

import (
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/gorilla/securecookie"
)

// TestSessionSerializer: values round-trip; a cookie written in the old
// gob form is still read; other value types fall back to gob; malformed
// input is an error, never a panic.
func TestSessionSerializer(t *testing.T) {
	z := sessionSerializer{}
	in := map[any]any{keyCSRF: "tok", keyRespondToken: "r\x00€ تقليل", "_flash": []any{"respond.saved", ""}, keyLang: ""}
	raw, err := z.Serialize(in)
	if err != nil {
		t.Fatal(err)
	}
	if string(raw[:len(sessionMarker)]) != sessionMarker {
		t.Fatalf("not the compact form: %q", raw)
	}
	out := map[any]any{}
	if err := z.Deserialize(raw, &out); err != nil || !reflect.DeepEqual(in, out) {
		t.Fatalf("round trip: %v %#v", err, out)
	}
	old, err := securecookie.GobEncoder{}.Serialize(in)
	if err != nil {
		t.Fatal(err)
	}
	out = map[any]any{}
	if err := z.Deserialize(old, &out); err != nil || !reflect.DeepEqual(in, out) {
		t.Fatalf("gob cookie: %v %#v", err, out)
	}
	odd := map[any]any{"n": 42}
	raw, err = z.Serialize(odd)
	if err != nil {
		t.Fatal(err)
	}
	out = map[any]any{}
	if err := z.Deserialize(raw, &out); err != nil || out["n"] != 42 {
		t.Fatalf("gob fallback: %v %#v", err, out)
	}
	good, _ := z.Serialize(map[any]any{"k": "value", "l": []any{"a", "b"}})
	for i := len(sessionMarker); i < len(good); i++ {
		out = map[any]any{}
		_ = z.Deserialize(good[:i], &out) // must not panic
	}
	for _, bad := range []string{sessionMarker + "\x01k", sessionMarker + "\x01kx\x00", sessionMarker + "\x01kl\xff\xff\xff\xff\x0f", sessionMarker + "\xff"} {
		out = map[any]any{}
		if err := z.Deserialize([]byte(bad), &out); err == nil {
			t.Fatalf("%q accepted", bad)
		}
	}
}

// TestCookieStoreUsesCompactSessions: a session saved by the store comes
// back with its values, through the real cookie (signed and encrypted).
func TestCookieStoreUsesCompactSessions(t *testing.T) {
	cs := newCookieStore("test-secret-0123456789abcdef0123456789", false)
	req := httptest.NewRequest("GET", "/", nil)
	w := httptest.NewRecorder()
	s, _ := cs.New(req, cookieName)
	s.Values[keyCSRF] = "abc"
	s.AddFlash("respond.saved")
	if err := s.Save(req, w); err != nil {
		t.Fatal(err)
	}
	req2 := httptest.NewRequest("GET", "/", nil)
	for _, c := range w.Result().Cookies() {
		req2.AddCookie(c)
	}
	s2, err := cs.Get(req2, cookieName)
	if err != nil || s2.Values[keyCSRF] != "abc" {
		t.Fatalf("read back: %v %#v", err, s2.Values)
	}
	if fl := s2.Flashes(); len(fl) != 1 || fl[0] != "respond.saved" {
		t.Fatalf("flashes: %#v", fl)
	}
	// A tampered cookie is refused.
	req3 := httptest.NewRequest("GET", "/", nil)
	req3.AddCookie(&http.Cookie{Name: cookieName, Value: w.Result().Cookies()[0].Value + "x"})
	if _, err := cs.Get(req3, cookieName); err == nil {
		t.Fatal("a tampered cookie was accepted")
	}
}
