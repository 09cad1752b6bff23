package models

import (
	"time"

	"gorm.io/gorm"
)

// QueueMail writes a message to the outbox inside the caller's
// transaction: it is sent (by the mail worker) only if that transaction
// commits, and exactly once.
func QueueMail(tx *gorm.DB, now time.Time, m *OutboxMessage) error {
	m.Status = MailQueued
	m.CreatedAt = now
	m.NextAttemptAt = now
	return tx.Create(m).Error
}
