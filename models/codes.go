package models

import (
	"context"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
)

// The codebook: themes an analyst attaches to open answers. A code is
// attached to a (response, question) pair rather than to a
// submitted_answers row: a resubmission may delete and insert submitted
// rows (and so change their ids, the API's answer_id; a changed text keeps
// its row), and the analyst's coding stays with the respondent's answer
// to that question. A coded answer that a
// resubmission leaves blank no longer counts in theme counts.
func init() {
	Register(Migration{Version: 401, Name: "codebook and answer codes", SQL: `
CREATE TABLE codes (
	id {{ID}},
	consultation_id {{BIGINT}} NOT NULL REFERENCES consultations(id),
	label TEXT NOT NULL,
	slug TEXT NOT NULL,
	description TEXT NOT NULL DEFAULT '',
	created_at {{TIME}} NOT NULL,
	UNIQUE (consultation_id, slug)
);
CREATE TABLE answer_codes (
	response_id {{BIGINT}} NOT NULL REFERENCES responses(id),
	question_id {{BIGINT}} NOT NULL REFERENCES questions(id),
	code_id {{BIGINT}} NOT NULL REFERENCES codes(id),
	consultation_id {{BIGINT}} NOT NULL,
	respondent_id {{BIGINT}} NOT NULL,
	created_by {{BIGINT}},
	created_at {{TIME}} NOT NULL,
	PRIMARY KEY (response_id, question_id, code_id)
);
CREATE INDEX answer_codes_code ON answer_codes (code_id);
CREATE INDEX answer_codes_consultation ON answer_codes (consultation_id, question_id);
`})
}

// Code is one theme of a consultation's codebook.
type Code struct {
	ID             int64     `gorm:"primaryKey" json:"id"`
	ConsultationID int64     `json:"consultation_id"`
	Label          string    `json:"label"`
	Slug           string    `json:"code"`
	Description    string    `json:"description"`
	CreatedAt      time.Time `json:"created_at"`
}

// NewCode is the input of CreateCode.
type NewCode struct {
	Label       string
	Description string
}

var slugRe = regexp.MustCompile(`[^\p{L}\p{N}]+`)

// Slugify makes the stable code of a label: "Stigma in services" →
// "stigma-in-services".
func Slugify(label string) string {
	return strings.Trim(slugRe.ReplaceAllString(strings.ToLower(label), "-"), "-")
}

func validText(v string) bool {
	for _, r := range v {
		if r < 0x20 && r != '\n' && r != '\r' && r != '\t' {
			return false
		}
	}
	return utf8.ValidString(v)
}

