package bench

import (
	"context"

	"focalpoint/models"
)

// recount brings the synthesis tallies of a bulk-loaded consultation up to
// date: the bulk path bypasses the submit path that keeps them.
func recount(ctx context.Context, s *models.Store, consultationID int64) error {
	return s.RecountTallies(ctx, consultationID)
}
