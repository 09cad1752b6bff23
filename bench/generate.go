package bench

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
	"time"

	"gorm.io/gorm"

	"focalpoint/models"
)

// GenConfig describes a synthetic consultation.
type GenConfig struct {
	// Respondents is how many respondents have submitted answers.
	Respondents int
	// Fresh is how many more invitations exist whose link was not opened
	// yet: the load driver plays them (see Tokens).
	Fresh int
	// AllKinds asks for one question of every kind (9) instead of the five
	// of the benchmark (long text, single, multi, yes/no, matrix).
	AllKinds bool
	// Seed makes the data and the tokens reproducible.
	Seed uint64
	// Chunk is how many respondents one transaction writes.
	Chunk int
	// Now is the clock (the round is open around it); zero: time.Now.
	Now time.Time
	// Progress, when set, receives a line per million rows.
	Progress io.Writer
}

// GenResult says what Generate wrote.
type GenResult struct {
	ConsultationID int64
	RoundID        int64
	Questions      []models.Question
	// FirstParticipant is the id of participant 0; participant i of the
	// run has id FirstParticipant+i (respondents first, then fresh).
	FirstParticipant int64
	Rows             map[string]int64
	Elapsed          time.Duration
	// Recount is the part of Elapsed spent rebuilding the tallies.
	Recount time.Duration
	cfg     GenConfig
}

// Token returns the personal link token of participant i of the run
// (0 ≤ i < Respondents+Fresh): tokens derive from the seed, so the driver
// can be handed any of them; only their hash is in the database.
func (g *GenResult) Token(i int) string { return genToken(g.cfg.Seed, i) }

// FreshTokens returns the tokens of the first n fresh invitations.
func (g *GenResult) FreshTokens(n int) []string {
	n = min(n, g.cfg.Fresh)
	out := make([]string, n)
	for i := range out {
		out[i] = g.Token(g.cfg.Respondents + i)
	}
	return out
}

// AnsweredTokens returns the tokens of the first n respondents who have
// submitted (for the personal-link page benchmark).
func (g *GenResult) AnsweredTokens(n int) []string {
	n = min(n, g.cfg.Respondents)
	out := make([]string, n)
	for i := range out {
		out[i] = g.Token(i)
	}
	return out
}

