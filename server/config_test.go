package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestConfigErrorsSpeakPlainly(t *testing.T) {
	dir := t.TempDir()
	aFile := filepath.Join(dir, "a-file")
	if err := os.WriteFile(aFile, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	good := "sqlite:" + filepath.Join(dir, "data", "focal.db")
	cases := []struct {
		name string
		env  map[string]string
		args []string
		want []string // every part must appear in the message
	}{
		{"bad base URL", map[string]string{"FOCAL_BASE_URL": "localhost:8080"}, nil,
			[]string{"FOCAL_BASE_URL", "localhost:8080", "absolute http:// or https://"}},
		{"base URL with a query", map[string]string{"FOCAL_BASE_URL": "https://x.org/?a=b"}, nil, []string{"FOCAL_BASE_URL"}},
		{"bad database URL scheme", map[string]string{"FOCAL_DATABASE_URL": "mysql://db/focal"}, nil,
			[]string{"FOCAL_DATABASE_URL", "must start with sqlite: or postgres://"}},
		{"postgres URL without host, password hidden", map[string]string{"FOCAL_DATABASE_URL": "postgres://user:hunter2@/db"}, nil,
			[]string{"FOCAL_DATABASE_URL", "not a valid postgres:// URL"}},
		{"empty sqlite path", map[string]string{"FOCAL_DATABASE_URL": "sqlite:"}, nil, []string{"names no SQLite file"}},
		{"data folder is a file", map[string]string{"FOCAL_DATABASE_URL": "sqlite:" + filepath.Join(aFile, "focal.db")}, nil,
			[]string{"data folder", "is a file, not a folder"}},
		{"data folder not writable", map[string]string{"FOCAL_DATABASE_URL": "sqlite:/proc/focal-test/focal.db"}, nil,
			[]string{"data folder", "/proc", "not writable"}},
		{"weak secret: short", map[string]string{"FOCAL_SECRET_KEY": "short"}, nil,
			[]string{"FOCAL_SECRET_KEY is too weak", "32 random characters"}},
		{"weak secret: repetitive", map[string]string{"FOCAL_SECRET_KEY": strings.Repeat("ab", 20)}, nil,
			[]string{"FOCAL_SECRET_KEY is too weak"}},
		{"bootstrap email without password", map[string]string{"FOCAL_BOOTSTRAP_ADMIN_EMAIL": "a@example.org"}, nil,
			[]string{"FOCAL_BOOTSTRAP_ADMIN_EMAIL and FOCAL_BOOTSTRAP_ADMIN_PASSWORD must be set together"}},
		{"bootstrap password without email", map[string]string{"FOCAL_BOOTSTRAP_ADMIN_PASSWORD": "a long enough password"}, nil,
			[]string{"must be set together"}},
		{"bootstrap weak password", map[string]string{"FOCAL_BOOTSTRAP_ADMIN_EMAIL": "a@example.org", "FOCAL_BOOTSTRAP_ADMIN_PASSWORD": "short"}, nil,
			[]string{"FOCAL_BOOTSTRAP_ADMIN_PASSWORD is too weak", "12 characters"}},
		{"bootstrap bad email", map[string]string{"FOCAL_BOOTSTRAP_ADMIN_EMAIL": "not-an-email", "FOCAL_BOOTSTRAP_ADMIN_PASSWORD": "a long enough password"}, nil,
			[]string{"FOCAL_BOOTSTRAP_ADMIN_EMAIL", "not a valid email address"}},
		{"bad listen address", map[string]string{"FOCAL_ADDR": "8080"}, nil, []string{"FOCAL_ADDR", "host:port"}},
		{"bad metrics address", map[string]string{"FOCAL_METRICS_ADDR": "metrics"}, nil, []string{"FOCAL_METRICS_ADDR"}},
		{"bad SMTP URL", map[string]string{"FOCAL_SMTP_URL": "http://mail"}, nil, []string{"FOCAL_SMTP_URL", "smtp://"}},
		{"bad sender", map[string]string{"FOCAL_MAIL_FROM": "nobody"}, nil, []string{"FOCAL_MAIL_FROM"}},
		{"flag wins over variable", map[string]string{"FOCAL_BASE_URL": "https://ok.example.org"}, []string{"-base-url", "ftp://x"},
			[]string{"FOCAL_BASE_URL \"ftp://x\""}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := map[string]string{"FOCAL_DATABASE_URL": good}
			for k, v := range tc.env {
				env[k] = v
			}
			_, _, err := loadConfig("serve", tc.args, envOf(env))
			if err == nil {
				t.Fatal("accepted")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Fatalf("message %q lacks %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Fatalf("message shows the database password: %q", err)
			}
		})
	}
}

func TestConfigListsAllProblemsAndAcceptsGood(t *testing.T) {
	dir := t.TempDir()
	_, _, err := loadConfig("serve", nil, envOf(map[string]string{
		"FOCAL_BASE_URL": "nope", "FOCAL_SECRET_KEY": "x", "FOCAL_DATABASE_URL": "sqlite:" + filepath.Join(dir, "f.db")}))
	if err == nil || !strings.Contains(err.Error(), "FOCAL_BASE_URL") || !strings.Contains(err.Error(), "FOCAL_SECRET_KEY") {
		t.Fatalf("want both problems listed, got %v", err)
	}
	c, _, err := loadConfig("serve", nil, envOf(map[string]string{
		"FOCAL_DATABASE_URL": "sqlite:" + filepath.Join(dir, "new", "deeper", "f.db"),
		"FOCAL_SECRET_KEY":   "0123456789abcdefghijklmnopqrstuvwxyzABCD",
		"FOCAL_BASE_URL":     "https://consult.example.org",
	}))
	if err != nil {
		t.Fatalf("good configuration refused: %v", err)
	}
	if !c.Secure() || c.Addr != "localhost:8080" || c.MailFrom != "Focal Point <noreply@localhost>" {
		t.Fatalf("config = %+v", c)
	}
	if _, err := os.Stat(filepath.Join(dir, "new")); !os.IsNotExist(err) {
		t.Fatal("validation created the data folder")
	}
}

func TestServeRefusesBadConfigWithExitCode(t *testing.T) {
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"serve"}, strings.NewReader(""), &stdout, &stderr,
		envOf(map[string]string{"FOCAL_DATABASE_URL": "oracle://x"}))
	if code != 1 {
		t.Fatalf("exit code %d, want 1", code)
	}
	if !strings.Contains(stderr.String(), "configuration problems") || !strings.Contains(stderr.String(), "FOCAL_DATABASE_URL") {
		t.Fatalf("stderr: %s", stderr.String())
	}
	if strings.Contains(stderr.String(), "goroutine") || strings.Contains(stderr.String(), "panic") {
		t.Fatal("a stack trace for a configuration error")
	}
}

func TestUnknownCommand(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"frobnicate"}, nil, &stdout, &stderr, envOf(nil)); code != 2 {
		t.Fatalf("exit %d", code)
	}
	if !strings.Contains(stderr.String(), `unknown command "frobnicate"`) || !strings.Contains(stderr.String(), "create-admin") {
		t.Fatalf("stderr: %s", stderr.String())
	}
}
