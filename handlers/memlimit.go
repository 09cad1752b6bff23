package handlers

import (
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// ExportMemoryLimit is the Go runtime's soft memory limit while an export
// streams (serve sets it unless the operator gave GOMEMLIMIT; 0 leaves the
// runtime alone). An export produces a long stream of garbage that would
// otherwise grow the heap to twice what was live; the limit keeps the
// whole server under 100 MB during a 4.6 M-row export. It is not kept
// all the time because, under respondent load, a limit this tight makes
// the collector run about twice as often (docs/BENCHMARKS.md: CPU per
// save+submit 2.58 ms with it, 2.04 ms without).
var ExportMemoryLimit int64

// ExportMemoryHeadroom is the least room for garbage that the export
// limit leaves above what is live when the export starts: about what
// ExportMemoryLimit leaves a server at rest (~15 MiB live). A server
// holding more (the SQLite response memo under respondent load keeps up
// to 24 MB) gets a higher limit, not a collector that runs without end.
const ExportMemoryHeadroom = 25 << 20

var exportMem struct {
	sync.Mutex
	n    int
	prev int64
}

// tightenMemory applies ExportMemoryLimit until the returned func is
// called; concurrent exports share it and the previous limit comes back
// when the last one ends. The first also returns freed memory to the
// system at once, so the export starts from a small footprint.
func tightenMemory() (release func()) {
	if ExportMemoryLimit <= 0 {
		return func() {}
	}
	exportMem.Lock()
	if exportMem.n == 0 {
		exportMem.prev = debug.SetMemoryLimit(ExportMemoryLimit)
		debug.FreeOSMemory() // collects: what is left is live
		if limit := liveHeap() + ExportMemoryHeadroom; limit > ExportMemoryLimit {
			debug.SetMemoryLimit(limit)
		}
	}
	exportMem.n++
	exportMem.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			exportMem.Lock()
			defer exportMem.Unlock()
			if exportMem.n--; exportMem.n == 0 {
				debug.SetMemoryLimit(exportMem.prev)
			}
		})
	}
}

// liveHeap is the heap the last collection found live.
func liveHeap() int64 {
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(sample)
	if sample[0].Value.Kind() != metrics.KindUint64 {
		return 0
	}
	return int64(sample[0].Value.Uint64())
}
