package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
)

// The end-to-end tests build the real binary and drive it as an operator
// would: environment variables, standard input and output, signals.

// buildServer compiles ./server once per test into a temporary folder.
func buildServer(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("end-to-end test skipped in -short mode")
	}
	bin := filepath.Join(t.TempDir(), "focalpoint")
	cmd := exec.Command("go", "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// lockedBuffer collects a process's stderr safely.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// process is a running server binary.
type process struct {
	t      *testing.T
	cmd    *exec.Cmd
	lines  chan string // standard output, line by line
	stdout []string
	stderr *lockedBuffer
	done   chan error
}

// cleanEnv is the test's environment without FOCAL_ variables, plus env.
func cleanEnv(env map[string]string) []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "FOCAL_") {
			out = append(out, kv)
		}
	}
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	return out
}

func startProcess(t *testing.T, bin, dir string, env map[string]string, args ...string) *process {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = cleanEnv(env)
	p := &process{t: t, cmd: cmd, lines: make(chan string, 100), stderr: &lockedBuffer{}, done: make(chan error, 1)}
	cmd.Stderr = p.stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			p.lines <- sc.Text()
		}
		close(p.lines)
		p.done <- cmd.Wait()
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
		}
	})
	return p
}

// waitLine reads standard output until a line matches re.
func (p *process) waitLine(re *regexp.Regexp) []string {
	p.t.Helper()
	timeout := time.After(60 * time.Second)
	for {
		select {
		case line, ok := <-p.lines:
			if !ok {
				p.t.Fatalf("the program ended before printing %s\nstdout: %s\nstderr: %s", re, strings.Join(p.stdout, "\n"), p.stderr)
			}
			p.stdout = append(p.stdout, line)
			if m := re.FindStringSubmatch(line); m != nil {
				return m
			}
		case <-timeout:
			p.t.Fatalf("no line matching %s\nstdout: %s\nstderr: %s", re, strings.Join(p.stdout, "\n"), p.stderr)
		}
	}
}

// wait waits for the process to end and returns its exit code.
func (p *process) wait() int {
	p.t.Helper()
	go func() {
		for line := range p.lines {
			p.stdout = append(p.stdout, line)
		}
	}()
	select {
	case err := <-p.done:
		if ee, ok := err.(*exec.ExitError); ok {
			return ee.ExitCode()
		}
		if err != nil {
			p.t.Fatal(err)
		}
		return 0
	case <-time.After(60 * time.Second):
		p.t.Fatalf("the program did not end\nstderr: %s", p.stderr)
	}
	return -1
}

var (
	listenRe  = regexp.MustCompile(`listening on (http://\S+)`)
	setupRe   = regexp.MustCompile(`(/setup/[A-Za-z0-9_-]+)`)
	metricsRe = regexp.MustCompile(`Metrics on (http://\S+/metrics)`)
	csrfInput = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)
)

// TestE2E builds the binary once and runs the scenarios on it.
func TestE2E(t *testing.T) {
	bin := buildServer(t)
	t.Run("serve, setup link, health, metrics, drain on SIGTERM", func(t *testing.T) { e2eServeSetupDrain(t, bin) })
	t.Run("help, create-admin, backup, migrate", func(t *testing.T) { e2eCommands(t, bin) })
	t.Run("bootstrap admin and the default database path", func(t *testing.T) { e2eBootstrapAdmin(t, bin) })
}

