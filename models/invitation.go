package models

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"gorm.io/gorm"
)

// Invitations: one live personal link per participant and consultation
// (and, in a State consultation, per State). A link token carries 256
// random bits and only its SHA-256 is stored, so a lost link cannot be
// recovered: reminders and "email me my link again" add a further link to
// the same invitation (invitation_links) instead; every link of an
// invitation dies when it is revoked or expires.
func init() {
	Register(Migration{Version: 200, Name: "invitations: extra links, live uniqueness, jobs, outbox indexes", SQL: `
CREATE TABLE jobs (
	id {{ID}},
	kind TEXT NOT NULL,
	consultation_id {{BIGINT}} REFERENCES consultations(id),
	state TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued','running','done','failed')),
	done INTEGER NOT NULL DEFAULT 0,
	total INTEGER NOT NULL DEFAULT 0,
	params TEXT NOT NULL DEFAULT '{}',
	error TEXT NOT NULL DEFAULT '',
	attempts INTEGER NOT NULL DEFAULT 0,
	created_by {{BIGINT}},
	claimed_by TEXT NOT NULL DEFAULT '',
	claimed_until {{TIME}},
	created_at {{TIME}} NOT NULL,
	updated_at {{TIME}} NOT NULL,
	finished_at {{TIME}}
);
CREATE INDEX jobs_state ON jobs (state, id);
CREATE TABLE invitation_links (
	id {{ID}},
	invitation_id {{BIGINT}} NOT NULL REFERENCES invitations(id),
	token_hash TEXT NOT NULL UNIQUE,
	reason TEXT NOT NULL DEFAULT '',
	created_at {{TIME}} NOT NULL
);
CREATE INDEX invitation_links_invitation ON invitation_links (invitation_id);
ALTER TABLE invitations ADD COLUMN failed_at {{TIME}};
ALTER TABLE invitations ADD COLUMN reminded_at {{TIME}};
ALTER TABLE invitations ADD COLUMN reminders INTEGER NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX invitations_live_participant ON invitations (consultation_id, participant_id) WHERE revoked_at IS NULL;
CREATE UNIQUE INDEX invitations_live_state ON invitations (consultation_id, state_country) WHERE revoked_at IS NULL AND state_country IS NOT NULL;
ALTER TABLE outbox ADD COLUMN job_id {{BIGINT}};
CREATE INDEX outbox_consultation ON outbox (consultation_id, id);
CREATE INDEX outbox_invitation ON outbox (invitation_id);
CREATE INDEX outbox_lease ON outbox (status, claimed_until);
`})
}

// Outbox message kinds written by the invitation area.
const (
	MailKindInvitation = "invitation"
	MailKindReminder   = "reminder"
	MailKindLink       = "link"
)

// InvitationLink is a further personal link of an invitation (sent by a
// reminder or by "email me my link again"); only its hash is stored.
type InvitationLink struct {
	ID           int64 `gorm:"primaryKey"`
	InvitationID int64
	TokenHash    string
	Reason       string
	CreatedAt    time.Time
}

// StateOf is the State a participant speaks for in a State consultation:
// the nominating State when there is one, else the participant's country.
func StateOf(p *Participant) string {
	if p.NominatedBy != "" {
		return strings.ToUpper(p.NominatedBy)
	}
	return strings.ToUpper(p.Country)
}

// InvitationExpiry is when the links of a consultation die: when its last
// round closes. Nil (no expiry but revocation) while any round has no
// closing time, or when there is no round yet.
func InvitationExpiry(tx *gorm.DB, consultationID int64) (*time.Time, error) {
	var rounds []Round
	if err := tx.Select("id", "closes_at").Where("consultation_id = ?", consultationID).Find(&rounds).Error; err != nil {
		return nil, err
	}
	var last *time.Time
	for _, r := range rounds {
		if r.ClosesAt == nil {
			return nil, nil
		}
		if last == nil || r.ClosesAt.After(*last) {
			t := r.ClosesAt.UTC()
			last = &t
		}
	}
	return last, nil
}

// errStateInvited is the 409 of a second invitation for one State.
func errStateInvited() error {
	return E(ErrConflict, "state_already_invited", "invite.error_state_invited")
}

