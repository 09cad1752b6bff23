package main

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"focalpoint/models"
)

// Config is the whole configuration, from variables and flags (a flag wins
// over its variable). No globals: it is passed down from main.
type Config struct {
	Addr              string
	DatabaseURL       string
	BaseURL           string
	SMTPURL           string
	MailFrom          string
	BootstrapEmail    string
	BootstrapPassword string
	SecretKey         string
	MetricsAddr       string
}

// configVar pairs a field with its variable, flag and default.
type configVar struct {
	ptr   *string
	env   string
	flag  string
	def   string
	usage string
}

func configVars(c *Config) []configVar {
	return []configVar{
		{&c.Addr, "FOCAL_ADDR", "addr", "localhost:8080", "listen address"},
		{&c.DatabaseURL, "FOCAL_DATABASE_URL", "database-url", "sqlite:data/focalpoint.db", "sqlite:PATH or postgres://..."},
		{&c.BaseURL, "FOCAL_BASE_URL", "base-url", "http://localhost:8080", "used to build links in emails"},
		{&c.SMTPURL, "FOCAL_SMTP_URL", "smtp-url", "", "smtp://user:pass@host:port or smtps://; unset: mail stays in the outbox"},
		{&c.MailFrom, "FOCAL_MAIL_FROM", "mail-from", "Focal Point <noreply@localhost>", "sender of emails"},
		{&c.BootstrapEmail, "FOCAL_BOOTSTRAP_ADMIN_EMAIL", "bootstrap-admin-email", "", "on a database with no staff, create this admin at start"},
		{&c.BootstrapPassword, "FOCAL_BOOTSTRAP_ADMIN_PASSWORD", "bootstrap-admin-password", "", "password of the bootstrap admin"},
		{&c.SecretKey, "FOCAL_SECRET_KEY", "secret-key", "", "signs and encrypts cookies; unset: generated once and kept in the database"},
		{&c.MetricsAddr, "FOCAL_METRICS_ADDR", "metrics-addr", "", "Prometheus /metrics on its own address; unset: none"},
	}
}

// parseConfig reads variables from getenv and then flags from args.
func parseConfig(name string, args []string, getenv func(string) string) (*Config, *flag.FlagSet, error) {
	c, fs := newConfigFlags(name, getenv)
	if err := fs.Parse(args); err != nil {
		return nil, fs, err
	}
	return c, fs, nil
}

// newConfigFlags declares the flags, with the variables as defaults.
func newConfigFlags(name string, getenv func(string) string) (*Config, *flag.FlagSet) {
	c := &Config{}
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	for _, v := range configVars(c) {
		def := v.def
		if e := getenv(v.env); e != "" {
			def = e
		}
		fs.StringVar(v.ptr, v.flag, def, v.usage+" ($"+v.env+")")
	}
	return c, fs
}

// Validate checks the configuration and says what is wrong in words a
// person understands, all problems at once.
func (c *Config) Validate() error {
	var problems []string
	add := func(format string, a ...any) { problems = append(problems, fmt.Sprintf(format, a...)) }

	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		add("FOCAL_ADDR %q is not a host:port listen address (e.g. localhost:8080)", c.Addr)
	}
	if c.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			add("FOCAL_METRICS_ADDR %q is not a host:port listen address", c.MetricsAddr)
		}
	}
	if d, path, err := models.ParseDatabaseURL(c.DatabaseURL); err != nil {
		add("FOCAL_DATABASE_URL: %v", err)
	} else if d == models.SQLite {
		if err := checkDataFolder(filepath.Dir(path)); err != nil {
			add("FOCAL_DATABASE_URL: %v", err)
		}
	}
	if u, err := url.Parse(c.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		add("FOCAL_BASE_URL %q must be an absolute http:// or https:// address like https://consult.example.org", c.BaseURL)
	}
	if c.SMTPURL != "" {
		if u, err := url.Parse(c.SMTPURL); err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" {
			add("FOCAL_SMTP_URL must look like smtp://user:pass@host:587 or smtps://user:pass@host:465")
		}
	}
	if a, err := mail.ParseAddress(c.MailFrom); err != nil || strings.ContainsAny(c.MailFrom, "\r\n") || a.Address == "" {
		add("FOCAL_MAIL_FROM %q is not an email address (e.g. Focal Point <noreply@example.org>)", c.MailFrom)
	}
	if (c.BootstrapEmail == "") != (c.BootstrapPassword == "") {
		add("FOCAL_BOOTSTRAP_ADMIN_EMAIL and FOCAL_BOOTSTRAP_ADMIN_PASSWORD must be set together")
	} else if c.BootstrapEmail != "" {
		if !models.ValidEmail(models.NormalizeEmail(c.BootstrapEmail)) {
			add("FOCAL_BOOTSTRAP_ADMIN_EMAIL %q is not a valid email address", c.BootstrapEmail)
		}
		if msg := models.ValidatePassword(c.BootstrapPassword); msg != "" {
			add("FOCAL_BOOTSTRAP_ADMIN_PASSWORD is too weak: use at least %d characters", models.MinPasswordLength)
		}
	}
	if c.SecretKey != "" && (len(c.SecretKey) < 32 || distinctBytes(c.SecretKey) < 10) {
		add("FOCAL_SECRET_KEY is too weak: use at least 32 random characters (e.g. openssl rand -base64 48), or leave it unset")
	}
	if len(problems) > 0 {
		return errors.New("configuration problems:\n  - " + strings.Join(problems, "\n  - "))
	}
	return nil
}

// checkDataFolder says, in words, why the SQLite folder cannot be used:
// it is a file, or neither it nor the folder that would hold it is
// writable. It creates nothing (the store does that at open).
func checkDataFolder(dir string) error {
	d := dir
	for {
		fi, err := os.Stat(d)
		if err == nil {
			if !fi.IsDir() {
				return fmt.Errorf("the data folder %q cannot be used: %q is a file, not a folder", dir, d)
			}
			break
		}
		parent := filepath.Dir(d)
		if parent == d {
			return fmt.Errorf("the data folder %q cannot be created", dir)
		}
		d = parent
	}
	f, err := os.CreateTemp(d, ".focal-write-test-*")
	if err != nil {
		if d == dir {
			return fmt.Errorf("the data folder %q is not writable (check its owner and permissions)", dir)
		}
		return fmt.Errorf("the data folder %q cannot be created: %q is not writable", dir, d)
	}
	name := f.Name()
	f.Close()
	os.Remove(name)
	return nil
}

// distinctBytes counts the different bytes of s (a crude guard against
// secrets like "aaaa…" or "12121212…").
func distinctBytes(s string) int {
	seen := map[byte]bool{}
	for i := 0; i < len(s); i++ {
		seen[s[i]] = true
	}
	return len(seen)
}

// Secure reports whether links (and so cookies) use https.
func (c *Config) Secure() bool { return strings.HasPrefix(c.BaseURL, "https://") }

func osGetenv(k string) string { return os.Getenv(k) }
