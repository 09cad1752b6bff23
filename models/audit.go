package models

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"gorm.io/gorm"
)

// AuditEntry is one line of the append-only audit log. There is no update
// or delete path for it anywhere in the code.
type AuditEntry struct {
	ID      int64     `gorm:"primaryKey" json:"-"`
	At      time.Time `json:"at"`
	Actor   string    `json:"actor"`
	ActorID *int64    `json:"-"`
	Action  string    `json:"action"`
	Target  string    `json:"target"`
	Detail  string    `json:"detail"`
}

func (AuditEntry) TableName() string { return "audit_log" }

// audit appends an entry inside the caller's transaction, so the log and
// the change it records commit together.
func (s *Store) audit(tx *gorm.DB, actor *Staff, action, target string, detail map[string]any) error {
	return AppendAudit(tx, s.Now(), actor, action, target, detail)
}

// AppendAudit writes an audit entry with tx (for other packages' writes).
func AppendAudit(tx *gorm.DB, at time.Time, actor *Staff, action, target string, detail map[string]any) error {
	e := AuditEntry{At: at, Actor: "system", Action: action, Target: target}
	if actor != nil {
		e.Actor = actor.Email
		id := actor.ID
		e.ActorID = &id
	}
	if len(detail) > 0 {
		b, err := json.Marshal(detail)
		if err != nil {
			return err
		}
		e.Detail = string(b)
	}
	return tx.Create(&e).Error
}

// RecordAudit writes a standalone audit entry (e.g. a failed login).
func (s *Store) RecordAudit(ctx context.Context, actor *Staff, action, target string, detail map[string]any) error {
	return s.Write(ctx, func(tx *gorm.DB) error { return s.audit(tx, actor, action, target, detail) })
}

func itoa(id int64) string { return strconv.FormatInt(id, 10) }
