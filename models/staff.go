package models

import (
	"context"
	"errors"
	"net/mail"
	"strings"
	"time"
	"unicode/utf8"

	"gorm.io/gorm"
)

func init() {
	Register(Migration{Version: 1, Name: "foundation: settings, staff, sessions, tokens, audit, rate limits", SQL: `
CREATE TABLE settings (
	key TEXT PRIMARY KEY,
	value TEXT NOT NULL,
	updated_at {{TIME}} NOT NULL
);
CREATE TABLE staff_users (
	id {{ID}},
	email TEXT NOT NULL UNIQUE,
	name TEXT NOT NULL,
	role TEXT NOT NULL CHECK (role IN ('admin','organizer','analyst')),
	password_hash TEXT NOT NULL,
	language TEXT NOT NULL DEFAULT '',
	disabled_at {{TIME}},
	created_at {{TIME}} NOT NULL,
	updated_at {{TIME}} NOT NULL
);
CREATE TABLE staff_sessions (
	id {{ID}},
	token_hash TEXT NOT NULL UNIQUE,
	staff_id {{BIGINT}} NOT NULL REFERENCES staff_users(id) ON DELETE CASCADE,
	created_at {{TIME}} NOT NULL,
	last_seen_at {{TIME}} NOT NULL,
	expires_at {{TIME}} NOT NULL
);
CREATE INDEX staff_sessions_staff ON staff_sessions (staff_id);
CREATE TABLE api_tokens (
	id {{ID}},
	token_hash TEXT NOT NULL UNIQUE,
	staff_id {{BIGINT}} NOT NULL REFERENCES staff_users(id) ON DELETE CASCADE,
	created_at {{TIME}} NOT NULL,
	expires_at {{TIME}} NOT NULL
);
CREATE INDEX api_tokens_staff ON api_tokens (staff_id);
CREATE TABLE audit_log (
	id {{ID}},
	at {{TIME}} NOT NULL,
	actor TEXT NOT NULL,
	actor_id {{BIGINT}},
	action TEXT NOT NULL,
	target TEXT NOT NULL DEFAULT '',
	detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_action ON audit_log (action);
CREATE TABLE rate_limits (
	key TEXT NOT NULL,
	window_start {{BIGINT}} NOT NULL,
	count INTEGER NOT NULL,
	PRIMARY KEY (key, window_start)
);
`})
}

// Roles of staff accounts.
const (
	RoleAdmin     = "admin"
	RoleOrganizer = "organizer"
	RoleAnalyst   = "analyst"
)

// Roles lists the valid roles, most powerful first.
var Roles = []string{RoleAdmin, RoleOrganizer, RoleAnalyst}

// Session lifetimes: a staff session ends after IdleTimeout without a
// request, and at the latest AbsoluteTimeout after login.
const (
	IdleTimeout     = 30 * time.Minute
	AbsoluteTimeout = 12 * time.Hour
	APITokenTTL     = 30 * 24 * time.Hour
)

// Staff is a secretariat account.
type Staff struct {
	ID           int64      `gorm:"primaryKey" json:"id"`
	Email        string     `json:"email"`
	Name         string     `json:"name"`
	Role         string     `json:"role"`
	PasswordHash string     `json:"-"`
	Language     string     `json:"-"`
	DisabledAt   *time.Time `json:"disabled_at,omitempty"`
	CreatedAt    time.Time  `json:"-"`
	UpdatedAt    time.Time  `json:"-"`
}

func (Staff) TableName() string { return "staff_users" }

// Can reports whether the account's role includes the given role:
// admin includes organizer and analyst; organizer includes analyst for
// reading (the route table decides which role a route needs).
func (s *Staff) Can(role string) bool {
	if s == nil || s.DisabledAt != nil {
		return false
	}
	switch role {
	case RoleAdmin:
		return s.Role == RoleAdmin
	case RoleOrganizer:
		return s.Role == RoleAdmin || s.Role == RoleOrganizer
	case RoleAnalyst:
		return s.Role == RoleAdmin || s.Role == RoleOrganizer || s.Role == RoleAnalyst
	}
	return false
}

// NewStaff is the input to CreateStaff.
type NewStaff struct {
	Email    string
	Name     string
	Role     string
	Password string
}

