package models

import (
	"context"
	"errors"
	"strings"

	"gorm.io/gorm"
)

// The roster: organisations and participants (the people who can be
// consulted). Nobody is ever hard-deleted once they have answered: archive
// hides a person from lists and invitations and keeps their answers linked.

func init() {
	Register(Migration{Version: 300, Name: "roster: search and listing indexes", SQL: `
CREATE INDEX participants_name ON participants (name);
CREATE INDEX participants_org ON participants (organization_id);
CREATE INDEX participants_nominated_by ON participants (nominated_by);
CREATE INDEX organizations_name ON organizations (name);
`})
}

// OrganizationKinds lists the kinds an organisation may have.
var OrganizationKinds = []string{OrgMemberState, OrgNGO, OrgIntergovernmental, OrgAcademic, OrgOther}

// ParticipantKinds lists the kinds a participant may have.
var ParticipantKinds = []string{KindExpert, KindNGO, KindResearcher, KindObserver}

// Languages a participant may prefer: the six UN languages.
var Languages = []string{"ar", "en", "es", "fr", "ru", "zh"}

const maxNameLen = 200

func oneOf(v string, list []string) bool {
	for _, x := range list {
		if v == x {
			return true
		}
	}
	return false
}

func validName(errs FieldErrors, field, v string) {
	switch {
	case v == "":
		errs.Add(field, "error.required")
	case len(v) > maxNameLen || !ValidText(v) || strings.ContainsAny(v, "\r\n"):
		errs.Add(field, "error.text_invalid")
	}
}

// OrganizationInput is what a staff member may set on an organisation;
// nil fields are left unchanged by an update.
type OrganizationInput struct {
	Name    *string
	Kind    *string
	Country *string
}

func (in *OrganizationInput) apply(o *Organization) error {
	errs := FieldErrors{}
	if in.Name != nil {
		o.Name = strings.TrimSpace(*in.Name)
	}
	if in.Kind != nil {
		o.Kind = strings.TrimSpace(*in.Kind)
	}
	if in.Country != nil {
		o.Country = *in.Country
	}
	validName(errs, "name", o.Name)
	if !oneOf(o.Kind, OrganizationKinds) {
		errs.Add("kind", "roster.error.org_kind")
	}
	if c, ok := NormalizeCountry(o.Country); ok {
		o.Country = c
	} else {
		errs.Add("country", "roster.error.country")
	}
	return errs.Err()
}

// CreateOrganization adds an organisation.
func (s *Store) CreateOrganization(ctx context.Context, in OrganizationInput, actor *Staff) (*Organization, error) {
	now := s.Now()
	o := &Organization{CreatedAt: now, UpdatedAt: now}
	if err := in.apply(o); err != nil {
		return nil, err
	}
	err := s.Write(ctx, func(tx *gorm.DB) error {
		if err := tx.Create(o).Error; err != nil {
			return translate(err)
		}
		return s.audit(tx, actor, "organization.create", "organization:"+itoa(o.ID), map[string]any{"name": o.Name, "kind": o.Kind})
	})
	if err != nil {
		return nil, err
	}
	return o, nil
}

// UpdateOrganization changes the given fields of an organisation.
func (s *Store) UpdateOrganization(ctx context.Context, id int64, in OrganizationInput, actor *Staff) (*Organization, error) {
	var o Organization
	err := s.Write(ctx, func(tx *gorm.DB) error {
		if err := tx.First(&o, id).Error; err != nil {
			return translate(err)
		}
		if err := in.apply(&o); err != nil {
			return err
		}
		o.UpdatedAt = s.Now()
		if err := tx.Save(&o).Error; err != nil {
			return translate(err)
		}
		return s.audit(tx, actor, "organization.update", "organization:"+itoa(o.ID), nil)
	})
	if err != nil {
		return nil, err
	}
	return &o, nil
}

// ArchiveOrganization hides an organisation from pickers; its people keep
// their link to it.
func (s *Store) ArchiveOrganization(ctx context.Context, id int64, actor *Staff) (*Organization, error) {
	var o Organization
	err := s.Write(ctx, func(tx *gorm.DB) error {
		if err := tx.First(&o, id).Error; err != nil {
			return translate(err)
		}
		if o.ArchivedAt == nil {
			now := s.Now()
			o.ArchivedAt, o.UpdatedAt = &now, now
			if err := tx.Save(&o).Error; err != nil {
				return err
			}
		}
		return s.audit(tx, actor, "organization.archive", "organization:"+itoa(o.ID), nil)
	})
	if err != nil {
		return nil, err
	}
	return &o, nil
}

