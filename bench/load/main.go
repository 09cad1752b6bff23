// Command load plays many respondents at once over HTTP against a running
// Focal Point (loopback only) and reports rate, p50, p99 and errors.
// Example:
//
//	go run ./bench/load -base http://127.0.0.1:8080 -tokens /tmp/tokens.txt -flow save-submit -c 64 -d 20s
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"focalpoint/bench"
)

func main() {
	base := flag.String("base", "http://127.0.0.1:8080", "the server (loopback only)")
	tokens := flag.String("tokens", "", "file of personal link tokens, one a line (from bench/gen)")
	flow := flag.String("flow", "save-submit", "save-submit, journey, page (GET /r/{token}) or get (-path)")
	path := flag.String("path", "/", "page of the get flow")
	c := flag.Int("c", 64, "concurrent respondents")
	d := flag.Duration("d", 20*time.Second, "bound on the timed phase")
	max := flag.Int("max", 0, "bound on the units of the timed phase (0: none)")
	asJSON := flag.Bool("json", false, "print the report as JSON")
	flag.Parse()
	var toks []string
	if *tokens != "" {
		f, err := os.Open(*tokens)
		if err != nil {
			fail(err)
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if t := strings.TrimSpace(sc.Text()); t != "" {
				toks = append(toks, t)
			}
		}
		f.Close()
	}
	rep, err := bench.RunLoad(context.Background(), bench.LoadConfig{BaseURL: *base, Tokens: toks, Flow: *flow, Path: *path,
		Concurrency: *c, Duration: *d, Max: *max, Seed: uint64(time.Now().UnixNano())})
	if err != nil {
		fail(err)
	}
	if *asJSON {
		json.NewEncoder(os.Stdout).Encode(rep)
		return
	}
	fmt.Print(rep)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "load:", err)
	os.Exit(1)
}
