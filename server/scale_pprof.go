//go:build benchpprof

package main

// Built only with -tags benchpprof (bench/README.md): serves
// net/http/pprof on FOCAL_PPROF_ADDR (loopback) to profile the server
// under the load driver. Never part of a normal build.

import (
	"net/http"
	_ "net/http/pprof"
	"os"
)

func init() {
	if addr := os.Getenv("FOCAL_PPROF_ADDR"); addr != "" {
		go http.ListenAndServe(addr, nil)
	}
}
