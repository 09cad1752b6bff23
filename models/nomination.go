package models

import (
	"context"
	"errors"
	"sort"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Nomination calls: an organizer asks Member States to put experts
// forward for a consultation. Each State gets one secret link (256 random
// bits; only its SHA-256 is stored, so the links are shown once, when the
// call is made or a link is reissued). Through it the State's focal point
// nominates people; organizers approve (the nominee joins the roster as an
// expert nominated by that State) or decline with a reason.
//
// The cap (max_per_country, 0 = none) counts the State's nominations that
// were not declined, so a declined nominee frees a place.

func init() {
	Register(Migration{Version: 310, Name: "nomination calls, links and nominations", SQL: `
CREATE TABLE nomination_calls (
	id {{ID}},
	consultation_id {{BIGINT}} NOT NULL REFERENCES consultations(id),
	closes_at {{TIME}} NOT NULL,
	max_per_country INTEGER NOT NULL DEFAULT 0,
	created_by {{BIGINT}},
	created_at {{TIME}} NOT NULL,
	updated_at {{TIME}} NOT NULL
);
CREATE INDEX nomination_calls_consultation ON nomination_calls (consultation_id);
CREATE TABLE nomination_links (
	id {{ID}},
	call_id {{BIGINT}} NOT NULL REFERENCES nomination_calls(id),
	country TEXT NOT NULL,
	token_hash TEXT NOT NULL UNIQUE,
	created_at {{TIME}} NOT NULL,
	UNIQUE (call_id, country)
);
CREATE TABLE nominations (
	id {{ID}},
	call_id {{BIGINT}} NOT NULL REFERENCES nomination_calls(id),
	country TEXT NOT NULL,
	name TEXT NOT NULL,
	email TEXT NOT NULL,
	institution TEXT NOT NULL DEFAULT '',
	position TEXT NOT NULL DEFAULT '',
	expertise TEXT NOT NULL DEFAULT '',
	nominator_email TEXT NOT NULL DEFAULT '',
	status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending','approved','declined')),
	reason TEXT NOT NULL DEFAULT '',
	decided_at {{TIME}},
	decided_by {{BIGINT}},
	participant_id {{BIGINT}} REFERENCES participants(id),
	created_at {{TIME}} NOT NULL,
	updated_at {{TIME}} NOT NULL,
	UNIQUE (call_id, email)
);
CREATE INDEX nominations_call_country ON nominations (call_id, country, status);
`})
}

// NominationCall is a call for nominations of one consultation.
type NominationCall struct {
	ID             int64     `gorm:"primaryKey" json:"id"`
	ConsultationID int64     `json:"consultation_id"`
	ClosesAt       time.Time `json:"closes_at"`
	MaxPerCountry  int       `json:"max_per_country"`
	CreatedBy      *int64    `json:"-"`
	CreatedAt      time.Time `json:"created_at"`
	UpdatedAt      time.Time `json:"-"`
}

// NominationLink is one State's secret link to a call.
type NominationLink struct {
	ID        int64 `gorm:"primaryKey"`
	CallID    int64
	Country   string
	TokenHash string
	CreatedAt time.Time
}

// Nomination statuses.
const (
	NominationPending  = "pending"
	NominationApproved = "approved"
	NominationDeclined = "declined"
)

// Nomination is one person put forward by a State.
type Nomination struct {
	ID             int64      `gorm:"primaryKey" json:"id"`
	CallID         int64      `json:"call_id"`
	Country        string     `json:"country"`
	Name           string     `json:"name"`
	Email          string     `json:"email"`
	Institution    string     `json:"institution"`
	Position       string     `json:"position"`
	Expertise      string     `json:"expertise"`
	NominatorEmail string     `json:"nominator_email,omitempty"`
	Status         string     `json:"status"`
	Reason         string     `json:"reason,omitempty"`
	DecidedAt      *time.Time `json:"decided_at,omitempty"`
	DecidedBy      *int64     `json:"-"`
	ParticipantID  *int64     `json:"participant_id"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"-"`
}

// IssuedLink is a State's link in clear, returned once.
type IssuedLink struct {
	Country string `json:"country"`
	Token   string `json:"-"`
	URL     string `json:"url"`
}

// NewNominationCall is the input to CreateNominationCall.
type NewNominationCall struct {
	ConsultationID int64
	ClosesAt       *time.Time
	MaxPerCountry  int
	Countries      []string // empty: every UN Member State
}

// CallMailer renders the emails of the nomination flow; the handlers give
// one (templates and translations are theirs). LinkURL turns a token into
// the absolute link.
type CallMailer interface {
	LinkURL(token string) string
	// FocalPointMail is the email to a State's focal point with its link.
	FocalPointMail(to *Participant, call *NominationCall, country, url string) (*OutboxMessage, error)
	// ConfirmationMail is the receipt to the nominating address.
	ConfirmationMail(n *Nomination, call *NominationCall) (*OutboxMessage, error)
}

// Validate checks and normalises the input.
func (n *NewNominationCall) Validate(now time.Time) error {
	errs := FieldErrors{}
	if n.ClosesAt == nil {
		errs.Add("closes_at", "error.required")
	} else if !n.ClosesAt.After(now) {
		errs.Add("closes_at", "nomination.error.closes_in_past")
	}
	if n.MaxPerCountry < 0 || n.MaxPerCountry > 1000 {
		errs.Add("max_per_country", "nomination.error.max_per_country")
	}
	if len(n.Countries) == 0 {
		for _, c := range MemberStates() {
			n.Countries = append(n.Countries, c.Code)
		}
	} else {
		seen := map[string]bool{}
		var out []string
		for _, raw := range n.Countries {
			c, ok := NormalizeCountry(raw)
			if !ok || c == "" {
				errs.Add("countries", "roster.error.country")
				continue
			}
			if !seen[c] {
				seen[c] = true
				out = append(out, c)
			}
		}
		sort.Strings(out)
		n.Countries = out
	}
	return errs.Err()
}

// FocalPointsOf returns the State's focal points on the roster: live
// participants of that country whose organisation is a member_state one.
func FocalPointsOf(tx *gorm.DB, country string) ([]Participant, error) {
	var out []Participant
	err := tx.Table("participants").Select("participants.*").
		Joins("JOIN organizations ON organizations.id = participants.organization_id").
		Where("participants.country = ? AND organizations.kind = ? AND participants.archived_at IS NULL AND organizations.archived_at IS NULL", country, OrgMemberState).
		Order("participants.id").Scan(&out).Error
	return out, err
}

// CreateNominationCall opens a call with one link per State and queues the
// email to each State's focal point found on the roster. The links are
// returned in clear only here.
func (s *Store) CreateNominationCall(ctx context.Context, in NewNominationCall, m CallMailer, actor *Staff) (*NominationCall, []IssuedLink, error) {
	now := s.Now()
	if err := in.Validate(now); err != nil {
		return nil, nil, err
	}
	call := &NominationCall{ConsultationID: in.ConsultationID, ClosesAt: in.ClosesAt.UTC(), MaxPerCountry: in.MaxPerCountry, CreatedAt: now, UpdatedAt: now}
	if actor != nil {
		id := actor.ID
		call.CreatedBy = &id
	}
	var links []IssuedLink
	err := s.Write(ctx, func(tx *gorm.DB) error {
		links = links[:0]
		var n int64
		if err := tx.Model(&Consultation{}).Where("id = ?", in.ConsultationID).Count(&n).Error; err != nil {
			return err
		}
		if n == 0 {
			return ErrNotFound
		}
		if err := tx.Create(call).Error; err != nil {
			return err
		}
		rows := make([]NominationLink, 0, len(in.Countries))
		for _, c := range in.Countries {
			tok := NewToken(32)
			rows = append(rows, NominationLink{CallID: call.ID, Country: c, TokenHash: HashToken(tok), CreatedAt: now})
			links = append(links, IssuedLink{Country: c, Token: tok, URL: m.LinkURL(tok)})
		}
		if err := tx.CreateInBatches(rows, 200).Error; err != nil {
			return err
		}
		mails := 0
		for _, l := range links {
			fps, err := FocalPointsOf(tx, l.Country)
			if err != nil {
				return err
			}
			for i := range fps {
				msg, err := m.FocalPointMail(&fps[i], call, l.Country, l.URL)
				if err != nil {
					return err
				}
				msg.Kind = "nomination_call"
				cid := call.ConsultationID
				msg.ConsultationID = &cid
				if err := QueueMail(tx, now, msg); err != nil {
					return err
				}
				mails++
			}
		}
		return s.audit(tx, actor, "nomination_call.create", "nomination_call:"+itoa(call.ID),
			map[string]any{"consultation_id": call.ConsultationID, "countries": len(links), "emails": mails})
	})
	if err != nil {
		return nil, nil, err
	}
	return call, links, nil
}

// ReissueNominationLink replaces a State's link (the old one stops
// working) and returns the new one in clear.
func (s *Store) ReissueNominationLink(ctx context.Context, callID int64, country string, m CallMailer, actor *Staff) (*IssuedLink, error) {
	tok := NewToken(32)
	err := s.Write(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&NominationLink{}).Where("call_id = ? AND country = ?", callID, strings.ToUpper(country)).
			Update("token_hash", HashToken(tok))
		if res.Error != nil {
			return res.Error
		}
		if res.RowsAffected == 0 {
			return ErrNotFound
		}
		return s.audit(tx, actor, "nomination_call.reissue_link", "nomination_call:"+itoa(callID), map[string]any{"country": country})
	})
	if err != nil {
		return nil, err
	}
	return &IssuedLink{Country: strings.ToUpper(country), Token: tok, URL: m.LinkURL(tok)}, nil
}

