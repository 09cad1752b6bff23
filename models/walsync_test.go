package models_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gorm.io/gorm"

	"focalpoint/models"
	"focalpoint/models/modeltest"
)

// A write is acknowledged only after an fsync of the WAL that follows its
// COMMIT, and the writer commits the next batch while that fsync runs.
func TestWriteAcknowledgedOnlyAfterWALSync(t *testing.T) {
	s := modeltest.SQLite(t)
	createScratch(t, s)
	s.Linger = 0
	inSync := make(chan struct{}, 16)
	release := make(chan struct{})
	s.SetWALSyncHook(func() error {
		inSync <- struct{}{}
		<-release
		return nil
	})
	syncs := s.WALSyncs()
	first := make(chan error, 1)
	go func() {
		first <- writeScratch(context.Background(), s, 1)
	}()
	<-inSync // committed; its fsync is under way and held
	select {
	case err := <-first:
		t.Fatalf("write acknowledged (%v) before its WAL fsync finished", err)
	case <-time.After(50 * time.Millisecond):
	}
	// Committed though not yet acknowledged: another connection sees it.
	if got := countScratch(t, s, "n = 1"); got != 1 {
		t.Fatalf("row of the first write: %d after COMMIT, want 1", got)
	}
	// The writer is free: a second write commits while the fsync waits.
	second := make(chan error, 1)
	go func() {
		second <- writeScratch(context.Background(), s, 2)
	}()
	deadline := time.Now().Add(5 * time.Second)
	for countScratch(t, s, "n = 2") == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the writer did not commit the second write while the first one's fsync ran")
		}
		time.Sleep(5 * time.Millisecond)
	}
	select {
	case err := <-second:
		t.Fatalf("second write acknowledged (%v) before any fsync after its COMMIT", err)
	default:
	}
	close(release)
	for i, ch := range []chan error{first, second} {
		if err := <-ch; err != nil {
			t.Fatalf("write %d: %v", i+1, err)
		}
	}
	if n := s.WALSyncs() - syncs; n < 2 {
		t.Fatalf("%d WAL fsyncs for two writes committed apart, want at least 2", n)
	}
}

// A failed fsync refuses the writes it was to make durable.
func TestFailedWALSyncRefusesTheWrite(t *testing.T) {
	s := modeltest.SQLite(t)
	createScratch(t, s)
	fail := true
	s.SetWALSyncHook(func() error {
		if fail {
			return errors.New("EIO (simulated)")
		}
		return nil
	})
	err := writeScratch(context.Background(), s, 1)
	if !errors.Is(err, models.ErrNotDurable) {
		t.Fatalf("write whose fsync failed: %v, want ErrNotDurable", err)
	}
	fail = false
	if err := writeScratch(context.Background(), s, 2); err != nil {
		t.Fatalf("write after the disk recovered: %v", err)
	}
}

