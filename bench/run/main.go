// Command run measures every figure of docs/BENCHMARKS.md (issues 3 and
// 8) in one run, each beside its baseline, and prints them as a Markdown
// table. Run it from the repository root of a clean clone:
//
//	go run ./bench/run -n 100000
//	go run ./bench/run -n 1000000 -d 20s
//	go run ./bench/run -n 2000 -only pg -pg 'postgres://postgres@127.0.0.1:5433/focal_test?sslmode=disable'
//
// It builds the server, generates the database (bench/gen's code), starts
// the real server on loopback, drives it (bench/load's code), and runs the
// bare baselines (bench/baseline's code). Everything it starts it stops.
package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"

	"focalpoint/bench"
	"focalpoint/models"
)

var (
	flagN     = flag.Int("n", 100000, "respondents in the generated consultation")
	flagFresh = flag.Int("fresh", 4096, "fresh invitations for the save+submit load")
	flagC     = flag.Int("c", 64, "concurrent respondents")
	flagD     = flag.Duration("d", 15*time.Second, "length of each timed load phase")
	flagDir   = flag.String("dir", "", "work folder (default: a new temporary folder, removed at the end)")
	flagPG    = flag.String("pg", "", "PostgreSQL URL for the two-instance figure (skipped when empty)")
	flagOnly  = flag.String("only", "", "comma-separated subset: gen,insert,savesubmit,page,synthesis,export,pg")
	flagDB    = flag.String("db", "", "reuse this generated SQLite file (skips generation; needs -consultation and -round)")
	flagCons  = flag.Int64("consultation", 0, "consultation id in -db")
	flagRound = flag.Int64("round", 0, "round id in -db")
	flagSlice = flag.Int("slices", 5, "run each of save+submit and the page interleaved with its baseline in this many slices of -d/slices each (1: the baseline whole, then the application)")
	flagProf  = flag.Bool("profile", false, "build the server with -tags benchpprof and save a CPU profile of each timed server phase as <phase>.cpu in the work folder (give -dir to keep it)")
)

type row struct{ figure, value, baseline, ratio, target string }

var (
	rows []row
	logw io.Writer = os.Stderr
)

func add(r row) {
	rows = append(rows, r)
	fmt.Fprintf(logw, "  => %s: %s | baseline %s | ratio %s | target %s\n", r.figure, r.value, r.baseline, r.ratio, r.target)
}

func want(step string) bool {
	if *flagOnly == "" {
		return true
	}
	for _, s := range strings.Split(*flagOnly, ",") {
		if strings.TrimSpace(s) == step {
			return true
		}
	}
	return false
}

