package models

import (
	"context"
	"time"

	"gorm.io/gorm"
)

// RateLimit counts hits of key in fixed windows in the database, so that
// several app instances sharing one database enforce one limit. It returns
// whether this hit is within limit and, when not, how long until the
// window ends.
func (s *Store) RateLimit(ctx context.Context, key string, limit int, window time.Duration) (bool, time.Duration, error) {
	now := s.Now()
	start := now.Truncate(window)
	var count int
	err := s.Write(ctx, func(tx *gorm.DB) error {
		// Old windows are swept now and then by the same statement stream.
		if now.Second()%10 == 0 {
			if err := tx.Exec("DELETE FROM rate_limits WHERE window_start < ?", now.Add(-24*time.Hour).Unix()).Error; err != nil {
				return err
			}
		}
		return tx.Raw(`INSERT INTO rate_limits (key, window_start, count) VALUES (?, ?, 1)
			ON CONFLICT (key, window_start) DO UPDATE SET count = rate_limits.count + 1
			RETURNING count`, key, start.Unix()).Scan(&count).Error
	})
	if err != nil {
		return true, 0, err
	}
	if count > limit {
		return false, start.Add(window).Sub(now), nil
	}
	return true, 0, nil
}
