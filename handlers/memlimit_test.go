package handlers

import (
	"math"
	"runtime/debug"
	"testing"
)

// TestTightenMemory: the export limit holds while any export runs and the
// previous limit comes back after the last; without a limit set, nothing
// changes.
func TestTightenMemory(t *testing.T) {
	old := debug.SetMemoryLimit(math.MaxInt64)
	t.Cleanup(func() { debug.SetMemoryLimit(old); ExportMemoryLimit = 0 })

	ExportMemoryLimit = 0
	tightenMemory()()
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Fatalf("limit %d with no export limit configured", got)
	}
	ExportMemoryLimit = 40 << 20
	a := tightenMemory()
	b := tightenMemory()
	if got := debug.SetMemoryLimit(-1); got != 40<<20 {
		t.Fatalf("limit %d during exports, want 40 MiB", got)
	}
	a()
	a() // a second call changes nothing
	if got := debug.SetMemoryLimit(-1); got != 40<<20 {
		t.Fatalf("limit %d while one export still runs", got)
	}
	b()
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Fatalf("limit %d after the exports, want the previous one back", got)
	}
}
