package models

import (
	"database/sql"
	"strings"

	"gorm.io/gorm"
)

// The single SQLite writer's hot statements (every save and submit), and
// the reads of every respondent request, go to the connection directly:
// GORM's statement building (it walks the SQL for each placeholder and
// copies the arguments) took about a tenth of the writer's time. Only for
// SQL whose arguments are plain values: no slices for "IN ?" (see
// placeholders), no named arguments, no GORM expressions, and no
// constraint the caller needs translated (errors come back as the driver
// gives them). On PostgreSQL, whose placeholders GORM rewrites, they go
// through GORM as before.

// execDirect runs q in tx and returns the rows affected.
func execDirect(tx *gorm.DB, q string, args ...any) (int64, error) {
	n, _, err := execDirectLast(tx, q, args...)
	return n, err
}

// execDirectLast is execDirect that also returns, on SQLite, the rowid
// of the last row q inserted (0 on PostgreSQL).
func execDirectLast(tx *gorm.DB, q string, args ...any) (affected, lastID int64, err error) {
	if tx.Dialector.Name() != "sqlite" {
		res := tx.Exec(q, args...)
		return res.RowsAffected, 0, res.Error
	}
	res, err := tx.Statement.ConnPool.ExecContext(tx.Statement.Context, q, args...)
	if err != nil {
		return 0, 0, err
	}
	if affected, err = res.RowsAffected(); err != nil {
		return 0, 0, err
	}
	lastID, err = res.LastInsertId()
	return affected, lastID, err
}

// scanner is a single row's Scan.
type scanner interface{ Scan(dest ...any) error }

// queryDirect runs q in tx for rows.
func queryDirect(tx *gorm.DB, q string, args ...any) (*sql.Rows, error) {
	if tx.Dialector.Name() != "sqlite" {
		return tx.Raw(q, args...).Rows()
	}
	return tx.Statement.ConnPool.QueryContext(tx.Statement.Context, q, args...)
}

// queryRowDirect runs q in tx for one row (sql.ErrNoRows when none).
func queryRowDirect(tx *gorm.DB, q string, args ...any) scanner {
	if tx.Dialector.Name() != "sqlite" {
		return tx.Raw(q, args...).Row()
	}
	return tx.Statement.ConnPool.QueryRowContext(tx.Statement.Context, q, args...)
}

// placeholders returns "(?,?,…)" for n values and appends them to args, for an
// "IN" written out for execDirect.
func placeholders[T any](args []any, vals []T) (string, []any) {
	for _, v := range vals {
		args = append(args, v)
	}
	return "(" + strings.TrimSuffix(strings.Repeat("?,", len(vals)), ",") + ")", args
}
