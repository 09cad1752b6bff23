package models

import (
	"database/sql"
	"time"
)

// Checkpoints on SQLite. The writer keeps SQLite's auto-checkpoint: after
// a commit that leaves more than WriterAutoCheckpointPages pages in the
// WAL it copies them into the database file. That checkpoint runs between the writer's
// transactions, so it can complete, and the next transaction then starts
// the WAL again from its beginning: the WAL stays bounded however
// continuous the writes (TestWALStaysBoundedUnderContinuousWrites; with
// only a checkpointer beside a writer that never pauses, it grew without
// end: 9 GB in two minutes of a bulk load). A connection of its own also
// checkpoints every CheckpointEvery, in PASSIVE mode, beside the writer and
// the readers without blocking either, so most pages are already copied
// when the writer's auto-checkpoint comes and the writer has less to do.
// With synchronous=NORMAL a checkpoint fsyncs the WAL before copying and
// the database file after, so frames are never overwritten before they
// are on disk.
//
// A page that many writes change (the tally log, the tails of the
// indexes, a response saved then submitted) is copied once per checkpoint
// however often it went into the WAL, so checkpoints further apart copy
// less: with SQLite's default of 1,000 pages (well under 100 ms of writes
// under the save+submit load) and the checkpointer every 100 ms, the
// server wrote 98 kB per save+submit; with 4,000 pages and 300 ms, 82 kB,
// for about a tenth less CPU (docs/BENCHMARKS.md). The WAL stays under
// 16 MB and a batch.

// CheckpointEvery is how often the checkpointer copies the WAL back.
var CheckpointEvery = 300 * time.Millisecond

// WriterAutoCheckpointPages is the writer's wal_autocheckpoint.
const WriterAutoCheckpointPages = 4000

func (s *Store) checkpointer(db *sql.DB) {
	defer s.stopped.Done()
	defer db.Close()
	t := time.NewTicker(CheckpointEvery)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
		}
		if s.bulkLoad.Load() {
			continue
		}
		var busy, log, done int64
		if err := db.QueryRow("PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &log, &done); err != nil {
			s.Log.Warn("WAL checkpoint", "err", err)
		}
	}
}
