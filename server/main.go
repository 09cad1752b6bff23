// Command server is Focal Point: `go run ./server` serves the web
// application; `server help` lists the other sub-commands. This package is
// the composition root: configuration, the database, the route table,
// middleware, the renderer and graceful shutdown.
package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"focalpoint/handlers"
	"focalpoint/i18n"
	"focalpoint/models"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdin, os.Stdout, os.Stderr, osGetenv))
}

// commands lists the sub-commands with their one-line help.
var commands = []struct{ name, help string }{
	{"serve", "serve the web application (the default)"},
	{"create-admin", "create an admin account: -email E, password from stdin"},
	{"backup", "backup FILE: a consistent online copy of the SQLite database"},
	{"migrate", "apply pending database migrations and exit"},
	{"help", "list the sub-commands and settings"},
}

// run is main without the process: testable, and it returns the exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	logBuf := newLogBuffer(stderr)
	defer logBuf.Close()
	log := slog.New(flushingHandler{slog.NewTextHandler(logBuf, &slog.HandlerOptions{Level: slog.LevelInfo}), logBuf})
	var err error
	switch cmd {
	case "serve":
		err = cmdServe(ctx, args, stdout, log, getenv)
	case "create-admin":
		err = cmdCreateAdmin(ctx, args, stdin, stdout, log, getenv)
	case "backup":
		err = cmdBackup(ctx, args, stdout, log, getenv)
	case "migrate":
		err = cmdMigrate(ctx, args, log, getenv)
	case "help", "-h", "--help":
		printHelp(stdout, getenv)
		return 0
	default:
		if extra, ok := extraCommands[cmd]; ok {
			err = extra(ctx, args, stdout, log, getenv)
			break
		}
		logBuf.Close()
		fmt.Fprintf(stderr, "unknown command %q\n\n", cmd)
		printHelp(stderr, getenv)
		return 2
	}
	// The log's last lines before what is written to stderr directly.
	logBuf.Close()
	if err != nil {
		fmt.Fprintln(stderr, "error:", err)
		return 1
	}
	return 0
}

// extraCommands are sub-commands that areas add (e.g. demo).
var extraCommands = map[string]func(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger, getenv func(string) string) error{}

func printHelp(w io.Writer, getenv func(string) string) {
	fmt.Fprintln(w, "Focal Point, an online expert consultation platform.\n\nUsage: server [command] [flags]\n\nCommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-13s %s\n", c.name, c.help)
	}
	for name := range extraCommands {
		fmt.Fprintf(w, "  %-13s %s\n", name, extraHelp[name])
	}
	fmt.Fprintln(w, "\nSettings (flag, variable, default):")
	var c Config
	for _, v := range configVars(&c) {
		fmt.Fprintf(w, "  -%-26s $%-32s %q\n      %s\n", v.flag, v.env, v.def, v.usage)
	}
}

// extraHelp is the one-line help of extraCommands.
var extraHelp = map[string]string{}

// loadConfig parses and validates the configuration.
func loadConfig(name string, args []string, getenv func(string) string) (*Config, []string, error) {
	c, fs, err := parseConfig(name, args, getenv)
	if err != nil {
		return nil, nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, nil, err
	}
	return c, fs.Args(), nil
}

