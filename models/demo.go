package models

import (
	"context"
	"fmt"
	"math/rand"
	"sort"
	"strings"

	"gorm.io/gorm"
)

// The demo data set (`server demo`): a living example like the model case,
// so that a newcomer sees every page with something on it. It goes
// through the store's own methods (consultations, rounds, questions,
// participants, codes) and records submissions with SeedSubmission (the
// same tallies as the submit path).

// DemoTitle names the demo's person consultation; its presence means the
// demo is loaded.
const DemoTitle = "Demo: drug policy and human rights — expert consultation"

// DemoStateTitle names the demo's State questionnaire.
const DemoStateTitle = "Demo: questionnaire to Member States"

// ErrDemoLoaded is returned when the demo is already in the database.
var ErrDemoLoaded = fmt.Errorf("the demo data set is already loaded (a consultation titled %q exists); nothing was changed", DemoTitle)

// DemoSummary says what LoadDemo created.
type DemoSummary struct {
	ConsultationID, StateConsultationID int64
	Nominators, Experts, Invited        int
	Respondents, Countries              int
	States, StatesInvited               int
	// TryLink is a personal link token of an invited expert who has not
	// answered yet, to try the respondent journey.
	TryToken string
}

// Open answers in several languages (the six UN languages among them).
var demoTexts = []string{
	"Stigma in health services keeps people who use drugs away from treatment.",
	"Police training on harm reduction is missing in most districts.",
	"Families are rarely consulted when policies are written.",
	"Funding for community-based services stops every budget cycle.",
	"La stigmatisation dans les services de santé éloigne les usagers du traitement.",
	"Les familles ne sont presque jamais consultées.",
	"El estigma en los servicios de salud aleja a las personas del tratamiento.",
	"Falta financiamiento estable para los servicios comunitarios.",
	"الوصمة في الخدمات الصحية تبعد الناس عن العلاج.",
	"Стигма в службах здравоохранения отталкивает людей от лечения.",
	"卫生服务中的污名使人们远离治疗。",
	"Die Polizei braucht Ausbildung in Schadensminderung.",
	"Peer workers should be paid and trained like any other staff.",
	"Prisons need opioid agonist treatment on the same terms as the community.",
}

// demoCodes are the codebook's themes and the words that trigger them.
var demoCodes = []struct {
	Label, Description string
	Words              []string
}{
	{"Stigma in services", "Stigma met in health or social services", []string{"Stigma", "stigmatisation", "estigma", "الوصمة", "Стигма", "污名"}},
	{"Training of police", "Police and law enforcement training", []string{"Police", "Polizei"}},
	{"Funding", "Stable funding for services", []string{"Funding", "financiamiento"}},
	{"Families", "Involving families", []string{"Families", "familles"}},
}