func genToken(seed uint64, i int) string {
	var b [16]byte
	binary.LittleEndian.PutUint64(b[:8], seed)
	binary.LittleEndian.PutUint64(b[8:], uint64(i))
	h := sha256.Sum256(append([]byte("focal-bench-token"), b[:]...))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// benchQuestions returns the questions of the synthetic round.
func benchQuestions(all bool) []models.Question {
	ch := func(vals ...string) string {
		var cs []models.Choice
		for _, v := range vals {
			cs = append(cs, models.Choice{Value: v, Label: "Option " + v})
		}
		b, _ := json.Marshal(cs)
		return string(b)
	}
	f := func(v float64) *float64 { return &v }
	qs := []models.Question{
		{Kind: models.QLongText, Prompt: "What has worked in your country, and why?"},
		{Kind: models.QSingleChoice, Prompt: "Which service matters most?", Options: ch("outreach", "treatment", "housing", "employment", "other"), Required: true},
		{Kind: models.QMultiChoice, Prompt: "Which groups are consulted?", Options: ch("youth", "families", "users", "ngos", "police", "health")},
		{Kind: models.QYesNo, Prompt: "Does your country have such a policy?", Options: ch("yes", "no"), Required: true},
		{Kind: models.QMatrixYesNo, Prompt: "Which sectors were trained?", RowsJSON: ch("health", "justice", "education", "social")},
	}
	if all {
		qs = append(qs,
			models.Question{Kind: models.QShortText, Prompt: "Your role, in a few words"},
			models.Question{Kind: models.QScale, Prompt: "How useful was the last handbook?", MinValue: f(1), MaxValue: f(5)},
			models.Question{Kind: models.QNumber, Prompt: "How many staff work on this?", MinValue: f(0), MaxValue: f(100000)},
			models.Question{Kind: models.QCountry, Prompt: "Which country's practice should others learn from?"},
		)
	}
	for i := range qs {
		qs[i].Position = i + 1
		if qs[i].Options == "" {
			qs[i].Options = "[]"
		}
		if qs[i].RowsJSON == "" {
			qs[i].RowsJSON = "[]"
		}
	}
	return qs
}

var (
	tParticipants = []string{"id", "name", "email", "kind", "country", "language", "nominated_by", "created_at", "updated_at"}
	tInvitations  = []string{"id", "consultation_id", "participant_id", "token_hash", "status", "created_at", "sent_at", "opened_at", "started_at", "submitted_at"}
	tRespondents  = []string{"id", "consultation_id", "participant_id", "code", "gender", "institution_type", "country", "consent_at", "created_at", "updated_at"}
	tResponses    = []string{"id", "respondent_id", "round_id", "status", "version", "unsubmitted_changes", "submitted_at", "created_at", "updated_at"}
	tAnswers      = []string{"response_id", "question_id", "value", "updated_at"}
	tSubmitted    = []string{"id", "response_id", "respondent_id", "round_id", "question_id", "row_key", "value", "num"}
)

// genChunk is the rows of one transaction, built ahead of the writer.
type genChunk struct {
	rows map[string][][]any
}

func (c *genChunk) add(t string, vals ...any) { c.rows[t] = append(c.rows[t], vals) }

var tableOrder = []struct {
	name string
	cols []string
}{{"participants", tParticipants}, {"invitations", tInvitations}, {"respondents", tRespondents},
	{"responses", tResponses}, {"answers", tAnswers}, {"submitted_answers", tSubmitted}}

// Generate writes a synthetic consultation through the store's bulk path.
// Row building runs one chunk ahead of the writer, so both cores work.
func Generate(ctx context.Context, s *models.Store, cfg GenConfig) (*GenResult, error) {
	start := time.Now()
	if cfg.Chunk <= 0 {
		cfg.Chunk = 2000
	}
	now := cfg.Now
	if now.IsZero() {
		now = time.Now().UTC()
	}
	now = now.UTC().Truncate(time.Second)
	res := &GenResult{cfg: cfg, Rows: map[string]int64{}}
	if s.Dialect == models.SQLite {
		// A bigger page cache for the writer connection while loading.
		_ = s.Write(ctx, func(tx *gorm.DB) error { return tx.Exec("PRAGMA cache_size=-400000").Error })
		defer s.Write(context.WithoutCancel(ctx), func(tx *gorm.DB) error { return tx.Exec("PRAGMA cache_size=-32000").Error })
	}
	opens, closes := now.Add(-42*24*time.Hour), now.Add(60*24*time.Hour)
	qs := benchQuestions(cfg.AllKinds)
	err := s.Write(ctx, func(tx *gorm.DB) error {
		c := &models.Consultation{Title: fmt.Sprintf("Synthetic consultation (%d respondents, seed %d)", cfg.Respondents, cfg.Seed),
			Description: "Generated by bench/gen.", Unit: models.UnitPerson, Languages: `["en","fr","es","ru","ar","zh"]`,
			MinCellSize: 5, CreatedAt: opens, UpdatedAt: opens}
		if err := tx.Create(c).Error; err != nil {
			return err
		}
		r := &models.Round{ConsultationID: c.ID, Position: 1, Title: "Round 1", OpensAt: &opens, ClosesAt: &closes,
			State: models.RoundOpen, CreatedAt: opens, UpdatedAt: opens}
		if err := tx.Create(r).Error; err != nil {
			return err
		}
		for i := range qs {
			qs[i].RoundID, qs[i].CreatedAt, qs[i].UpdatedAt = r.ID, opens, opens
			if err := tx.Create(&qs[i]).Error; err != nil {
				return err
			}
		}
		res.ConsultationID, res.RoundID = c.ID, r.ID
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("create the consultation: %w", err)
	}
	res.Questions = qs
	ids := map[string]int64{}
	for _, t := range []string{"participants", "invitations", "respondents", "responses", "submitted_answers"} {
		if ids[t], err = s.NextID(ctx, t); err != nil {
			return nil, err
		}
	}
	res.FirstParticipant = ids["participants"]
	g := &genState{cfg: cfg, res: res, ids: ids, qs: qs, opens: opens, now: now, countries: countryWeights(cfg.Seed)}
	total := cfg.Respondents + cfg.Fresh
	chunks := make(chan *genChunk, 2)
	gctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		defer close(chunks)
		for lo := 0; lo < total; lo += cfg.Chunk {
			c := g.build(lo, min(lo+cfg.Chunk, total))
			select {
			case chunks <- c:
			case <-gctx.Done():
				return
			}
		}
	}()
	var written, reported int64
	for c := range chunks {
		rows, err := s.BulkLoad(ctx, func(b *models.Bulk) error {
			for _, t := range tableOrder {
				b.Table(t.name, t.cols...)
			}
			for _, t := range tableOrder {
				for _, r := range c.rows[t.name] {
					if err := b.Add(t.name, r...); err != nil {
						return err
					}
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
		for t, n := range rows {
			res.Rows[t] += n
			written += n
		}
		if cfg.Progress != nil && written-reported >= 1_000_000 {
			reported = written
			fmt.Fprintf(cfg.Progress, "%s: %d rows\n", time.Since(start).Round(time.Second), written)
		}
	}
	if err := s.SyncSequences(ctx, "participants", "invitations", "respondents", "responses", "submitted_answers"); err != nil {
		return nil, err
	}
	t0 := time.Now()
	if err := recount(ctx, s, res.ConsultationID); err != nil {
		return nil, fmt.Errorf("recount tallies: %w", err)
	}
	res.Recount = time.Since(t0)
	res.Elapsed = time.Since(start)
	return res, nil
}

// genState builds chunks; only the producer goroutine touches it.
type genState struct {
	cfg       GenConfig
	res       *GenResult
	ids       map[string]int64
	qs        []models.Question
	opens     time.Time
	now       time.Time
	countries *weighted
}

// weighted draws an index with given cumulative weights.
type weighted struct {
	codes []string
	cum   []float64
}

func (w *weighted) draw(r *rand.Rand) string {
	x := r.Float64() * w.cum[len(w.cum)-1]
	lo, hi := 0, len(w.cum)-1
	for lo < hi {
		m := (lo + hi) / 2
		if w.cum[m] < x {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return w.codes[lo]
}

// countryWeights spreads respondents over the real country list with a
// Zipf-like skew (a few countries answer most, as in real consultations)
// and 3 % prefer_not_to_say.
func countryWeights(seed uint64) *weighted {
	cs := models.Countries()
	r := rand.New(rand.NewPCG(seed, 7))
	r.Shuffle(len(cs), func(i, j int) { cs[i], cs[j] = cs[j], cs[i] })
	w := &weighted{}
	sum := 0.0
	for i, c := range cs {
		sum += 1 / math.Pow(float64(i+1), 1.05)
		w.codes = append(w.codes, c.Code)
		w.cum = append(w.cum, sum)
	}
	w.codes = append(w.codes, models.PreferNotToSay)
	w.cum = append(w.cum, sum*1.03)
	return w
}

const codeAlphabet = "23456789abcdefghjkmnpqrstuvwxyz"

func respondentCode(r *rand.Rand) string {
	var b [16]byte
	for i := range b {
		b[i] = codeAlphabet[r.IntN(len(codeAlphabet))]
	}
	return string(b[:])
}

func (g *genState) build(lo, hi int) *genChunk {
	c := &genChunk{rows: map[string][][]any{}}
	r := rand.New(rand.NewPCG(g.cfg.Seed, uint64(lo)+1))
	cid, rid := g.res.ConsultationID, g.res.RoundID
	span := g.now.Sub(g.opens)
	for i := lo; i < hi; i++ {
		pid := g.ids["participants"] + int64(i)
		invID := g.ids["invitations"] + int64(i)
		country := g.countries.draw(r)
		pcountry := country
		if pcountry == models.PreferNotToSay {
			pcountry = ""
		}
		created := g.opens.Add(-time.Duration(r.Int64N(int64(30 * 24 * time.Hour)))).Truncate(time.Second)
		lang := []string{"en", "fr", "es", "ru", "ar", "zh"}[r.IntN(6)]
		c.add("participants", pid, personName(r), fmt.Sprintf("bench-%d-%d@example.test", g.cfg.Seed, i),
			[]string{models.KindExpert, models.KindNGO, models.KindResearcher, models.KindObserver}[r.IntN(4)],
			pcountry, lang, "", created, created)
		tokHash := models.HashToken(genToken(g.cfg.Seed, i))
		sent := g.opens.Add(time.Duration(r.Int64N(int64(24 * time.Hour)))).Truncate(time.Second)
		if i >= g.cfg.Respondents {
			c.add("invitations", invID, cid, pid, tokHash, models.InvSent, created, sent, nil, nil, nil)
			continue
		}
		at := g.opens.Add(time.Duration(r.Int64N(int64(span)))).Truncate(time.Second)
		c.add("invitations", invID, cid, pid, tokHash, models.InvSubmitted, created, sent, at, at, at)
		respID := g.ids["respondents"] + int64(i)
		c.add("respondents", respID, cid, pid, respondentCode(r),
			models.Genders[pickSkewed(r, len(models.Genders))],
			models.InstitutionTypes[pickSkewed(r, len(models.InstitutionTypes))], country, at, at, at)
		responseID := g.ids["responses"] + int64(i)
		c.add("responses", responseID, respID, rid, models.ResponseSubmitted, 2, false, at, at, at)
		for qi := range g.qs {
			q := &g.qs[qi]
			val, subs := g.answer(r, q)
			if val == "" {
				continue
			}
			c.add("answers", responseID, q.ID, val, at)
			for _, sa := range subs {
				c.add("submitted_answers", g.ids["submitted_answers"], responseID, respID, rid, q.ID, sa.rowKey, sa.value, sa.num)
				g.ids["submitted_answers"]++
			}
		}
	}
	return c
}

// pickSkewed favours the first values (demographics are never uniform),
// with the last value (prefer_not_to_say) at a few percent.
func pickSkewed(r *rand.Rand, n int) int {
	if r.IntN(100) < 4 {
		return n - 1
	}
	return min(int(r.ExpFloat64()*float64(n-1)/2.5), n-2)
}

type subRow struct {
	rowKey, value string
	num           any
}

func choices(js string) []string {
	var cs []models.Choice
	_ = json.Unmarshal([]byte(js), &cs)
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Value
	}
	return out
}

// answer draws one answer: its JSON working copy and its exploded
// submitted rows; "" when the respondent left the question empty.
func (g *genState) answer(r *rand.Rand, q *models.Question) (string, []subRow) {
	skip := 5
	if q.Kind == models.QLongText {
		skip = 30
	}
	if !q.Required && r.IntN(100) < skip {
		return "", nil
	}
	js := func(v any) string { b, _ := json.Marshal(v); return string(b) }
	switch q.Kind {
	case models.QLongText, models.QShortText:
		median := 40.0
		if q.Kind == models.QShortText {
			median = 4
		}
		t := Text(r, pickScript(r), wordCount(r, median))
		return js(t), []subRow{{value: t}}
	case models.QSingleChoice, models.QYesNo:
		opts := choices(q.Options)
		v := opts[pickSkewed(r, len(opts)+1)%len(opts)]
		return js(v), []subRow{{value: v}}
	case models.QMultiChoice:
		var vs []string
		var rows []subRow
		for _, o := range choices(q.Options) {
			if r.IntN(100) < 35 {
				vs = append(vs, o)
				rows = append(rows, subRow{value: o})
			}
		}
		if len(vs) == 0 {
			return "", nil
		}
		return js(vs), rows
	case models.QMatrixYesNo:
		m := map[string]string{}
		var rows []subRow
		for _, k := range choices(q.RowsJSON) {
			v := "yes"
			if r.IntN(100) < 40 {
				v = "no"
			}
			m[k] = v
			rows = append(rows, subRow{rowKey: k, value: v})
		}
		return js(m), rows
	case models.QScale:
		v := 1 + pickSkewed(r, 6)%5
		return strconv.Itoa(v), []subRow{{value: strconv.Itoa(v), num: float64(v)}}
	case models.QNumber:
		v := math.Round(r.ExpFloat64()*250*10) / 10
		s := strconv.FormatFloat(v, 'f', -1, 64)
		return s, []subRow{{value: s, num: v}}
	case models.QCountry:
		v := g.countries.draw(r)
		if v == models.PreferNotToSay {
			v = "FR"
		}
		return js(v), []subRow{{value: v}}
	}
	return "", nil
}