// IssueInvitation returns a working personal link token for a participant
// in a consultation (256 random bits; only its hash is stored). When the
// participant already holds a live invitation, a further link to that same
// invitation is added and returned, so calling it twice never makes two
// invitations. In a State consultation a second participant of an already
// invited State is a conflict (ErrConflict, code state_already_invited).
// The caller queues the email.
func IssueInvitation(tx *gorm.DB, now time.Time, consultationID, participantID int64) (string, *Invitation, error) {
	var existing Invitation
	err := tx.Where("consultation_id = ? AND participant_id = ? AND revoked_at IS NULL", consultationID, participantID).
		Take(&existing).Error
	if err == nil {
		tok, err := AddInvitationLink(tx, now, existing.ID, "issue")
		return tok, &existing, err
	}
	if !errors.Is(err, gorm.ErrRecordNotFound) {
		return "", nil, err
	}
	var c Consultation
	if err := tx.Select("id", "unit").Take(&c, consultationID).Error; err != nil {
		return "", nil, translate(err)
	}
	var p Participant
	if err := tx.Take(&p, participantID).Error; err != nil {
		return "", nil, translate(err)
	}
	exp, err := InvitationExpiry(tx, consultationID)
	if err != nil {
		return "", nil, err
	}
	tok := NewToken(32)
	inv := &Invitation{ConsultationID: consultationID, ParticipantID: participantID, TokenHash: HashToken(tok),
		Status: InvQueued, CreatedAt: now, ExpiresAt: exp}
	if c.Unit == UnitState {
		st := StateOf(&p)
		if st == "" {
			return "", nil, FieldErrors{"participant_ids": "invite.error_no_state"}
		}
		var n int64
		if err := tx.Model(&Invitation{}).Where("consultation_id = ? AND state_country = ? AND revoked_at IS NULL", consultationID, st).
			Count(&n).Error; err != nil {
			return "", nil, err
		}
		if n > 0 {
			return "", nil, errStateInvited()
		}
		inv.StateCountry = &st
	}
	if err := tx.Create(inv).Error; err != nil {
		if errors.Is(translate(err), ErrConflict) && inv.StateCountry != nil {
			return "", nil, errStateInvited()
		}
		return "", nil, translate(err)
	}
	return tok, inv, nil
}

// AddInvitationLink adds a further link to a live invitation and returns
// its token.
func AddInvitationLink(tx *gorm.DB, now time.Time, invitationID int64, reason string) (string, error) {
	tok := NewToken(32)
	if err := tx.Create(&InvitationLink{InvitationID: invitationID, TokenHash: HashToken(tok), Reason: reason, CreatedAt: now}).Error; err != nil {
		return "", err
	}
	return tok, nil
}

// FindInvitationByToken returns the live invitation of a personal link
// token (its first link or any later one): ErrNotFound for an unknown,
// revoked or expired token.
func (s *Store) FindInvitationByToken(ctx context.Context, tok string) (*Invitation, error) {
	if tok == "" || len(tok) > 200 {
		return nil, ErrNotFound
	}
	h := HashToken(tok)
	db := s.R.WithContext(ctx)
	var inv Invitation
	// Plain SQL: this runs on every respondent request.
	err := queryRowDirect(db, `SELECT `+invitationColumns+` FROM invitations i WHERE token_hash = ?`, h).Scan(inv.fields()...)
	if errors.Is(err, sql.ErrNoRows) {
		err = db.Where("id = (SELECT invitation_id FROM invitation_links WHERE token_hash = ?)", h).Take(&inv).Error
	}
	if err != nil {
		return nil, translate(err)
	}
	if err := s.checkLive(db, &inv); err != nil {
		return nil, err
	}
	return &inv, nil
}

// invitationColumns are the columns of invitations i that
// Invitation.fields scans, in its order.
const invitationColumns = `i.id, i.consultation_id, i.participant_id, i.token_hash, i.status, i.state_country, i.created_at,
	i.sent_at, i.opened_at, i.started_at, i.submitted_at, i.revoked_at, i.expires_at`

func (inv *Invitation) fields() []any {
	return []any{&inv.ID, &inv.ConsultationID, &inv.ParticipantID, &inv.TokenHash, &inv.Status, &inv.StateCountry, &inv.CreatedAt,
		&inv.SentAt, &inv.OpenedAt, &inv.StartedAt, &inv.SubmittedAt, &inv.RevokedAt, &inv.ExpiresAt}
}

// checkLive turns a revoked or expired invitation away (ErrNotFound) and
// brings a stale stored expiry up to date.
func (s *Store) checkLive(db *gorm.DB, inv *Invitation) error {
	if inv.RevokedAt != nil {
		return ErrNotFound
	}
	if inv.ExpiresAt != nil && s.Now().After(*inv.ExpiresAt) {
		// The stored expiry may predate a round added or moved later:
		// ask the rounds before turning the link away.
		exp, err := InvitationExpiry(db, inv.ConsultationID)
		if err != nil {
			return err
		}
		if exp != nil && !s.Now().Before(*exp) {
			return ErrNotFound
		}
		inv.ExpiresAt = exp
	}
	return nil
}

// refreshExpiry sets the expiry of a consultation's live invitations to
// when its last round closes now (rounds may have been added or moved
// since the invitations were issued).
func refreshExpiry(tx *gorm.DB, consultationID int64) (*time.Time, error) {
	exp, err := InvitationExpiry(tx, consultationID)
	if err != nil {
		return nil, err
	}
	return exp, tx.Model(&Invitation{}).Where("consultation_id = ? AND revoked_at IS NULL", consultationID).Update("expires_at", exp).Error
}