// FindNominationCall returns one call.
func (s *Store) FindNominationCall(ctx context.Context, id int64) (*NominationCall, error) {
	var c NominationCall
	if err := s.R.WithContext(ctx).First(&c, id).Error; err != nil {
		return nil, translate(err)
	}
	return &c, nil
}

// ListNominationCalls returns the calls of a consultation, newest first.
func (s *Store) ListNominationCalls(ctx context.Context, consultationID int64) ([]NominationCall, error) {
	out := []NominationCall{}
	err := s.R.WithContext(ctx).Where("consultation_id = ?", consultationID).Order("id DESC").Find(&out).Error
	return out, err
}

// CountryTally is one State's line in a call's summary.
type CountryTally struct {
	Country   string `json:"country"`
	Nominated int    `json:"nominated"`
	Approved  int    `json:"approved"`
	Pending   int    `json:"pending"`
	Declined  int    `json:"declined"`
}

// CallSummary is what a call's page and GET /nomination-calls/{id} show.
// CountriesNominated counts States with at least one nomination, Nominees
// every nomination received (whatever its status).
type CallSummary struct {
	Call               *NominationCall `json:"-"`
	Countries          []string        `json:"countries"`
	CountriesNominated int             `json:"countries_nominated"`
	Nominees           int             `json:"nominees"`
	Approved           int             `json:"approved"`
	Pending            int             `json:"pending"`
	Declined           int             `json:"declined"`
	PerCountry         []CountryTally  `json:"per_country"`
	Nominations        []Nomination    `json:"nominations"`
}

