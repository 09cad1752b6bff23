package models

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Dialect names the database behind a Store.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// Store is the persistence of the whole domain. Writes go through Write,
// which on SQLite is a single writer connection doing group commit; reads
// use their own pool (Read).
type Store struct {
	Dialect Dialect
	// W is the writer handle. Use it only inside Write (or migrations).
	w *gorm.DB
	// R is the read pool.
	R *gorm.DB
	// Now is the clock; tests replace it.
	Now func() time.Time
	Log *slog.Logger
	// path is the SQLite file (for backups).
	path string

	writes    chan *writeReq
	stop      chan struct{}
	stopped   sync.WaitGroup
	closeOnce sync.Once
	// mu guards closed: senders hold it shared, Close exclusively, so no
	// write is queued after the writer has drained and stopped.
	mu     sync.RWMutex
	closed bool
	// batches counts committed SQLite transactions (group commits), and
	// batched the writes they held.
	batches, batched atomic.Int64
	// shared is the number of writes in the batch the writer runs now
	// (more than one: others wait for it too).
	shared atomic.Int64
	// syncs carries committed batches to the syncer, which answers them
	// once the WAL is on disk (walsync.go); walSyncs counts its fsyncs.
	syncs    chan syncBatch
	synced   sync.WaitGroup
	walSyncs atomic.Int64
	// bulkLoad: acknowledge without fsync, no background checkpoints
	// (SetBulkLoad).
	bulkLoad atomic.Bool
	// walSyncHook, set only by tests, runs before each WAL fsync.
	walSyncHook func() error
	// MaxBatch bounds how many writes one SQLite transaction gathers.
	MaxBatch int
	// Linger is how long a lone write waits for others to join its batch
	// (a write that finds others queued does not wait).
	Linger time.Duration
	// journeys caches consultations' rounds and questions (journey_cache.go).
	journeys journeyCache
	// memo remembers responses as their last write left them
	// (response_memo.go); nil on PostgreSQL.
	memo *responseMemo
	// foldMu lets one reader at a time fold the tally log (tally_log.go).
	foldMu sync.Mutex
	// searchMu lets one search at a time bring the index up to date
	// (search_index.go).
	searchMu sync.Mutex
}

// ParseDatabaseURL splits a FOCAL_DATABASE_URL into dialect and DSN.
// Accepted: "sqlite:PATH" (or sqlite://PATH, file:PATH) and postgres://...
func ParseDatabaseURL(raw string) (Dialect, string, error) {
	switch {
	case strings.HasPrefix(raw, "postgres://"), strings.HasPrefix(raw, "postgresql://"):
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" {
			return "", "", fmt.Errorf("database URL %q is not a valid postgres:// URL", redactURL(raw))
		}
		return Postgres, raw, nil
	case strings.HasPrefix(raw, "sqlite://"):
		return checkSQLitePath(strings.TrimPrefix(raw, "sqlite://"))
	case strings.HasPrefix(raw, "sqlite:"):
		return checkSQLitePath(strings.TrimPrefix(raw, "sqlite:"))
	case strings.HasPrefix(raw, "file:"):
		return checkSQLitePath(strings.TrimPrefix(raw, "file:"))
	}
	return "", "", fmt.Errorf("database URL %q must start with sqlite: or postgres://", redactURL(raw))
}

func checkSQLitePath(p string) (Dialect, string, error) {
	if i := strings.IndexByte(p, '?'); i >= 0 {
		p = p[:i]
	}
	if p == "" {
		return "", "", errors.New("database URL names no SQLite file (expected sqlite:PATH)")
	}
	return SQLite, p, nil
}