// NormalizeEmail lower-cases and trims an address (emails are unique
// without regard to case).
func NormalizeEmail(e string) string { return strings.ToLower(strings.TrimSpace(e)) }

// ValidEmail reports whether e is a single plain address.
func ValidEmail(e string) bool {
	if e == "" || len(e) > 254 || strings.ContainsAny(e, "\r\n<>\" ,;") {
		return false
	}
	a, err := mail.ParseAddress(e)
	return err == nil && a.Address == e && strings.Contains(e[strings.IndexByte(e, '@'):], ".")
}

// ValidText reports whether s is valid UTF-8 without NUL bytes or other
// C0 control characters (tab, newline and carriage return allowed).
func ValidText(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' {
			return false
		}
	}
	return true
}

// Validate checks a new staff account.
func (n *NewStaff) Validate() error {
	errs := FieldErrors{}
	n.Email = NormalizeEmail(n.Email)
	n.Name = strings.TrimSpace(n.Name)
	if !ValidEmail(n.Email) {
		errs.Add("email", "error.email_invalid")
	}
	if n.Name == "" {
		errs.Add("name", "error.required")
	} else if len(n.Name) > 200 || !ValidText(n.Name) {
		errs.Add("name", "error.text_invalid")
	}
	switch n.Role {
	case RoleAdmin, RoleOrganizer, RoleAnalyst:
	default:
		errs.Add("role", "error.role_invalid")
	}
	if err := ValidatePassword(n.Password); err != "" {
		errs.Add("password", err)
	}
	return errs.Err()
}

// ValidatePassword returns a message ID when pw is not acceptable.
func ValidatePassword(pw string) string {
	switch {
	case utf8.RuneCountInString(pw) < MinPasswordLength:
		return "error.password_short"
	case len(pw) > MaxPasswordLength:
		return "error.password_long"
	case !utf8.ValidString(pw):
		return "error.text_invalid"
	}
	return ""
}

// CountStaff returns how many staff accounts exist.
func (s *Store) CountStaff(ctx context.Context) (int64, error) {
	var n int64
	err := s.R.WithContext(ctx).Model(&Staff{}).Count(&n).Error
	return n, err
}

// CreateStaff creates an account; a duplicate email is ErrConflict.
func (s *Store) CreateStaff(ctx context.Context, n NewStaff, actor *Staff) (*Staff, error) {
	if err := n.Validate(); err != nil {
		return nil, err
	}
	hash, err := HashPassword(n.Password)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	st := &Staff{Email: n.Email, Name: n.Name, Role: n.Role, PasswordHash: hash, CreatedAt: now, UpdatedAt: now}
	err = s.Write(ctx, func(tx *gorm.DB) error {
		if err := tx.Create(st).Error; err != nil {
			return translate(err)
		}
		return s.audit(tx, actor, "staff.create", "staff:"+itoa(st.ID), map[string]any{"email": st.Email, "role": st.Role})
	})
	if errors.Is(err, ErrConflict) {
		return nil, &Error{Kind: ErrConflict, Code: "duplicate_email", Message: "error.email_taken"}
	}
	if err != nil {
		return nil, err
	}
	return st, nil
}

// CreateFirstAdmin creates the first admin only while no staff exists;
// otherwise ErrConflict. It also consumes the setup secret.
func (s *Store) CreateFirstAdmin(ctx context.Context, n NewStaff) (*Staff, error) {
	n.Role = RoleAdmin
	if err := n.Validate(); err != nil {
		return nil, err
	}
	hash, err := HashPassword(n.Password)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	st := &Staff{Email: n.Email, Name: n.Name, Role: RoleAdmin, PasswordHash: hash, CreatedAt: now, UpdatedAt: now}
	err = s.Write(ctx, func(tx *gorm.DB) error {
		var count int64
		if err := tx.Model(&Staff{}).Count(&count).Error; err != nil {
			return err
		}
		if count > 0 {
			return E(ErrConflict, "already_set_up", "error.already_set_up")
		}
		if err := tx.Create(st).Error; err != nil {
			return translate(err)
		}
		if err := tx.Exec("DELETE FROM settings WHERE key = ?", settingSetupHash).Error; err != nil {
			return err
		}
		return s.audit(tx, st, "staff.create_first_admin", "staff:"+itoa(st.ID), map[string]any{"email": st.Email})
	})
	if err != nil {
		return nil, err
	}
	return st, nil
}