// openStore opens and migrates the configured database.
func openStore(ctx context.Context, c *Config, log *slog.Logger) (*models.Store, error) {
	s, err := models.Open(ctx, c.DatabaseURL, log)
	if err != nil {
		return nil, err
	}
	if err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// App is the assembled application.
type App struct {
	Config   *Config
	Store    *models.Store
	Handler  *handlers.Handler
	Renderer *Renderer
	Log      *slog.Logger
	Metrics  *metrics
	Registry *prometheus.Registry
	// Background work started by areas (mail sender, round scheduler…).
	background []func(ctx context.Context)
}

// newApp wires the application from its configuration and store.
func newApp(ctx context.Context, c *Config, store *models.Store, log *slog.Logger) (*App, error) {
	bundle, err := i18n.New()
	if err != nil {
		return nil, err
	}
	sum, err := staticSum()
	if err != nil {
		return nil, err
	}
	r, err := NewRenderer(sum)
	if err != nil {
		return nil, err
	}
	secret := c.SecretKey
	if secret == "" {
		if secret, err = store.SecretKey(ctx); err != nil {
			return nil, fmt.Errorf("secret key: %w", err)
		}
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if store.Dialect == models.SQLite {
		registerSQLiteMetrics(reg, store)
	}
	a := &App{Config: c, Store: store, Renderer: r, Log: log, Registry: reg, Metrics: newMetrics(reg)}
	a.Handler = handlers.New(store, bundle, handlers.Options{BaseURL: c.BaseURL, Secure: c.Secure()}, log, secret)
	for _, hook := range appHooks {
		if err := hook(ctx, a); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// appHooks let areas attach their dependencies and background workers to
// the App (in their own files) without editing newApp.
var appHooks []func(ctx context.Context, a *App) error

// bootstrap creates the first admin from the variables, or prints the
// one-time setup link, on a database with no staff.
func bootstrap(ctx context.Context, a *App, stdout io.Writer) error {
	n, err := a.Store.CountStaff(ctx)
	if err != nil || n > 0 {
		return err
	}
	if a.Config.BootstrapEmail != "" {
		_, err := a.Store.CreateFirstAdmin(ctx, models.NewStaff{Email: a.Config.BootstrapEmail, Name: "Administrator", Password: a.Config.BootstrapPassword})
		if err != nil && !errors.Is(err, models.ErrConflict) {
			return fmt.Errorf("bootstrap admin: %w", err)
		}
		a.Log.Info("created the bootstrap admin", "email", models.NormalizeEmail(a.Config.BootstrapEmail))
		return nil
	}
	secret, err := a.Store.NewSetupSecret(ctx)
	if err != nil || secret == "" {
		return err
	}
	link := strings.TrimRight(a.Config.BaseURL, "/") + "/setup/" + secret
	fmt.Fprintf(stdout, "\nNo staff account yet. Create the first admin here (one-time link):\n\n    %s\n\n", link)
	a.Log.Info("setup link printed on standard output")
	return nil
}

func cmdServe(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger, getenv func(string) string) error {
	c, _, err := loadConfig("serve", args, getenv)
	if err != nil {
		return err
	}
	setMemoryLimit(log)
	store, err := openStore(ctx, c, log)
	if err != nil {
		return err
	}
	defer store.Close()
	a, err := newApp(ctx, c, store, log)
	if err != nil {
		return err
	}
	if err := bootstrap(ctx, a, stdout); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	return a.serve(ctx, stdout)
}

// serve listens until ctx ends, then drains in-flight requests.
func (a *App) serve(ctx context.Context, stdout io.Writer) error {
	e := a.routes()
	ln, err := net.Listen("tcp", a.Config.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", a.Config.Addr, err)
	}
	srv := &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 2 * time.Minute, IdleTimeout: 2 * time.Minute}
	bgCtx, bgCancel := context.WithCancel(ctx)
	defer bgCancel()
	for _, f := range a.background {
		go f(bgCtx)
	}
	if a.Config.MetricsAddr != "" {
		mln, err := net.Listen("tcp", a.Config.MetricsAddr)
		if err != nil {
			ln.Close()
			return fmt.Errorf("listen for metrics on %s: %w", a.Config.MetricsAddr, err)
		}
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.HandlerFor(a.Registry, promhttp.HandlerOpts{}))
		msrv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
		go func() {
			if err := msrv.Serve(mln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				a.Log.Error("metrics listener", "err", err)
			}
		}()
		defer msrv.Close()
		fmt.Fprintf(stdout, "Metrics on http://%s/metrics\n", mln.Addr())
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "Focal Point listening on http://%s (links use %s)\n", ln.Addr(), a.Config.BaseURL)
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	a.Log.Info("shutting down: draining in-flight requests")
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	bgCancel()
	return srv.Shutdown(sctx)
}

func cmdMigrate(ctx context.Context, args []string, log *slog.Logger, getenv func(string) string) error {
	c, _, err := loadConfig("migrate", args, getenv)
	if err != nil {
		return err
	}
	s, err := openStore(ctx, c, log)
	if err != nil {
		return err
	}
	return s.Close()
}

func cmdCreateAdmin(ctx context.Context, args []string, stdin io.Reader, stdout io.Writer, log *slog.Logger, getenv func(string) string) error {
	c, fs := newConfigFlags("create-admin", getenv)
	email := fs.String("email", "", "the admin's email address")
	name := fs.String("name", "Administrator", "the admin's name")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := c.Validate(); err != nil {
		return err
	}
	if *email == "" {
		return errors.New("create-admin needs -email")
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("read the password from standard input: %w", err)
	}
	pw := strings.TrimRight(line, "\r\n")
	s, err := openStore(ctx, c, log)
	if err != nil {
		return err
	}
	defer s.Close()
	st, err := s.CreateStaff(ctx, models.NewStaff{Email: *email, Name: *name, Role: models.RoleAdmin, Password: pw}, nil)
	var fe models.FieldErrors
	if errors.As(err, &fe) {
		var parts []string
		for f, m := range fe {
			parts = append(parts, f+": "+m)
		}
		return fmt.Errorf("cannot create the admin (%s); passwords need at least %d characters", strings.Join(parts, "; "), models.MinPasswordLength)
	}
	if errors.Is(err, models.ErrConflict) {
		return fmt.Errorf("an account with the email %s already exists", models.NormalizeEmail(*email))
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "created admin %s (id %d)\n", st.Email, st.ID)
	return nil
}

func cmdBackup(ctx context.Context, args []string, stdout io.Writer, log *slog.Logger, getenv func(string) string) error {
	c, rest, err := loadConfig("backup", args, getenv)
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return errors.New("usage: server backup FILE")
	}
	s, err := openStore(ctx, c, log)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.Backup(ctx, rest[0]); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backup written to %s\n", rest[0])
	return nil
}
