package models_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"gorm.io/gorm"

	"focalpoint/models"
	"focalpoint/models/modeltest"
)

func TestMigrationsRecordedAndIdempotent(t *testing.T) {
	modeltest.Stores(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		got, err := s.AppliedMigrations(ctx)
		if err != nil {
			t.Fatal(err)
		}
		want := models.Migrations()
		if len(got) != len(want) {
			t.Fatalf("schema_migrations has %d rows, %d migrations registered", len(got), len(want))
		}
		for i, m := range want {
			if got[i] != m.Version {
				t.Fatalf("row %d: version %d, want %d", i, got[i], m.Version)
			}
		}
		// Running again changes nothing and does not fail.
		if err := s.Migrate(ctx); err != nil {
			t.Fatalf("second Migrate: %v", err)
		}
		again, _ := s.AppliedMigrations(ctx)
		if len(again) != len(got) {
			t.Fatalf("re-run recorded %d rows, had %d", len(again), len(got))
		}
		// The schema is really there: a staff account can be created.
		if _, err := s.CreateStaff(ctx, models.NewStaff{Email: "m@example.org", Name: "M", Role: "analyst", Password: "long enough password"}, nil); err != nil {
			t.Fatal(err)
		}
	})
}

func TestMigrationOrderAndNewOnes(t *testing.T) {
	modeltest.Stores(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		list := []models.Migration{
			{Version: 9001, Name: "a", SQL: "CREATE TABLE mig_a (id {{ID}}, at {{TIME}});\nINSERT INTO mig_a (at) VALUES (CURRENT_TIMESTAMP);\n"},
			{Version: 9002, Name: "b", Up: func(tx *gorm.DB, d models.Dialect) error {
				// Runs after 9001: its table exists.
				return tx.Exec("INSERT INTO mig_a (at) VALUES (CURRENT_TIMESTAMP)").Error
			}},
		}
		if err := s.MigrateList(ctx, list); err != nil {
			t.Fatal(err)
		}
		if err := s.MigrateList(ctx, list); err != nil {
			t.Fatalf("re-run: %v", err)
		}
		var n int64
		s.R.Raw("SELECT COUNT(*) FROM mig_a").Scan(&n)
		if n != 2 {
			t.Fatalf("mig_a has %d rows, want 2 (each migration applied once)", n)
		}
		var names []string
		s.R.Raw("SELECT name FROM schema_migrations WHERE version > 9000 ORDER BY version").Scan(&names)
		if len(names) != 2 || names[0] != "a" || names[1] != "b" {
			t.Fatalf("recorded %v", names)
		}
	})
}

func TestFailingMigrationRollsBackFully(t *testing.T) {
	modeltest.Stores(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		bad := []models.Migration{
			{Version: 9101, Name: "ok", SQL: "CREATE TABLE mig_ok (id {{ID}});\n"},
			{Version: 9102, Name: "half", SQL: "CREATE TABLE mig_half (id {{ID}});\nINSERT INTO mig_half (id) VALUES (1);\nINSERT INTO no_such_table (x) VALUES (1);\n"},
			{Version: 9103, Name: "after", SQL: "CREATE TABLE mig_after (id {{ID}});\n"},
		}
		err := s.MigrateList(ctx, bad)
		if err == nil {
			t.Fatal("a failing migration returned no error")
		}
		if !containsAll(err.Error(), "9102", "half") {
			t.Fatalf("error does not name the migration: %v", err)
		}
		var versions []int
		s.R.Raw("SELECT version FROM schema_migrations WHERE version > 9000 ORDER BY version").Scan(&versions)
		if len(versions) != 1 || versions[0] != 9101 {
			t.Fatalf("recorded %v, want only 9101", versions)
		}
		if tableExists(s, "mig_half") {
			t.Fatal("the failed migration's table survived: not rolled back")
		}
		if tableExists(s, "mig_after") {
			t.Fatal("a migration after the failing one ran")
		}
		if !tableExists(s, "mig_ok") {
			t.Fatal("the migration before the failing one was lost")
		}
		// A failing Up func rolls back its SQL too.
		upFail := []models.Migration{{Version: 9201, Name: "up fails", SQL: "CREATE TABLE mig_up (id {{ID}});\n",
			Up: func(tx *gorm.DB, d models.Dialect) error { return errors.New("boom") }}}
		if err := s.MigrateList(ctx, upFail); err == nil {
			t.Fatal("Up error not returned")
		}
		if tableExists(s, "mig_up") {
			t.Fatal("SQL of a migration whose Up failed was kept")
		}
		var n int64
		s.R.Raw("SELECT COUNT(*) FROM schema_migrations WHERE version = 9201").Scan(&n)
		if n != 0 {
			t.Fatal("failed migration recorded")
		}
	})
}

func tableExists(s *models.Store, name string) bool {
	var n int64
	if s.Dialect == models.SQLite {
		s.R.Raw("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?", name).Scan(&n)
	} else {
		s.R.Raw("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ?", name).Scan(&n)
	}
	return n > 0
}

func containsAll(s string, parts ...string) bool {
	for _, p := range parts {
		if !contains(s, p) {
			return false
		}
	}
	return true
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