func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// Open connects to the database named by a FOCAL_DATABASE_URL, checks it is
// reachable, and starts the writer. It does not migrate: call Migrate.
func Open(ctx context.Context, databaseURL string, log *slog.Logger) (*Store, error) {
	if log == nil {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	dialect, dsn, err := ParseDatabaseURL(databaseURL)
	if err != nil {
		return nil, err
	}
	cfg := &gorm.Config{
		TranslateError: true,
		Logger:         logger.Discard,
		NowFunc:        func() time.Time { return time.Now().UTC() },
	}
	s := &Store{Dialect: dialect, Now: func() time.Time { return time.Now().UTC() }, Log: log,
		MaxBatch: 256, Linger: time.Millisecond}
	switch dialect {
	case SQLite:
		dir := filepath.Dir(dsn)
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("cannot create the data folder %q: %w", dir, err)
		}
		if err := checkWritable(dir); err != nil {
			return nil, err
		}
		// A commit is on disk before we answer 2xx: the writer commits with
		// synchronous=NORMAL and the syncer fsyncs the WAL before it answers
		// (walsync.go), which is what synchronous=FULL does at each COMMIT,
		// without holding the writer during the fsync. Group commit (see
		// Write) shares one transaction, and one fsync, among many writes.
		// Page caches are per connection: the writer keeps the larger one,
		// each reader a small one, so the process's SQLite memory stays
		// bounded however much a read walks (an export, a recount).
		common := "_foreign_keys=on&_busy_timeout=10000&_journal_mode=WAL&_stmt_cache_size=256"
		w, err := gorm.Open(sqliteDialector(sqliteWriterDriver, "file:"+uriPath(dsn)+"?"+common+"&_synchronous="+WriterSynchronous+"&_cache_size=-"+itoa(WriterCacheKiB)+"&_txlock=immediate"), cfg)
		if err != nil {
			return nil, fmt.Errorf("open SQLite %q: %w", dsn, err)
		}
		s.w = w // from here on a failure closes what is open (Close)
		wdb, _ := w.DB()
		wdb.SetMaxOpenConns(1)
		wdb.SetMaxIdleConns(1)
		wdb.SetConnMaxLifetime(0)
		r, err := gorm.Open(sqliteDialector(sqliteDriver, "file:"+uriPath(dsn)+"?"+common+"&_cache_size=-"+itoa(ReaderCacheKiB)+"&_query_only=on"), cfg)
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("open SQLite %q: %w", dsn, err)
		}
		rdb, _ := r.DB()
		n := max(4, runtime.NumCPU()*2)
		rdb.SetMaxOpenConns(n)
		rdb.SetMaxIdleConns(n)
		s.R, s.path = r, dsn
		s.memo = newResponseMemo(ResponseMemoBytes)
		// Make the file and WAL exist now, so a bad path fails at start.
		if err := w.WithContext(ctx).Exec("PRAGMA user_version").Error; err != nil {
			s.Close()
			return nil, fmt.Errorf("open SQLite %q: %w", dsn, err)
		}
		// The connections open before the goroutines start; a failure
		// after them (the Ping below) goes through Close, which stops them.
		ck, err := sql.Open(sqliteDriver, "file:"+uriPath(dsn)+"?"+common+"&_synchronous=NORMAL&_cache_size=-1000")
		if err != nil {
			s.Close()
			return nil, fmt.Errorf("open SQLite %q: %w", dsn, err)
		}
		ck.SetMaxOpenConns(1)
		s.writes = make(chan *writeReq, 1024)
		s.stop = make(chan struct{})
		s.syncs = make(chan syncBatch, 64)
		s.stopped.Add(1)
		go s.writer()
		s.synced.Add(1)
		go s.syncer()
		s.stopped.Add(1)
		go s.checkpointer(ck)
	case Postgres:
		db, err := gorm.Open(postgres.Open(dsn), cfg)
		if err != nil {
			return nil, fmt.Errorf("open PostgreSQL %s: %w", redactURL(dsn), err)
		}
		sqlDB, _ := db.DB()
		sqlDB.SetMaxOpenConns(32)
		// As many idle as open: under load a smaller idle pool closes and
		// reopens connections, and each new PostgreSQL backend costs a fork
		// and cold catalog caches.
		sqlDB.SetMaxIdleConns(32)
		sqlDB.SetConnMaxIdleTime(5 * time.Minute)
		s.w, s.R = db, db
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := s.Ping(pctx); err != nil {
		s.Close()
		return nil, fmt.Errorf("database does not answer: %w", err)
	}
	return s, nil
}

// SQLite page cache of each connection, in KiB (PRAGMA cache_size = -N).
// Each is filled on demand and kept for the connection's life, so the
// process holds up to WriterCacheKiB + ReaderCacheKiB × the read pool.
// Readers hold only the hot upper pages of the indexes; the writer the
// pages that submits rewrite; the operating system's file cache serves the
// rest. With 32 MB each (until issue 8) one export or migration filled a
// connection for good, and the server passed 100 MB.
const (
	WriterCacheKiB = 16000
	ReaderCacheKiB = 2000
)

// WriterSynchronous is the SQLite writer connection's synchronous mode.
// NORMAL does not fsync at COMMIT; the syncer does, before any write is
// acknowledged (walsync.go). Bulk tools that lower it restore this.
const WriterSynchronous = "NORMAL"

// uriPath escapes the characters that a SQLite file: URI would read as
// syntax, so a path with "#", "?" or "%" names the file it says.
func uriPath(p string) string {
	return strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23").Replace(p)
}

