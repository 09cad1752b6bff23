package models

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// The outbox: every email is a row written in the same transaction as its
// cause; the mail worker sends it afterwards. Delivery is at most once:
// a message is claimed (status sending, with a lease) and that claim is
// committed before the SMTP conversation starts, and it is marked sent
// right after. A message still `sending` when its lease has run out was
// perhaps delivered (the sender died between SMTP and the mark): it is
// never resent on its own, but marked failed for staff to check and retry.

// InterruptedError is the error of a message whose sender stopped during
// delivery.
const InterruptedError = "interrupted during delivery; check before resending"

func init() {
	Register(Migration{Version: 414, Name: "outbox: a message may store what it says (payload) instead of its rendered bodies", SQL: `
ALTER TABLE outbox ADD COLUMN payload TEXT NOT NULL DEFAULT '';
`})
}

// Composed messages. A kind of mail sent by the million (the submit
// receipt: one per submission) stores what it says, its Payload, instead
// of its rendered text and HTML bodies, about half the bytes, and is
// rendered when it is read: by the mail worker before it sends it, by the
// outbox list and retry. The submit's single writer then writes less, and
// the request does not render templates. A kind registers its composer
// (RegisterMailComposer) in the package that renders it.
var mailComposers = map[string]func(payload string) (text, html string, err error){}

// RegisterMailComposer registers how messages of kind are rendered from
// their payload. Call it from an init function.
func RegisterMailComposer(kind string, compose func(payload string) (text, html string, err error)) {
	mailComposers[kind] = compose
}

// Compose renders the bodies of a message stored as a payload (a no-op
// for one stored rendered).
func (m *OutboxMessage) Compose() error {
	if m.Payload == "" || m.TextBody != "" {
		return nil
	}
	compose := mailComposers[m.Kind]
	if compose == nil {
		return fmt.Errorf("outbox message %d: no composer for kind %q", m.ID, m.Kind)
	}
	text, html, err := compose(m.Payload)
	if err != nil {
		return fmt.Errorf("outbox message %d: %w", m.ID, err)
	}
	m.TextBody, m.HTMLBody = text, html
	return nil
}

// composeForDisplay composes m for staff to see: a message that cannot
// be rendered is still shown, with why in its error.
func composeForDisplay(m *OutboxMessage) {
	if err := m.Compose(); err != nil && m.Error == "" {
		m.Error = err.Error()
	}
}

// QueueMail writes a message to the outbox inside the caller's
// transaction: it is sent (by the mail worker) only if that transaction
// commits, and exactly once.
func QueueMail(tx *gorm.DB, now time.Time, m *OutboxMessage) error {
	m.Status = MailQueued
	m.CreatedAt = now
	m.NextAttemptAt = now
	// Plain SQL: this runs in the submit transaction, in the single writer.
	return queryRowDirect(tx, `INSERT INTO outbox (kind, consultation_id, invitation_id, to_address, subject, text_body, html_body, payload, status, attempts,
	next_attempt_at, claimed_by, claimed_until, error, created_at, sent_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) RETURNING id`,
		m.Kind, m.ConsultationID, m.InvitationID, m.ToAddress, m.Subject, m.TextBody, m.HTMLBody, m.Payload, m.Status, m.Attempts,
		m.NextAttemptAt, m.ClaimedBy, m.ClaimedUntil, m.Error, m.CreatedAt, m.SentAt).Scan(&m.ID)
}

