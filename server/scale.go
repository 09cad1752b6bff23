package main

import (
	"context"
	"time"

	"focalpoint/models"
)

// The scale area's background work (issue 8): on PostgreSQL, submits write
// their tally changes as rows of their own, and on SQLite the writer logs
// each batch's changes as one row (models.CompactTallies); this loop folds
// them into the running totals every second so that the tally tables stay
// about as small as the counts they hold and readers rarely wait for a
// fold. Safe in every instance sharing one PostgreSQL: one compacts at a
// time, the others skip.
func init() {
	appHooks = append(appHooks, func(ctx context.Context, a *App) error {
		a.background = append(a.background, func(ctx context.Context) { compactTallies(ctx, a.Store, a, time.Second) })
		return nil
	})
}

func compactTallies(ctx context.Context, s *models.Store, a *App, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := s.CompactTallies(ctx); err != nil && ctx.Err() == nil {
			a.Log.Error("compact tallies", "err", err)
		}
	}
}
