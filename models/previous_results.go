package models

import "context"

// DelphiResults is what respondents of a round see of an earlier round
// (round.ShowResultsOf): its closed questions' aggregated counts over all
// its submitted respondents, with N and no reply. No demographic
// breakdown is shown, so no small cell can point at a person.
type DelphiResults struct {
	RoundID     int64            `json:"round_id"`
	Title       string           `json:"title"`
	Respondents int64            `json:"respondents"`
	Questions   []QuestionResult `json:"questions"`
}

// PreviousResults returns what respondents of round see of an earlier
// round before its questions (Delphi-style; round.ShowResultsOf), or nil
// when there is nothing to show. The respond area puts it in GET
// /api/v1/respond/{token} as "previous_results" and on the questions page
// through the "previous-results" template partial (synthesis owns both).
func (s *Store) PreviousResults(ctx context.Context, round *Round) (any, error) {
	if round == nil || round.ShowResultsOf == nil {
		return nil, nil
	}
	var prev Round
	if err := s.ReadDB(ctx).Where("id = ? AND consultation_id = ?", *round.ShowResultsOf, round.ConsultationID).First(&prev).Error; err != nil {
		if translate(err) == ErrNotFound {
			return nil, nil
		}
		return nil, err
	}
	sy, err := s.Synthesis(ctx, round.ConsultationID, SynthesisFilter{RoundID: prev.ID})
	if err != nil {
		return nil, err
	}
	out := &DelphiResults{RoundID: prev.ID, Title: prev.Title, Respondents: sy.Respondents, Questions: []QuestionResult{}}
	for _, q := range sy.Questions {
		if !q.Closed() {
			continue
		}
		for i := range q.Counts {
			if c, ok := FindCountry(q.Counts[i].Value); ok && q.Kind == QCountry {
				q.Counts[i].Label = c.Name
			}
		}
		out.Questions = append(out.Questions, q)
	}
	if len(out.Questions) == 0 || out.Respondents == 0 {
		return nil, nil
	}
	return out, nil
}