// NominationCallSummary counts a call's nominations per State (GROUP BY)
// and lists them.
func (s *Store) NominationCallSummary(ctx context.Context, id int64) (*CallSummary, error) {
	call, err := s.FindNominationCall(ctx, id)
	if err != nil {
		return nil, err
	}
	db := s.R.WithContext(ctx)
	sum := &CallSummary{Call: call, Countries: []string{}, PerCountry: []CountryTally{}, Nominations: []Nomination{}}
	if err := db.Model(&NominationLink{}).Where("call_id = ?", id).Order("country").Pluck("country", &sum.Countries).Error; err != nil {
		return nil, err
	}
	err = db.Raw(`SELECT country, COUNT(*) AS nominated,
		SUM(CASE WHEN status = 'approved' THEN 1 ELSE 0 END) AS approved,
		SUM(CASE WHEN status = 'pending' THEN 1 ELSE 0 END) AS pending,
		SUM(CASE WHEN status = 'declined' THEN 1 ELSE 0 END) AS declined
		FROM nominations WHERE call_id = ? GROUP BY country ORDER BY country`, id).Scan(&sum.PerCountry).Error
	if err != nil {
		return nil, err
	}
	for _, t := range sum.PerCountry {
		sum.CountriesNominated++
		sum.Nominees += t.Nominated
		sum.Approved += t.Approved
		sum.Pending += t.Pending
		sum.Declined += t.Declined
	}
	if err := db.Where("call_id = ?", id).Order("country, id").Find(&sum.Nominations).Error; err != nil {
		return nil, err
	}
	return sum, nil
}

