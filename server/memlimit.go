package main

import (
	"log/slog"
	"os"
	"runtime/debug"
)

// DefaultMemoryLimit is the Go runtime's soft memory limit that `serve`
// sets when GOMEMLIMIT is not given (README, "Configuration"). Without
// it the collector lets the heap grow to twice what was live at the last
// collection, so one login (argon2 holds 19 MiB while it hashes) raised
// the heap goal to ~67 MB, and a long export's garbage filled it: 142 MB
// peak RSS for the whole server in the 1 M export (docs/BENCHMARKS.md).
// About 15 MiB of it is live at rest (templates, catalogues); the limit
// only makes the collector run sooner near it, never fails an allocation.
const DefaultMemoryLimit = 40 << 20

// setMemoryLimit applies DefaultMemoryLimit unless the operator set
// GOMEMLIMIT (which the runtime has already read, "off" included), and
// returns the limit in force.
func setMemoryLimit(log *slog.Logger) int64 {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(DefaultMemoryLimit)
	}
	limit := debug.SetMemoryLimit(-1)
	if log != nil {
		log.Debug("Go memory limit", "bytes", limit)
	}
	return limit
}
