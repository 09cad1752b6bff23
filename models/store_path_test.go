package models_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"focalpoint/models"
)

// A path with "#" or "%" must name exactly that file, not a
// truncated one (a "#" used to cut the path, so tests shared a file).
func TestSQLitePathWithURICharacters(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a#b%c")
	path := filepath.Join(dir, "focal.db")
	s, err := models.Open(context.Background(), "sqlite:"+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the database is not at %s: %v", path, err)
	}
}
