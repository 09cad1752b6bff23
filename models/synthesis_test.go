package models_test

import (
	"context"
	"fmt"
	"math/rand"
	"reflect"
	"strconv"
	"testing"
	"time"

	"gorm.io/gorm"

	"focalpoint/models"
	"focalpoint/models/modeltest"
)

var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// fixture is a consultation with rounds of questions of every kind.
type fixture struct {
	C      models.Consultation
	Rounds []models.Round
	Qs     map[int64][]models.Question // by round
}

func newFixture(t *testing.T, s *models.Store, unit string, rounds int) *fixture {
	t.Helper()
	f := &fixture{Qs: map[int64][]models.Question{}}
	err := s.Write(context.Background(), func(tx *gorm.DB) error {
		f.C = models.Consultation{Title: "Fixture", Unit: unit, Languages: `["en"]`, MinCellSize: 5, CreatedAt: t0, UpdatedAt: t0}
		if err := tx.Create(&f.C).Error; err != nil {
			return err
		}
		for i := 0; i < rounds; i++ {
			r := models.Round{ConsultationID: f.C.ID, Position: i, Title: "Round " + strconv.Itoa(i+1), State: models.RoundOpen, CreatedAt: t0, UpdatedAt: t0}
			if err := tx.Create(&r).Error; err != nil {
				return err
			}
			f.Rounds = append(f.Rounds, r)
			one, five := 1.0, 5.0
			qs := []models.Question{
				{Kind: models.QYesNo, Prompt: "Policy?"},
				{Kind: models.QSingleChoice, Prompt: "Sector", Options: `[{"value":"health","label":"Health"},{"value":"justice","label":"Justice"},{"value":"education","label":"Education"}]`},
				{Kind: models.QMultiChoice, Prompt: "Groups", Options: `[{"value":"youth","label":"Youth"},{"value":"women","label":"Women"},{"value":"prisoners","label":"Prisoners"}]`},
				{Kind: models.QMatrixYesNo, Prompt: "Trained", RowsJSON: `[{"value":"police","label":"Police"},{"value":"doctors","label":"Doctors"}]`},
				{Kind: models.QScale, Prompt: "Scale", MinValue: &one, MaxValue: &five},
				{Kind: models.QNumber, Prompt: "How many"},
				{Kind: models.QCountry, Prompt: "Where"},
				{Kind: models.QLongText, Prompt: "Tell us"},
				{Kind: models.QShortText, Prompt: "Title"},
			}
			for j := range qs {
				qs[j].RoundID, qs[j].Position, qs[j].CreatedAt, qs[j].UpdatedAt = r.ID, j, t0, t0
				if qs[j].Options == "" {
					qs[j].Options = "[]"
				}
				if qs[j].RowsJSON == "" {
					qs[j].RowsJSON = "[]"
				}
				if err := tx.Create(&qs[j]).Error; err != nil {
					return err
				}
			}
			f.Qs[r.ID] = qs
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

var seq int

func (f *fixture) respondent(t *testing.T, s *models.Store, gender, inst, country string) *models.Respondent {
	t.Helper()
	seq++
	r := &models.Respondent{ConsultationID: f.C.ID, Code: fmt.Sprintf("R%06d-%d", seq, f.C.ID), Gender: gender, InstitutionType: inst, Country: country, CreatedAt: t0, UpdatedAt: t0}
	if f.C.Unit == models.UnitState {
		c := country
		r.StateCountry = &c
		r.Gender, r.InstitutionType = "", ""
	}
	if err := s.Write(context.Background(), func(tx *gorm.DB) error { return tx.Create(r).Error }); err != nil {
		t.Fatal(err)
	}
	return r
}

func submit(t *testing.T, s *models.Store, r *models.Respondent, round int64, rows []models.SubmittedAnswer) {
	t.Helper()
	if err := s.Write(context.Background(), func(tx *gorm.DB) error {
		_, err := s.SeedSubmission(tx, r, round, rows, t0)
		return err
	}); err != nil {
		t.Fatal(err)
	}
}

// randomRows answers some questions of a round at random.
func randomRows(rng *rand.Rand, qs []models.Question) []models.SubmittedAnswer {
	var rows []models.SubmittedAnswer
	pick := func(vs ...string) string { return vs[rng.Intn(len(vs))] }
	for _, q := range qs {
		if rng.Intn(5) == 0 {
			continue // no reply
		}
		add := func(row, v string, num *float64) {
			rows = append(rows, models.SubmittedAnswer{QuestionID: q.ID, RowKey: row, Value: v, Num: num})
		}
		switch q.Kind {
		case models.QYesNo:
			add("", pick("yes", "no"), nil)
		case models.QSingleChoice:
			add("", pick("health", "justice", "education"), nil)
		case models.QMultiChoice:
			for _, v := range []string{"youth", "women", "prisoners"} {
				if rng.Intn(2) == 0 {
					add("", v, nil)
				}
			}
		case models.QMatrixYesNo:
			for _, row := range []string{"police", "doctors"} {
				if rng.Intn(3) > 0 {
					add(row, pick("yes", "no"), nil)
				}
			}
		case models.QScale, models.QNumber:
			n := float64(rng.Intn(5) + 1)
			add("", strconv.Itoa(int(n)), &n)
		case models.QCountry:
			add("", pick("AT", "KE", "BR"), nil)
		default:
			add("", pick("Stigma in services is common.", "   ", "Training helps the police.", "Die Ausbildung hilft."), nil)
		}
	}
	return rows
}

// The running tallies always equal a full recount, through random
// submissions, resubmissions and demographic changes, on both databases.
func TestTalliesEqualRecount(t *testing.T) {
	modeltest.Stores(t, func(t *testing.T, s *models.Store) {
		ctx := context.Background()
		rng := rand.New(rand.NewSource(7))
		f := newFixture(t, s, models.UnitPerson, 2)
		var rs []*models.Respondent
		for i := 0; i < 25; i++ {
			rs = append(rs, f.respondent(t, s, models.Genders[rng.Intn(4)], models.InstitutionTypes[rng.Intn(8)], []string{"AT", "KE", "BR", "PL", "prefer_not_to_say"}[rng.Intn(5)]))
		}
		for i := 0; i < 120; i++ {
			r := rs[rng.Intn(len(rs))]
			if rng.Intn(4) == 0 { // demographics change
				r.Gender = models.Genders[rng.Intn(4)]
				r.Country = []string{"AT", "IN", "FR"}[rng.Intn(3)]
			}
			round := f.Rounds[rng.Intn(2)]
			submit(t, s, r, round.ID, randomRows(rng, f.Qs[round.ID]))
		}
		running, err := s.TallySnapshot(ctx, f.C.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(running) < 50 {
			t.Fatalf("only %d tally lines: the test exercises too little", len(running))
		}
		if err := s.RecountTallies(ctx, f.C.ID); err != nil {
			t.Fatal(err)
		}
		recount, err := s.TallySnapshot(ctx, f.C.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(running, recount) {
			diff(t, running, recount)
		}
	})
}

func diff(t *testing.T, running, recount []string) {
	t.Helper()
	in := map[string]int{}
	for _, l := range running {
		in[l]++
	}
	for _, l := range recount {
		in[l]--
	}
	n := 0
	for l, v := range in {
		if v != 0 && n < 20 {
			t.Errorf("%+d  %s", v, l)
			n++
		}
	}
	t.Fatalf("running tallies differ from the recount (%d vs %d lines)", len(running), len(recount))
}

// A State questionnaire of 38 replies: 30 yes, 6 no, 2 no reply.
func TestSynthesisStateQuestionnaire(t *testing.T) {
	modeltest.Stores(t, func(t *testing.T, s *models.Store) {
		f := newFixture(t, s, models.UnitState, 1)
		round := f.Rounds[0]
		yn := f.Qs[round.ID][0]
		text := f.Qs[round.ID][7]
		codes := []string{"AT", "BR", "FR", "IN", "KE", "NG", "PL"}
		for i := 0; i < 38; i++ {
			// Distinct pseudo-States: the fixture's country list is short,
			// so use two-letter codes beyond it for the rest.
			c := fmt.Sprintf("X%c", 'A'+i)
			if i < len(codes) {
				c = codes[i]
			}
			r := f.respondent(t, s, "", "", c)
			var rows []models.SubmittedAnswer
			switch {
			case i < 30:
				rows = append(rows, models.SubmittedAnswer{QuestionID: yn.ID, Value: "yes"})
			case i < 36:
				rows = append(rows, models.SubmittedAnswer{QuestionID: yn.ID, Value: "no"})
			}
			if i%2 == 0 {
				rows = append(rows, models.SubmittedAnswer{QuestionID: text.ID, Value: "Our policy covers it."})
			} else if i%3 == 0 {
				rows = append(rows, models.SubmittedAnswer{QuestionID: text.ID, Value: "  \n "})
			}
			submit(t, s, r, round.ID, rows)
		}
		sy, err := s.Synthesis(context.Background(), f.C.ID, models.SynthesisFilter{RoundID: round.ID})
		if err != nil {
			t.Fatal(err)
		}
		if sy.Respondents != 38 || sy.Countries != 38 {
			t.Fatalf("respondents %d countries %d, want 38 and 38", sy.Respondents, sy.Countries)
		}
		q := sy.Questions[0]
		if q.N != 38 || q.NoReply != 2 || len(q.Counts) != 2 ||
			q.Counts[0] != (models.ValueCount{Value: "yes", Count: 30, Percent: 78.9}) ||
			q.Counts[1] != (models.ValueCount{Value: "no", Count: 6, Percent: 15.8}) {
			t.Fatalf("yes/no: %+v", q)
		}
		lt := sy.Questions[7]
		if lt.N != 38 || lt.Answered != 19 || lt.NoReply != 19 {
			t.Fatalf("long text: n %d answered %d no_reply %d, want 38, 19, 19 (blank text is no reply)", lt.N, lt.Answered, lt.NoReply)
		}
	})
}

// Cross-tab suppression: no hidden cell can be recovered from a total.
func TestCrossTabSuppression(t *testing.T) {
	ct := &models.CrossTab{Rows: []string{"a", "b"}, Cols: []string{"x", "y", "z"},
		Cells: [][]int64{{2, 10, 8}, {7, 9, 12}}}
	ct.RowTotals = []int64{20, 28}
	ct.ColTotals = []int64{9, 19, 20}
	ct.Suppress(5)
	if !ct.Suppressed[0][0] {
		t.Fatal("cell 2 < 5 not suppressed")
	}
	// Row a and column x each need a second hidden cell.
	if !ct.Suppressed[0][2] {
		t.Fatalf("row a: smallest other cell (8) not hidden: %v", ct.Suppressed)
	}
	if !ct.Suppressed[1][0] {
		t.Fatalf("column x: other cell (7) not hidden: %v", ct.Suppressed)
	}
	for i := range ct.Rows {
		n := 0
		for j := range ct.Cols {
			if ct.Suppressed[i][j] {
				n++
			}
		}
		if n == 1 {
			t.Fatalf("row %d has exactly one hidden cell: recoverable from its total", i)
		}
	}
	for j := range ct.Cols {
		n := 0
		for i := range ct.Rows {
			if ct.Suppressed[i][j] {
				n++
			}
		}
		if n == 1 {
			t.Fatalf("column %d has exactly one hidden cell", j)
		}
	}
	list := []models.ValueCount{{Value: "f", Count: 20}, {Value: "m", Count: 3}, {Value: "o", Count: 9}, {Value: "p", Count: 0}}
	models.SuppressBreakdown(list, 5)
	if !list[1].Suppressed || !list[2].Suppressed || list[0].Suppressed || list[3].Suppressed || list[1].Count != 0 {
		t.Fatalf("breakdown suppression: %+v", list)
	}
}
