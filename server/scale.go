package main

import (
	"context"
	"time"

	"focalpoint/models"
)

// The scale area's background work (issue 8), every second:
//   - on PostgreSQL, submits write their tally changes as rows of their
//     own, and on SQLite the writer logs each batch's changes as one row
//     (models.CompactTallies); folding them into the running totals keeps
//     the tally tables about as small as the counts they hold, and
//     readers rarely wait for a fold. Safe in every instance sharing one
//     PostgreSQL: one compacts at a time, the others skip.
//   - on SQLite, the answers submitted since the last run enter the
//     full-text index together, outside the submits' transactions
//     (models.IndexSearch). A search catches up by itself; this keeps it
//     from having to.
func init() {
	appHooks = append(appHooks, func(ctx context.Context, a *App) error {
		a.background = append(a.background, func(ctx context.Context) {
			every(ctx, a, time.Second, "compact tallies", a.Store.CompactTallies)
		})
		if a.Store.Dialect == models.SQLite {
			a.background = append(a.background, func(ctx context.Context) {
				every(ctx, a, time.Second, "search index", a.Store.IndexSearch)
			})
		}
		return nil
	})
}

// every runs job each period until ctx ends, logging its failures.
func every(ctx context.Context, a *App, period time.Duration, what string, job func(context.Context) (int64, error)) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := job(ctx); err != nil && ctx.Err() == nil {
			a.Log.Error(what, "err", err)
		}
	}
}
