package main

import (
	"math"
	"runtime/debug"
	"testing"

	"focalpoint/handlers"
)

// serve bounds the Go heap during exports by default (issue 8: the whole
// server under 100 MB during an export), not at other times, and leaves
// an operator's GOMEMLIMIT alone.
func TestServeMemoryLimit(t *testing.T) {
	old := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(old) })

	oldGC := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(oldGC) })
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	debug.SetMemoryLimit(math.MaxInt64)
	if got := setMemoryLimit(nil); got != DefaultMemoryLimit || handlers.ExportMemoryLimit != DefaultMemoryLimit {
		t.Errorf("export limit %d without GOMEMLIMIT, want %d", got, DefaultMemoryLimit)
	}
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Errorf("runtime limit %d outside exports, want none", got)
	}
	if got := debug.SetGCPercent(100); got != DefaultGCPercent {
		t.Errorf("GOGC %d without GOGC set, want %d", got, DefaultGCPercent)
	}
	// An operator's GOGC is left alone.
	t.Setenv("GOGC", "50")
	debug.SetGCPercent(50)
	setMemoryLimit(nil)
	if got := debug.SetGCPercent(100); got != 50 {
		t.Errorf("GOGC %d with GOGC=50 given, want 50", got)
	}
	if DefaultMemoryLimit > 48<<20 {
		t.Errorf("DefaultMemoryLimit = %d MiB: the export's memory budget (docs/BENCHMARKS.md) leaves the Go heap 48 MiB at most", DefaultMemoryLimit>>20)
	}

	// The runtime reads GOMEMLIMIT itself at start; serve must not undo it.
	t.Setenv("GOMEMLIMIT", "off")
	debug.SetMemoryLimit(math.MaxInt64)
	if got := setMemoryLimit(nil); got != 0 || debug.SetMemoryLimit(-1) != math.MaxInt64 {
		t.Errorf("export limit %d with GOMEMLIMIT=off, want none", got)
	}
	handlers.ExportMemoryLimit = 0
}