// FindOrganization returns one organisation.
func (s *Store) FindOrganization(ctx context.Context, id int64) (*Organization, error) {
	var o Organization
	if err := s.R.WithContext(ctx).First(&o, id).Error; err != nil {
		return nil, translate(err)
	}
	return &o, nil
}

// OrganizationFilter selects organisations; empty fields match all.
type OrganizationFilter struct {
	Kind     string
	Country  string
	Q        string
	Archived bool // include archived ones
	Limit    int
	Offset   int
}

// ListOrganizations returns a page of organisations by name and the total.
func (s *Store) ListOrganizations(ctx context.Context, f OrganizationFilter) ([]Organization, int64, error) {
	q := s.R.WithContext(ctx).Model(&Organization{})
	if f.Kind != "" {
		q = q.Where("kind = ?", f.Kind)
	}
	if f.Country != "" {
		q = q.Where("country = ?", strings.ToUpper(f.Country))
	}
	if f.Q != "" {
		q = q.Where("LOWER(name) LIKE ? ESCAPE '\\'", likePattern(f.Q))
	}
	if !f.Archived {
		q = q.Where("archived_at IS NULL")
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, err
	}
	var out []Organization
	if f.Limit <= 0 {
		f.Limit = 500
	}
	err := q.Order("name, id").Limit(f.Limit).Offset(f.Offset).Find(&out).Error
	return out, total, err
}

// likePattern turns a search string into a lower-case LIKE pattern with
// the wildcards of the input escaped.
func likePattern(q string) string {
	q = strings.ToLower(strings.TrimSpace(q))
	q = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(q)
	return "%" + q + "%"
}

// ParticipantInput is what a staff member may set on a participant; nil
// fields are left unchanged by an update. NominatedBy is set only by the
// nomination flow.
type ParticipantInput struct {
	Name           *string
	Email          *string
	Kind           *string
	Country        *string
	OrganizationID *int64
	// ClearOrganization removes the organisation (a JSON null in PATCH).
	ClearOrganization bool
	Language          *string
}

// Str is a helper for optional fields: &s.
func Str(s string) *string { return &s }

func (in *ParticipantInput) apply(tx *gorm.DB, p *Participant) error {
	errs := FieldErrors{}
	if in.Name != nil {
		p.Name = strings.TrimSpace(*in.Name)
	}
	if in.Email != nil {
		p.Email = NormalizeEmail(*in.Email)
	}
	if in.Kind != nil {
		p.Kind = strings.TrimSpace(*in.Kind)
	}
	if in.Country != nil {
		p.Country = *in.Country
	}
	if in.Language != nil {
		p.Language = strings.ToLower(strings.TrimSpace(*in.Language))
	}
	if p.Language == "" {
		p.Language = "en"
	}
	if in.ClearOrganization {
		p.OrganizationID = nil
	} else if in.OrganizationID != nil {
		id := *in.OrganizationID
		p.OrganizationID = &id
	}
	validName(errs, "name", p.Name)
	if !ValidEmail(p.Email) {
		errs.Add("email", "error.email_invalid")
	}
	if !oneOf(p.Kind, ParticipantKinds) {
		errs.Add("kind", "roster.error.participant_kind")
	}
	if c, ok := NormalizeCountry(p.Country); ok {
		p.Country = c
	} else {
		errs.Add("country", "roster.error.country")
	}
	if !oneOf(p.Language, Languages) {
		errs.Add("language", "roster.error.language")
	}
	if p.OrganizationID != nil && in.OrganizationID != nil && tx != nil {
		var o Organization
		if err := tx.First(&o, *p.OrganizationID).Error; err != nil {
			if !errors.Is(err, gorm.ErrRecordNotFound) {
				return err
			}
			errs.Add("organization_id", "roster.error.organization")
		} else if o.ArchivedAt != nil {
			errs.Add("organization_id", "roster.error.organization_archived")
		}
	}
	return errs.Err()
}

var errDuplicateEmail = &Error{Kind: ErrConflict, Code: "duplicate_email", Message: "roster.error.email_taken"}

