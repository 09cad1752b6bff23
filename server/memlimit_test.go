package main

import (
	"math"
	"runtime/debug"
	"testing"
)

// serve bounds the Go heap by default (issue 8: the whole server under
// 100 MB during an export) and leaves an operator's GOMEMLIMIT alone.
func TestServeMemoryLimit(t *testing.T) {
	old := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(old) })

	t.Setenv("GOMEMLIMIT", "")
	debug.SetMemoryLimit(math.MaxInt64)
	if got := setMemoryLimit(nil); got != DefaultMemoryLimit {
		t.Errorf("limit %d without GOMEMLIMIT, want %d", got, DefaultMemoryLimit)
	}
	if DefaultMemoryLimit > 48<<20 {
		t.Errorf("DefaultMemoryLimit = %d MiB: the export's memory budget (docs/BENCHMARKS.md) leaves the Go heap 48 MiB at most", DefaultMemoryLimit>>20)
	}

	// The runtime reads GOMEMLIMIT itself at start; serve must not undo it.
	t.Setenv("GOMEMLIMIT", "off")
	debug.SetMemoryLimit(math.MaxInt64)
	if got := setMemoryLimit(nil); got != math.MaxInt64 {
		t.Errorf("limit %d with GOMEMLIMIT=off, want none", got)
	}
}
