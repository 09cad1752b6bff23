package models

import "context"

// PreviousResults returns what respondents of round see of an earlier
// round before its questions (Delphi-style; round.ShowResultsOf), or nil
// when there is nothing to show. The respond area puts it in GET
// /api/v1/respond/{token} as "previous_results" and on the questions page
// through the "previous-results" template partial.
//
// The synthesis area owns this function (and
// templates/partials/previous_results.html): it replaces this body.
func (s *Store) PreviousResults(ctx context.Context, round *Round) (any, error) {
	return nil, nil
}
