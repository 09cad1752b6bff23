// Command gen fills a database with a synthetic consultation through the
// store's bulk path (not HTTP) and can write personal link tokens for the
// load driver. Example:
//
//	go run ./bench/gen -db sqlite:/tmp/focal-bench.db -n 100000 -fresh 20000 -tokens /tmp/tokens.txt
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"runtime/pprof"
	"sort"
	"time"

	"focalpoint/bench"
	"focalpoint/models"
)

func main() {
	db := flag.String("db", "sqlite:data/bench.db", "database URL (sqlite:PATH or postgres://...)")
	n := flag.Int("n", 100000, "respondents with submitted answers")
	fresh := flag.Int("fresh", 0, "further invitations not opened yet (for the load driver)")
	all := flag.Bool("all-kinds", false, "one question of every kind (9) instead of the benchmark's 5")
	seed := flag.Uint64("seed", uint64(time.Now().UnixNano()), "seed of the data and tokens")
	chunk := flag.Int("chunk", 5000, "respondents per transaction")
	keep := flag.Bool("keep-indexes", false, "maintain every index during the load instead of rebuilding them after")
	tokens := flag.String("tokens", "", "write the fresh invitations' link tokens to this file")
	answered := flag.String("answered-tokens", "", "write link tokens of respondents who submitted to this file")
	answeredN := flag.Int("answered-n", 2000, "how many tokens -answered-tokens writes")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile to this file")
	durable := flag.Bool("durable", false, "keep synchronous=FULL during the load (default: OFF while loading, durable at the end)")
	deferAll := flag.Bool("defer-all-indexes", false, "rebuild every secondary index after a large load (default: keep those filled in key order)")
	recount := flag.Bool("recount", false, "rebuild the tallies with RecountTallies after the load instead of counting them while generating")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fail(err)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	s, err := models.Open(ctx, *db, log)
	if err != nil {
		fail(err)
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		fail(err)
	}
	res, err := bench.Generate(ctx, s, bench.GenConfig{Respondents: *n, Fresh: *fresh, AllKinds: *all, Seed: *seed, Chunk: *chunk, Progress: os.Stderr, KeepIndexes: *keep,
		Durable: *durable, Recount: *recount, KeepAppendIndexes: keepIdx(*deferAll)})
	if err != nil {
		fail(err)
	}
	var total int64
	names := make([]string, 0, len(res.Rows))
	for t, c := range res.Rows {
		names = append(names, t)
		total += c
	}
	sort.Strings(names)
	fmt.Printf("generator: %d respondents (+%d fresh invitations), consultation %d, round %d, %d rows in %.1f s (%.0f respondents/s, %.0f rows/s)\n",
		*n, *fresh, res.ConsultationID, res.RoundID, total, res.Elapsed.Seconds(), float64(*n+*fresh)/res.Elapsed.Seconds(), float64(total)/res.Elapsed.Seconds())
	fmt.Printf("  (index rebuild %.1f s, full-text index %.1f s, tallies %.1f s)\n", res.Reindex.Seconds(), res.Search.Seconds(), res.Recount.Seconds())
	for _, t := range names {
		fmt.Printf("  %-18s %d\n", t, res.Rows[t])
	}
	if *tokens != "" {
		if err := writeLines(*tokens, res.FreshTokens(*fresh)); err != nil {
			fail(err)
		}
	}
	if *answered != "" {
		if err := writeLines(*answered, res.AnsweredTokens(*answeredN)); err != nil {
			fail(err)
		}
	}
}

func keepIdx(all bool) []string {
	if all {
		return []string{}
	}
	return nil
}

func writeLines(path string, lines []string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for _, l := range lines {
		w.WriteString(l)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}

func fail(err error) {
	pprof.StopCPUProfile()
	fmt.Fprintln(os.Stderr, "gen:", err)
	os.Exit(1)
}