// LoadDemo loads the demo data set; it refuses (ErrDemoLoaded) when it is
// already there.
func (s *Store) LoadDemo(ctx context.Context) (*DemoSummary, error) {
	var n int64
	if err := s.ReadDB(ctx).Model(&Consultation{}).Where("title = ?", DemoTitle).Count(&n).Error; err != nil {
		return nil, err
	}
	if n > 0 {
		return nil, ErrDemoLoaded
	}
	rng := rand.New(rand.NewSource(2026))
	sum := &DemoSummary{}
	five := 5
	c, err := s.CreateConsultation(ctx, NewConsultation{Title: DemoTitle, Unit: UnitPerson, Languages: []string{"en", "fr", "es"}, MinCellSize: &five,
		Description: "Evidence and experience from experts nominated by Member States and from the members of the NGO committee."}, nil)
	if err != nil {
		return nil, fmt.Errorf("demo consultation: %w", err)
	}
	sum.ConsultationID = c.ID
	r1, err := s.CreateRound(ctx, c.ID, NewRound{Title: "Round 1: experience and evidence"}, nil)
	if err != nil {
		return nil, fmt.Errorf("demo round: %w", err)
	}
	one, five64 := 1.0, 5.0
	qs := []QuestionInput{
		{Kind: QLongText, Prompt: "What are the main barriers to health services for people who use drugs?", Required: true},
		{Kind: QYesNo, Prompt: "Does your organisation work with people in prison?"},
		{Kind: QSingleChoice, Prompt: "Main field of work", Options: []Choice{{"health", "Health"}, {"justice", "Justice"}, {"social", "Social services"}, {"research", "Research"}}},
		{Kind: QMultiChoice, Prompt: "Which groups do you consult?", Options: []Choice{{"youth", "Young people"}, {"women", "Women"}, {"families", "Families"}, {"peers", "People who use drugs"}}},
		{Kind: QMatrixYesNo, Prompt: "Who received training in the last two years?", Rows: []Choice{{"police", "Police"}, {"doctors", "Doctors"}, {"social_workers", "Social workers"}}},
		{Kind: QScale, Prompt: "How useful is the current guidance? (1–5)", Min: &one, Max: &five64},
	}
	var questions []*Question
	for _, in := range qs {
		q, err := s.CreateQuestion(ctx, r1.ID, in, nil)
		if err != nil {
			return nil, fmt.Errorf("demo question: %w", err)
		}
		questions = append(questions, q)
	}
	if _, err := s.OpenRound(ctx, r1.ID, nil); err != nil {
		return nil, fmt.Errorf("demo open round: %w", err)
	}

	// Countries: 53 Member States across the regions, 28 of which nominate.
	var members []string
	for _, co := range Countries() {
		if co.Member && co.Region != RegionOther {
			members = append(members, co.Code)
		}
	}
	rng.Shuffle(len(members), func(i, j int) { members[i], members[j] = members[j], members[i] })
	if len(members) < 60 {
		return nil, fmt.Errorf("demo: the country list has only %d Member States", len(members))
	}
	countries := members[:53]
	nominators := countries[:28]
	sum.Nominators = len(nominators)

	type person struct {
		p       *Participant
		kind    string
		country string
	}
	var people []person
	addPerson := func(name, kind, country, nominatedBy string) error {
		email := strings.ToLower(strings.ReplaceAll(name, " ", ".")) + "@demo.example.org"
		p, err := s.CreateParticipant(ctx, ParticipantInput{Name: Str(name), Email: Str(email), Kind: Str(kind), Country: Str(country), Language: Str("en")}, nil)
		if err != nil {
			return fmt.Errorf("demo participant %s: %w", email, err)
		}
		if nominatedBy != "" {
			if err := s.Write(ctx, func(tx *gorm.DB) error {
				return tx.Model(&Participant{}).Where("id = ?", p.ID).Update("nominated_by", nominatedBy).Error
			}); err != nil {
				return err
			}
		}
		people = append(people, person{p, kind, country})
		return nil
	}
	// 28 States nominate 31 experts (three States nominate two).
	for i := 0; i < 31; i++ {
		st := nominators[i%28]
		if err := addPerson(fmt.Sprintf("Expert %02d %s", i+1, st), KindExpert, st, st); err != nil {
			return nil, err
		}
	}
	sum.Experts = 31
	// NGO committee members from every country of the list.
	for i := 0; i < 181; i++ {
		co := countries[i%53]
		if err := addPerson(fmt.Sprintf("NGO member %03d %s", i+1, co), KindNGO, co, ""); err != nil {
			return nil, err
		}
	}

	genders := []string{"female", "female", "male", "male", "female", "other", "prefer_not_to_say"}
	insts := []string{"government", "ngo", "ngo", "ngo", "academia", "international_organization", "health_or_social_service", "private_sector", "other", "prefer_not_to_say"}
	// 130 respondents: 26 experts and 104 NGO members, covering all 53
	// countries (the first 53 NGO members are one per country).
	var respondents []person
	respondents = append(respondents, people[:26]...)
	respondents = append(respondents, people[31:31+104]...)
	now := s.Now()
	err = s.Write(ctx, func(tx *gorm.DB) error {
		for i, pp := range people {
			tok, inv, err := IssueInvitation(tx, now, c.ID, pp.p.ID)
			if err != nil {
				return err
			}
			status := InvSent
			if i == 27 {
				sum.TryToken = tok
			}
			if err := tx.Model(inv).Updates(map[string]any{"status": status, "sent_at": now}).Error; err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("demo invitations: %w", err)
	}
	sum.Invited = len(people)
	seen := map[string]bool{}
	for i, pp := range respondents {
		pid := pp.p.ID
		r := &Respondent{ConsultationID: c.ID, ParticipantID: &pid, Code: NewRespondentCode(), Gender: genders[rng.Intn(len(genders))],
			InstitutionType: insts[rng.Intn(len(insts))], Country: pp.country, ConsentAt: &now, CreatedAt: now, UpdatedAt: now}
		if pp.kind == KindExpert && rng.Intn(3) > 0 {
			r.InstitutionType = "government"
		}
		seen[pp.country] = true
		var rows []SubmittedAnswer
		if i%11 != 5 { // a few leave the open question empty
			text := demoTexts[rng.Intn(len(demoTexts))]
			if rng.Intn(2) == 0 {
				text += " " + demoTexts[rng.Intn(len(demoTexts))]
			}
			rows = append(rows, SubmittedAnswer{QuestionID: questions[0].ID, Value: text})
		}
		if rng.Intn(10) > 0 {
			rows = append(rows, SubmittedAnswer{QuestionID: questions[1].ID, Value: []string{"yes", "yes", "no"}[rng.Intn(3)]})
		}
		if rng.Intn(8) > 0 {
			rows = append(rows, SubmittedAnswer{QuestionID: questions[2].ID, Value: []string{"health", "health", "justice", "social", "research"}[rng.Intn(5)]})
		}
		for _, v := range []string{"youth", "women", "families", "peers"} {
			if rng.Intn(5) < 2 {
				rows = append(rows, SubmittedAnswer{QuestionID: questions[3].ID, Value: v})
			}
		}
		for _, row := range []string{"police", "doctors", "social_workers"} {
			if rng.Intn(6) > 0 {
				rows = append(rows, SubmittedAnswer{QuestionID: questions[4].ID, RowKey: row, Value: []string{"yes", "no", "yes"}[rng.Intn(3)]})
			}
		}
		sc := float64(1 + rng.Intn(5))
		rows = append(rows, SubmittedAnswer{QuestionID: questions[5].ID, Value: fmt.Sprint(sc), Num: &sc})
		err := s.Write(ctx, func(tx *gorm.DB) error {
			if err := tx.Create(r).Error; err != nil {
				return err
			}
			if _, err := s.SeedSubmission(tx, r, r1.ID, rows, now); err != nil {
				return err
			}
			return tx.Model(&Invitation{}).Where("consultation_id = ? AND participant_id = ?", c.ID, pid).
				Updates(map[string]any{"status": InvSubmitted, "opened_at": now, "started_at": now, "submitted_at": now}).Error
		})
		if err != nil {
			return nil, fmt.Errorf("demo submission: %w", err)
		}
	}
	sum.Respondents, sum.Countries = len(respondents), len(seen)

	// The codebook, and codes on the answers whose words match.
	for _, dc := range demoCodes {
		code, err := s.CreateCode(ctx, c.ID, NewCode{Label: dc.Label, Description: dc.Description})
		if err != nil {
			return nil, fmt.Errorf("demo code: %w", err)
		}
		for _, w := range dc.Words {
			items, _, err := s.ListAnswers(ctx, c.ID, AnswerFilter{Q: w}, 0, 500)
			if err != nil {
				return nil, err
			}
			for _, it := range items {
				if err := s.CodeAnswer(ctx, it.AnswerID, code.ID, 0); err != nil {
					return nil, err
				}
			}
		}
	}

	// A Delphi round that shows round 1's results (left in draft).
	r1id := r1.ID
	r2, err := s.CreateRound(ctx, c.ID, NewRound{Title: "Round 2: reconsider", ShowResultsOf: &r1id}, nil)
	if err != nil {
		return nil, fmt.Errorf("demo round 2: %w", err)
	}
	if _, err := s.CreateQuestion(ctx, r2.ID, QuestionInput{Kind: QYesNo, Prompt: "Having seen the results, should prisons be a priority of the handbook?"}, nil); err != nil {
		return nil, err
	}

	if err := s.loadDemoStates(ctx, rng, members, sum); err != nil {
		return nil, err
	}
	return sum, nil
}

// loadDemoStates loads the State questionnaire: 45 States invited, 38
// replied; "30 have such policies, 6 do not, 2 did not reply".
func (s *Store) loadDemoStates(ctx context.Context, rng *rand.Rand, members []string, sum *DemoSummary) error {
	five := 5
	c, err := s.CreateConsultation(ctx, NewConsultation{Title: DemoStateTitle, Unit: UnitState, Languages: []string{"en"}, MinCellSize: &five,
		Description: "One reply per Member State, by its focal point."}, nil)
	if err != nil {
		return fmt.Errorf("demo State questionnaire: %w", err)
	}
	sum.StateConsultationID = c.ID
	r, err := s.CreateRound(ctx, c.ID, NewRound{Title: "Questionnaire"}, nil)
	if err != nil {
		return err
	}
	var qs []*Question
	for _, in := range []QuestionInput{
		{Kind: QYesNo, Prompt: "Does your country have policies on health services for people who use drugs?"},
		{Kind: QMultiChoice, Prompt: "Which groups were consulted when the policies were written?", Options: []Choice{{"ngos", "NGOs"}, {"families", "Families"}, {"peers", "People who use drugs"}, {"health", "Health professionals"}}},
		{Kind: QMatrixYesNo, Prompt: "Which sectors do the policies cover?", Rows: []Choice{{"health", "Health"}, {"justice", "Justice"}, {"education", "Education"}, {"social", "Social welfare"}}},
		{Kind: QLongText, Prompt: "Please describe a policy that worked."},
	} {
		q, err := s.CreateQuestion(ctx, r.ID, in, nil)
		if err != nil {
			return err
		}
		qs = append(qs, q)
	}
	if _, err := s.OpenRound(ctx, r.ID, nil); err != nil {
		return err
	}
	states := append([]string(nil), members[len(members)-45:]...)
	sort.Strings(states)
	now := s.Now()
	for i, st := range states {
		p, err := s.CreateParticipant(ctx, ParticipantInput{Name: Str("Focal point " + st), Email: Str("focal." + strings.ToLower(st) + "@demo.example.org"),
			Kind: Str(KindObserver), Country: Str(st), Language: Str("en")}, nil)
		if err != nil {
			return fmt.Errorf("demo focal point: %w", err)
		}
		err = s.Write(ctx, func(tx *gorm.DB) error {
			_, inv, err := IssueInvitation(tx, now, c.ID, p.ID)
			if err != nil {
				return err
			}
			code := st
			upd := map[string]any{"status": InvSent, "sent_at": now, "state_country": code}
			if i >= 38 {
				return tx.Model(inv).Updates(upd).Error
			}
			upd["status"], upd["submitted_at"] = InvSubmitted, now
			if err := tx.Model(inv).Updates(upd).Error; err != nil {
				return err
			}
			pid := p.ID
			resp := &Respondent{ConsultationID: c.ID, ParticipantID: &pid, Code: NewRespondentCode(), StateCountry: &code, Country: code, CreatedAt: now, UpdatedAt: now}
			if err := tx.Create(resp).Error; err != nil {
				return err
			}
			var rows []SubmittedAnswer
			switch {
			case i < 30:
				rows = append(rows, SubmittedAnswer{QuestionID: qs[0].ID, Value: "yes"})
				for _, row := range []string{"health", "justice", "education", "social"} {
					rows = append(rows, SubmittedAnswer{QuestionID: qs[2].ID, RowKey: row, Value: []string{"yes", "yes", "no"}[rng.Intn(3)]})
				}
				for _, g := range []string{"ngos", "families", "peers", "health"} {
					if rng.Intn(3) > 0 {
						rows = append(rows, SubmittedAnswer{QuestionID: qs[1].ID, Value: g})
					}
				}
				rows = append(rows, SubmittedAnswer{QuestionID: qs[3].ID, Value: demoTexts[rng.Intn(4)]})
			case i < 36:
				rows = append(rows, SubmittedAnswer{QuestionID: qs[0].ID, Value: "no"})
			}
			_, err = s.SeedSubmission(tx, resp, r.ID, rows, now)
			return err
		})
		if err != nil {
			return fmt.Errorf("demo State reply: %w", err)
		}
	}
	sum.States, sum.StatesInvited = 38, len(states)
	return nil
}