// ClaimMail claims up to n due messages for worker until now+lease and
// returns them. The claim is committed when it returns. On PostgreSQL rows
// locked by another instance's claim are skipped (FOR UPDATE SKIP LOCKED);
// SQLite has one writer, so the claiming UPDATE is atomic by itself.
func (s *Store) ClaimMail(ctx context.Context, worker string, n int, lease time.Duration) ([]OutboxMessage, error) {
	now := s.Now()
	var out []OutboxMessage
	err := s.Write(ctx, func(tx *gorm.DB) error {
		sub := tx.Model(&OutboxMessage{}).Select("id").Where("status = ? AND next_attempt_at <= ?", MailQueued, now).
			Order("next_attempt_at, id").Limit(n)
		if s.Dialect == Postgres {
			sub = sub.Clauses(clause.Locking{Strength: "UPDATE", Options: "SKIP LOCKED"})
		}
		return tx.Model(&out).Clauses(clause.Returning{}).Where("id IN (?)", sub).Updates(map[string]any{
			"status": MailSending, "claimed_by": worker, "claimed_until": now.Add(lease), "attempts": gorm.Expr("attempts + 1")}).Error
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// MailWaiting reports, with a read, whether the worker has anything to
// do (a message due, or a claim whose lease ran out), so an idle worker
// does not write every few seconds.
func (s *Store) MailWaiting(ctx context.Context) (bool, error) {
	now := s.Now()
	var ids []int64
	err := s.R.WithContext(ctx).Model(&OutboxMessage{}).
		Where("(status = ? AND next_attempt_at <= ?) OR (status = ? AND claimed_until < ?)", MailQueued, now, MailSending, now).
		Limit(1).Pluck("id", &ids).Error
	return len(ids) > 0, err
}

// MarkMailSent records a delivery (and the invitation's "sent").
func (s *Store) MarkMailSent(ctx context.Context, m *OutboxMessage, worker string) error {
	now := s.Now()
	return s.Write(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&OutboxMessage{}).Where("id = ? AND status = ? AND claimed_by = ?", m.ID, MailSending, worker).
			Updates(map[string]any{"status": MailSent, "sent_at": now, "error": "", "claimed_by": "", "claimed_until": nil})
		if res.Error != nil || res.RowsAffected == 0 || m.InvitationID == nil || m.Kind != MailKindInvitation {
			return res.Error
		}
		// One statement: the status moves to sent only from queued or
		// failed (opened, started, submitted are further along).
		return tx.Exec(`UPDATE invitations SET sent_at = COALESCE(sent_at, ?),
			failed_at = CASE WHEN status IN ('queued','failed') THEN NULL ELSE failed_at END,
			status = CASE WHEN status IN ('queued','failed') THEN 'sent' ELSE status END
			WHERE id = ?`, now, *m.InvitationID).Error
	})
}

// MarkMailRetry puts a message back in the queue after a temporary
// failure, due again at next.
func (s *Store) MarkMailRetry(ctx context.Context, m *OutboxMessage, worker, errText string, next time.Time) error {
	return s.Write(ctx, func(tx *gorm.DB) error {
		return tx.Model(&OutboxMessage{}).Where("id = ? AND status = ? AND claimed_by = ?", m.ID, MailSending, worker).
			Updates(map[string]any{"status": MailQueued, "next_attempt_at": next, "error": clip(errText, 500), "claimed_by": "", "claimed_until": nil}).Error
	})
}

// MarkMailFailed records a permanent failure (and the invitation's "failed").
func (s *Store) MarkMailFailed(ctx context.Context, m *OutboxMessage, worker, errText string) error {
	now := s.Now()
	return s.Write(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&OutboxMessage{}).Where("id = ? AND status = ? AND claimed_by = ?", m.ID, MailSending, worker).
			Updates(map[string]any{"status": MailFailed, "error": clip(errText, 500), "claimed_by": "", "claimed_until": nil})
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		return failInvitation(tx, now, m)
	})
}

func failInvitation(tx *gorm.DB, now time.Time, m *OutboxMessage) error {
	if m.InvitationID == nil || m.Kind != MailKindInvitation {
		return nil
	}
	return tx.Model(&Invitation{}).Where("id = ? AND status = ?", *m.InvitationID, InvQueued).
		Updates(map[string]any{"status": InvFailed, "failed_at": now}).Error
}

// ReleaseMail puts back messages a worker claimed but never handed to the
// SMTP server (on shutdown), so they go out at once elsewhere.
func (s *Store) ReleaseMail(ctx context.Context, ids []int64, worker string) error {
	if len(ids) == 0 {
		return nil
	}
	return s.Write(ctx, func(tx *gorm.DB) error {
		return tx.Model(&OutboxMessage{}).Where("id IN ? AND status = ? AND claimed_by = ?", ids, MailSending, worker).
			Updates(map[string]any{"status": MailQueued, "attempts": gorm.Expr("attempts - 1"), "claimed_by": "", "claimed_until": nil}).Error
	})
}

