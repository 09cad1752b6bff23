package models

import "context"

// MigrateList applies the given migrations (tests of the migrator use
// their own throw-away migrations, not the registry).
func (s *Store) MigrateList(ctx context.Context, list []Migration) error { return s.migrate(ctx, list) }
