package models_test

import (
	"context"
	"testing"

	"gorm.io/gorm"

	"focalpoint/models"
	"focalpoint/models/modeltest"
)

// SQLite's page cache is per connection, so its memory is the sum over the
// pools: every reader gets the small cache and keeps it after an export
// (which once set 32 MB back on its connection), the writer the large one
// (issue 8: the server's peak RSS during an export).
func TestSQLiteCacheSizes(t *testing.T) {
	s := modeltest.SQLite(t)
	ctx := context.Background()
	if _, err := s.PlanExport(ctx, 1, models.ExportOptions{}); err == nil {
		t.Fatal("plan of a missing consultation succeeded")
	}
	checkReaders := func(when string) {
		t.Helper()
		db, err := s.R.DB()
		if err != nil {
			t.Fatal(err)
		}
		n := db.Stats().MaxOpenConnections
		if n < 2 {
			t.Fatalf("read pool of %d connections", n)
		}
		// Hold every connection of the pool at once, so each is checked.
		for i := 0; i < n; i++ {
			c, err := db.Conn(ctx)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			var kib int
			if err := c.QueryRowContext(ctx, "PRAGMA cache_size").Scan(&kib); err != nil {
				t.Fatal(err)
			}
			if kib != -models.ReaderCacheKiB {
				t.Errorf("%s: read connection %d has cache_size %d, want %d", when, i, kib, -models.ReaderCacheKiB)
			}
		}
	}
	checkReaders("at start")
	var kib int
	if err := s.Write(ctx, func(tx *gorm.DB) error { return tx.Raw("PRAGMA cache_size").Scan(&kib).Error }); err != nil {
		t.Fatal(err)
	}
	if kib != -models.WriterCacheKiB {
		t.Errorf("writer has cache_size %d, want %d", kib, -models.WriterCacheKiB)
	}
	if models.ReaderCacheKiB > 4000 {
		t.Errorf("ReaderCacheKiB = %d: at most 4 MB a reader keeps the server under 100 MB (docs/BENCHMARKS.md)", models.ReaderCacheKiB)
	}

	// An export on every reader connection in turn leaves the cache as it was.
	c := &models.Consultation{Title: "Cache", Unit: models.UnitPerson, MinCellSize: 5}
	if err := s.Write(ctx, func(tx *gorm.DB) error { return tx.Create(c).Error }); err != nil {
		t.Fatal(err)
	}
	plan, err := s.PlanExport(ctx, c.ID, models.ExportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 8; i++ {
		if _, err := s.StreamExport(ctx, plan, func(*models.ExportRow) error { return nil }); err != nil {
			t.Fatal(err)
		}
	}
	checkReaders("after exports")
}