// ExpireMailLeases settles the claims whose lease ran out (their sender
// died). A sender sends its claim in id order and records each outcome
// before the next, so of each dead claim only the lowest id still
// `sending` may have reached the SMTP server: it is marked failed
// (InterruptedError) and never resent on its own; the others were never
// handed to SMTP and are queued again. It returns how many were marked
// failed.
func (s *Store) ExpireMailLeases(ctx context.Context) (int64, error) {
	now := s.Now()
	var n int64
	err := s.Write(ctx, func(tx *gorm.DB) error {
		var stale []OutboxMessage
		if err := tx.Where("status = ? AND claimed_until < ?", MailSending, now).Order("claimed_by, id").Limit(1000).Find(&stale).Error; err != nil || len(stale) == 0 {
			return err
		}
		seen := map[string]bool{}
		for i := range stale {
			m := &stale[i]
			if seen[m.ClaimedBy] {
				if err := tx.Model(&OutboxMessage{}).Where("id = ? AND status = ?", m.ID, MailSending).Updates(map[string]any{
					"status": MailQueued, "next_attempt_at": now, "attempts": gorm.Expr("attempts - 1"), "claimed_by": "", "claimed_until": nil}).Error; err != nil {
					return err
				}
				continue
			}
			seen[m.ClaimedBy] = true
			res := tx.Model(&OutboxMessage{}).Where("id = ? AND status = ?", m.ID, MailSending).
				Updates(map[string]any{"status": MailFailed, "error": InterruptedError, "claimed_by": "", "claimed_until": nil})
			if res.Error != nil {
				return res.Error
			}
			if res.RowsAffected == 1 {
				n++
				if err := failInvitation(tx, now, m); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return n, err
}

// HoldMail marks every queued message `held`: no SMTP server is
// configured, so they stay in the outbox, visible to staff as not sent.
func (s *Store) HoldMail(ctx context.Context) (int64, error) {
	var n int64
	err := s.Write(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&OutboxMessage{}).Where("status = ?", MailQueued).Update("status", MailHeld)
		n = res.RowsAffected
		return res.Error
	})
	return n, err
}

// RetryMail queues a failed or held message again (staff's "retry"),
// with an audit entry.
func (s *Store) RetryMail(ctx context.Context, actor *Staff, id int64) (*OutboxMessage, error) {
	now := s.Now()
	var m OutboxMessage
	err := s.Write(ctx, func(tx *gorm.DB) error {
		if err := tx.Take(&m, id).Error; err != nil {
			return translate(err)
		}
		if m.Status != MailFailed && m.Status != MailHeld {
			return E(ErrConflict, "not_retryable", "outbox.error_not_retryable")
		}
		if m.InvitationID != nil {
			var inv Invitation
			if err := tx.Select("id", "revoked_at").Take(&inv, *m.InvitationID).Error; err == nil && inv.RevokedAt != nil {
				return E(ErrConflict, "invitation_revoked", "outbox.error_revoked")
			}
		}
		if err := tx.Model(&OutboxMessage{}).Where("id = ?", m.ID).Updates(map[string]any{
			"status": MailQueued, "next_attempt_at": now, "error": "", "attempts": 0}).Error; err != nil {
			return err
		}
		prev := m.Error
		m.Status, m.Error = MailQueued, ""
		return AppendAudit(tx, now, actor, "outbox.retry", "outbox:"+itoa(m.ID), map[string]any{"previous_error": clip(prev, 200)})
	})
	if err != nil {
		return nil, err
	}
	composeForDisplay(&m)
	return &m, nil
}

// ReleaseHeld queues every held message (once an SMTP server is set up),
// with an audit entry; it returns how many.
func (s *Store) ReleaseHeld(ctx context.Context, actor *Staff) (int64, error) {
	now := s.Now()
	var n int64
	err := s.Write(ctx, func(tx *gorm.DB) error {
		res := tx.Model(&OutboxMessage{}).Where("status = ?", MailHeld).Updates(map[string]any{"status": MailQueued, "next_attempt_at": now})
		if res.Error != nil {
			return res.Error
		}
		n = res.RowsAffected
		return AppendAudit(tx, now, actor, "outbox.release_held", "outbox", map[string]any{"messages": n})
	})
	return n, err
}

// OutboxFilter selects outbox messages; empty fields do not filter.
type OutboxFilter struct {
	To             string
	ConsultationID int64
	Status         string
	Kind           string
	Limit, Offset  int
}

// ListOutbox returns a page of messages, newest first, and the total.
func (s *Store) ListOutbox(ctx context.Context, f OutboxFilter) ([]OutboxMessage, int64, error) {
	q := s.R.WithContext(ctx).Model(&OutboxMessage{})
	if f.To != "" {
		q = q.Where("to_address = ?", NormalizeEmail(f.To))
	}
	if f.ConsultationID != 0 {
		q = q.Where("consultation_id = ?", f.ConsultationID)
	}
	if f.Status != "" {
		q = q.Where("status = ?", f.Status)
	}
	if f.Kind != "" {
		q = q.Where("kind = ?", f.Kind)
	}
	var total int64
	if err := q.Session(&gorm.Session{}).Count(&total).Error; err != nil {
		return nil, 0, err
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	out := []OutboxMessage{}
	if err := q.Order("id DESC").Limit(limit).Offset(f.Offset).Find(&out).Error; err != nil {
		return nil, 0, err
	}
	for i := range out {
		composeForDisplay(&out[i])
	}
	return out, total, nil
}

// OutboxCounts counts messages by status.
func (s *Store) OutboxCounts(ctx context.Context) (map[string]int64, error) {
	var cs []struct {
		Status string
		N      int64
	}
	if err := s.R.WithContext(ctx).Model(&OutboxMessage{}).Select("status, COUNT(*) AS n").Group("status").Scan(&cs).Error; err != nil {
		return nil, err
	}
	out := map[string]int64{MailQueued: 0, MailSending: 0, MailSent: 0, MailFailed: 0, MailHeld: 0}
	for _, c := range cs {
		out[c.Status] = c.N
	}
	return out, nil
}

// FindOutboxMessage returns one message.
func (s *Store) FindOutboxMessage(ctx context.Context, id int64) (*OutboxMessage, error) {
	var m OutboxMessage
	if err := s.R.WithContext(ctx).Take(&m, id).Error; err != nil {
		return nil, translate(err)
	}
	composeForDisplay(&m)
	return &m, nil
}

func clip(s string, n int) string {
	s = strings.ToValidUTF8(s, "")
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }
