// Command export times the anonymised CSV export of a consultation (the
// same code path as GET /api/v1/consultations/{id}/export) against the
// sqlite3 shell dumping the same query's rows unprocessed, and reports the
// process's peak memory. Fill the database first with bench/gen:
//
//	go run ./bench/gen -db sqlite:/tmp/focal-export.db -n 100000 -all-kinds
//	go build -o /tmp/export-bench ./bench/export
//	/tmp/export-bench -db /tmp/focal-export.db
//
// Peak memory is the process's maximum resident set (getrusage), taken
// after the export and before the baseline runs in its own process.
package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"focalpoint/export"
	"focalpoint/models"
)

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func main() {
	path := flag.String("db", "/tmp/focal-export.db", "SQLite database file filled by bench/gen")
	format := flag.String("format", "csv", "csv, ndjson or xlsx")
	out := flag.String("out", "/dev/null", "where the export and the baseline dump go")
	consultation := flag.Int64("consultation", 0, "consultation id (0: the latest)")
	baseline := flag.Bool("baseline", true, "also time sqlite3 -csv on the same query")
	repeat := flag.Int("repeat", 3, "alternating runs of the export and the baseline (medians are reported)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the export to this file")
	flag.Parse()
	if *cpuprofile != "" {
		pf, err := os.Create(*cpuprofile)
		if err != nil {
			fail(err)
		}
		pprof.StartCPUProfile(pf)
	}
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	s, err := models.Open(ctx, "sqlite:"+*path, log)
	if err != nil {
		fail(err)
	}
	defer s.Close()
	id := *consultation
	if id == 0 {
		if err := s.ReadDB(ctx).Raw("SELECT COALESCE(MAX(id), 0) FROM consultations").Scan(&id).Error; err != nil || id == 0 {
			fail(fmt.Errorf("no consultation in %s (run bench/gen first): %v", *path, err))
		}
	}
	var answers, roster int64
	s.ReadDB(ctx).Raw("SELECT COUNT(*) FROM submitted_answers").Scan(&answers)
	s.ReadDB(ctx).Raw("SELECT COUNT(*) FROM participants").Scan(&roster)

	plan, err := s.PlanExport(ctx, id, models.ExportOptions{})
	if err != nil {
		fail(err)
	}
	q, args := s.ExportQuery(plan)
	for _, a := range args {
		q = strings.Replace(q, "?", strconv.FormatInt(a.(int64), 10), 1)
	}
	fmt.Printf("export bench: consultation %d, %d submitted answer rows, %d roster names, %d columns; %d alternating runs\n",
		id, answers, roster, len(plan.Columns), *repeat)
	// Start the export's memory figure clean: return what start-up left
	// (the password hasher's dummy hash allocates ~20 MB once at init) and
	// reset the kernel's high-water mark, read back after the runs.
	debug.FreeOSMemory()
	hwmReset := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
	var exp, base, expCPU, baseCPU []float64
	var rows, bytesOut, baseBytes int64
	var peakDuring float64
	for i := 0; i < *repeat; i++ {
		f, err := os.Create(*out)
		if err != nil {
			fail(err)
		}
		cw := &countingWriter{w: f}
		c0 := cpuSelf()
		t0 := time.Now()
		rows, err = export.Stream(ctx, s, plan, *format, cw, export.Options{})
		if err != nil {
			fail(err)
		}
		exp = append(exp, time.Since(t0).Seconds())
		expCPU = append(expCPU, cpuSelf()-c0)
		f.Close()
		bytesOut = cw.n
		if i == 0 {
			pprof.StopCPUProfile()
			if hwm, ok := vmHWM(); ok && hwmReset {
				peakDuring = hwm
			}
		}
		if !*baseline {
			continue
		}
		bf, err := os.Create(*out)
		if err != nil {
			fail(err)
		}
		bcw := &countingWriter{w: bf}
		cmd := exec.Command("sqlite3", "-readonly", "-csv", *path, q)
		cmd.Stdout = bcw
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		t1 := time.Now()
		if err := cmd.Run(); err != nil {
			fail(fmt.Errorf("sqlite3: %v: %s", err, stderr.String()))
		}
		base = append(base, time.Since(t1).Seconds())
		bf.Close()
		baseBytes = bcw.n
		baseCPU = append(baseCPU, (cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()).Seconds())
		fmt.Printf("  run %d: export %.2f s (CPU %.2f s), sqlite3 %.2f s (CPU %.2f s)\n", i+1, exp[i], expCPU[i], base[i], baseCPU[i])
	}
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Printf("anonymised %s export: %d rows, %.1f MB, median %.2f s; peak RSS of the process %.1f MB, during the first export %.1f MB (Go heap from the OS %.1f MB)\n",
		*format, rows, float64(bytesOut)/1e6, median(exp), float64(ru.Maxrss)/1024, peakDuring, float64(ms.HeapSys)/1e6)
	if *baseline {
		fmt.Printf("baseline sqlite3 -csv of the same query, unprocessed: %.1f MB, median %.2f s\n",
			float64(baseBytes)/1e6, median(base))
		fmt.Printf("ratio export / baseline (medians): %.2f× wall clock, %.2f× CPU time\n", median(exp)/median(base), median(expCPU)/median(baseCPU))
	}
}

// vmHWM reads the process's peak resident set (MB) from /proc.
func vmHWM() (float64, bool) {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmHWM:" {
			kb, err := strconv.ParseFloat(f[1], 64)
			return kb / 1024, err == nil
		}
	}
	return 0, false
}

// cpuSelf is the CPU time (user + system) this process has used.
func cpuSelf() float64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

func median(v []float64) float64 {
	c := append([]float64(nil), v...)
	sort.Float64s(c)
	if len(c) == 0 {
		return 0
	}
	return c[len(c)/2]
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "export bench:", err)
	os.Exit(1)
}