func checkWritable(dir string) error {
	f, err := os.CreateTemp(dir, ".write-test-*")
	if err != nil {
		return fmt.Errorf("the data folder %q is not writable: %w", dir, err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// Ping checks that the database answers (used by /readyz).
func (s *Store) Ping(ctx context.Context) error {
	db, err := s.R.DB()
	if err != nil {
		return err
	}
	return db.PingContext(ctx)
}

// Close stops the writer and closes the pools.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		s.closed = true
		s.mu.Unlock()
		if s.stop != nil {
			close(s.stop)
			s.stopped.Wait()
			close(s.syncs)
			s.synced.Wait()
		}
		if s.w == nil {
			return // Open failed before anything was open
		}
		if db, err := s.w.DB(); err == nil {
			db.Close()
		}
		if s.R != nil && s.R != s.w {
			if db, err := s.R.DB(); err == nil {
				db.Close()
			}
		}
	})
	return nil
}

// ReadDB returns the read pool bound to ctx.
func (s *Store) ReadDB(ctx context.Context) *gorm.DB { return s.R.WithContext(ctx) }

// WriterDB returns the raw writer handle. Only for bulk tools (the bench
// generator, backup) that run alone; request paths use Write.
func (s *Store) WriterDB() *gorm.DB { return s.w }

type writeReq struct {
	ctx  context.Context
	fn   func(tx *gorm.DB) error
	done chan error
	// deferTallies lets the writer gather this fn's tally changes with
	// those of the other such fns of its batch and log them as one
	// tally_log row (see writeDeferringTallies).
	deferTallies bool
	// rerunnable: fn may run again after its transaction was rolled
	// back (it sets everything it reports afresh each run), so the
	// writer may run it without a savepoint (see commitBatch).
	rerunnable bool
}

// ErrStoreClosed is returned by Write after Close.
var ErrStoreClosed = errors.New("store is closed")

// Write runs fn in a transaction and returns once that transaction has
// committed (or failed). On SQLite concurrent writes are gathered by one
// writer into a single transaction (group commit); each fn runs inside its
// own savepoint, so one failing fn rolls back only its own changes. fn must
// not call Write itself, and must not keep tx after returning.
func (s *Store) Write(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return s.write(ctx, writeReq{fn: fn})
}

// writeRerunnable is Write for a fn that may run more than once: it sets
// every result it reports afresh at each run (say, resetting the
// variables it fills), so that a run rolled back leaves no trace. The
// writer runs a batch of such fns without savepoints (see commitBatch).
func (s *Store) writeRerunnable(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return s.write(ctx, writeReq{fn: fn, rerunnable: true})
}

// writeDeferringTallies is Write for a fn whose only use of the tally
// tables is applyTallies (the submit path). On SQLite the tally changes of
// all such fns in one group-commit transaction are added up and appended
// as one tally_log row just before COMMIT (tally_log.go): every submission
// touches the same marginal tally rows, and upserting them per submission
// was most of the submit's cost in the single writer. Tally changes are
// sums, so their order among these fns does not matter; any other write
// in the batch runs after them (they are logged before it), and the log
// row commits or fails with the whole transaction, so a 2xx still means
// the submission and its counts are on disk together. fn must also be
// rerunnable (see writeRerunnable).
func (s *Store) writeDeferringTallies(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return s.write(ctx, writeReq{fn: fn, deferTallies: true, rerunnable: true})
}

func (s *Store) write(ctx context.Context, w writeReq) error {
	fn := w.fn
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return ErrStoreClosed
	}
	if s.Dialect != SQLite {
		defer s.mu.RUnlock()
		return s.w.WithContext(ctx).Transaction(func(tx *gorm.DB) error { return safeRun(fn, tx) })
	}
	req := &w
	req.ctx, req.done = ctx, make(chan error, 1)
	select {
	case s.writes <- req:
		s.mu.RUnlock()
	case <-ctx.Done():
		s.mu.RUnlock()
		return ctx.Err()
	}
	// Once queued the write will be attempted; wait for its outcome even if
	// the caller's context ends, so "acknowledged" always means committed.
	return <-req.done
}

func safeRun(fn func(tx *gorm.DB) error, tx *gorm.DB) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("panic in write: %v", r)
		}
	}()
	return fn(tx)
}

func (s *Store) writer() {
	defer s.stopped.Done()
	batch := make([]*writeReq, 0, s.MaxBatch)
	for {
		var first *writeReq
		select {
		case first = <-s.writes:
		case <-s.stop:
			// Drain what was queued before stopping.
			for {
				select {
				case r := <-s.writes:
					s.commitBatch([]*writeReq{r})
				default:
					return
				}
			}
		}
		batch = append(batch[:0], first)
		// Take what is queued already. Under load that is the batch: the
		// writes that arrived while the last one ran. Only a lone write
		// lingers, for company to share its transaction with.
	queued:
		for len(batch) < s.MaxBatch {
			select {
			case r := <-s.writes:
				batch = append(batch, r)
			default:
				break queued
			}
		}
		if len(batch) == 1 && s.Linger > 0 {
			timer := time.NewTimer(s.Linger)
		gather:
			for len(batch) < s.MaxBatch {
				select {
				case r := <-s.writes:
					batch = append(batch, r)
				case <-timer.C:
					break gather
				}
			}
			timer.Stop()
		}
		s.commitBatch(batch)
	}
}