// NominationLinkInfo is what the public form needs to know about a link.
type NominationLinkInfo struct {
	Call      *NominationCall
	Link      *NominationLink
	Count     int // nominations of this State that count against the cap
	Closed    bool
	Full      bool
	Nominated []Nomination
}

// FindNominationLink resolves a public token; ErrNotFound when unknown.
func (s *Store) FindNominationLink(ctx context.Context, tok string) (*NominationLinkInfo, error) {
	if tok == "" || len(tok) > 200 {
		return nil, ErrNotFound
	}
	db := s.R.WithContext(ctx)
	var l NominationLink
	if err := db.Where("token_hash = ?", HashToken(tok)).First(&l).Error; err != nil {
		return nil, translate(err)
	}
	var call NominationCall
	if err := db.First(&call, l.CallID).Error; err != nil {
		return nil, translate(err)
	}
	info := &NominationLinkInfo{Call: &call, Link: &l}
	if err := db.Where("call_id = ? AND country = ?", call.ID, l.Country).Order("id").Find(&info.Nominated).Error; err != nil {
		return nil, err
	}
	for _, n := range info.Nominated {
		if n.Status != NominationDeclined {
			info.Count++
		}
	}
	info.Closed = !s.Now().Before(call.ClosesAt)
	info.Full = call.MaxPerCountry > 0 && info.Count >= call.MaxPerCountry
	return info, nil
}

// NomineeInput is one nominee as the focal point enters it.
type NomineeInput struct {
	Name           string
	Email          string
	Institution    string
	Position       string
	Expertise      string
	NominatorEmail string
}

// Validate checks and normalises a nominee.
func (n *NomineeInput) Validate() error {
	errs := FieldErrors{}
	n.Name = strings.TrimSpace(n.Name)
	n.Email = NormalizeEmail(n.Email)
	n.Institution = strings.TrimSpace(n.Institution)
	n.Position = strings.TrimSpace(n.Position)
	n.Expertise = strings.TrimSpace(n.Expertise)
	n.NominatorEmail = NormalizeEmail(n.NominatorEmail)
	validName(errs, "name", n.Name)
	if !ValidEmail(n.Email) {
		errs.Add("email", "error.email_invalid")
	}
	if n.Institution == "" {
		errs.Add("institution", "error.required")
	} else if len(n.Institution) > 300 || !ValidText(n.Institution) {
		errs.Add("institution", "error.text_invalid")
	}
	if len(n.Position) > 300 || !ValidText(n.Position) {
		errs.Add("position", "error.text_invalid")
	}
	if n.Expertise == "" {
		errs.Add("expertise", "error.required")
	} else if len(n.Expertise) > 5000 || !ValidText(n.Expertise) {
		errs.Add("expertise", "error.text_invalid")
	}
	if n.NominatorEmail != "" && !ValidEmail(n.NominatorEmail) {
		errs.Add("nominator_email", "error.email_invalid")
	}
	return errs.Err()
}