// CreateParticipant adds a person; an email already on the roster (in any
// case) is a 409 duplicate_email.
func (s *Store) CreateParticipant(ctx context.Context, in ParticipantInput, actor *Staff) (*Participant, error) {
	now := s.Now()
	p := &Participant{CreatedAt: now, UpdatedAt: now}
	if err := in.apply(nil, p); err != nil {
		return nil, err
	}
	err := s.Write(ctx, func(tx *gorm.DB) error {
		if err := in.apply(tx, p); err != nil {
			return err
		}
		if err := tx.Create(p).Error; err != nil {
			if errors.Is(translate(err), ErrConflict) {
				return errDuplicateEmail
			}
			return err
		}
		return s.audit(tx, actor, "participant.create", "participant:"+itoa(p.ID), map[string]any{"kind": p.Kind})
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// UpdateParticipant changes the given fields; a new email that belongs to
// someone else is a 409.
func (s *Store) UpdateParticipant(ctx context.Context, id int64, in ParticipantInput, actor *Staff) (*Participant, error) {
	var p Participant
	err := s.Write(ctx, func(tx *gorm.DB) error {
		if err := tx.First(&p, id).Error; err != nil {
			return translate(err)
		}
		if err := in.apply(tx, &p); err != nil {
			return err
		}
		p.UpdatedAt = s.Now()
		if err := tx.Save(&p).Error; err != nil {
			if errors.Is(translate(err), ErrConflict) {
				return errDuplicateEmail
			}
			return err
		}
		return s.audit(tx, actor, "participant.update", "participant:"+itoa(p.ID), nil)
	})
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// ArchiveParticipant hides a person from lists and new invitations. It is
// the only way to remove someone: answers stay linked to their respondent.
func (s *Store) ArchiveParticipant(ctx context.Context, id int64, actor *Staff) (*Participant, error) {
	return s.setArchived(ctx, id, true, actor)
}

// RestoreParticipant undoes ArchiveParticipant.
func (s *Store) RestoreParticipant(ctx context.Context, id int64, actor *Staff) (*Participant, error) {
	return s.setArchived(ctx, id, false, actor)
}

func (s *Store) setArchived(ctx context.Context, id int64, archived bool, actor *Staff) (*Participant, error) {
	var p Participant
	err := s.Write(ctx, func(tx *gorm.DB) error {
		if err := tx.First(&p, id).Error; err != nil {
			return translate(err)
		}
		now := s.Now()
		action := "participant.restore"
		if archived {
			action = "participant.archive"
			if p.ArchivedAt == nil {
				p.ArchivedAt = &now
			}
		} else {
			p.ArchivedAt = nil
		}
		p.UpdatedAt = now
		if err := tx.Model(&p).Select("archived_at", "updated_at").Updates(&p).Error; err != nil {
			return err
		}
		return s.audit(tx, actor, action, "participant:"+itoa(p.ID), nil)
	})
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// DeleteParticipant removes a person entered by mistake. Someone who has
// answered (has a respondent row) or was invited is never deleted: that is
// a 409 participant_in_use, and archive is the way.
func (s *Store) DeleteParticipant(ctx context.Context, id int64, actor *Staff) error {
	return s.Write(ctx, func(tx *gorm.DB) error {
		var p Participant
		if err := tx.First(&p, id).Error; err != nil {
			return translate(err)
		}
		var n int64
		if err := tx.Raw(`SELECT (SELECT COUNT(*) FROM respondents WHERE participant_id = ?) +
			(SELECT COUNT(*) FROM invitations WHERE participant_id = ?)`, id, id).Scan(&n).Error; err != nil {
			return err
		}
		if n > 0 {
			return E(ErrConflict, "participant_in_use", "roster.error.participant_in_use")
		}
		if err := tx.Exec("UPDATE nominations SET participant_id = NULL WHERE participant_id = ?", id).Error; err != nil {
			return err
		}
		if err := tx.Delete(&Participant{}, id).Error; err != nil {
			return translate(err)
		}
		return s.audit(tx, actor, "participant.delete", "participant:"+itoa(id), nil)
	})
}

// FindParticipant returns one person.
func (s *Store) FindParticipant(ctx context.Context, id int64) (*Participant, error) {
	var p Participant
	if err := s.R.WithContext(ctx).First(&p, id).Error; err != nil {
		return nil, translate(err)
	}
	return &p, nil
}

// FindParticipantByEmail returns the person with this email (any case).
func (s *Store) FindParticipantByEmail(ctx context.Context, email string) (*Participant, error) {
	var p Participant
	if err := s.R.WithContext(ctx).Where("email = ?", NormalizeEmail(email)).First(&p).Error; err != nil {
		return nil, translate(err)
	}
	return &p, nil
}

// ParticipantSorts is the allow-list of ?sort= values and their ORDER BY.
var ParticipantSorts = map[string]string{
	"name":        "participants.name ASC, participants.id ASC",
	"-name":       "participants.name DESC, participants.id DESC",
	"email":       "participants.email ASC",
	"-email":      "participants.email DESC",
	"country":     "participants.country ASC, participants.name ASC, participants.id ASC",
	"-country":    "participants.country DESC, participants.name ASC, participants.id ASC",
	"kind":        "participants.kind ASC, participants.name ASC, participants.id ASC",
	"-kind":       "participants.kind DESC, participants.name ASC, participants.id ASC",
	"created_at":  "participants.created_at ASC, participants.id ASC",
	"-created_at": "participants.created_at DESC, participants.id DESC",
}

// ParticipantFilter selects participants; empty fields match all.
type ParticipantFilter struct {
	Kind           string
	Country        string
	OrganizationID int64
	NominatedBy    string
	Q              string // in name or email
	Sort           string // a key of ParticipantSorts; default "name"
	Archived       string // "" live only, "only" archived only, "all"
	Limit, Offset  int
}

// Validate checks the filter's closed vocabularies.
func (f *ParticipantFilter) Validate() error {
	errs := FieldErrors{}
	if f.Kind != "" && !oneOf(f.Kind, ParticipantKinds) {
		errs.Add("kind", "roster.error.participant_kind")
	}
	if f.Country != "" {
		if c, ok := NormalizeCountry(f.Country); ok {
			f.Country = c
		} else {
			errs.Add("country", "roster.error.country")
		}
	}
	if f.Sort == "" {
		f.Sort = "name"
	}
	if _, ok := ParticipantSorts[f.Sort]; !ok {
		errs.Add("sort", "roster.error.sort")
	}
	switch f.Archived {
	case "", "only", "all":
	default:
		errs.Add("archived", "error.invalid_value")
	}
	if len(f.Q) > 200 {
		errs.Add("q", "error.text_invalid")
	}
	return errs.Err()
}

// ParticipantRow is a participant with its organisation's name, for lists.
type ParticipantRow struct {
	Participant
	OrganizationName string `json:"organization_name"`
}

// ListParticipants returns a page of participants and the total matching.
func (s *Store) ListParticipants(ctx context.Context, f ParticipantFilter) ([]ParticipantRow, int64, error) {
	if err := f.Validate(); err != nil {
		return nil, 0, err
	}
	q := s.R.WithContext(ctx).Table("participants")
	if f.Kind != "" {
		q = q.Where("participants.kind = ?", f.Kind)
	}
	if f.Country != "" {
		q = q.Where("participants.country = ?", f.Country)
	}
	if f.OrganizationID != 0 {
		q = q.Where("participants.organization_id = ?", f.OrganizationID)
	}
	if f.NominatedBy != "" {
		q = q.Where("participants.nominated_by = ?", f.NominatedBy)
	}
	if strings.TrimSpace(f.Q) != "" {
		pat := likePattern(f.Q)
		q = q.Where("(LOWER(participants.name) LIKE ? ESCAPE '\\' OR participants.email LIKE ? ESCAPE '\\')", pat, pat)
	}
	switch f.Archived {
	case "":
		q = q.Where("participants.archived_at IS NULL")
	case "only":
		q = q.Where("participants.archived_at IS NOT NULL")
	}
	var total int64
	if err := q.Count(&total).Error; err != nil {
		return nil, 0, err
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	out := []ParticipantRow{}
	err := q.Select("participants.*, COALESCE(organizations.name, '') AS organization_name").
		Joins("LEFT JOIN organizations ON organizations.id = participants.organization_id").
		Order(ParticipantSorts[f.Sort]).Limit(f.Limit).Offset(f.Offset).Scan(&out).Error
	return out, total, err
}

// HasAnswered reports whether the person has a respondent row anywhere.
func (s *Store) HasAnswered(ctx context.Context, participantID int64) (bool, error) {
	var n int64
	err := s.R.WithContext(ctx).Table("respondents").Where("participant_id = ?", participantID).Count(&n).Error
	return n > 0, err
}
