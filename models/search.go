package models

import (
	"context"
	"sort"
	"strings"
	"unicode/utf8"

	"gorm.io/gorm"
)

// Full-text search over submitted open answers. SQLite: an FTS4 table
// (FTS5 needs a build tag; FTS4 is compiled in) kept by the search
// indexer (search_index.go) rather than by insert triggers, so a submit
// does not tokenize in the single writer. PostgreSQL: a GIN expression
// index on to_tsvector('simple', value), queried with plainto_tsquery;
// the 'simple' configuration because answers come in many languages.
func init() {
	Register(Migration{Version: 402, Name: "full-text search of open answers", Up: func(tx *gorm.DB, d Dialect) error {
		var stmts []string
		if d == Postgres {
			stmts = []string{`CREATE INDEX submitted_answers_fts ON submitted_answers USING GIN (to_tsvector('simple', value))`}
		} else {
			cond := `(SELECT kind FROM questions WHERE id = NEW.question_id) IN ('long_text','short_text')`
			stmts = []string{
				`CREATE VIRTUAL TABLE answer_fts USING fts4(body, tokenize=unicode61 "remove_diacritics=1")`,
				`CREATE TRIGGER submitted_answers_fts_ins AFTER INSERT ON submitted_answers WHEN ` + cond + `
BEGIN INSERT INTO answer_fts(docid, body) VALUES (NEW.id, NEW.value); END`,
				`CREATE TRIGGER submitted_answers_fts_del AFTER DELETE ON submitted_answers
BEGIN DELETE FROM answer_fts WHERE docid = OLD.id; END`,
				`CREATE TRIGGER submitted_answers_fts_upd AFTER UPDATE OF value ON submitted_answers WHEN ` + cond + `
BEGIN DELETE FROM answer_fts WHERE docid = OLD.id; INSERT INTO answer_fts(docid, body) VALUES (NEW.id, NEW.value); END`,
				`INSERT INTO answer_fts(docid, body) SELECT sa.id, sa.value FROM submitted_answers sa JOIN questions q ON q.id = sa.question_id
WHERE q.kind IN ('long_text','short_text')`,
			}
		}
		for _, st := range stmts {
			if err := tx.Exec(st).Error; err != nil {
				return err
			}
		}
		return nil
	}})
}

// AnswerFilter selects open answers: words to search (all must occur), a
// question, a code, and the synthesis demographic filters.
type AnswerFilter struct {
	SynthesisFilter
	Q          string
	QuestionID int64
	CodeID     int64
}

// AnswerCode is a code as shown on an answer.
type AnswerCode struct {
	ID    int64  `json:"id"`
	Code  string `json:"code"`
	Label string `json:"label"`
}

// OpenAnswer is one submitted open answer, with the respondent's random
// code (never a name or an id) and its codes.
type OpenAnswer struct {
	AnswerID     int64        `json:"answer_id"`
	Respondent   string       `json:"respondent"`
	QuestionID   int64        `json:"question_id"`
	Text         string       `json:"text"`
	Codes        []AnswerCode `gorm:"-" json:"codes"`
	ResponseID   int64        `json:"-"`
	Gender       string       `json:"-"`
	Institution  string       `json:"-"`
	Country      string       `json:"-"`
	QuestionText string       `json:"-"`
}

// searchTerms splits a query into words for FTS: each quoted, so FTS
// operators typed by the user are plain words.
func searchTerms(q string) []string {
	var out []string
	for _, w := range strings.FieldsFunc(q, func(r rune) bool {
		return !(r == '-' || r == '\'' || r == '_' || isWordRune(r))
	}) {
		w = strings.Trim(w, "-'_")
		if w != "" {
			out = append(out, w)
		}
		if len(out) == 16 {
			break
		}
	}
	return out
}

func isWordRune(r rune) bool {
	return r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r > 127
}

// regionCountries lists the codes of a region's countries.
func regionCountries(region string) []string {
	var out []string
	for _, c := range Countries() {
		if c.Region == region {
			out = append(out, c.Code)
		}
	}
	return out
}

