//go:build benchpprof

package main

// Built only with -tags benchpprof (bench/README.md): /debug/sqlite on the
// pprof address (FOCAL_PPROF_ADDR) reports SQLite's own memory, which the
// Go heap profile does not see (page caches, statements, lookaside), to
// tell fixed from per-export memory.

/*
int sqlite3_status64(int op, long long *pCurrent, long long *pHighwater, int resetFlag);
*/
import "C"

import (
	"fmt"
	"net/http"
)

func init() {
	http.HandleFunc("/debug/sqlite", func(w http.ResponseWriter, r *http.Request) {
		reset := C.int(0)
		if r.URL.Query().Get("reset") != "" {
			reset = 1
		}
		for _, s := range []struct {
			name string
			op   C.int
		}{{"memory_used", 0}, {"pagecache_overflow", 2}, {"malloc_count", 9}} {
			var cur, high C.longlong
			C.sqlite3_status64(s.op, &cur, &high, reset)
			fmt.Fprintf(w, "%s %d %d\n", s.name, int64(cur), int64(high))
		}
	})
}
