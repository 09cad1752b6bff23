package models

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"gorm.io/gorm"
)

// The bulk path: loading millions of rows (the bench generator, large
// imports) with batched multi-row INSERTs inside large transactions on the
// writer. Request paths never use it; they go through Write one request at
// a time. A Bulk buffers rows per table and flushes every table in the
// order the tables were first used, so parents are always written before
// the rows that reference them.

// bulkMaxParams bounds the parameters of one INSERT (SQLite allows 32766,
// PostgreSQL 65535).
const bulkMaxParams = 30000

// Bulk gathers rows for multi-row INSERTs inside one transaction.
type Bulk struct {
	ctx     context.Context
	conn    gorm.ConnPool
	dialect Dialect
	order   []*bulkTable
	tables  map[string]*bulkTable
	// Rows counts the rows written per table.
	Rows map[string]int64
}

type bulkTable struct {
	name    string
	cols    []string
	perStmt int // rows per full INSERT
	args    []any
	n       int
	stmt    *sql.Stmt // prepared full-size INSERT, reused within the transaction
}

// BulkLoad runs fn with a Bulk inside one write transaction and flushes what
// fn left buffered before committing. Call it repeatedly with chunks of a
// few thousand parents: each call is one transaction on the writer.
func (s *Store) BulkLoad(ctx context.Context, fn func(b *Bulk) error) (map[string]int64, error) {
	var rows map[string]int64
	err := s.Write(ctx, func(tx *gorm.DB) error {
		b := &Bulk{ctx: ctx, conn: tx.Statement.ConnPool, dialect: s.Dialect, tables: map[string]*bulkTable{}, Rows: map[string]int64{}}
		defer b.close()
		if err := fn(b); err != nil {
			return err
		}
		if err := b.Flush(); err != nil {
			return err
		}
		rows = b.Rows
		return nil
	})
	return rows, err
}

// Table declares a table and its columns; Add then takes values in that
// order. Declaring tables up front fixes the flush order (parents first).
func (b *Bulk) Table(name string, cols ...string) {
	if _, ok := b.tables[name]; ok {
		return
	}
	per := bulkMaxParams / len(cols)
	t := &bulkTable{name: name, cols: cols, perStmt: per, args: make([]any, 0, per*len(cols))}
	b.tables[name] = t
	b.order = append(b.order, t)
}

// Add buffers one row of a declared table; a full buffer flushes every
// table (in declaration order).
func (b *Bulk) Add(table string, vals ...any) error {
	t, ok := b.tables[table]
	if !ok {
		return fmt.Errorf("bulk: table %s not declared", table)
	}
	if len(vals) != len(t.cols) {
		return fmt.Errorf("bulk: %s takes %d values, got %d", table, len(t.cols), len(vals))
	}
	t.args = append(t.args, vals...)
	t.n++
	if t.n >= t.perStmt {
		return b.Flush()
	}
	return nil
}

// Flush writes every buffered row, tables in declaration order.
func (b *Bulk) Flush() error {
	for _, t := range b.order {
		if err := b.flushTable(t); err != nil {
			return err
		}
	}
	return nil
}

func (b *Bulk) flushTable(t *bulkTable) error {
	if t.n == 0 {
		return nil
	}
	var err error
	if t.n == t.perStmt {
		if t.stmt == nil {
			t.stmt, err = b.conn.PrepareContext(b.ctx, insertSQL(b.dialect, t.name, t.cols, t.n))
			if err != nil {
				return fmt.Errorf("bulk insert into %s: %w", t.name, err)
			}
		}
		_, err = t.stmt.ExecContext(b.ctx, t.args...)
	} else {
		_, err = b.conn.ExecContext(b.ctx, insertSQL(b.dialect, t.name, t.cols, t.n), t.args...)
	}
	if err != nil {
		return fmt.Errorf("bulk insert into %s: %w", t.name, err)
	}
	b.Rows[t.name] += int64(t.n)
	clear(t.args)
	t.args = t.args[:0]
	t.n = 0
	return nil
}

func (b *Bulk) close() {
	for _, t := range b.order {
		if t.stmt != nil {
			t.stmt.Close()
		}
	}
}