func main() {
	flag.Parse()
	ctx := context.Background()
	dir := *flagDir
	if dir == "" {
		d, err := os.MkdirTemp("", "focal-bench-")
		check(err)
		dir = d
		defer os.RemoveAll(dir)
	}
	fmt.Fprintf(logw, "work folder %s; machine: %d cores, %s\n", dir, runtime.NumCPU(), machine())
	server := filepath.Join(dir, "focal-server")
	step("build the server")
	args := []string{"build", "-o", server}
	if *flagProf {
		args = append(args, "-tags", "benchpprof")
	}
	cmd := exec.Command("go", append(args, "./server")...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	check(cmd.Run())

	dbPath := *flagDB
	cid, rid := *flagCons, *flagRound
	var fresh, answered []string
	if dbPath == "" && needsSQLite() {
		dbPath = filepath.Join(dir, "bench.db")
		step(fmt.Sprintf("generate %d respondents (+%d fresh invitations) into SQLite", *flagN, *flagFresh))
		s, err := models.Open(ctx, "sqlite:"+dbPath, quiet())
		check(err)
		check(s.Migrate(ctx))
		cpu0 := selfCPU()
		res, err := bench.Generate(ctx, s, bench.GenConfig{Respondents: *flagN, Fresh: *flagFresh, Seed: 1, Progress: logw})
		check(err)
		genCPU := selfCPU() - cpu0
		s.Close()
		cid, rid = res.ConsultationID, res.RoundID
		fresh, answered = res.FreshTokens(*flagFresh), res.AnsweredTokens(1000)
		var total int64
		for _, n := range res.Rows {
			total += n
		}
		per := res.Elapsed.Seconds() / float64(*flagN+*flagFresh)
		add(row{fmt.Sprintf("generator, %d respondents (%d rows)", *flagN, total),
			fmt.Sprintf("%.1f s (%.0f respondents/s; index rebuild %.1f s, full-text index %.1f s, tallies %.1f s; CPU %.0f s)",
				res.Elapsed.Seconds(), 1/per, res.Reindex.Seconds(), res.Search.Seconds(), res.Recount.Seconds(), genCPU.Seconds()),
			"—", "—", fmt.Sprintf("4.6 M < 15 min (linear extrapolation: %.1f min)", per*4.6e6/60)})
	} else if dbPath != "" {
		fresh, answered = tokensFor(1, *flagN, *flagFresh)
	}

	var insert bench.InsertResult
	sliced := want("savesubmit") && len(fresh) > 0 && *flagSlice > 1
	if (want("insert") || want("savesubmit")) && !sliced {
		step("bare baseline: one transaction per submission")
		var err error
		insert, err = bench.InsertBaseline(ctx, filepath.Join(dir, "bare.db"), 40000, *flagD)
		check(err)
		fmt.Fprintln(logw, "  ", insert)
		fmt.Fprintf(logw, "   bare insert CPU: %.2f ms per submission\n", ms(insert.CPU)/float64(insert.Submissions))
	}
	if want("savesubmit") && len(fresh) > 0 {
		var bare *bench.BareInsert
		between := func() {}
		var off cpuSnap // what the bare slices took, left out of the app's figures
		srv := (*proc)(nil)
		if sliced {
			step(fmt.Sprintf("bare baseline: one transaction per submission (run in %d slices, interleaved with save+submit)", *flagSlice))
			var err error
			bare, err = bench.NewBareInsert(ctx, filepath.Join(dir, "bare.db"), 40000)
			check(err)
			defer bare.Close()
			between = func() {
				a := takeCPU(srv)
				check(bare.Run(ctx, *flagD/time.Duration(*flagSlice)))
				off = off.plus(takeCPU(srv).sub(a))
			}
		}
		step(fmt.Sprintf("save+submit through HTTP, %d concurrent, full durability (WAL fsynced before each answer)", *flagC))
		srv = startServer(ctx, server, dir, "sqlite:"+dbPath)
		var cpu0 time.Duration
		var c0 cpuSnap
		rep, err := bench.RunLoad(ctx, bench.LoadConfig{BaseURL: srv.base, Tokens: fresh, Flow: "save-submit", Concurrency: *flagC, Duration: *flagD, Seed: 3,
			Slices: *flagSlice, Between: between,
			OnTimed: func() { cpu0, c0 = srv.cpu(), takeCPU(srv); srv.profile(dir, "savesubmit", 2**flagD) }})
		cpu := srv.cpu() - cpu0
		if err == nil {
			fmt.Fprintf(logw, "   %s\n", takeCPU(srv).sub(c0).sub(off).per(rep.Units))
		}
		srv.waitProfile()
		srv.stop()
		if sliced {
			between() // the last bare slice: as many as the application's
			insert = bare.Result()
			fmt.Fprintln(logw, "  ", insert)
			fmt.Fprintf(logw, "   bare insert CPU: %.2f ms per submission\n", ms(insert.CPU)/float64(max(1, insert.Submissions)))
		}
		if err != nil {
			add(row{"save+submit through HTTP", "not measured: " + err.Error(), insert.String(), "—", "≥ 1.0× (issue 8), ≥ 0.5× (issue 3)"})
		} else {
			fmt.Fprint(logw, rep)
			add(row{fmt.Sprintf("save+submit through HTTP, %d concurrent, full durability (WAL fsynced before each answer)%s", *flagC, slicedNote(sliced)),
				fmt.Sprintf("%.0f submissions/s (p50 %s, p99 %s, %d errors)", rep.Rate, msf(rep.P50), msf(rep.P99), rep.Errors),
				fmt.Sprintf("%.0f/s (p50 %s, p99 %s)", insert.Rate, msf(insert.P50), msf(insert.P99)),
				fmt.Sprintf("%.2f×", rep.Rate/insert.Rate), "≥ 1.0× (issue 8), ≥ 0.5× (issue 3)"})
			add(row{"CPU per submission (server process; bare program)", fmt.Sprintf("%.2f ms (save + submit requests)", ms(cpu)/float64(max(1, rep.Units))),
				fmt.Sprintf("%.2f ms", ms(insert.CPU)/float64(max(1, insert.Submissions))),
				fmt.Sprintf("%.1f× the CPU", (ms(cpu)/float64(max(1, rep.Units)))/(ms(insert.CPU)/float64(max(1, insert.Submissions)))), "—"})
		}
	}
	if want("page") && len(answered) > 0 {
		step("personal-link page against a bare Echo page of the same size")
		srv := startServer(ctx, server, dir, "sqlite:"+dbPath)
		size, final, err := pageOf(ctx, srv.base, answered[0])
		if err != nil {
			add(row{"personal-link page", "not measured: " + err.Error(), "—", "—", "≥ 0.8×"})
		} else {
			base, stop, err := bench.PageBaseline("127.0.0.1:0", size)
			check(err)
			slices := max(1, *flagSlice)
			// The bare page is loaded a slice at a time, between the
			// application's slices (after them all when -slices is 1).
			var bare []*bench.LoadReport
			bareSlice := func() {
				r, err := bench.RunLoad(ctx, bench.LoadConfig{BaseURL: base, Flow: "get", Path: "/", Concurrency: *flagC, Duration: *flagD / time.Duration(slices)})
				check(err)
				bare = append(bare, r)
			}
			rep, err := bench.RunLoad(ctx, bench.LoadConfig{BaseURL: srv.base, Tokens: answered, Flow: "page", Concurrency: *flagC, Duration: *flagD,
				Slices: slices, Between: bareSlice,
				OnTimed: func() { srv.profile(dir, "page", 2**flagD) }})
			check(err)
			srv.waitProfile()
			fmt.Fprint(logw, rep)
			srv.stop()
			for len(bare) < slices {
				bareSlice()
			}
			stop()
			brep := bench.MergeReports(bare...)
			fmt.Fprint(logw, brep)
			add(row{fmt.Sprintf("personal-link page (%s after GET /r/{token}, %d bytes), %d concurrent%s", final, size, *flagC, slicedNote(slices > 1)),
				fmt.Sprintf("%.0f pages/s (p50 %s, p99 %s, %d errors)", rep.Rate, msf(rep.P50), msf(rep.P99), rep.Errors),
				fmt.Sprintf("%.0f/s (p50 %s, p99 %s)", brep.Rate, msf(brep.P50), msf(brep.P99)),
				fmt.Sprintf("%.2f×", rep.Rate/brep.Rate), "≥ 0.8×"})
		}
		srv.stop()
	}
	if want("synthesis") && dbPath != "" {
		step("synthesis against the same aggregation straight in SQLite")
		agg, err := bench.AggregateBaseline(ctx, dbPath, rid)
		check(err)
		fmt.Fprintln(logw, "  ", agg)
		srv := startServer(ctx, server, dir, "sqlite:"+dbPath)
		tok, err := staffToken(srv.base)
		check(err)
		q := fmt.Sprintf("/api/v1/consultations/%d/synthesis?round=%d", cid, rid)
		plain, err1 := timeGET(srv.base, q, tok, 3)
		filtered, err2 := timeGET(srv.base, q+"&gender=female", tok, 3)
		srv.stop()
		if err1 != nil || err2 != nil {
			add(row{"synthesis", fmt.Sprintf("not measured: %v %v", err1, err2), agg.String(), "—", "< 3 s, < 5 s filtered (at 4.6 M)"})
		} else {
			add(row{fmt.Sprintf("synthesis, %d respondents, unfiltered (median of 3)", *flagN), fmt.Sprintf("%.0f ms", ms(plain)),
				fmt.Sprintf("%.0f ms", ms(agg.Plain)), fmt.Sprintf("%.3f× the time", plain.Seconds()/agg.Plain.Seconds()), "< 3 s at 4.6 M"})
			add(row{fmt.Sprintf("synthesis, %d respondents, gender=female", *flagN), fmt.Sprintf("%.0f ms", ms(filtered)),
				fmt.Sprintf("%.0f ms", ms(agg.Filtered)), fmt.Sprintf("%.3f× the time", filtered.Seconds()/agg.Filtered.Seconds()), "< 5 s at 4.6 M"})
		}
	}
	if want("export") && dbPath != "" {
		step("anonymised CSV export against sqlite3 -csv")
		dump, err := bench.DumpBaseline(ctx, dbPath, filepath.Join(dir, "dump.csv"))
		check(err)
		os.Remove(filepath.Join(dir, "dump.csv"))
		fmt.Fprintln(logw, "  ", dump)
		srv := startServer(ctx, server, dir, "sqlite:"+dbPath)
		tok, err := staffToken(srv.base)
		check(err)
		t0 := time.Now()
		n, err := download(srv.base, fmt.Sprintf("/api/v1/consultations/%d/export?format=csv&round=%d", cid, rid), tok)
		el := time.Since(t0)
		peak := srv.peakRSS()
		srv.stop()
		if err != nil {
			add(row{"anonymised CSV export", "not measured: " + err.Error(), dump.String(), "—", "≤ 2×, peak RSS < 100 MB"})
		} else {
			add(row{fmt.Sprintf("anonymised CSV export, %d respondents (%.0f MB)", *flagN, float64(n)/1e6),
				fmt.Sprintf("%.1f s, server peak RSS %d MB", el.Seconds(), peak/1024),
				fmt.Sprintf("%.1f s (%.0f MB)", dump.Elapsed.Seconds(), float64(dump.Bytes)/1e6),
				fmt.Sprintf("%.2f× the time", el.Seconds()/dump.Elapsed.Seconds()), "≤ 2×, peak RSS < 100 MB"})
		}
	}
	if want("pg") && *flagPG != "" {
		pgScaleOut(ctx, server, dir)
	}
	fmt.Printf("\nMachine: %d cores, %s, %s. Command: go run ./bench/run %s\n\n", runtime.NumCPU(), machine(), runtime.Version(), strings.Join(redactArgs(os.Args[1:]), " "))
	fmt.Println("| figure | measured | baseline (same run) | ratio | target |")
	fmt.Println("| --- | --- | --- | --- | --- |")
	for _, r := range rows {
		fmt.Printf("| %s | %s | %s | %s | %s |\n", r.figure, r.value, r.baseline, r.ratio, r.target)
	}
}

func needsSQLite() bool {
	return want("gen") || want("savesubmit") || want("page") || want("synthesis") || want("export")
}

// tokensFor recomputes the tokens of a database generated with seed.
func tokensFor(seed uint64, n, fresh int) ([]string, []string) {
	g := bench.TokensOf(seed, n, fresh)
	return g.FreshTokens(fresh), g.AnsweredTokens(1000)
}

func redactArgs(a []string) []string {
	out := append([]string(nil), a...)
	for i, s := range out {
		if strings.Contains(s, "://") {
			if u, err := url.Parse(s); err == nil && u.User != nil {
				u.User = url.User(u.User.Username())
				out[i] = u.String()
			}
		}
	}
	return out
}

func step(s string) { fmt.Fprintf(logw, "\n== %s (%s)\n", s, time.Now().UTC().Format("15:04:05")) }

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "run:", err)
		stopAll()
		os.Exit(1)
	}
}

