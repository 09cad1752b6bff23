package main

import (
	"log/slog"
	"os"
	"runtime/debug"

	"focalpoint/handlers"
)

// DefaultMemoryLimit is the Go runtime's soft memory limit that `serve`
// applies while an export streams, when GOMEMLIMIT is not given (README,
// "Configuration"; handlers.ExportMemoryLimit). Without it the collector
// lets the heap grow to twice what was live at the last collection, so
// one login (argon2 holds 19 MiB while it hashes) raised the heap goal to
// ~67 MB, and a long export's garbage filled it: 142 MB peak RSS for the
// whole server in the 1 M export (docs/BENCHMARKS.md). About 15 MiB of it
// is live at rest (templates, catalogues); the limit only makes the
// collector run sooner near it, never fails an allocation. Outside
// exports the runtime's default pacing applies: under respondent load a
// limit this tight doubled the collector's share of the CPU.
const DefaultMemoryLimit = 40 << 20

// DefaultGCPercent is the collector's pacing (GOGC) that `serve` sets when
// GOGC is not given.
const DefaultGCPercent = 200

// setMemoryLimit arranges DefaultMemoryLimit for exports unless the
// operator set GOMEMLIMIT (which the runtime has already read, "off"
// included, and which then holds all the time), and returns the export
// limit in force (0: none of ours).
func setMemoryLimit(log *slog.Logger) int64 {
	if os.Getenv("GOGC") == "" {
		// The live heap at rest is small (~15 MiB), so the default pacing
		// (GOGC=100) collected every ~15 MiB of garbage under respondent
		// load: 10 % of the server's CPU. Twice the room halves that.
		debug.SetGCPercent(DefaultGCPercent)
	}
	handlers.ExportMemoryLimit = 0
	if os.Getenv("GOMEMLIMIT") == "" {
		handlers.ExportMemoryLimit = DefaultMemoryLimit
	}
	if log != nil {
		log.Debug("Go memory limit during exports", "bytes", handlers.ExportMemoryLimit)
	}
	return handlers.ExportMemoryLimit
}
