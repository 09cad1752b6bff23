package main

import (
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestLogBufferFlushes: information lines wait in the buffer for at most
// logFlushEvery; a warning goes out at once with what came before it;
// closing flushes the rest.
func TestLogBufferFlushes(t *testing.T) {
	// First with a tick that cannot come during the test: nothing but
	// the line itself may write it.
	var held lockedBuffer
	slow := newLogBufferEvery(&held, time.Hour)
	slog.New(slog.NewTextHandler(slow, nil)).Info("request", "route", "/held")
	if s := held.String(); s != "" {
		t.Fatalf("an information line was written at once: %q", s)
	}
	if err := slow.Close(); err != nil || !strings.Contains(held.String(), "route=/held") {
		t.Fatalf("close: %v, %q", err, held.String())
	}
	var out lockedBuffer
	buf := newLogBuffer(&out)
	log := slog.New(flushingHandler{slog.NewTextHandler(buf, nil), buf}).With("app", "focal")
	log.Info("request", "route", "/a")
	deadline := time.Now().Add(20 * logFlushEvery)
	for !strings.Contains(out.String(), "route=/a") {
		if time.Now().After(deadline) {
			t.Fatalf("the information line did not come out within %v", 20*logFlushEvery)
		}
		time.Sleep(logFlushEvery / 10)
	}
	log.Info("request", "route", "/b")
	log.Warn("disk nearly full")
	if s := out.String(); !strings.Contains(s, "route=/b") || !strings.Contains(s, "disk nearly full") || !strings.Contains(s, "app=focal") ||
		strings.Index(s, "route=/b") > strings.Index(s, "disk nearly full") {
		t.Fatalf("after a warning: %q", s)
	}
	log.Info("request", "route", "/c")
	if err := buf.Close(); err != nil || !strings.Contains(out.String(), "route=/c") {
		t.Fatalf("close: %v, %q", err, out.String())
	}
	if err := buf.Close(); err != nil {
		t.Fatalf("a second close: %v", err)
	}
}