// servers started and not yet stopped, so that a failing run (check)
// leaves no server behind.
var (
	startedMu sync.Mutex
	started   []*proc
)

func stopAll() {
	startedMu.Lock()
	ps := started
	started = nil
	startedMu.Unlock()
	for _, p := range ps {
		p.stop()
	}
}

func quiet() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// selfCPU is this process's user + system CPU time so far.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
func msf(d time.Duration) string { return fmt.Sprintf("%.1f ms", ms(d)) }

func machine() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "model name") {
			if i := strings.IndexByte(l, ':'); i > 0 {
				return strings.TrimSpace(l[i+1:])
			}
		}
	}
	return runtime.GOOS + "/" + runtime.GOARCH
}

const (
	adminEmail    = "bench-admin@example.test"
	adminPassword = "bench admin password 1234"
)

// proc is a running server.
type proc struct {
	cmd   *exec.Cmd
	base  string
	pprof string // the server's pprof address with -profile
	prof  sync.WaitGroup
	once  sync.Once
}

// profile saves a CPU profile of the server over about d (with -profile).
func (p *proc) profile(dir, name string, d time.Duration) {
	if p.pprof == "" {
		return
	}
	secs := max(1, int(d.Seconds())-1)
	p.prof.Add(1)
	go func() {
		defer p.prof.Done()
		resp, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", p.pprof, secs))
		if err != nil {
			fmt.Fprintln(logw, "   profile:", err)
			return
		}
		defer resp.Body.Close()
		out := filepath.Join(dir, name+".cpu")
		f, err := os.Create(out)
		if err != nil {
			fmt.Fprintln(logw, "   profile:", err)
			return
		}
		defer f.Close()
		if _, err := io.Copy(f, resp.Body); err == nil {
			fmt.Fprintf(logw, "   CPU profile of the server: %s (go tool pprof %s %s)\n", out, filepath.Join(dir, "focal-server"), out)
		}
	}()
}

