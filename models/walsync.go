package models

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// Durability on SQLite: the writer's connection runs with
// synchronous=NORMAL, so COMMIT writes the batch's frames to the WAL
// without waiting for the disk, and the writer can start the next batch at
// once. The committed batch goes to the syncer, which fsyncs the WAL file
// and only then answers the batch's requests. A 2xx therefore still means
// the write is on disk, exactly as with synchronous=FULL (which fsyncs the
// WAL at every COMMIT); what changes is that the writer no longer sits idle
// during that fsync, and that one fsync can cover several batches.
//
// Frames are never lost between COMMIT and the syncer's fsync: SQLite
// overwrites WAL frames only after a checkpoint has copied them, and with
// synchronous=NORMAL a checkpoint fsyncs the WAL before it copies.
//
// Other connections may read a batch between its COMMIT and its fsync;
// after a power cut in that window (not a process crash: the operating
// system still has the frames) such a batch would be gone although it had
// been read. Nobody was told it was saved.

// syncBatch is a committed batch waiting for its WAL fsync.
type syncBatch struct {
	reqs    []*writeReq
	results []error
}

// syncer answers committed batches once the WAL holding them is on disk.
// Batches that arrive while it fsyncs share the next fsync.
func (s *Store) syncer() {
	defer s.synced.Done()
	var wal *os.File
	defer func() {
		if wal != nil {
			wal.Close()
		}
	}()
	for b := range s.syncs {
		pending := []syncBatch{b}
	drain:
		for {
			select {
			case nb, ok := <-s.syncs:
				if !ok {
					break drain
				}
				pending = append(pending, nb)
			default:
				break drain
			}
		}
		var err error
		if !s.bulkLoad.Load() {
			wal, err = s.syncWAL(wal)
		}
		if err != nil {
			s.Log.Error("fsync of the SQLite write-ahead log failed; the writes it held were refused", "err", err)
		}
		for _, p := range pending {
			for i, r := range p.reqs {
				res := p.results[i]
				if res == nil && err != nil {
					res = err
				}
				r.done <- res
			}
		}
	}
}

// ErrNotDurable is returned for writes that committed but whose fsync
// failed: they may not survive a power cut, so they are not acknowledged.
var ErrNotDurable = errors.New("the write could not be made durable (fsync of the write-ahead log failed)")

// syncWAL fsyncs the WAL file, reopening it when SQLite has replaced it
// (it deletes the WAL when its last connection closes). The main database
// file is never opened here: closing any descriptor of it would drop
// SQLite's POSIX locks on it.
func (s *Store) syncWAL(f *os.File) (*os.File, error) {
	name := s.path + "-wal"
	if f != nil {
		cur, err1 := os.Stat(name)
		had, err2 := f.Stat()
		if err1 != nil || err2 != nil || !os.SameFile(cur, had) {
			f.Close()
			f = nil
		}
	}
	if f == nil {
		var err error
		f, err = os.OpenFile(name, os.O_RDWR, 0)
		if errors.Is(err, fs.ErrNotExist) {
			// No WAL: every connection closed, and the last one
			// checkpointed into the database file and synced it.
			return nil, nil
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrNotDurable, err)
		}
	}
	s.walSyncs.Add(1)
	if s.walSyncHook != nil {
		if err := s.walSyncHook(); err != nil {
			return f, fmt.Errorf("%w: %v", ErrNotDurable, err)
		}
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return nil, fmt.Errorf("%w: %v", ErrNotDurable, err)
	}
	return f, nil
}

// WALSyncs returns how many times the syncer has fsynced the SQLite WAL
// (for tests and metrics); 0 on PostgreSQL.
func (s *Store) WALSyncs() int64 { return s.walSyncs.Load() }

// SyncWAL fsyncs the SQLite WAL now, for what was written on the writer
// connection outside Write (migrations, bulk tools). No-op on PostgreSQL.
func (s *Store) SyncWAL() error {
	if s.Dialect != SQLite {
		return nil
	}
	f, err := s.syncWAL(nil)
	if f != nil {
		f.Close()
	}
	return err
}

// SetBulkLoad turns bulk-load mode on or off (SQLite). While on, writes
// are acknowledged without an fsync and the checkpointer rests: for a tool
// that loads a database alone and accepts that a crash mid-load loses the
// load (the bench generator, with synchronous=OFF). Turning it off does
// not make the load durable by itself: end with a checkpoint at
// synchronous=NORMAL or FULL, or with SyncWAL.
func (s *Store) SetBulkLoad(on bool) { s.bulkLoad.Store(on) }