// Errors of the public nomination form.
var (
	ErrNominationsClosed = &Error{Kind: ErrClosed, Code: "nominations_closed", Message: "nomination.error.closed"}
	ErrNominationCap     = &Error{Kind: ErrConflict, Code: "nomination_cap_reached", Message: "nomination.error.cap"}
	ErrDuplicateNominee  = &Error{Kind: ErrConflict, Code: "duplicate_nominee", Message: "nomination.error.duplicate"}
	ErrAlreadyDecided    = &Error{Kind: ErrConflict, Code: "already_decided", Message: "nomination.error.already_decided"}
)

// Nominate records a nominee through a State's link: 409 after the
// deadline, over the cap, or for an email already nominated in this call.
// A confirmation goes to the nominating address when one is given.
func (s *Store) Nominate(ctx context.Context, tok string, in NomineeInput, m CallMailer) (*Nomination, error) {
	if tok == "" || len(tok) > 200 {
		return nil, ErrNotFound
	}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	var nom *Nomination
	err := s.Write(ctx, func(tx *gorm.DB) error {
		var l NominationLink
		q := tx
		if s.Dialect == Postgres {
			// Serialises the nominations of one State, so the cap holds
			// under concurrent submissions.
			q = tx.Clauses(clause.Locking{Strength: "UPDATE"})
		}
		if err := q.Where("token_hash = ?", HashToken(tok)).First(&l).Error; err != nil {
			return translate(err)
		}
		var call NominationCall
		if err := tx.First(&call, l.CallID).Error; err != nil {
			return translate(err)
		}
		now := s.Now()
		if !now.Before(call.ClosesAt) {
			return ErrNominationsClosed
		}
		if call.MaxPerCountry > 0 {
			var n int64
			if err := tx.Model(&Nomination{}).Where("call_id = ? AND country = ? AND status <> ?", call.ID, l.Country, NominationDeclined).Count(&n).Error; err != nil {
				return err
			}
			if n >= int64(call.MaxPerCountry) {
				return ErrNominationCap
			}
		}
		nom = &Nomination{CallID: call.ID, Country: l.Country, Name: in.Name, Email: in.Email, Institution: in.Institution,
			Position: in.Position, Expertise: in.Expertise, NominatorEmail: in.NominatorEmail, Status: NominationPending,
			CreatedAt: now, UpdatedAt: now}
		if err := tx.Create(nom).Error; err != nil {
			if errors.Is(translate(err), ErrConflict) {
				return ErrDuplicateNominee
			}
			return err
		}
		if nom.NominatorEmail != "" {
			msg, err := m.ConfirmationMail(nom, &call)
			if err != nil {
				return err
			}
			msg.Kind = "nomination_confirmation"
			cid := call.ConsultationID
			msg.ConsultationID = &cid
			if err := QueueMail(tx, now, msg); err != nil {
				return err
			}
		}
		return AppendAudit(tx, now, nil, "nomination.create", "nomination:"+itoa(nom.ID), map[string]any{"call_id": call.ID, "country": l.Country})
	})
	if err != nil {
		return nil, err
	}
	return nom, nil
}

// FindNomination returns one nomination.
func (s *Store) FindNomination(ctx context.Context, id int64) (*Nomination, error) {
	var n Nomination
	if err := s.R.WithContext(ctx).First(&n, id).Error; err != nil {
		return nil, translate(err)
	}
	return &n, nil
}

