package models

import (
	"context"

	"gorm.io/gorm"
)

// MigrateList applies the given migrations (tests of the migrator use
// their own throw-away migrations, not the registry).
func (s *Store) MigrateList(ctx context.Context, list []Migration) error { return s.migrate(ctx, list) }

// SetWALSyncHook makes the syncer call fn just before each fsync of the
// WAL; an error from fn stands for a failed fsync.
func (s *Store) SetWALSyncHook(fn func() error) { s.walSyncHook = fn }

// WriteRerunnable exposes writeRerunnable to the tests of the writer.
func (s *Store) WriteRerunnable(ctx context.Context, fn func(tx *gorm.DB) error) error {
	return s.writeRerunnable(ctx, fn)
}
