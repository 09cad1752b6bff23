package models

import (
	"database/sql"
	"time"
)

// Checkpoints on SQLite: the writer connection never checkpoints (PRAGMA
// wal_autocheckpoint=0), because a checkpoint copies pages into the
// database file and fsyncs it, and the single writer would sit idle
// meanwhile. A connection of its own checkpoints instead, every
// CheckpointEvery, in PASSIVE mode, which runs beside the writer and
// the readers without blocking either: SQLite lets one checkpointer work
// while the writer appends to the WAL. With the connection's
// synchronous=NORMAL it fsyncs the WAL before copying and the database
// file after, so frames are never overwritten before they are on disk.

// CheckpointEvery is how often the checkpointer copies the WAL back.
var CheckpointEvery = 100 * time.Millisecond

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
		var busy, log, done int64
		if err := db.QueryRow("PRAGMA wal_checkpoint(PASSIVE)").Scan(&busy, &log, &done); err != nil {
			s.Log.Warn("WAL checkpoint", "err", err)
		}
	}
}