// CreateCode adds a theme to a consultation's codebook; a label whose code
// already exists is a conflict.
func (s *Store) CreateCode(ctx context.Context, consultationID int64, in NewCode) (*Code, error) {
	in.Label = strings.TrimSpace(in.Label)
	in.Description = strings.TrimSpace(in.Description)
	errs := FieldErrors{}
	switch {
	case in.Label == "":
		errs.Add("label", "error.required")
	case utf8.RuneCountInString(in.Label) > 100:
		errs.Add("label", "error.too_long")
	case !validText(in.Label) || Slugify(in.Label) == "":
		errs.Add("label", "error.text_invalid")
	}
	if utf8.RuneCountInString(in.Description) > 2000 {
		errs.Add("description", "error.too_long")
	} else if !validText(in.Description) {
		errs.Add("description", "error.text_invalid")
	}
	if err := errs.Err(); err != nil {
		return nil, err
	}
	if _, err := s.synthConsultation(s.ReadDB(ctx), consultationID); err != nil {
		return nil, err
	}
	c := &Code{ConsultationID: consultationID, Label: in.Label, Slug: Slugify(in.Label), Description: in.Description, CreatedAt: s.Now()}
	err := s.Write(ctx, func(tx *gorm.DB) error {
		var n int64
		if err := tx.Model(&Code{}).Where("consultation_id = ? AND slug = ?", consultationID, c.Slug).Count(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return E(ErrConflict, "code_exists", "codes.error_exists")
		}
		return translate(tx.Create(c).Error)
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// ListCodes returns a consultation's codebook, by label.
func (s *Store) ListCodes(ctx context.Context, consultationID int64) ([]Code, error) {
	out := []Code{}
	err := s.ReadDB(ctx).Where("consultation_id = ?", consultationID).Order("label, id").Find(&out).Error
	return out, err
}

// FindCode returns one code of a consultation.
func (s *Store) FindCode(ctx context.Context, consultationID, codeID int64) (*Code, error) {
	var c Code
	if err := s.ReadDB(ctx).Where("id = ? AND consultation_id = ?", codeID, consultationID).First(&c).Error; err != nil {
		return nil, translate(err)
	}
	return &c, nil
}

// answerRef is what a submitted_answers id points to.
type answerRef struct {
	ID, ResponseID, RespondentID, QuestionID, ConsultationID int64
	Kind                                                     string
}

func (s *Store) findAnswerRef(db *gorm.DB, answerID int64) (*answerRef, error) {
	var refs []answerRef
	if err := db.Raw(`SELECT sa.id, sa.response_id, sa.respondent_id, sa.question_id, rs.consultation_id, q.kind
		FROM submitted_answers sa JOIN respondents rs ON rs.id = sa.respondent_id JOIN questions q ON q.id = sa.question_id
		WHERE sa.id = ?`, answerID).Scan(&refs).Error; err != nil {
		return nil, err
	}
	if len(refs) == 0 {
		return nil, ErrNotFound
	}
	return &refs[0], nil
}

// CodeAnswer attaches a code to an open answer (answer_id is the
// submitted_answers id). Attaching it twice changes nothing.
func (s *Store) CodeAnswer(ctx context.Context, answerID, codeID int64, staffID int64) error {
	return s.Write(ctx, func(tx *gorm.DB) error {
		ref, err := s.findAnswerRef(tx, answerID)
		if err != nil {
			return err
		}
		if ref.Kind != QLongText && ref.Kind != QShortText {
			return E(ErrConflict, "not_open_answer", "codes.error_not_open")
		}
		var c Code
		if err := tx.Where("id = ? AND consultation_id = ?", codeID, ref.ConsultationID).First(&c).Error; err != nil {
			return FieldErrors{"code_id": "codes.error_unknown"}
		}
		var by *int64
		if staffID > 0 {
			by = &staffID
		}
		return tx.Exec(`INSERT INTO answer_codes (response_id, question_id, code_id, consultation_id, respondent_id, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (response_id, question_id, code_id) DO NOTHING`,
			ref.ResponseID, ref.QuestionID, c.ID, ref.ConsultationID, ref.RespondentID, by, s.Now()).Error
	})
}

// UncodeAnswer removes a code from an answer; ErrNotFound if it was not
// attached.
func (s *Store) UncodeAnswer(ctx context.Context, answerID, codeID int64) error {
	return s.Write(ctx, func(tx *gorm.DB) error {
		ref, err := s.findAnswerRef(tx, answerID)
		if err != nil {
			return err
		}
		res := tx.Exec("DELETE FROM answer_codes WHERE response_id = ? AND question_id = ? AND code_id = ?", ref.ResponseID, ref.QuestionID, codeID)
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		return nil
	})
}

// AnswerConsultation returns the consultation an answer belongs to.
func (s *Store) AnswerConsultation(ctx context.Context, answerID int64) (int64, error) {
	ref, err := s.findAnswerRef(s.ReadDB(ctx), answerID)
	if err != nil {
		return 0, err
	}
	return ref.ConsultationID, nil
}

// themeCounts counts, per open question, the answers in scope carrying
// each code (answers left blank by a resubmission do not count).
func (s *Store) themeCounts(db *gorm.DB, consultationID int64, rounds []int64, f SynthesisFilter) (map[int64][]ThemeCount, error) {
	where := "ac.consultation_id = ?"
	args := []any{consultationID}
	if len(rounds) > 0 {
		where += " AND r.round_id IN ?"
		args = append(args, rounds)
	}
	var rows []struct {
		QuestionID, CodeID               int64
		Slug                             string
		Gender, InstitutionType, Country string
		N                                int64
	}
	err := db.Raw(`SELECT ac.question_id, ac.code_id, c.slug, rs.gender, rs.institution_type, `+cellCountrySQL+` AS country, COUNT(*) AS n
		FROM answer_codes ac JOIN codes c ON c.id = ac.code_id JOIN responses r ON r.id = ac.response_id
		JOIN respondents rs ON rs.id = ac.respondent_id
		WHERE `+where+` AND r.status = 'submitted' AND EXISTS (SELECT 1 FROM submitted_answers sa WHERE sa.response_id = ac.response_id
			AND sa.question_id = ac.question_id AND `+s.notBlankSQL("sa.value")+`)
		GROUP BY ac.question_id, ac.code_id, c.slug, rs.gender, rs.institution_type, `+cellCountrySQL, args...).Scan(&rows).Error
	if err != nil {
		return nil, err
	}
	type key struct{ q, c int64 }
	sums := map[key]*ThemeCount{}
	out := map[int64][]ThemeCount{}
	var order []key
	for _, r := range rows {
		if !f.match(cell{r.Gender, r.InstitutionType, r.Country}) {
			continue
		}
		k := key{r.QuestionID, r.CodeID}
		if sums[k] == nil {
			sums[k] = &ThemeCount{CodeID: r.CodeID, Code: r.Slug}
			order = append(order, k)
		}
		sums[k].Count += r.N
	}
	for _, k := range order {
		out[k.q] = append(out[k.q], *sums[k])
	}
	for q := range out {
		ts := out[q]
		sortThemes(ts)
	}
	return out, nil
}

func sortThemes(ts []ThemeCount) {
	for i := 1; i < len(ts); i++ {
		for j := i; j > 0 && (ts[j].Count > ts[j-1].Count || (ts[j].Count == ts[j-1].Count && ts[j].Code < ts[j-1].Code)); j-- {
			ts[j], ts[j-1] = ts[j-1], ts[j]
		}
	}
}

// ThemeBreakdown counts the answers carrying a code by a demographic
// dimension (gender, institution_type or region).
func (s *Store) ThemeBreakdown(ctx context.Context, consultationID, codeID int64, dim string) ([]ValueCount, error) {
	var rows []struct {
		Gender, InstitutionType, Country string
		N                                int64
	}
	err := s.ReadDB(ctx).Raw(`SELECT rs.gender, rs.institution_type, `+cellCountrySQL+` AS country, COUNT(*) AS n
		FROM answer_codes ac JOIN respondents rs ON rs.id = ac.respondent_id
		WHERE ac.consultation_id = ? AND ac.code_id = ? AND EXISTS (SELECT 1 FROM submitted_answers sa WHERE sa.response_id = ac.response_id
			AND sa.question_id = ac.question_id AND `+s.notBlankSQL("sa.value")+`)
		GROUP BY rs.gender, rs.institution_type, `+cellCountrySQL, consultationID, codeID).Scan(&rows).Error
	if err != nil {
		return nil, err
	}
	got := map[string]int64{}
	var total int64
	for _, r := range rows {
		got[dimValue(dim, cell{r.Gender, r.InstitutionType, r.Country})] += r.N
		total += r.N
	}
	return breakdown(DimensionValues(dim), got, total), nil
}
