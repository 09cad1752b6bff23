package handlers

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"focalpoint/models"
)

// APIError is an error with an explicit status, code, message ID and
// per-field message IDs, for cases the domain errors do not cover.
type APIError struct {
	Status     int
	Code       string
	Message    string
	Fields     map[string]string
	RetryAfter time.Duration
}

func (e *APIError) Error() string { return e.Code }

// errorBody is the JSON error envelope of API.md.
type errorBody struct {
	Error struct {
		Code    string            `json:"code"`
		Message string            `json:"message"`
		Fields  map[string]string `json:"fields,omitempty"`
	} `json:"error"`
}

// classify maps any error to status, code, message ID and field messages.
// This is the one place where errors become HTTP.
func classify(err error) *APIError {
	var api *APIError
	var fe models.FieldErrors
	var de *models.Error
	var he *echo.HTTPError
	switch {
	case errors.As(err, &api):
		return api
	case errors.As(err, &fe):
		return &APIError{Status: http.StatusUnprocessableEntity, Code: "validation_failed", Message: "error.validation", Fields: fe}
	case errors.As(err, &de):
		a := classify(de.Kind)
		a.Code, a.Message = de.Code, de.Message
		return a
	case errors.Is(err, models.ErrNotFound):
		return &APIError{Status: http.StatusNotFound, Code: "not_found", Message: "error.not_found"}
	case errors.Is(err, models.ErrConflict):
		return &APIError{Status: http.StatusConflict, Code: "conflict", Message: "error.conflict"}
	case errors.Is(err, models.ErrClosed):
		return &APIError{Status: http.StatusConflict, Code: "closed", Message: "error.closed"}
	case errors.Is(err, models.ErrForbidden):
		return &APIError{Status: http.StatusForbidden, Code: "forbidden", Message: "error.forbidden"}
	case errors.Is(err, models.ErrUnauthorized):
		return &APIError{Status: http.StatusUnauthorized, Code: "unauthorized", Message: "error.unauthorized"}
	case errors.Is(err, models.ErrTooLarge):
		return &APIError{Status: http.StatusRequestEntityTooLarge, Code: "too_large", Message: "error.too_large"}
	case errors.Is(err, models.ErrRateLimited):
		return &APIError{Status: http.StatusTooManyRequests, Code: "rate_limited", Message: "error.rate_limited", RetryAfter: time.Minute}
	case errors.As(err, &he):
		return fromStatus(he.Code)
	}
	return &APIError{Status: http.StatusInternalServerError, Code: "internal", Message: "error.internal"}
}

// errorTitle is the heading of the friendly error page for a status.
func errorTitle(status int) string {
	switch {
	case status == http.StatusNotFound:
		return "error.title_not_found"
	case status == http.StatusForbidden:
		return "error.title_forbidden"
	case status == http.StatusTooManyRequests:
		return "error.title_rate_limited"
	case status >= 500:
		return "error.title_internal"
	}
	return "error.title_generic"
}

func fromStatus(status int) *APIError {
	code, msg := "bad_request", "error.bad_request"
	switch status {
	case http.StatusUnauthorized:
		code, msg = "unauthorized", "error.unauthorized"
	case http.StatusForbidden:
		code, msg = "forbidden", "error.forbidden"
	case http.StatusNotFound:
		code, msg = "not_found", "error.not_found"
	case http.StatusMethodNotAllowed:
		code, msg = "method_not_allowed", "error.method_not_allowed"
	case http.StatusRequestEntityTooLarge:
		code, msg = "too_large", "error.too_large"
	case http.StatusTooManyRequests:
		code, msg = "rate_limited", "error.rate_limited"
	case http.StatusConflict:
		code, msg = "conflict", "error.conflict"
	case http.StatusUnsupportedMediaType:
		code, msg = "unsupported_media_type", "error.bad_request"
	}
	if status >= 500 {
		code, msg = "internal", "error.internal"
	}
	return &APIError{Status: status, Code: code, Message: msg}
}

// ErrorHandler is echo's central error handler: the JSON envelope for the
// API, a friendly page for the rest; 5xx are logged once with the request
// id, and never shown.
func (h *Handler) ErrorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	a := classify(err)
	if a.Status >= 500 {
		h.Log.Error("request failed", "err", err, "method", c.Request().Method,
			"path", c.Request().URL.Path, "request_id", c.Response().Header().Get(echo.HeaderXRequestID))
	}
	if a.RetryAfter > 0 {
		c.Response().Header().Set("Retry-After", strconv.Itoa(int(a.RetryAfter.Seconds()+0.999)))
	}
	l := h.localizer(c)
	if isAPI(c) || c.Request().Header.Get("Accept") == "application/json" {
		var body errorBody
		body.Error.Code = a.Code
		body.Error.Message = l.Msg(a.Message)
		if len(a.Fields) > 0 {
			body.Error.Fields = make(map[string]string, len(a.Fields))
			for k, v := range a.Fields {
				body.Error.Fields[k] = l.Msg(v)
			}
		}
		if c.Request().Method == http.MethodHead {
			_ = c.NoContent(a.Status)
			return
		}
		_ = c.JSON(a.Status, body)
		return
	}
	if a.Status == http.StatusUnauthorized {
		_ = c.Redirect(http.StatusSeeOther, "/login?next="+safeNextQuery(c.Request().URL.RequestURI()))
		return
	}
	p := h.page(c, errorTitle(a.Status))
	// Only the translated message: never err itself (it may hold SQL).
	p.Data = map[string]any{"Status": a.Status, "Message": l.Msg(a.Message)}
	if rerr := c.Render(a.Status, "error", p); rerr != nil {
		h.Log.Error("render error page", "err", rerr)
		_ = c.String(a.Status, l.Msg(a.Message))
	}
}
