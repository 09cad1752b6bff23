package models

import (
	"context"
	"strings"
	"time"

	"gorm.io/gorm"
)

func init() {
	// The database itself refuses to change or remove an audit entry, so
	// "append-only" holds even for code that forgets it.
	Register(Migration{Version: 500, Name: "export/audit: audit log is append-only; actor index", Up: func(tx *gorm.DB, d Dialect) error {
		stmts := []string{
			`CREATE INDEX audit_log_actor ON audit_log (actor, at)`,
			`CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END`,
			`CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END`,
		}
		if d == Postgres {
			stmts = []string{
				`CREATE INDEX audit_log_actor ON audit_log (actor, at)`,
				`CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'audit_log is append-only'; END $$`,
				`CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION audit_log_append_only()`,
				`CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only()`,
			}
		}
		for _, st := range stmts {
			if err := tx.Exec(st).Error; err != nil {
				return err
			}
		}
		return nil
	}})
}

// Reading the audit log. The log is append-only: entries are written by
// AppendAudit inside the transaction of what they record, and nothing in
// the code updates or deletes them.

// AuditFilter selects audit entries; zero fields do not filter.
type AuditFilter struct {
	// Action matches an action exactly ("export.download") or, without a
	// dot, every action of that family ("export").
	Action string
	// Actor is the email of the account (or "system"), case-insensitive.
	Actor  string
	Since  *time.Time
	Until  *time.Time
	Limit  int
	Offset int
}

// ListAudit returns audit entries, newest first, and how many match.
func (s *Store) ListAudit(ctx context.Context, f AuditFilter) ([]AuditEntry, int64, error) {
	q := s.ReadDB(ctx).Model(&AuditEntry{})
	if a := strings.TrimSpace(f.Action); a != "" {
		if strings.Contains(a, ".") {
			q = q.Where("action = ?", a)
		} else {
			q = q.Where("action = ? OR action LIKE ? ESCAPE '\\'", a, auditEscapeLike(a)+".%")
		}
	}
	if a := strings.TrimSpace(f.Actor); a != "" {
		q = q.Where("LOWER(actor) = ?", strings.ToLower(a))
	}
	if f.Since != nil {
		q = q.Where("at >= ?", f.Since.UTC())
	}
	if f.Until != nil {
		q = q.Where("at < ?", f.Until.UTC())
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, err
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	var out []AuditEntry
	err := q.Order("at DESC, id DESC").Limit(limit).Offset(f.Offset).Find(&out).Error
	return out, total, err
}

// AuditActions lists the distinct actions in the log (for the filter).
func (s *Store) AuditActions(ctx context.Context) ([]string, error) {
	var out []string
	err := s.ReadDB(ctx).Model(&AuditEntry{}).Distinct("action").Order("action").Pluck("action", &out).Error
	return out, err
}

func auditEscapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
