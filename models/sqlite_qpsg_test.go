package models

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mattn/go-sqlite3"
	"gorm.io/gorm"
)

// The store's SQLite connections, writer and readers, have the query
// planner stability guarantee on (see sqlite_qpsg.go), and a plain
// connection of the driver does not: the setting is ours.
func TestSQLiteConnectionsHaveQPSG(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "q.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	setting := func(db *gorm.DB) int {
		t.Helper()
		sqlDB, _ := db.DB()
		conn, err := sqlDB.Conn(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		var on int
		if err := conn.Raw(func(dc any) error {
			var err error
			on, err = qpsg(dc.(*sqlite3.SQLiteConn), -1)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		return on
	}
	if w, r := setting(s.w), setting(s.R); w != 1 || r != 1 {
		t.Fatalf("QPSG on the writer %d, on a reader %d; want 1 and 1", w, r)
	}
	plain, err := gorm.Open(sqliteDialector("sqlite3", "file:"+s.path+"?_query_only=on"), &gorm.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { db, _ := plain.DB(); db.Close() }()
	if on := setting(plain); on != 0 {
		t.Fatalf("QPSG %d on a plain driver connection, want 0 (SQLite's default)", on)
	}
}

// The writer keeps its statement journals in memory (temp_store=MEMORY,
// 2); the readers keep SQLite's default (0), so that an export's or a
// recount's temporary tables do not grow in memory.
func TestSQLiteWriterConnectionSettings(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "t.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var w, r int
	if err := s.w.WithContext(ctx).Raw("PRAGMA temp_store").Row().Scan(&w); err != nil {
		t.Fatal(err)
	}
	if err := s.R.WithContext(ctx).Raw("PRAGMA temp_store").Row().Scan(&r); err != nil {
		t.Fatal(err)
	}
	if w != 2 || r != 0 {
		t.Fatalf("temp_store on the writer %d, on a reader %d; want 2 and 0", w, r)
	}
	// The writer's auto-checkpoint waits for WriterAutoCheckpointPages.
	if err := s.w.WithContext(ctx).Raw("PRAGMA wal_autocheckpoint").Row().Scan(&w); err != nil {
		t.Fatal(err)
	}
	if w != WriterAutoCheckpointPages {
		t.Fatalf("wal_autocheckpoint on the writer %d, want %d", w, WriterAutoCheckpointPages)
	}
}

// TestSearchReindexWalksTheQueue: the indexer's re-indexing of rewritten
// answers walks the few queued ids, not submitted_answers up to the
// indexed id (which a plain join ordered by sa.id made the planner do: a
// tenth of the writer's time under the save+submit load).
func TestSearchReindexWalksTheQueue(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "t.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	rows, err := s.R.WithContext(ctx).Raw("EXPLAIN QUERY PLAN "+strings.TrimPrefix(searchReindexSQL, "INSERT INTO answer_fts(docid, body) "), 10000).Rows()
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if len(plan) == 0 || !strings.HasPrefix(plan[0], "SEARCH d ") {
		t.Fatalf("the re-indexing's plan does not start from the queue: %q", plan)
	}
}
