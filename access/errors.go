package access

import (
	"errors"
	"fmt"
	"strings"
)

// ErrNotFound is returned when a record does not exist.
var ErrNotFound = errors.New("not found")

// ValidationError says which field of an input is wrong and why, in words
// that are safe to show to the admin who typed it.
type ValidationError struct {
	Field   string
	Message string
}

func (e *ValidationError) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

// Invalid returns a ValidationError for field.
func Invalid(field, format string, args ...any) error {
	return &ValidationError{Field: field, Message: fmt.Sprintf(format, args...)}
}

// ValidationErrors is every field error found in one input, in the order
// the fields were checked, so a form or an API client learns all that is
// wrong in one answer rather than one problem per try. It holds at most one
// error per field: the first found.
//
// errors.As finds a ValidationErrors, and also its first *ValidationError,
// so code that looks for a single field error keeps working.
type ValidationErrors []*ValidationError

// Add records a field error unless the field already has one.
func (es *ValidationErrors) Add(field, format string, args ...any) {
	es.add(&ValidationError{Field: field, Message: fmt.Sprintf(format, args...)})
}

func (es *ValidationErrors) add(e *ValidationError) {
	for _, have := range *es {
		if have.Field == e.Field {
			return
		}
	}
	*es = append(*es, e)
}

// Merge adds the field errors err holds (a ValidationErrors or a single
// ValidationError), keeping a field's first message. It reports whether err
// held any, so a caller can pass other errors on.
func (es *ValidationErrors) Merge(err error) bool {
	found, ok := AsValidationErrors(err)
	for _, e := range found {
		es.add(e)
	}
	return ok
}

// Err returns es as an error, or nil when it is empty, so a Validate can
// end with return errs.Err() without returning a non-nil empty list.
func (es ValidationErrors) Err() error {
	if len(es) == 0 {
		return nil
	}
	return es
}

// Error joins the field errors; one error reads as its ValidationError does.
func (es ValidationErrors) Error() string {
	msgs := make([]string, len(es))
	for i, e := range es {
		msgs[i] = e.Error()
	}
	return strings.Join(msgs, "; ")
}

// Unwrap lets errors.Is and errors.As see each field error.
func (es ValidationErrors) Unwrap() []error {
	errs := make([]error, len(es))
	for i, e := range es {
		errs[i] = e
	}
	return errs
}

// Fields maps each named field to its message. An error that names no field
// is left out: it is in Error() and belongs to the input as a whole.
func (es ValidationErrors) Fields() map[string]string {
	m := make(map[string]string, len(es))
	for _, e := range es {
		if e.Field != "" {
			m[e.Field] = e.Message
		}
	}
	return m
}

// AsValidationErrors finds the field errors in err's chain: all of a
// ValidationErrors, or a lone ValidationError as a list of one.
func AsValidationErrors(err error) (ValidationErrors, bool) {
	var es ValidationErrors
	if errors.As(err, &es) && len(es) > 0 {
		return es, true
	}
	var e *ValidationError
	if errors.As(err, &e) {
		return ValidationErrors{e}, true
	}
	return nil, false
}

// ConflictError says that a change clashes with what is stored, such as a
// second access point with the same name.
type ConflictError struct {
	Message string
	// Field is the input field that clashes ("name", "reader"); empty when
	// the clash is not one field's. Message then reads after the field's
	// name, as a ValidationError's does.
	Field string
	// With is the stored record the change clashes with, when known.
	With Ref
}

func (e *ConflictError) Error() string {
	if e.Field == "" {
		return e.Message
	}
	return e.Field + ": " + e.Message
}

// Ref names a stored record: its kind ("user", "group", "access point",
// "time profile", "permission"), id and name.
type Ref struct {
	Kind string
	ID   int64
	Name string
}

// Conflict returns a ConflictError.
func Conflict(format string, args ...any) error {
	return &ConflictError{Message: fmt.Sprintf(format, args...)}
}