// FindStaff returns one account.
func (s *Store) FindStaff(ctx context.Context, id int64) (*Staff, error) {
	var st Staff
	if err := s.R.WithContext(ctx).First(&st, id).Error; err != nil {
		return nil, translate(err)
	}
	return &st, nil
}

// ListStaff returns all accounts, by email.
func (s *Store) ListStaff(ctx context.Context) ([]Staff, error) {
	var out []Staff
	err := s.R.WithContext(ctx).Order("email").Find(&out).Error
	return out, err
}

// Authenticate checks an email and password. Unknown email, wrong password
// and disabled account all give ErrUnauthorized and cost the same time.
func (s *Store) Authenticate(ctx context.Context, email, password string) (*Staff, error) {
	var st Staff
	err := s.R.WithContext(ctx).Where("email = ?", NormalizeEmail(email)).First(&st).Error
	if err != nil {
		CheckPassword(dummyHash(), password)
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, ErrUnauthorized
		}
		return nil, err
	}
	if !CheckPassword(st.PasswordHash, password) || st.DisabledAt != nil {
		return nil, ErrUnauthorized
	}
	return &st, nil
}

// DisableStaff disables an account and ends all its sessions and tokens in
// the same transaction.
func (s *Store) DisableStaff(ctx context.Context, id int64, actor *Staff) (*Staff, error) {
	var st Staff
	err := s.Write(ctx, func(tx *gorm.DB) error {
		if err := tx.First(&st, id).Error; err != nil {
			return translate(err)
		}
		if actor != nil && actor.ID == st.ID {
			return E(ErrConflict, "cannot_disable_self", "error.cannot_disable_self")
		}
		now := s.Now()
		if st.DisabledAt == nil {
			st.DisabledAt = &now
			if err := tx.Model(&st).Updates(map[string]any{"disabled_at": now, "updated_at": now}).Error; err != nil {
				return err
			}
		}
		if err := tx.Exec("DELETE FROM staff_sessions WHERE staff_id = ?", id).Error; err != nil {
			return err
		}
		if err := tx.Exec("DELETE FROM api_tokens WHERE staff_id = ?", id).Error; err != nil {
			return err
		}
		return s.audit(tx, actor, "staff.disable", "staff:"+itoa(id), map[string]any{"email": st.Email})
	})
	if err != nil {
		return nil, err
	}
	return &st, nil
}

// SetStaffRole changes an account's role. Admins cannot change their own
// role (so the last admin cannot demote themselves by mistake).
func (s *Store) SetStaffRole(ctx context.Context, id int64, role string, actor *Staff) error {
	switch role {
	case RoleAdmin, RoleOrganizer, RoleAnalyst:
	default:
		return FieldErrors{"role": "error.role_invalid"}
	}
	return s.Write(ctx, func(tx *gorm.DB) error {
		var st Staff
		if err := tx.First(&st, id).Error; err != nil {
			return translate(err)
		}
		if actor != nil && actor.ID == st.ID {
			return E(ErrConflict, "cannot_change_own_role", "error.cannot_change_own_role")
		}
		if st.Role == role {
			return nil
		}
		if err := tx.Model(&st).Updates(map[string]any{"role": role, "updated_at": s.Now()}).Error; err != nil {
			return err
		}
		return s.audit(tx, actor, "staff.role", "staff:"+itoa(id), map[string]any{"from": st.Role, "to": role})
	})
}

// SetStaffLanguage records an account's chosen interface language.
func (s *Store) SetStaffLanguage(ctx context.Context, id int64, lang string) error {
	return s.Write(ctx, func(tx *gorm.DB) error {
		return tx.Exec("UPDATE staff_users SET language = ?, updated_at = ? WHERE id = ?", lang, s.Now(), id).Error
	})
}

// StaffSession is the server-side record behind a staff cookie.
type StaffSession struct {
	ID         int64 `gorm:"primaryKey"`
	TokenHash  string
	StaffID    int64
	CreatedAt  time.Time
	LastSeenAt time.Time
	ExpiresAt  time.Time
}

func (StaffSession) TableName() string { return "staff_sessions" }

