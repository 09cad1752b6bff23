// Package modeltest gives tests a real, fresh database: a SQLite file in a
// temporary folder, and the same on PostgreSQL (a schema of its own) when
// FOCAL_TEST_POSTGRES_URL is set. No database is mocked.
package modeltest

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // driver for creating test schemas

	"focalpoint/models"
)

// EnvPostgres names the variable that points tests at a PostgreSQL server.
const EnvPostgres = "FOCAL_TEST_POSTGRES_URL"

// Clock is a settable clock for tests.
type Clock struct{ t atomic.Int64 }

// NewClock starts a clock at t.
func NewClock(t time.Time) *Clock { c := &Clock{}; c.Set(t); return c }

// Now returns the clock's time.
func (c *Clock) Now() time.Time { return time.Unix(0, c.t.Load()).UTC() }

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) { c.t.Store(t.UnixNano()) }

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) { c.t.Add(int64(d)) }

// SQLiteURL returns a database URL for a new SQLite file under t.TempDir().
func SQLiteURL(t testing.TB) string {
	return "sqlite:" + filepath.Join(t.TempDir(), "focal.db")
}

// PostgresURL returns a URL for a fresh schema on the test PostgreSQL
// server, dropped when the test ends, or skips the test when none is set.
func PostgresURL(t testing.TB) string {
	base := os.Getenv(EnvPostgres)
	if base == "" {
		t.Skipf("PostgreSQL tests skipped: set %s (CI does)", EnvPostgres)
	}
	db, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatalf("open %s: %v", EnvPostgres, err)
	}
	defer db.Close()
	schema := fmt.Sprintf("t_%d_%d", time.Now().UnixNano(), os.Getpid())
	if _, err := db.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", base)
		if err == nil {
			db.Exec("DROP SCHEMA " + schema + " CASCADE")
			db.Close()
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse %s: %v", EnvPostgres, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Open returns a migrated store on the database at url, closed at cleanup.
func Open(t testing.TB, dbURL string) *models.Store {
	t.Helper()
	s, err := models.Open(context.Background(), dbURL, nil)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return s
}

// SQLite returns a fresh migrated SQLite store.
func SQLite(t testing.TB) *models.Store { return Open(t, SQLiteURL(t)) }

// Dialects runs fn as a subtest on SQLite and, when configured, PostgreSQL.
// The PostgreSQL subtest skips with a clear message when it is not.
func Dialects(t *testing.T, fn func(t *testing.T, dbURL string)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLiteURL(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, PostgresURL(t)) })
}

// Stores is Dialects with an opened, migrated store.
func Stores(t *testing.T, fn func(t *testing.T, s *models.Store)) {
	Dialects(t, func(t *testing.T, u string) { fn(t, Open(t, u)) })
}

// IsPostgres reports whether a URL names PostgreSQL.
func IsPostgres(u string) bool { return strings.HasPrefix(u, "postgres") }