func e2eServeSetupDrain(t *testing.T, bin string) {
	dir := t.TempDir()
	p := startProcess(t, bin, dir, map[string]string{
		"FOCAL_DATABASE_URL": "sqlite:" + filepath.Join(dir, "db", "focal.db"),
		"FOCAL_ADDR":         "127.0.0.1:0",
		"FOCAL_METRICS_ADDR": "127.0.0.1:0",
	})
	setupPath := p.waitLine(setupRe)[1]
	metricsURL := p.waitLine(metricsRe)[1]
	base := p.waitLine(listenRe)[1]
	if strings.HasSuffix(base, ":0") {
		t.Fatalf("the program printed %s, not the real port", base)
	}
	// The printed setup link uses FOCAL_BASE_URL.
	if !strings.Contains(strings.Join(p.stdout, "\n"), "http://localhost:8080/setup/") {
		t.Fatalf("setup link not built from the base URL: %s", p.stdout)
	}

	for path, want := range map[string]string{"/healthz": "ok", "/readyz": "ready"} {
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || strings.TrimSpace(string(body)) != want {
			t.Fatalf("%s: %d %q", path, resp.StatusCode, body)
		}
	}

	// Create the first admin through the setup link, like a person.
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	getPage := func(path string) (int, string) {
		resp, err := client.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	postForm := func(path string, form url.Values) (int, string) {
		resp, err := client.PostForm(base+path, form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		return resp.StatusCode, resp.Header.Get("Location")
	}
	status, page := getPage(setupPath)
	if status != 200 {
		t.Fatalf("setup page: %d", status)
	}
	csrf := csrfInput.FindStringSubmatch(page)[1]
	const email, password = "first@example.org", "a long admin password"
	status, loc := postForm(setupPath, url.Values{"csrf_token": {csrf}, "name": {"First Admin"}, "email": {email},
		"password": {password}, "password_confirm": {password}})
	if status != http.StatusSeeOther || loc != "/login" {
		t.Fatalf("setup: %d %s", status, loc)
	}
	if status, _ := getPage(setupPath); status != http.StatusNotFound {
		t.Fatalf("the used setup link answers %d, want 404", status)
	}
	_, page = getPage("/login")
	csrf = csrfInput.FindStringSubmatch(page)[1]
	if status, loc := postForm("/login", url.Values{"csrf_token": {csrf}, "email": {email}, "password": {password}}); status != http.StatusSeeOther || loc != "/staff" {
		t.Fatalf("login as the new admin: %d %s", status, loc)
	}
	if status, page := getPage("/staff"); status != 200 || !strings.Contains(page, "First Admin") {
		t.Fatalf("staff home: %d", status)
	}

	// Metrics on their own address.
	resp, err := http.Get(metricsURL)
	if err != nil {
		t.Fatal(err)
	}
	mbody, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(mbody), "focal_http_requests_total") || !strings.Contains(string(mbody), `route="/healthz"`) {
		t.Fatalf("metrics: %.500s", mbody)
	}
	// The SQLite writer's group commits: the setup and the login wrote.
	for _, name := range []string{"focal_sqlite_write_transactions_total", "focal_sqlite_writes_total", "focal_sqlite_wal_fsyncs_total"} {
		m := regexp.MustCompile(`(?m)^` + name + ` (\S+)$`).FindStringSubmatch(string(mbody))
		if v, err := strconv.ParseFloat(firstGroup(m), 64); err != nil || v < 1 {
			t.Fatalf("metric %s: %q, want a count of at least 1", name, firstGroup(m))
		}
	}
	if !strings.Contains(string(mbody), "focal_response_memo_hits_total") {
		t.Fatalf("no response memo metrics: %.500s", mbody)
	}
	// and not on the public address.
	if resp, err := http.Get(base + "/metrics"); err == nil {
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Fatal("/metrics is public")
		}
	}

	// SIGTERM while a request is in flight: the request completes, then
	// the program exits 0. Expect: 100-continue tells us when the handler
	// has started reading the body.
	body := fmt.Sprintf(`{"email":%q,"password":%q}`, email, password)
	conn, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST /api/v1/auth/token HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: %d\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n", len(body))
	rd := bufio.NewReader(conn)
	line, err := rd.ReadString('\n')
	if err != nil || !strings.Contains(line, "100 Continue") {
		t.Fatalf("no 100 Continue: %q %v", line, err)
	}
	rd.ReadString('\n') // the blank line after the interim answer
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(p.stderr.String(), "shutting down") {
		if time.Now().After(deadline) {
			t.Fatalf("no shutdown after SIGTERM: %s", p.stderr)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// New connections are refused while draining.
	if c2, err := net.DialTimeout("tcp", strings.TrimPrefix(base, "http://"), time.Second); err == nil {
		c2.Close()
		t.Log("a new connection was accepted during the drain")
	}
	if _, err := io.WriteString(conn, body); err != nil {
		t.Fatal(err)
	}
	resp2, err := http.ReadResponse(rd, nil)
	if err != nil {
		t.Fatalf("the in-flight request was cut: %v", err)
	}
	rbody, _ := io.ReadAll(resp2.Body)
	if resp2.StatusCode != http.StatusCreated || !strings.Contains(string(rbody), `"token"`) {
		t.Fatalf("in-flight request: %d %s", resp2.StatusCode, rbody)
	}
	if code := p.wait(); code != 0 {
		t.Fatalf("exit code %d after SIGTERM\nstderr: %s", code, p.stderr)
	}
	if strings.Contains(p.stderr.String(), "panic") {
		t.Fatalf("stderr: %s", p.stderr)
	}
}

func e2eCommands(t *testing.T, bin string) {
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "focal.db")
	env := map[string]string{"FOCAL_DATABASE_URL": "sqlite:" + dbPath}
	runCmd := func(stdin string, args ...string) (int, string, string) {
		t.Helper()
		cmd := exec.Command(bin, args...)
		cmd.Dir = dir
		cmd.Env = cleanEnv(env)
		cmd.Stdin = strings.NewReader(stdin)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatal(err)
		}
		return code, out.String(), errb.String()
	}

	code, out, _ := runCmd("", "help")
	for _, want := range []string{"serve", "create-admin", "backup", "migrate", "FOCAL_DATABASE_URL", "-database-url", "FOCAL_METRICS_ADDR"} {
		if code != 0 || !strings.Contains(out, want) {
			t.Fatalf("help (exit %d) lacks %q:\n%s", code, want, out)
		}
	}

	code, out, errOut := runCmd("a long admin password\n", "create-admin", "-email", "Boss@Example.org", "-name", "Boss")
	if code != 0 || !strings.Contains(out, "created admin boss@example.org") {
		t.Fatalf("create-admin: %d %s %s", code, out, errOut)
	}
	code, _, errOut = runCmd("a long admin password\n", "create-admin", "-email", "boss@example.org")
	if code != 1 || !strings.Contains(errOut, "already exists") {
		t.Fatalf("second create-admin: %d %s", code, errOut)
	}
	code, _, errOut = runCmd("short\n", "create-admin", "-email", "other@example.org")
	if code != 1 || !strings.Contains(errOut, "at least 12 characters") {
		t.Fatalf("weak password: %d %s", code, errOut)
	}
	code, _, errOut = runCmd("", "create-admin")
	if code != 1 || !strings.Contains(errOut, "-email") {
		t.Fatalf("no email: %d %s", code, errOut)
	}

	backup := filepath.Join(dir, "copy.db")
	code, out, errOut = runCmd("", "backup", backup)
	if code != 0 || !strings.Contains(out, "backup written") {
		t.Fatalf("backup: %d %s %s", code, out, errOut)
	}
	db, err := gorm.Open(sqlite.Open("file:"+backup+"?mode=ro"), &gorm.Config{})
	if err != nil {
		t.Fatal(err)
	}
	var emails []string
	if err := db.Raw("SELECT email FROM staff_users").Scan(&emails).Error; err != nil {
		t.Fatalf("the backup does not open: %v", err)
	}
	if len(emails) != 1 || emails[0] != "boss@example.org" {
		t.Fatalf("backup holds %v", emails)
	}
	var versions int
	db.Raw("SELECT COUNT(*) FROM schema_migrations").Scan(&versions)
	if versions == 0 {
		t.Fatal("backup lacks schema_migrations")
	}
	if sqlDB, err := db.DB(); err == nil {
		sqlDB.Close()
	}
	code, _, errOut = runCmd("", "backup", backup)
	if code != 1 || !strings.Contains(errOut, "exists already") {
		t.Fatalf("backup over an existing file: %d %s", code, errOut)
	}
	code, _, errOut = runCmd("", "backup")
	if code != 1 || !strings.Contains(errOut, "usage: server backup FILE") {
		t.Fatalf("backup without a file: %d %s", code, errOut)
	}
	code, _, _ = runCmd("", "migrate")
	if code != 0 {
		t.Fatalf("migrate: %d", code)
	}
}