func (p *proc) waitProfile() { p.prof.Wait() }

func freePort() int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	check(err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// startServer runs the built server on a free loopback port and waits for
// /readyz.
func startServer(ctx context.Context, bin, dir, dbURL string) *proc {
	port := freePort()
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	cmd := exec.CommandContext(ctx, bin)
	cmd.Env = append(os.Environ(), "FOCAL_ADDR=127.0.0.1:"+strconv.Itoa(port), "FOCAL_DATABASE_URL="+dbURL, "FOCAL_BASE_URL="+base,
		"FOCAL_BOOTSTRAP_ADMIN_EMAIL="+adminEmail, "FOCAL_BOOTSTRAP_ADMIN_PASSWORD="+adminPassword, "FOCAL_SECRET_KEY=bench-secret-key-0123456789abcdef0123456789")
	logf, err := os.OpenFile(filepath.Join(dir, "server.log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	check(err)
	cmd.Stdout, cmd.Stderr = logf, logf
	var pprofAddr string
	if *flagProf {
		pprofAddr = fmt.Sprintf("127.0.0.1:%d", freePort())
		cmd.Env = append(cmd.Env, "FOCAL_PPROF_ADDR="+pprofAddr)
	}
	check(cmd.Start())
	p := &proc{cmd: cmd, base: base, pprof: pprofAddr}
	startedMu.Lock()
	started = append(started, p)
	startedMu.Unlock()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := http.Get(base + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return p
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	p.stop()
	check(errors.New("the server did not become ready; see " + filepath.Join(dir, "server.log")))
	return nil
}

func (p *proc) stop() {
	p.once.Do(func() {
		p.cmd.Process.Signal(syscall.SIGTERM)
		done := make(chan struct{})
		go func() { p.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			p.cmd.Process.Kill()
			<-done
		}
	})
}

// cpu returns the CPU time (user + system) the server has used so far.
func (p *proc) cpu() time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	s := string(b)
	if i := strings.LastIndexByte(s, ')'); i >= 0 {
		s = s[i+1:]
	}
	f := strings.Fields(s)
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.Atoi(f[11])
	st, _ := strconv.Atoi(f[12])
	return time.Duration(ut+st) * 10 * time.Millisecond // USER_HZ = 100
}

// io is what the process has read and written through system calls, in
// bytes (/proc/PID/io rchar and wchar: for SQLite, the WAL, the
// checkpoints and the page reads, cached or not).
func (p *proc) io() (read, written int64) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/io", p.cmd.Process.Pid))
	if err != nil {
		return 0, 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, _ := strings.Cut(line, ": ")
		n, _ := strconv.ParseInt(v, 10, 64)
		switch k {
		case "rchar":
			read = n
		case "wchar":
			written = n
		}
	}
	return read, written
}

// peakRSS reads the server's peak resident set (VmHWM) in KB.
func (p *proc) peakRSS() int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.cmd.Process.Pid))
	if err != nil {
		return -1
	}
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmHWM:") {
			f := strings.Fields(l)
			if len(f) >= 2 {
				n, _ := strconv.Atoi(f[1])
				return n
			}
		}
	}
	return -1
}

