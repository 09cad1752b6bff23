package main

import (
	"io"
	"net/http"
	"testing"
)

// TestPagesGoOutWhole: a rendered page carries its Content-Length and is
// not chunked (the staff login page, and a respondent's questions page
// with saved answers, larger than net/http's buffers).
func TestPagesGoOutWhole(t *testing.T) {
	br := respondentWithSavedAnswers(t)
	for _, path := range []string{"/login", "/respond/questions"} {
		resp, err := br.client.Get(br.ta.Srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", path, resp.StatusCode)
		}
		if len(resp.TransferEncoding) > 0 || resp.ContentLength != int64(len(body)) {
			t.Fatalf("%s: Content-Length %d, transfer encoding %v, for a body of %d bytes", path, resp.ContentLength, resp.TransferEncoding, len(body))
		}
		if path == "/respond/questions" && len(body) < 8<<10 {
			t.Fatalf("the questions page has %d bytes: too small to tell", len(body))
		}
	}
}
