package models

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Migration is one ordered, versioned schema change. Each aggregate file
// registers its own migrations in init() with versions from its own block
// (foundation 1–99, consultations 100–199, invitations/mail 200–299, roster
// 300–399, synthesis 400–499, export/audit 500–599, scale 600–699), so
// areas do not collide. SQL may use the placeholders of dialectSQL.
type Migration struct {
	Version int
	Name    string
	SQL     string                                   // statements separated by ";" at line end
	Up      func(tx *gorm.DB, dialect Dialect) error // for what SQL cannot say
}

var registry = map[int]Migration{}

// Register adds a migration; a duplicate version is a programming error.
func Register(m Migration) {
	if old, ok := registry[m.Version]; ok {
		panic(fmt.Sprintf("migration %d registered twice (%s, %s)", m.Version, old.Name, m.Name))
	}
	registry[m.Version] = m
}

// Migrations lists the registered migrations in order.
func Migrations() []Migration {
	out := make([]Migration, 0, len(registry))
	for _, m := range registry {
		out = append(out, m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out
}

// dialectSQL replaces the portable placeholders:
//
//	{{ID}}    an auto-increment integer primary key
//	{{TIME}}  a timestamp (UTC)
//	{{BLOB}}  binary data
//	{{BIGINT}} a 64-bit integer
//	{{TEXT}}  unbounded text
func dialectSQL(d Dialect, sql string) string {
	var r *strings.Replacer
	if d == Postgres {
		r = strings.NewReplacer("{{ID}}", "BIGSERIAL PRIMARY KEY", "{{TIME}}", "TIMESTAMPTZ",
			"{{BLOB}}", "BYTEA", "{{BIGINT}}", "BIGINT", "{{TEXT}}", "TEXT")
	} else {
		r = strings.NewReplacer("{{ID}}", "INTEGER PRIMARY KEY AUTOINCREMENT", "{{TIME}}", "DATETIME",
			"{{BLOB}}", "BLOB", "{{BIGINT}}", "INTEGER", "{{TEXT}}", "TEXT")
	}
	return r.Replace(sql)
}

// splitSQL splits a script on semicolons that end a line.
func splitSQL(script string) []string {
	var out []string
	var cur strings.Builder
	for _, line := range strings.Split(script, "\n") {
		cur.WriteString(line)
		cur.WriteByte('\n')
		if strings.HasSuffix(strings.TrimSpace(line), ";") {
			if st := strings.TrimSpace(cur.String()); st != ";" {
				out = append(out, st)
			}
			cur.Reset()
		}
	}
	if st := strings.TrimSpace(cur.String()); st != "" {
		out = append(out, st)
	}
	return out
}

// Migrate applies the pending migrations in order, each in its own
// transaction together with its row in schema_migrations. It is safe to run
// from several instances at once on PostgreSQL (an advisory lock serialises
// them).
func (s *Store) Migrate(ctx context.Context) error { return s.migrate(ctx, Migrations()) }

// migrate applies list (in order) where not yet recorded.
func (s *Store) migrate(ctx context.Context, list []Migration) error {
	db := s.w.WithContext(ctx)
	if err := db.Exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at ` + dialectSQL(s.Dialect, "{{TIME}}") + ` NOT NULL)`).Error; err != nil {
		return fmt.Errorf("create schema_migrations: %w", err)
	}
	if s.Dialect == Postgres {
		conn, err := db.DB()
		if err != nil {
			return err
		}
		c, err := conn.Conn(ctx)
		if err != nil {
			return err
		}
		defer c.Close()
		if _, err := c.ExecContext(ctx, "SELECT pg_advisory_lock(727274)"); err != nil {
			return err
		}
		defer c.ExecContext(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock(727274)")
	}
	var done []int
	if err := db.Raw("SELECT version FROM schema_migrations").Scan(&done).Error; err != nil {
		return err
	}
	applied := map[int]bool{}
	for _, v := range done {
		applied[v] = true
	}
	for _, m := range list {
		if applied[m.Version] {
			continue
		}
		err := db.Transaction(func(tx *gorm.DB) error {
			for _, st := range splitSQL(dialectSQL(s.Dialect, m.SQL)) {
				if err := tx.Exec(st).Error; err != nil {
					return fmt.Errorf("%s: %w", firstLine(st), err)
				}
			}
			if m.Up != nil {
				if err := m.Up(tx, s.Dialect); err != nil {
					return err
				}
			}
			return tx.Exec("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)",
				m.Version, m.Name, time.Now().UTC()).Error
		})
		if err != nil {
			return fmt.Errorf("migration %d (%s): %w", m.Version, m.Name, err)
		}
		s.Log.Info("migrated", "version", m.Version, "name", m.Name)
	}
	// The writer connection commits without fsync (walsync.go).
	return s.SyncWAL()
}

// AppliedMigrations returns the versions recorded in schema_migrations.
func (s *Store) AppliedMigrations(ctx context.Context) ([]int, error) {
	var v []int
	err := s.R.WithContext(ctx).Raw("SELECT version FROM schema_migrations ORDER BY version").Scan(&v).Error
	return v, err
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