func e2eBootstrapAdmin(t *testing.T, bin string) {
	dir := t.TempDir()
	// No FOCAL_DATABASE_URL: the default data/focalpoint.db under the
	// working directory.
	p := startProcess(t, bin, dir, map[string]string{
		"FOCAL_ADDR":                     "127.0.0.1:0",
		"FOCAL_BOOTSTRAP_ADMIN_EMAIL":    "ops@example.org",
		"FOCAL_BOOTSTRAP_ADMIN_PASSWORD": "an unattended password",
	})
	base := p.waitLine(listenRe)[1]
	for _, l := range p.stdout {
		if setupRe.MatchString(l) {
			t.Fatalf("a setup link printed although the bootstrap admin was created: %s", l)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "focalpoint.db")); err != nil {
		t.Fatalf("default database not created: %v", err)
	}
	resp, err := http.Post(base+"/api/v1/auth/token", "application/json",
		strings.NewReader(`{"email":"ops@example.org","password":"an unattended password"}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("bootstrap admin cannot get a token: %d", resp.StatusCode)
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	if code := p.wait(); code != 0 {
		t.Fatalf("exit %d", code)
	}
	// Checked once the process has ended and its log is all written.
	if strings.Contains(p.stderr.String(), "an unattended password") {
		t.Fatal("the password was logged")
	}
	// A second start on the same database neither fails nor prints a link.
	p = startProcess(t, bin, dir, map[string]string{"FOCAL_ADDR": "127.0.0.1:0"})
	p.waitLine(listenRe)
	for _, l := range p.stdout {
		if setupRe.MatchString(l) {
			t.Fatal("setup link printed on a database with staff")
		}
	}
	p.cmd.Process.Signal(syscall.SIGINT)
	if code := p.wait(); code != 0 {
		t.Fatalf("exit %d after SIGINT", code)
	}
}

// firstGroup is a regexp match's first group, or "" without a match.
func firstGroup(m []string) string {
	if len(m) < 2 {
		return ""
	}
	return m[1]
}
