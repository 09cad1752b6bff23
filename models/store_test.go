package models_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"gorm.io/gorm"

	"focalpoint/models"
	"focalpoint/models/modeltest"
)

func createScratch(t *testing.T, s *models.Store) {
	t.Helper()
	err := s.MigrateList(context.Background(), []models.Migration{{Version: 9500, Name: "scratch",
		SQL: "CREATE TABLE scratch (id {{ID}}, n INTEGER NOT NULL UNIQUE);\n"}})
	if err != nil {
		t.Fatal(err)
	}
}

// writeScratch writes the scratch row n through Write.
func writeScratch(ctx context.Context, s *models.Store, n int) error {
	return s.Write(ctx, func(tx *gorm.DB) error { return tx.Exec("INSERT INTO scratch (n) VALUES (?)", n).Error })
}

func countScratch(t *testing.T, s *models.Store, where string, args ...any) int64 {
	t.Helper()
	var n int64
	q := "SELECT COUNT(*) FROM scratch"
	if where != "" {
		q += " WHERE " + where
	}
	if err := s.R.Raw(q, args...).Scan(&n).Error; err != nil {
		t.Fatal(err)
	}
	return n
}

func TestWriteManyConcurrentAllCommit(t *testing.T) {
	modeltest.Stores(t, func(t *testing.T, s *models.Store) {
		createScratch(t, s)
		const n = 200
		var wg sync.WaitGroup
		errs := make(chan error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs <- writeScratch(context.Background(), s, i)
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatal(err)
			}
		}
		// Acknowledged means committed: a reader on another connection sees all.
		if got := countScratch(t, s, ""); got != n {
			t.Fatalf("%d rows committed, want %d", got, n)
		}
		if s.Dialect == models.SQLite && s.Batches() >= n {
			t.Logf("no grouping happened (%d batches for %d writes)", s.Batches(), n)
		}
	})
}

func TestWriteFailureRollsBackOnlyItsOwnChanges(t *testing.T) {
	modeltest.Stores(t, func(t *testing.T, s *models.Store) {
		createScratch(t, s)
		// A long linger so that every write below joins one SQLite batch.
		s.Linger = 300 * time.Millisecond
		before := s.Batches()
		var wg sync.WaitGroup
		results := make([]error, 9)
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] = s.Write(context.Background(), func(tx *gorm.DB) error {
					if err := tx.Exec("INSERT INTO scratch (n) VALUES (?)", 100+i).Error; err != nil {
						return err
					}
					switch i {
					case 3: // a business error after a successful statement
						return models.ErrConflict
					case 5: // a failing statement after a successful one
						if err := tx.Exec("INSERT INTO scratch (n) VALUES (?)", 1000).Error; err != nil {
							return err
						}
						return tx.Exec("INSERT INTO scratch (n) VALUES (?)", 1000).Error
					case 7: // a panic
						panic("something broke")
					}
					return nil
				})
			}()
		}
		wg.Wait()
		for i, err := range results {
			switch i {
			case 3:
				if !errors.Is(err, models.ErrConflict) {
					t.Fatalf("write 3: %v, want ErrConflict", err)
				}
			case 5:
				if err == nil {
					t.Fatal("write 5: duplicate key not reported")
				}
			case 7:
				if err == nil || !strings.Contains(err.Error(), "panic") {
					t.Fatalf("write 7: panic became %v", err)
				}
			default:
				if err != nil {
					t.Fatalf("write %d: %v", i, err)
				}
			}
		}
		for i := range results {
			want := int64(1)
			if i == 3 || i == 5 || i == 7 {
				want = 0
			}
			if got := countScratch(t, s, "n = ?", 100+i); got != want {
				t.Fatalf("write %d: %d rows, want %d", i, got, want)
			}
		}
		if got := countScratch(t, s, "n = 1000"); got != 0 {
			t.Fatal("the failing write's first statement was kept")
		}
		if s.Dialect == models.SQLite {
			if b := s.Batches() - before; b != 1 {
				t.Logf("writes spread over %d batches (machine busy?)", b)
			}
		}
		// The store still works after the failures.
		if err := writeScratch(context.Background(), s, 2000); err != nil {
			t.Fatal(err)
		}
	})
}

