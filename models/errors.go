package models

import (
	"errors"
	"sort"
	"strings"
)

// Sentinel domain errors. Handlers map them to HTTP statuses in one place
// (handlers/errors.go); the store translates driver errors into them.
var (
	ErrNotFound     = errors.New("not found")
	ErrConflict     = errors.New("conflict")
	ErrForbidden    = errors.New("forbidden")
	ErrUnauthorized = errors.New("unauthorized")
	ErrClosed       = errors.New("closed")
	ErrTooLarge     = errors.New("too large")
	ErrRateLimited  = errors.New("rate limited")
)

// Error is a domain error with a stable snake_case code (the API's
// error.code) and a message ID for the translator. Kind is one of the
// sentinel errors above, so errors.Is(err, ErrConflict) holds.
type Error struct {
	Kind    error
	Code    string
	Message string // message ID in the i18n catalogue, or a plain sentence
	Data    map[string]any
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }
func (e *Error) Unwrap() error { return e.Kind }

// E builds a coded domain error.
func E(kind error, code, message string) *Error {
	return &Error{Kind: kind, Code: code, Message: message}
}

// FieldErrors maps a field name to the message ID that says why it is wrong.
// It is the validation error of the domain (HTTP 422).
type FieldErrors map[string]string

func (f FieldErrors) Error() string {
	keys := make([]string, 0, len(f))
	for k := range f {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString("invalid fields: ")
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(k + " (" + f[k] + ")")
	}
	return b.String()
}

// Add records the first reason for a field.
func (f FieldErrors) Add(field, msg string) {
	if _, ok := f[field]; !ok {
		f[field] = msg
	}
}

// Err returns nil when there are no field errors, so validators can end
// with `return errs.Err()`.
func (f FieldErrors) Err() error {
	if len(f) == 0 {
		return nil
	}
	return f
}