// ApproveNomination makes the nominee a participant of kind expert,
// nominated by and from the State, or links the existing participant with
// the same email (left as it is). A decided nomination is a 409.
func (s *Store) ApproveNomination(ctx context.Context, id int64, actor *Staff) (*Nomination, *Participant, error) {
	var nom Nomination
	var p Participant
	err := s.Write(ctx, func(tx *gorm.DB) error {
		if err := tx.First(&nom, id).Error; err != nil {
			return translate(err)
		}
		if nom.Status != NominationPending {
			return ErrAlreadyDecided
		}
		now := s.Now()
		err := tx.Where("email = ?", nom.Email).First(&p).Error
		switch {
		case errors.Is(err, gorm.ErrRecordNotFound):
			p = Participant{Name: nom.Name, Email: nom.Email, Kind: KindExpert, Country: nom.Country, Language: "en",
				NominatedBy: nom.Country, CreatedAt: now, UpdatedAt: now}
			if err := tx.Create(&p).Error; err != nil {
				return translate(err)
			}
			if err := s.audit(tx, actor, "participant.create", "participant:"+itoa(p.ID),
				map[string]any{"kind": p.Kind, "nomination_id": nom.ID, "nominated_by": nom.Country}); err != nil {
				return err
			}
		case err != nil:
			return err
		}
		nom.Status, nom.DecidedAt, nom.UpdatedAt, nom.ParticipantID = NominationApproved, &now, now, &p.ID
		if actor != nil {
			nom.DecidedBy = &actor.ID
		}
		if err := tx.Save(&nom).Error; err != nil {
			return err
		}
		return s.audit(tx, actor, "nomination.approve", "nomination:"+itoa(nom.ID),
			map[string]any{"participant_id": p.ID, "country": nom.Country})
	})
	if err != nil {
		return nil, nil, err
	}
	return &nom, &p, nil
}

// DeclineNomination declines with a reason (required).
func (s *Store) DeclineNomination(ctx context.Context, id int64, reason string, actor *Staff) (*Nomination, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return nil, FieldErrors{"reason": "error.required"}
	}
	if len(reason) > 2000 || !ValidText(reason) {
		return nil, FieldErrors{"reason": "error.text_invalid"}
	}
	var nom Nomination
	err := s.Write(ctx, func(tx *gorm.DB) error {
		if err := tx.First(&nom, id).Error; err != nil {
			return translate(err)
		}
		if nom.Status != NominationPending {
			return ErrAlreadyDecided
		}
		now := s.Now()
		nom.Status, nom.Reason, nom.DecidedAt, nom.UpdatedAt = NominationDeclined, reason, &now, now
		if actor != nil {
			nom.DecidedBy = &actor.ID
		}
		if err := tx.Save(&nom).Error; err != nil {
			return err
		}
		return s.audit(tx, actor, "nomination.decline", "nomination:"+itoa(nom.ID), map[string]any{"country": nom.Country})
	})
	if err != nil {
		return nil, err
	}
	return &nom, nil
}

// NominationCallRow is a call with its consultation's title and counts,
// for the overview of all calls.
type NominationCallRow struct {
	ID                 int64     `json:"id"`
	ConsultationID     int64     `json:"consultation_id"`
	ConsultationTitle  string    `json:"consultation_title"`
	ClosesAt           time.Time `json:"closes_at"`
	MaxPerCountry      int       `json:"max_per_country"`
	CountriesNominated int       `json:"countries_nominated"`
	Nominees           int       `json:"nominees"`
}

// ListAllNominationCalls returns every call, newest first, with counts.
func (s *Store) ListAllNominationCalls(ctx context.Context) ([]NominationCallRow, error) {
	out := []NominationCallRow{}
	err := s.R.WithContext(ctx).Raw(`SELECT c.id, c.consultation_id, k.title AS consultation_title, c.closes_at, c.max_per_country,
		(SELECT COUNT(DISTINCT n.country) FROM nominations n WHERE n.call_id = c.id) AS countries_nominated,
		(SELECT COUNT(*) FROM nominations n WHERE n.call_id = c.id) AS nominees
		FROM nomination_calls c JOIN consultations k ON k.id = c.consultation_id ORDER BY c.id DESC LIMIT 500`).Scan(&out).Error
	return out, err
}
