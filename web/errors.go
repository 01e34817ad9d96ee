package web

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"postern/access"
)

// apiError is the body of every JSON error.
type apiError struct {
	Error   string `json:"error"`
	Message string `json:"message"`
	// Fields names every invalid field with its message, on a 422, so a
	// client can show each problem next to its input; on a 409, the field
	// that clashes with a stored record.
	Fields map[string]string `json:"fields,omitempty"`
}

// badRequest marks input that could not even be read: malformed JSON, a
// number that is not a number.
type badRequest struct{ msg string }

func (e *badRequest) Error() string { return e.msg }

func errBadRequest(format string, args ...any) error {
	return &badRequest{msg: fmt.Sprintf(format, args...)}
}

// classify maps an error to a status, a stable code and a message that is
// safe to show. Anything it does not know is a 500 whose text is logged, not
// shown.
func classify(err error) (status int, code, message string) {
	var ce *access.ConflictError
	var br *badRequest
	var he *echo.HTTPError
	var mb *http.MaxBytesError
	if ves, ok := access.AsValidationErrors(err); ok {
		return http.StatusUnprocessableEntity, "invalid", ves.Error()
	}
	switch {
	case errors.As(err, &ce):
		return http.StatusConflict, "conflict", ce.Error()
	case errors.Is(err, access.ErrNotFound):
		return http.StatusNotFound, "not_found", "not found"
	case errors.As(err, &br):
		return http.StatusBadRequest, "bad_request", br.Error()
	case errors.As(err, &mb):
		return http.StatusRequestEntityTooLarge, "too_large", "the request body is too large"
	case errors.As(err, &he):
		msg := http.StatusText(he.Code)
		if s, ok := he.Message.(string); ok && he.Code < 500 {
			msg = s
		}
		return he.Code, codeFor(he.Code), msg
	}
	return http.StatusInternalServerError, "internal", "something went wrong; the details are in the appliance's log"
}

func codeFor(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "bad_request"
	case http.StatusUnauthorized:
		return "unauthorized"
	case http.StatusForbidden:
		return "forbidden"
	case http.StatusNotFound:
		return "not_found"
	case http.StatusMethodNotAllowed:
		return "method_not_allowed"
	case http.StatusConflict:
		return "conflict"
	case http.StatusUnprocessableEntity:
		return "invalid"
	case http.StatusTooManyRequests:
		return "rate_limited"
	}
	if status >= 500 {
		return "internal"
	}
	return strings.ToLower(strings.ReplaceAll(http.StatusText(status), " ", "_"))
}

// httpError is echo's error handler: JSON under /api, a plain page elsewhere.
func (h *handler) httpError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, code, msg := classify(err)
	if status >= 500 {
		h.log.Error("request failed", "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
	}
	var werr error
	if strings.HasPrefix(c.Request().URL.Path, "/api/") {
		body := apiError{Error: code, Message: msg}
		var ce *access.ConflictError
		if ves, ok := access.AsValidationErrors(err); ok {
			body.Fields = ves.Fields()
		} else if errors.As(err, &ce) && ce.Field != "" {
			body.Fields = map[string]string{ce.Field: ce.Message}
		}
		werr = c.JSON(status, body)
	} else {
		werr = render(c, status, errorPage(pageFor(c, "Error"), status, msg))
	}
	if werr != nil {
		h.log.Warn("writing error response", "err", werr)
	}
}