func TestWriteSameBatchIsolation(t *testing.T) {
	// Deterministic version of the test above on SQLite: the writer is
	// held busy while the writes queue, so they must share one batch.
	s := modeltest.SQLite(t)
	createScratch(t, s)
	s.Linger = 50 * time.Millisecond
	release := make(chan struct{})
	started := make(chan struct{})
	go s.Write(context.Background(), func(tx *gorm.DB) error {
		close(started)
		<-release
		return nil
	})
	<-started
	var wg sync.WaitGroup
	results := make([]error, 4)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = s.Write(context.Background(), func(tx *gorm.DB) error {
				if err := tx.Exec("INSERT INTO scratch (n) VALUES (?)", i).Error; err != nil {
					return err
				}
				if i == 1 {
					return errors.New("refused")
				}
				return nil
			})
		}()
	}
	// Give the goroutines time to queue behind the held write.
	time.Sleep(100 * time.Millisecond)
	before := s.Batches()
	close(release)
	wg.Wait()
	if results[1] == nil || results[1].Error() != "refused" {
		t.Fatalf("failing write returned %v", results[1])
	}
	for _, i := range []int{0, 2, 3} {
		if results[i] != nil {
			t.Fatalf("write %d: %v", i, results[i])
		}
	}
	if got := countScratch(t, s, ""); got != 3 {
		t.Fatalf("%d rows, want 3 (the failing write's row rolled back, the others kept)", got)
	}
	if got := s.Batches() - before; got > 2 {
		t.Logf("%d batches", got)
	}
}

func TestWriteAfterClose(t *testing.T) {
	modeltest.Dialects(t, func(t *testing.T, u string) {
		s, err := models.Open(context.Background(), u, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		s.Close()
		done := make(chan error, 1)
		go func() { done <- s.Write(context.Background(), func(tx *gorm.DB) error { return nil }) }()
		select {
		case err := <-done:
			if !errors.Is(err, models.ErrStoreClosed) {
				t.Fatalf("Write after Close: %v, want ErrStoreClosed", err)
			}
		case <-time.After(10 * time.Second):
			t.Fatal("Write after Close hangs")
		}
		s.Close() // a second Close is harmless
	})
}

func TestWriteCancelledContextBeforeQueue(t *testing.T) {
	s := modeltest.SQLite(t)
	createScratch(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	err := writeScratch(ctx, s, 1)
	if err == nil {
		t.Fatal("a cancelled write reported success")
	}
	if countScratch(t, s, "") != 0 {
		t.Fatal("a write that reported an error was committed")
	}
}

// BenchmarkWrite compares one small durable write at a time (each its own
// fsync'd commit) with many concurrent writers sharing group commits.
// go test -run=^$ -bench=BenchmarkWrite -benchtime=2000x ./models
func BenchmarkWrite(b *testing.B) {
	for _, mode := range []string{"serial", "concurrent-64"} {
		b.Run(mode, func(b *testing.B) {
			s := modeltest.SQLite(b)
			if err := s.MigrateList(context.Background(), []models.Migration{{Version: 9500, Name: "scratch",
				SQL: "CREATE TABLE scratch (id {{ID}}, n INTEGER NOT NULL);\n"}}); err != nil {
				b.Fatal(err)
			}
			write := func(i int) {
				if err := writeScratch(context.Background(), s, i); err != nil {
					b.Error(err)
				}
			}
			before := s.Batches()
			b.ResetTimer()
			if mode == "serial" {
				for i := range b.N {
					write(i)
				}
			} else {
				var wg sync.WaitGroup
				next := make(chan int)
				for range 64 {
					wg.Add(1)
					go func() {
						defer wg.Done()
						for i := range next {
							write(i)
						}
					}()
				}
				for i := range b.N {
					next <- i
				}
				close(next)
				wg.Wait()
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/float64(max(1, s.Batches()-before)), "writes/commit")
		})
	}
}