// pageOf opens a personal link and returns the size and address of the
// page it leads to.
func pageOf(ctx context.Context, base, tok string) (int, string, error) {
	rep, err := bench.RunLoad(ctx, bench.LoadConfig{BaseURL: base, Tokens: []string{tok}, Flow: "page", Concurrency: 1, Max: 1, Duration: 10 * time.Second})
	if err != nil {
		return 0, "", err
	}
	if rep.Units != 1 {
		return 0, "", fmt.Errorf("GET /r/{token} failed: %v", rep.ErrorSample)
	}
	return bench.FinalPage(ctx, base, "/r/"+tok)
}

func staffToken(base string) (string, error) {
	body, _ := json.Marshal(map[string]string{"email": adminEmail, "password": adminPassword})
	resp, err := http.Post(base+"/api/v1/auth/token", "application/json", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var out struct {
		Token string `json:"token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil || out.Token == "" {
		return "", fmt.Errorf("no staff token (status %d)", resp.StatusCode)
	}
	return out.Token, nil
}

// timeGET returns the median time of n GETs of path.
func timeGET(base, path, tok string, n int) (time.Duration, error) {
	var ds []time.Duration
	for i := 0; i < n; i++ {
		t0 := time.Now()
		if _, err := download(base, path, tok); err != nil {
			return 0, err
		}
		ds = append(ds, time.Since(t0))
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[len(ds)/2], nil
}

func download(base, path, tok string) (int64, error) {
	req, _ := http.NewRequest("GET", base+path, nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	c := &http.Client{Timeout: 30 * time.Minute}
	resp, err := c.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	n, err := io.Copy(io.Discard, resp.Body)
	if resp.StatusCode != 200 {
		return n, fmt.Errorf("GET %s: status %d", path, resp.StatusCode)
	}
	return n, err
}

// pgScaleOut measures save+submit on one app instance, then on two
// instances sharing the same PostgreSQL, the load split between them.
func pgScaleOut(ctx context.Context, server, dir string) {
	step("PostgreSQL: one instance, then two instances on the same database")
	schema := fmt.Sprintf("bench_%d", time.Now().UnixNano())
	admin, err := sql.Open("pgx", *flagPG)
	check(err)
	_, err = admin.Exec("CREATE SCHEMA " + schema)
	check(err)
	defer func() {
		admin.Exec("DROP SCHEMA " + schema + " CASCADE")
		admin.Close()
	}()
	u, err := url.Parse(*flagPG)
	check(err)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	dbURL := u.String()
	s, err := models.Open(ctx, dbURL, quiet())
	check(err)
	check(s.Migrate(ctx))
	nFresh := 2 * *flagFresh
	res, err := bench.Generate(ctx, s, bench.GenConfig{Respondents: min(*flagN, 20000), Fresh: nFresh, Seed: 5})
	check(err)
	s.Close()
	toks := res.FreshTokens(nFresh)
	half := len(toks) / 2
	a := startServer(ctx, server, dir, dbURL)
	var c0 cpuSnap
	one, err := bench.RunLoad(ctx, bench.LoadConfig{BaseURL: a.base, Tokens: toks[:half], Flow: "save-submit", Concurrency: *flagC, Duration: *flagD, Seed: 6,
		OnTimed: func() { c0 = takeCPU(a); c0.wal = walBytes(admin); a.profile(dir, "pg-one", *flagD) }})
	check(err)
	c1 := takeCPU(a)
	c1.wal = walBytes(admin)
	a.waitProfile()
	fmt.Fprint(logw, one)
	fmt.Fprintln(logw, "   one instance:", c1.sub(c0).per(one.Units))
	b := startServer(ctx, server, dir, dbURL)
	var c2 cpuSnap
	var once sync.Once
	onTimed := func() {
		once.Do(func() {
			c2 = takeCPU(a, b)
			c2.wal = walBytes(admin)
			a.profile(dir, "pg-two-a", *flagD)
			b.profile(dir, "pg-two-b", *flagD)
		})
	}
	var wg sync.WaitGroup
	var ra, rb *bench.LoadReport
	var ea, eb error
	wg.Add(2)
	go func() {
		defer wg.Done()
		ra, ea = bench.RunLoad(ctx, bench.LoadConfig{BaseURL: a.base, Tokens: toks[half : half+half/2], Flow: "save-submit", Concurrency: *flagC / 2, Duration: *flagD, Seed: 7, OnTimed: onTimed})
	}()
	go func() {
		defer wg.Done()
		rb, eb = bench.RunLoad(ctx, bench.LoadConfig{BaseURL: b.base, Tokens: toks[half+half/2:], Flow: "save-submit", Concurrency: *flagC / 2, Duration: *flagD, Seed: 8, OnTimed: onTimed})
	}()
	wg.Wait()
	c3 := takeCPU(a, b)
	c3.wal = walBytes(admin)
	a.waitProfile()
	b.waitProfile()
	a.stop()
	b.stop()
	check(ea)
	check(eb)
	fmt.Fprint(logw, ra, rb)
	pgTableStats(admin, schema)
	if ea == nil && eb == nil {
		fmt.Fprintln(logw, "   two instances:", c3.sub(c2).per(ra.Units+rb.Units))
	}
	two := ra.Rate + rb.Rate
	add(row{fmt.Sprintf("PostgreSQL save+submit, %d concurrent: two app instances (load split) vs one", *flagC),
		fmt.Sprintf("%.0f submissions/s (%d errors)", two, ra.Errors+rb.Errors),
		fmt.Sprintf("one instance: %.0f/s (%d errors)", one.Rate, one.Errors),
		fmt.Sprintf("%.2f×", two/one.Rate), "≥ 1.5×"})
}

// cpuSnap is where the machine's CPU time has gone so far (Linux /proc),
// to tell where a submission's CPU goes on a machine shared by the load
// driver, the app instances and PostgreSQL.
type cpuSnap struct {
	at                               time.Time
	busy, total, servers, pg, driver time.Duration
	wal                              int64 // PostgreSQL WAL bytes written (whole server)
	read, written                    int64 // the servers' read and write system calls, bytes
}

// walBytes is PostgreSQL's WAL position in bytes (-1 if unknown).
func walBytes(db *sql.DB) int64 {
	var n int64
	if err := db.QueryRow("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn").Scan(&n); err != nil {
		return -1
	}
	return n
}

// takeCPU reads the machine's busy and total time (/proc/stat), the CPU
// of the given servers, of every process named postgres, and of this
// process (the load driver).
func takeCPU(servers ...*proc) cpuSnap {
	c := cpuSnap{at: time.Now()}
	const tick = 10 * time.Millisecond // USER_HZ = 100
	if b, err := os.ReadFile("/proc/stat"); err == nil {
		line, _, _ := strings.Cut(string(b), "\n")
		for i, f := range strings.Fields(line)[1:] {
			n, _ := strconv.Atoi(f)
			c.total += time.Duration(n) * tick
			if i != 3 && i != 4 { // idle, iowait
				c.busy += time.Duration(n) * tick
			}
		}
	}
	for _, p := range servers {
		c.servers += p.cpu()
		r, w := p.io()
		c.read, c.written = c.read+r, c.written+w
	}
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		st := string(b)
		open, end := strings.IndexByte(st, '('), strings.LastIndexByte(st, ')')
		if open < 0 || end < open || st[open+1:end] != "postgres" {
			continue
		}
		f := strings.Fields(st[end+1:])
		if len(f) < 15 {
			continue
		}
		ut, _ := strconv.Atoi(f[11])
		sy, _ := strconv.Atoi(f[12])
		// The postmaster's children's time counts the backends that
		// have exited (connections closed during the phase).
		cut, _ := strconv.Atoi(f[13])
		cst, _ := strconv.Atoi(f[14])
		c.pg += time.Duration(ut+sy+cut+cst) * tick
	}
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) == nil {
		c.driver = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	return c
}

// slicedNote tells, in a figure's name, that it was measured interleaved
// with its baseline.
func slicedNote(sliced bool) string {
	if !sliced {
		return ""
	}
	return fmt.Sprintf(", interleaved with the baseline in %d slices", *flagSlice)
}

// plus adds two differences of snapshots.
func (c cpuSnap) plus(o cpuSnap) cpuSnap {
	return cpuSnap{at: c.at, busy: c.busy + o.busy, total: c.total + o.total, servers: c.servers + o.servers, pg: c.pg + o.pg, driver: c.driver + o.driver, wal: c.wal + o.wal,
		read: c.read + o.read, written: c.written + o.written}
}

func (c cpuSnap) sub(o cpuSnap) cpuSnap {
	return cpuSnap{at: o.at, busy: c.busy - o.busy, total: c.total - o.total, servers: c.servers - o.servers, pg: c.pg - o.pg, driver: c.driver - o.driver, wal: c.wal - o.wal,
		read: c.read - o.read, written: c.written - o.written}
}

// per describes a difference of snapshots per submission.
func (c cpuSnap) per(units int) string {
	n := float64(max(1, units))
	other := c.busy - c.servers - c.pg - c.driver
	s := fmt.Sprintf("CPU per submission: app %.1f ms, PostgreSQL %.1f ms, load driver %.1f ms, other processes %.1f ms; machine busy %.0f%% of %d cores",
		ms(c.servers)/n, ms(c.pg)/n, ms(c.driver)/n, ms(other)/n, 100*float64(c.busy)/float64(max(1, c.total)), runtime.NumCPU())
	if c.written > 0 {
		s += fmt.Sprintf("; app read %.0f kB and wrote %.0f kB per submission", float64(c.read)/1024/n, float64(c.written)/1024/n)
	}
	if c.wal > 0 { // measured on PostgreSQL only
		s += fmt.Sprintf("; PostgreSQL WAL %.1f kB per submission (whole server)", float64(c.wal)/1024/n)
	}
	return s
}

// pgTableStats logs the busiest tables of the run (rows written, scans),
// to see what a submission costs PostgreSQL.
func pgTableStats(db *sql.DB, schema string) {
	rows, err := db.Query(`SELECT relname, n_tup_ins, n_tup_upd, n_tup_del, n_tup_hot_upd, seq_scan, COALESCE(idx_scan, 0)
FROM pg_stat_user_tables WHERE schemaname = $1 ORDER BY n_tup_ins + n_tup_upd + n_tup_del + seq_scan + COALESCE(idx_scan, 0) DESC LIMIT 12`, schema)
	if err != nil {
		fmt.Fprintln(logw, "   table stats:", err)
		return
	}
	defer rows.Close()
	fmt.Fprintln(logw, "   PostgreSQL tables (whole run): name, inserted, updated, deleted, hot updates, seq scans, index scans")
	for rows.Next() {
		var name string
		var ins, upd, del, hot, seq, idx int64
		if rows.Scan(&name, &ins, &upd, &del, &hot, &seq, &idx) == nil {
			fmt.Fprintf(logw, "     %-24s %9d %9d %9d %9d %9d %9d\n", name, ins, upd, del, hot, seq, idx)
		}
	}
}
