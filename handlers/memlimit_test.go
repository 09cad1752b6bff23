package handlers

import (
	"math"
	"runtime"
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

// TestTightenMemoryLeavesRoomAboveLive: a server that holds more than the
// export limit allows for (a full response memo, say) gets a limit above
// what it holds, with the usual room for garbage, so its collector does
// not run without end; at rest the limit is ExportMemoryLimit itself.
func TestTightenMemoryLeavesRoomAboveLive(t *testing.T) {
	old := debug.SetMemoryLimit(math.MaxInt64)
	t.Cleanup(func() { debug.SetMemoryLimit(old); ExportMemoryLimit = 0 })
	ExportMemoryLimit = 40 << 20
	release := tightenMemory()
	if got := debug.SetMemoryLimit(-1); got != 40<<20 {
		t.Fatalf("limit %d at rest, want 40 MiB", got)
	}
	release()
	held := make([][]byte, 48)
	for i := range held {
		held[i] = make([]byte, 1<<20)
		held[i][0] = 1
	}
	release = tightenMemory()
	if got := debug.SetMemoryLimit(-1); got < 48<<20+ExportMemoryHeadroom {
		t.Fatalf("limit %d MiB with 48 MiB live, want at least %d MiB", got>>20, (48<<20+ExportMemoryHeadroom)>>20)
	}
	release()
	runtime.KeepAlive(held)
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Fatalf("limit %d after the export, want the previous one back", got)
	}
}