// The checkpointer copies committed pages from the WAL into the database
// file by itself, soon after they commit (here with the writer's own
// auto-checkpoint turned off, to see the checkpointer alone).
func TestCheckpointerCopiesTheWALBack(t *testing.T) {
	dbURL := modeltest.SQLiteURL(t)
	s := modeltest.Open(t, dbURL)
	createScratch(t, s)
	if err := s.WriterDB().Exec("PRAGMA wal_autocheckpoint=0").Error; err != nil {
		t.Fatal(err)
	}
	path := strings.TrimPrefix(dbURL, "sqlite:")
	size := func() int64 {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	before := size()
	// 4 MB in rows of 64 kB: far more than the writer's page cache holds
	// back, all of it in the WAL when committed.
	big := strings.Repeat("x", 64<<10)
	for i := range 64 {
		if err := writeScratch(context.Background(), s, i); err != nil {
			t.Fatal(err)
		}
		if err := s.Write(context.Background(), func(tx *gorm.DB) error {
			return tx.Exec("UPDATE scratch SET n = n WHERE n = ? AND length(?) > 0", i, big).Error
		}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Write(context.Background(), func(tx *gorm.DB) error {
		return tx.Exec("CREATE TABLE padding AS SELECT n, ? AS b FROM scratch", big).Error
	}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for size() < before+4<<20 {
		if time.Now().After(deadline) {
			t.Fatalf("database file %d bytes 10 s after 4 MB committed (was %d): the WAL was not checkpointed", size(), before)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A batch of rerunnable writes runs without savepoints; when one of them
// fails, the batch is rolled back and run again with savepoints, so the
// others still commit, once each, and the failing one leaves nothing.
// A batch with any plain Write runs with savepoints from the start.
func TestRerunnableBatchRunsAgainWhenOneFails(t *testing.T) {
	s := modeltest.SQLite(t)
	createScratch(t, s)
	run := func(n int, plain bool) []int {
		t.Helper()
		s.Linger = 300 * time.Millisecond
		defer func() { s.Linger = time.Millisecond }()
		before := s.Batches()
		runs := make([]int, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			fn := func(tx *gorm.DB) error {
				runs[i]++ // the writer runs fns one at a time
				if err := tx.Exec("INSERT INTO scratch (n) VALUES (?)", 1000*n+i).Error; err != nil {
					return err
				}
				if i == 3 {
					return errors.New("refused after writing")
				}
				return nil
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				if plain && i == n-1 {
					errs[i] = s.Write(context.Background(), fn)
				} else {
					errs[i] = s.WriteRerunnable(context.Background(), fn)
				}
			}()
			time.Sleep(5 * time.Millisecond) // in order, within the linger
		}
		wg.Wait()
		if b := s.Batches() - before; b != 1 {
			t.Fatalf("%d batches, want the %d writes in one", b, n)
		}
		for i := range n {
			want := int64(1)
			if i == 3 {
				want = 0
				if errs[i] == nil {
					t.Fatal("the failing write was acknowledged")
				}
			} else if errs[i] != nil {
				t.Fatalf("write %d: %v", i, errs[i])
			}
			if got := countScratch(t, s, "n = ?", 1000*n+i); got != want {
				t.Fatalf("write %d: %d rows, want %d", i, got, want)
			}
		}
		return runs
	}
	runs := run(6, false)
	// Without savepoints the first pass stopped at the failing write; the
	// second ran all six.
	if fmt.Sprint(runs) != "[2 2 2 2 1 1]" {
		t.Fatalf("runs per write %v, want [2 2 2 2 1 1]", runs)
	}
	if runs := run(7, true); fmt.Sprint(runs) != "[1 1 1 1 1 1 1]" {
		t.Fatalf("with a plain write in the batch, runs per write %v, want each once", runs)
	}
}

// Under continuous writes the WAL stays bounded: checkpoints must
// complete between the writer's transactions so the WAL restarts from
// its beginning (a checkpointer that only runs beside a writer that
// never pauses never catches up, and the WAL grows without end).
func TestWALStaysBoundedUnderContinuousWrites(t *testing.T) {
	dbURL := modeltest.SQLiteURL(t)
	s := modeltest.Open(t, dbURL)
	createScratch(t, s)
	if err := s.Write(context.Background(), func(tx *gorm.DB) error {
		return tx.Exec("CREATE TABLE blobs (id INTEGER PRIMARY KEY, b BLOB)").Error
	}); err != nil {
		t.Fatal(err)
	}
	wal := strings.TrimPrefix(dbURL, "sqlite:") + "-wal"
	chunk := strings.Repeat("x", 32<<10)
	var wg sync.WaitGroup
	var biggest atomic.Int64
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 { // 8 × 200 × 32 kB = 50 MB
				if err := s.Write(context.Background(), func(tx *gorm.DB) error {
					return tx.Exec("INSERT INTO blobs (b) VALUES (?)", chunk).Error
				}); err != nil {
					t.Error(err)
					return
				}
				if i%20 == 0 && g == 0 {
					if fi, err := os.Stat(wal); err == nil && fi.Size() > biggest.Load() {
						biggest.Store(fi.Size())
					}
				}
			}
		}()
	}
	wg.Wait()
	if b := biggest.Load(); b > 24<<20 {
		t.Fatalf("WAL reached %d MB while 50 MB were written: it does not restart", b>>20)
	}
}

// In bulk-load mode writes are acknowledged without an fsync; out of it,
// every acknowledged batch has one.
func TestBulkLoadSkipsTheFsync(t *testing.T) {
	s := modeltest.SQLite(t)
	createScratch(t, s)
	write := func(n int) {
		t.Helper()
		if err := writeScratch(context.Background(), s, n); err != nil {
			t.Fatal(err)
		}
	}
	s.SetBulkLoad(true)
	before := s.WALSyncs()
	for i := range 5 {
		write(i)
	}
	if n := s.WALSyncs() - before; n != 0 {
		t.Fatalf("%d fsyncs in bulk-load mode, want 0", n)
	}
	s.SetBulkLoad(false)
	write(99)
	if n := s.WALSyncs() - before; n != 1 {
		t.Fatalf("%d fsyncs for one write after bulk-load mode, want 1", n)
	}
}
