package models

import (
	"context"
	"errors"
	"fmt"
	"os"

	"gorm.io/driver/sqlite"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// Backup writes a consistent online copy of a SQLite database to path with
// VACUUM INTO (readers and writers carry on meanwhile: it reads one WAL
// snapshot). PostgreSQL is backed up with pg_dump, as the README says.
func (s *Store) Backup(ctx context.Context, path string) error {
	if s.Dialect != SQLite {
		return errors.New("on PostgreSQL use pg_dump (see README: Backups)")
	}
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("%s exists already: choose a new file name", path)
	}
	// Its own connection: the read pool is query-only (VACUUM INTO is
	// refused there) and the writer's connection is busy with batches.
	db, err := gorm.Open(sqlite.Open("file:"+s.path+"?_busy_timeout=10000"), &gorm.Config{Logger: logger.Discard})
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	if sqlDB, err := db.DB(); err == nil {
		defer sqlDB.Close()
	}
	if err := db.WithContext(ctx).Exec("VACUUM INTO ?", path).Error; err != nil {
		return fmt.Errorf("backup to %s: %w", path, err)
	}
	return nil
}
