// Package handlers turns HTTP requests into calls on the models and picks a
// page or JSON for the answer. One file per area; no SQL and no business
// rules here. HTML and JSON variants of an action share the same model call.
package handlers

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"

	"focalpoint/i18n"
	"focalpoint/models"
)

// Options are the parts of the configuration handlers need.
type Options struct {
	// BaseURL builds every link sent out (never the request's Host).
	BaseURL string
	// Secure marks cookies Secure (BaseURL is https).
	Secure bool
}

// Handler holds the dependencies of every handler.
type Handler struct {
	Store    *models.Store
	I18n     *i18n.Bundle
	Opts     Options
	Log      *slog.Logger
	Sessions sessions.Store
}

// New builds a Handler. secret signs and encrypts cookies.
func New(store *models.Store, bundle *i18n.Bundle, opts Options, log *slog.Logger, secret string) *Handler {
	return &Handler{Store: store, I18n: bundle, Opts: opts, Log: log, Sessions: newCookieStore(secret, opts.Secure)}
}

// DTO binding ----------------------------------------------------------------

// maxJSONDepthBytes bounds a JSON body read by bindJSON (the route's
// BodyLimit middleware applies first; this is a second guard).
const maxJSONBytes = 16 << 20

// bindJSON decodes the request body into dst, a DTO (never a GORM model).
// Malformed JSON is a 400 malformed_json; a value of the wrong type names
// the field.
func bindJSON(c echo.Context, dst any) error {
	body := io.LimitReader(c.Request().Body, maxJSONBytes+1)
	dec := json.NewDecoder(body)
	dec.UseNumber()
	if err := dec.Decode(dst); err != nil {
		var te *json.UnmarshalTypeError
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &mbe):
			return models.E(models.ErrTooLarge, "too_large", "error.too_large")
		case errors.As(err, &te):
			field := te.Field
			if field == "" {
				field = "body"
			}
			return &APIError{Status: http.StatusBadRequest, Code: "malformed_json", Message: "error.malformed_json",
				Fields: map[string]string{field: "error.invalid_value"}}
		case errors.Is(err, io.EOF):
			return &APIError{Status: http.StatusBadRequest, Code: "malformed_json", Message: "error.malformed_json",
				Fields: map[string]string{"body": "error.required"}}
		}
		return &APIError{Status: http.StatusBadRequest, Code: "malformed_json", Message: "error.malformed_json"}
	}
	if dec.More() {
		return &APIError{Status: http.StatusBadRequest, Code: "malformed_json", Message: "error.malformed_json"}
	}
	return nil
}

// paramID parses an integer path parameter; a bad one is a 404.
func paramID(c echo.Context, name string) (int64, error) {
	id, err := strconv.ParseInt(c.Param(name), 10, 64)
	if err != nil || id <= 0 {
		return 0, models.ErrNotFound
	}
	return id, nil
}

// Paging is ?page=&per_page= of list calls.
type Paging struct {
	Page    int
	PerPage int
}

// MaxPerPage is the largest page a list call returns.
const MaxPerPage = 500

// parsePaging reads ?page= and ?per_page= (defaults 1 and 50, at most 500).
func parsePaging(c echo.Context) (Paging, error) {
	p := Paging{Page: 1, PerPage: 50}
	errs := models.FieldErrors{}
	if v := c.QueryParam("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			errs.Add("page", "error.invalid_number")
		} else {
			p.Page = n
		}
	}
	if v := c.QueryParam("per_page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			errs.Add("per_page", "error.invalid_number")
		} else {
			p.PerPage = min(n, MaxPerPage)
		}
	}
	return p, errs.Err()
}

// Offset is the number of rows before the page.
func (p Paging) Offset() int { return (p.Page - 1) * p.PerPage }

// List is the API's list envelope.
type List[T any] struct {
	Items []T   `json:"items"`
	Total int64 `json:"total"`
}

// isAPI reports whether the request is to the JSON API.
func isAPI(c echo.Context) bool {
	return strings.HasPrefix(c.Request().URL.Path, "/api/")
}

// link builds an absolute link from the configured base URL.
func (h *Handler) link(format string, a ...any) string {
	return strings.TrimRight(h.Opts.BaseURL, "/") + fmt.Sprintf(format, a...)
}