// CreateSession starts a staff session and returns its secret id.
func (s *Store) CreateSession(ctx context.Context, st *Staff) (string, error) {
	tok := NewToken(32)
	now := s.Now()
	sess := &StaffSession{TokenHash: HashToken(tok), StaffID: st.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(AbsoluteTimeout)}
	err := s.Write(ctx, func(tx *gorm.DB) error {
		// Expired sessions of anyone are swept at each login.
		if err := tx.Exec("DELETE FROM staff_sessions WHERE expires_at < ? OR last_seen_at < ?", now, now.Add(-IdleTimeout)).Error; err != nil {
			return err
		}
		if err := tx.Create(sess).Error; err != nil {
			return err
		}
		return s.audit(tx, st, "auth.login", "staff:"+itoa(st.ID), nil)
	})
	return tok, err
}

// FindSession returns the account of a live session, and refreshes its idle
// clock (at most once a minute, to spare the writer).
func (s *Store) FindSession(ctx context.Context, tok string) (*Staff, error) {
	if tok == "" {
		return nil, ErrUnauthorized
	}
	now := s.Now()
	var sess StaffSession
	err := s.R.WithContext(ctx).Where("token_hash = ?", HashToken(tok)).First(&sess).Error
	if err != nil {
		return nil, ErrUnauthorized
	}
	if now.After(sess.ExpiresAt) || now.Sub(sess.LastSeenAt) > IdleTimeout {
		return nil, ErrUnauthorized
	}
	st, err := s.FindStaff(ctx, sess.StaffID)
	if err != nil || st.DisabledAt != nil {
		return nil, ErrUnauthorized
	}
	if now.Sub(sess.LastSeenAt) > time.Minute {
		_ = s.Write(ctx, func(tx *gorm.DB) error {
			return tx.Exec("UPDATE staff_sessions SET last_seen_at = ? WHERE id = ?", now, sess.ID).Error
		})
	}
	return st, nil
}

// DeleteSession ends one session (logout).
func (s *Store) DeleteSession(ctx context.Context, tok string, st *Staff) error {
	return s.Write(ctx, func(tx *gorm.DB) error {
		if err := tx.Exec("DELETE FROM staff_sessions WHERE token_hash = ?", HashToken(tok)).Error; err != nil {
			return err
		}
		return s.audit(tx, st, "auth.logout", "", nil)
	})
}

// APIToken is a bearer token for the JSON API; only its hash is stored.
type APIToken struct {
	ID        int64 `gorm:"primaryKey"`
	TokenHash string
	StaffID   int64
	CreatedAt time.Time
	ExpiresAt time.Time
}

func (APIToken) TableName() string { return "api_tokens" }

// CreateAPIToken issues a bearer token for an authenticated account.
func (s *Store) CreateAPIToken(ctx context.Context, st *Staff) (string, time.Time, error) {
	tok := NewToken(32)
	now := s.Now()
	t := &APIToken{TokenHash: HashToken(tok), StaffID: st.ID, CreatedAt: now, ExpiresAt: now.Add(APITokenTTL)}
	err := s.Write(ctx, func(tx *gorm.DB) error {
		if err := tx.Exec("DELETE FROM api_tokens WHERE expires_at < ?", now).Error; err != nil {
			return err
		}
		if err := tx.Create(t).Error; err != nil {
			return err
		}
		return s.audit(tx, st, "auth.token", "staff:"+itoa(st.ID), nil)
	})
	return tok, t.ExpiresAt, err
}

// DeleteAPIToken revokes one bearer token.
func (s *Store) DeleteAPIToken(ctx context.Context, tok string, st *Staff) error {
	return s.Write(ctx, func(tx *gorm.DB) error {
		if err := tx.Exec("DELETE FROM api_tokens WHERE token_hash = ?", HashToken(tok)).Error; err != nil {
			return err
		}
		return s.audit(tx, st, "auth.token_revoked", "", nil)
	})
}

// FindAPIToken returns the account behind a live bearer token.
func (s *Store) FindAPIToken(ctx context.Context, tok string) (*Staff, error) {
	var t APIToken
	if err := s.R.WithContext(ctx).Where("token_hash = ?", HashToken(tok)).First(&t).Error; err != nil {
		return nil, ErrUnauthorized
	}
	if s.Now().After(t.ExpiresAt) {
		return nil, ErrUnauthorized
	}
	st, err := s.FindStaff(ctx, t.StaffID)
	if err != nil || st.DisabledAt != nil {
		return nil, ErrUnauthorized
	}
	return st, nil
}
