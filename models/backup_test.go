package models_test

import (
	"context"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"gorm.io/driver/sqlite"
	"gorm.io/gorm"

	"focalpoint/models"
	"focalpoint/models/modeltest"
)

func TestBackupWhileWriting(t *testing.T) {
	s := modeltest.SQLite(t)
	createScratch(t, s)
	ctx := context.Background()
	for i := range 50 {
		if err := writeScratch(ctx, s, i); err != nil {
			t.Fatal(err)
		}
	}
	// Writers carry on during the copy.
	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 1000; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			if err := writeScratch(ctx, s, i); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	path := filepath.Join(t.TempDir(), "copy.db")
	err := s.Backup(ctx, path)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	db, err := gorm.Open(sqlite.Open("file:"+path+"?mode=ro"), &gorm.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { d, _ := db.DB(); d.Close() }()
	var n int64
	if err := db.Raw("SELECT COUNT(*) FROM scratch WHERE n < 1000").Scan(&n).Error; err != nil || n != 50 {
		t.Fatalf("the copy has %d of the 50 rows (%v)", n, err)
	}
	var check string
	db.Raw("PRAGMA integrity_check").Scan(&check)
	if check != "ok" {
		t.Fatalf("integrity_check: %s", check)
	}
	if err := s.Backup(ctx, path); err == nil || !strings.Contains(err.Error(), "exists already") {
		t.Fatalf("backup over an existing file: %v", err)
	}
}

func TestBackupOnPostgresPointsToPgDump(t *testing.T) {
	s := modeltest.Open(t, modeltest.PostgresURL(t))
	err := s.Backup(context.Background(), filepath.Join(t.TempDir(), "x"))
	if err == nil || !strings.Contains(err.Error(), "pg_dump") {
		t.Fatalf("PostgreSQL backup: %v", err)
	}
	_ = models.SQLite
}
