// Command baseline measures the bare baselines the figures of
// docs/BENCHMARKS.md are ratios to:
//
//	baseline insert -db /tmp/bare.db -n 20000 -d 10s   bare SQLite, one transaction per submission
//	baseline page -addr 127.0.0.1:8091 -bytes 9000      bare Echo + html/template page (serves until killed)
//	baseline aggregate -db /tmp/bench.db -round 1       the synthesis GROUP BY straight in SQLite
//	baseline dump -db /tmp/bench.db -out /tmp/dump.csv  sqlite3 -csv dump of the answers
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"time"

	"focalpoint/bench"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: baseline insert|page|aggregate|dump [flags]")
		os.Exit(2)
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	db := fs.String("db", "", "SQLite file")
	n := fs.Int("n", 20000, "insert: submissions")
	d := fs.Duration("d", 10*time.Second, "insert: time bound")
	addr := fs.String("addr", "127.0.0.1:0", "page: listen address (loopback)")
	size := fs.Int("bytes", 9000, "page: page size in bytes")
	round := fs.Int64("round", 1, "aggregate: round id")
	out := fs.String("out", os.DevNull, "dump: CSV file")
	fs.Parse(os.Args[2:])
	ctx := context.Background()
	var err error
	switch os.Args[1] {
	case "insert":
		var r bench.InsertResult
		if r, err = bench.InsertBaseline(ctx, *db, *n, *d); err == nil {
			fmt.Println(r)
		}
	case "page":
		var url string
		var stop func()
		if url, stop, err = bench.PageBaseline(*addr, *size); err == nil {
			fmt.Println("bare page at", url+"/")
			sig := make(chan os.Signal, 1)
			signal.Notify(sig, os.Interrupt)
			<-sig
			stop()
		}
	case "aggregate":
		var r bench.AggregateResult
		if r, err = bench.AggregateBaseline(ctx, *db, *round); err == nil {
			fmt.Println(r)
		}
	case "dump":
		var r bench.DumpResult
		if r, err = bench.DumpBaseline(ctx, *db, *out); err == nil {
			fmt.Println(r)
		}
	default:
		err = fmt.Errorf("unknown baseline %q", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "baseline:", err)
		os.Exit(1)
	}
}