func (s *Store) commitBatch(batch []*writeReq) {
	results := make([]error, len(batch))
	// A savepoint around each fn lets one fail without the others: two
	// statements more per write. A batch of rerunnable fns runs without
	// them; if one of its fns fails, the transaction is rolled back and
	// the batch runs again, each fn in its own savepoint.
	savepoints := false
	for _, r := range batch {
		if !r.rerunnable {
			savepoints = true
		}
	}
	for {
		tx := s.w.Begin()
		if tx.Error != nil {
			for _, r := range batch {
				r.done <- tx.Error
			}
			return
		}
		s.shared.Store(int64(len(batch)))
		failed, err := s.runBatch(tx, batch, results, savepoints)
		if err == nil && failed && !savepoints {
			tx.Rollback()
			clear(results)
			savepoints = true
			continue
		}
		if err == nil {
			err = tx.Commit().Error
		} else {
			tx.Rollback()
		}
		if err != nil {
			for i := range results {
				if results[i] == nil {
					results[i] = err
				}
			}
			for i, r := range batch {
				r.done <- results[i]
			}
			return
		}
		s.batches.Add(1)
		s.batched.Add(int64(len(batch)))
		// Answered by the syncer once the WAL is on disk; the writer goes
		// on with the next batch meanwhile. batch is reused: pass a copy.
		s.syncs <- syncBatch{reqs: append([]*writeReq(nil), batch...), results: results}
		return
	}
}

// runBatch runs the batch's fns in tx and logs their tally changes,
// setting each fn's result. Without savepoints it stops at the first
// failing fn and reports failed (tx then holds that fn's partial changes:
// roll it back). err is an error of the whole transaction.
func (s *Store) runBatch(tx *gorm.DB, batch []*writeReq, results []error, savepoints bool) (failed bool, err error) {
	// pending holds the tally changes of the batch's deferring fns that
	// succeeded, not yet logged.
	pending := tallyLog{}
	for i, r := range batch {
		if err := r.ctx.Err(); err != nil {
			results[i] = err
			continue
		}
		if !r.deferTallies && len(pending) > 0 {
			if err := pending.write(tx); err != nil {
				return false, err
			}
			pending = tallyLog{}
		}
		var sp string
		if savepoints {
			sp = "w" + strconv.Itoa(i)
			if err := tx.Exec("SAVEPOINT " + sp).Error; err != nil {
				results[i] = err
				continue
			}
		}
		// The fn runs without its request's cancellation: an interrupted
		// statement can roll back the whole shared SQLite transaction.
		ctx := context.WithoutCancel(r.ctx)
		var mine tallyLog
		if r.deferTallies {
			mine = tallyLog{}
			ctx = context.WithValue(ctx, tallyBatchKey{}, mine)
		}
		if err := safeRun(r.fn, tx.Session(&gorm.Session{NewDB: true, Context: ctx})); err != nil {
			results[i] = err
			if !savepoints {
				return true, nil
			}
			if rerr := tx.Exec("ROLLBACK TO " + sp).Error; rerr != nil {
				s.Log.Error("rollback to savepoint", "err", rerr)
			}
		}
		if savepoints {
			if err := tx.Exec("RELEASE " + sp).Error; err != nil && results[i] == nil {
				results[i] = err
			}
		}
		if results[i] == nil {
			pending.merge(mine)
		}
	}
	if len(pending) > 0 {
		if err := pending.write(tx); err != nil {
			return false, err
		}
	}
	return false, nil
}

// Batches returns how many group-commit transactions the SQLite writer has
// committed (for tests and metrics); 0 on PostgreSQL.
func (s *Store) Batches() int64 { return s.batches.Load() }

// BatchedWrites returns how many writes those transactions held; with
// Batches, the average group size (metrics); 0 on PostgreSQL.
func (s *Store) BatchedWrites() int64 { return s.batched.Load() }

// ResponseMemoStats returns how many journeys to submit the response memo
// served and how many it could not (response_memo.go); 0, 0 on
// PostgreSQL.
func (s *Store) ResponseMemoStats() (hits, misses int64) {
	if s.memo == nil {
		return 0, 0
	}
	return s.memo.hits.Load(), s.memo.misses.Load()
}

// translate maps driver errors to domain errors.
func translate(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, gorm.ErrRecordNotFound):
		return ErrNotFound
	case errors.Is(err, gorm.ErrDuplicatedKey):
		return ErrConflict
	}
	return err
}