// ListAnswers returns the open answers of a consultation matching the
// filter, oldest first, one page at a time, and how many match.
func (s *Store) ListAnswers(ctx context.Context, consultationID int64, f AnswerFilter, offset, limit int) ([]OpenAnswer, int64, error) {
	if err := f.SynthesisFilter.Validate(); err != nil {
		return nil, 0, err
	}
	f.Q = strings.TrimSpace(f.Q)
	if utf8.RuneCountInString(f.Q) > 200 {
		return nil, 0, FieldErrors{"q": "error.too_long"}
	}
	if len(searchTerms(f.Q)) > 0 {
		// The index holds every answer submitted before this search.
		if err := s.catchUpSearch(ctx); err != nil {
			return nil, 0, err
		}
	}
	db := s.ReadDB(ctx)
	if _, err := s.synthConsultation(db, consultationID); err != nil {
		return nil, 0, err
	}
	where := []string{"rs.consultation_id = ?", "q.kind IN ?", s.notBlankSQL("sa.value")}
	args := []any{consultationID, []string{QLongText, QShortText}}
	if f.RoundID != 0 {
		where = append(where, "sa.round_id = ?")
		args = append(args, f.RoundID)
	}
	if f.QuestionID != 0 {
		where = append(where, "sa.question_id = ?")
		args = append(args, f.QuestionID)
	}
	if f.Gender != "" {
		where = append(where, "rs.gender = ?")
		args = append(args, f.Gender)
	}
	if f.InstitutionType != "" {
		where = append(where, "rs.institution_type = ?")
		args = append(args, f.InstitutionType)
	}
	if f.Country != "" {
		where = append(where, cellCountrySQL+" = ?")
		args = append(args, f.Country)
	}
	if f.Region != "" {
		if f.Region == RegionOther {
			var known []string
			for _, c := range Countries() {
				if c.Region != RegionOther {
					known = append(known, c.Code)
				}
			}
			where = append(where, cellCountrySQL+" NOT IN ?")
			args = append(args, known)
		} else {
			codes := regionCountries(f.Region)
			if len(codes) == 0 {
				codes = []string{"\x00none"}
			}
			where = append(where, cellCountrySQL+" IN ?")
			args = append(args, codes)
		}
	}
	if f.CodeID != 0 {
		where = append(where, "EXISTS (SELECT 1 FROM answer_codes ac WHERE ac.response_id = sa.response_id AND ac.question_id = sa.question_id AND ac.code_id = ?)")
		args = append(args, f.CodeID)
	}
	if terms := searchTerms(f.Q); len(terms) > 0 {
		if s.Dialect == Postgres {
			where = append(where, "to_tsvector('simple', sa.value) @@ plainto_tsquery('simple', ?)")
			args = append(args, strings.Join(terms, " "))
		} else {
			quoted := make([]string, len(terms))
			for i, t := range terms {
				quoted[i] = `"` + strings.ReplaceAll(t, `"`, ``) + `"`
			}
			where = append(where, "sa.id IN (SELECT docid FROM answer_fts WHERE answer_fts MATCH ?)")
			args = append(args, strings.Join(quoted, " "))
		}
	}
	from := ` FROM submitted_answers sa JOIN questions q ON q.id = sa.question_id JOIN respondents rs ON rs.id = sa.respondent_id
		WHERE ` + strings.Join(where, " AND ")
	var total int64
	if err := db.Raw("SELECT COUNT(*)"+from, args...).Scan(&total).Error; err != nil {
		return nil, 0, err
	}
	items := []OpenAnswer{}
	if err := db.Raw(`SELECT sa.id AS answer_id, rs.code AS respondent, sa.question_id, sa.value AS text, sa.response_id,
		rs.gender, rs.institution_type AS institution, `+cellCountrySQL+` AS country, q.prompt AS question_text`+from+
		" ORDER BY sa.id LIMIT ? OFFSET ?", append(args, limit, offset)...).Scan(&items).Error; err != nil {
		return nil, 0, err
	}
	if err := s.attachCodes(db, items); err != nil {
		return nil, 0, err
	}
	return items, total, nil
}

// FindAnswer returns one open answer with its codes.
func (s *Store) FindAnswer(ctx context.Context, answerID int64) (*OpenAnswer, int64, error) {
	db := s.ReadDB(ctx)
	ref, err := s.findAnswerRef(db, answerID)
	if err != nil {
		return nil, 0, err
	}
	items := []OpenAnswer{}
	if err := db.Raw(`SELECT sa.id AS answer_id, rs.code AS respondent, sa.question_id, sa.value AS text, sa.response_id,
		q.prompt AS question_text FROM submitted_answers sa JOIN questions q ON q.id = sa.question_id JOIN respondents rs ON rs.id = sa.respondent_id
		WHERE sa.id = ?`, answerID).Scan(&items).Error; err != nil || len(items) == 0 {
		return nil, 0, ErrNotFound
	}
	if err := s.attachCodes(db, items); err != nil {
		return nil, 0, err
	}
	return &items[0], ref.ConsultationID, nil
}

func (s *Store) attachCodes(db *gorm.DB, items []OpenAnswer) error {
	if len(items) == 0 {
		return nil
	}
	resp := make([]int64, 0, len(items))
	for _, it := range items {
		resp = append(resp, it.ResponseID)
	}
	var rows []struct {
		ResponseID, QuestionID, ID int64
		Slug, Label                string
	}
	if err := db.Raw(`SELECT ac.response_id, ac.question_id, c.id, c.slug, c.label FROM answer_codes ac JOIN codes c ON c.id = ac.code_id
		WHERE ac.response_id IN ?`, resp).Scan(&rows).Error; err != nil {
		return err
	}
	type key struct{ r, q int64 }
	by := map[key][]AnswerCode{}
	for _, r := range rows {
		k := key{r.ResponseID, r.QuestionID}
		by[k] = append(by[k], AnswerCode{ID: r.ID, Code: r.Slug, Label: r.Label})
	}
	for i := range items {
		cs := by[key{items[i].ResponseID, items[i].QuestionID}]
		sort.Slice(cs, func(a, b int) bool { return cs[a].Label < cs[b].Label })
		if cs == nil {
			cs = []AnswerCode{}
		}
		items[i].Codes = cs
	}
	return nil
}
