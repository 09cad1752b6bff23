package models

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// IssueInvitation creates the invitation of a participant to a
// consultation with a fresh secret link token (256 random bits; only its
// hash is stored) and returns the token. The caller queues the email.
func IssueInvitation(tx *gorm.DB, now time.Time, consultationID, participantID int64) (string, *Invitation, error) {
	tok := NewToken(32)
	inv := &Invitation{ConsultationID: consultationID, ParticipantID: participantID, TokenHash: HashToken(tok),
		Status: InvQueued, CreatedAt: now}
	if err := tx.Create(inv).Error; err != nil {
		return "", nil, translate(err)
	}
	return tok, inv, nil
}

// FindInvitationByToken returns the live invitation of a personal link
// token: ErrNotFound for an unknown or revoked token.
func (s *Store) FindInvitationByToken(ctx context.Context, tok string) (*Invitation, error) {
	if tok == "" || len(tok) > 200 {
		return nil, ErrNotFound
	}
	var inv Invitation
	if err := s.R.WithContext(ctx).Where("token_hash = ?", HashToken(tok)).First(&inv).Error; err != nil {
		return nil, translate(err)
	}
	if inv.RevokedAt != nil || (inv.ExpiresAt != nil && s.Now().After(*inv.ExpiresAt)) {
		return nil, ErrNotFound
	}
	return &inv, nil
}
