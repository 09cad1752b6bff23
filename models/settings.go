package models

import (
	"context"
	"errors"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

const (
	settingSecretKey = "secret_key"
	settingSetupHash = "setup_secret_hash"
)

// Setting is one key/value of instance-wide configuration.
type Setting struct {
	Key       string `gorm:"primaryKey"`
	Value     string
	UpdatedAt time.Time
}

func (Setting) TableName() string { return "settings" }

// GetSetting returns a setting's value, or ErrNotFound.
func (s *Store) GetSetting(ctx context.Context, key string) (string, error) {
	var st Setting
	if err := s.R.WithContext(ctx).Where("key = ?", key).First(&st).Error; err != nil {
		return "", translate(err)
	}
	return st.Value, nil
}

// SecretKey returns the instance's cookie secret, creating it on first use.
// Stored in the database so every instance sharing it signs alike; the first
// writer wins when two start at once.
func (s *Store) SecretKey(ctx context.Context) (string, error) {
	v, err := s.GetSetting(ctx, settingSecretKey)
	if err == nil {
		return v, nil
	}
	if !errors.Is(err, ErrNotFound) {
		return "", err
	}
	err = s.Write(ctx, func(tx *gorm.DB) error {
		return tx.Clauses(clause.OnConflict{DoNothing: true}).Create(&Setting{Key: settingSecretKey, Value: NewToken(48), UpdatedAt: s.Now()}).Error
	})
	if err != nil {
		return "", err
	}
	return s.GetSetting(ctx, settingSecretKey)
}

// NewSetupSecret makes a fresh one-time setup secret (only its hash is
// kept) while no staff exists. It returns "" when setup is already done.
func (s *Store) NewSetupSecret(ctx context.Context) (string, error) {
	n, err := s.CountStaff(ctx)
	if err != nil || n > 0 {
		return "", err
	}
	secret := NewToken(32)
	err = s.Write(ctx, func(tx *gorm.DB) error {
		return tx.Clauses(clause.OnConflict{UpdateAll: true}).Create(&Setting{Key: settingSetupHash, Value: HashToken(secret), UpdatedAt: s.Now()}).Error
	})
	return secret, err
}

// CheckSetupSecret reports whether secret is the live setup secret.
func (s *Store) CheckSetupSecret(ctx context.Context, secret string) bool {
	v, err := s.GetSetting(ctx, settingSetupHash)
	return err == nil && secret != "" && v == HashToken(secret)
}