// insertSQL builds INSERT INTO t (cols) VALUES (...),(...) for n rows.
func insertSQL(d Dialect, table string, cols []string, n int) string {
	var sb strings.Builder
	sb.Grow(32 + len(table) + n*(len(cols)*4+3))
	sb.WriteString("INSERT INTO ")
	sb.WriteString(table)
	sb.WriteString(" (")
	sb.WriteString(strings.Join(cols, ","))
	sb.WriteString(") VALUES ")
	p := 1
	for i := 0; i < n; i++ {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteByte('(')
		for j := range cols {
			if j > 0 {
				sb.WriteByte(',')
			}
			if d == Postgres {
				fmt.Fprintf(&sb, "$%d", p)
				p++
			} else {
				sb.WriteByte('?')
			}
		}
		sb.WriteByte(')')
	}
	return sb.String()
}

// NextID returns one more than the largest id of table, so that a bulk
// load can assign ids itself and reference them at once. Only for tools
// that load alone (no concurrent inserts into the same table); on
// PostgreSQL call SyncSequences afterwards.
func (s *Store) NextID(ctx context.Context, table string) (int64, error) {
	var max sql.NullInt64
	if err := s.ReadDB(ctx).Raw("SELECT MAX(id) FROM " + table).Scan(&max).Error; err != nil {
		return 0, err
	}
	return max.Int64 + 1, nil
}

// SyncSequences moves PostgreSQL id sequences past ids a bulk load chose
// itself (SQLite's AUTOINCREMENT follows explicit ids on its own).
func (s *Store) SyncSequences(ctx context.Context, tables ...string) error {
	if s.Dialect != Postgres {
		return nil
	}
	return s.Write(ctx, func(tx *gorm.DB) error {
		for _, t := range tables {
			if err := tx.Exec(fmt.Sprintf("SELECT setval(pg_get_serial_sequence('%s', 'id'), COALESCE((SELECT MAX(id) FROM %s), 0) + 1, false)", t, t)).Error; err != nil {
				return err
			}
		}
		return nil
	})
}

// DeferIndexes drops the secondary indexes of tables (SQLite only; the
// indexes behind PRIMARY KEY and UNIQUE constraints stay) and returns the
// function that recreates them from their saved definitions. Building an
// index once after a large load costs much less than maintaining it row
// by row. Only for tools that load alone into mostly empty tables; call
// restore even when the load fails.
func (s *Store) DeferIndexes(ctx context.Context, tables ...string) (restore func(context.Context) error, err error) {
	return s.DeferIndexesExcept(ctx, nil, tables...)
}

// DeferIndexesExcept is DeferIndexes keeping the indexes named in keep:
// an index whose keys a load appends in increasing order (ids, a constant
// column then an id) costs little to maintain row by row, less than the
// table scan and sort of rebuilding it.
func (s *Store) DeferIndexesExcept(ctx context.Context, keep []string, tables ...string) (restore func(context.Context) error, err error) {
	return s.deferSchema(ctx, "index", keep, tables)
}

// deferSchema drops the SQLite schema objects of a kind ("index" or
// "trigger", those with SQL: not the automatic ones) on tables, except
// those named in keep, and returns the function that recreates them from
// their saved definitions.
func (s *Store) deferSchema(ctx context.Context, kind string, keep, tables []string) (restore func(context.Context) error, err error) {
	noop := func(context.Context) error { return nil }
	if s.Dialect != SQLite || len(tables) == 0 {
		return noop, nil
	}
	type object struct{ Name, SQL string }
	var objs []object
	err = s.Write(ctx, func(tx *gorm.DB) error {
		var all []object
		if err := tx.Raw("SELECT name, sql FROM sqlite_master WHERE type = ? AND sql IS NOT NULL AND tbl_name IN ? ORDER BY name", kind, tables).Scan(&all).Error; err != nil {
			return err
		}
		objs = objs[:0]
		for _, o := range all {
			if slices.Contains(keep, o.Name) {
				continue
			}
			if err := tx.Exec(`DROP ` + strings.ToUpper(kind) + ` "` + strings.ReplaceAll(o.Name, `"`, `""`) + `"`).Error; err != nil {
				return err
			}
			objs = append(objs, o)
		}
		return nil
	})
	if err != nil {
		return noop, err
	}
	return func(ctx context.Context) error {
		return s.Write(ctx, func(tx *gorm.DB) error {
			for _, o := range objs {
				if err := tx.Exec(o.SQL).Error; err != nil {
					return fmt.Errorf("recreate %s %s: %w", kind, o.Name, err)
				}
			}
			return nil
		})
	}, nil
}
