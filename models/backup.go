package models

import (
	"context"
	"errors"
	"fmt"
	"os"
)

// Backup writes a consistent online copy of a SQLite database to path with
// VACUUM INTO (readers and writers carry on meanwhile). PostgreSQL is
// backed up with pg_dump, as the README says.
func (s *Store) Backup(ctx context.Context, path string) error {
	if s.Dialect != SQLite {
		return errors.New("on PostgreSQL use pg_dump (see README: Backups)")
	}
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("%s exists already: choose a new file name", path)
	}
	if err := s.R.WithContext(ctx).Exec("VACUUM INTO ?", path).Error; err != nil {
		return fmt.Errorf("backup to %s: %w", path, err)
	}
	return nil
}
