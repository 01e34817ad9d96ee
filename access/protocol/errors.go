package protocol

import (
	"errors"
	"fmt"
)

// The refusals. Every error a parse, open or verify step returns wraps
// exactly one of these, so callers branch with errors.Is and log Error(),
// whose text carries the detail ("protocol: malformed message: challenge is
// 12 bytes, want 189").
var (
	// ErrMalformed: the bytes do not have the shape the specification gives.
	ErrMalformed = errors.New("protocol: malformed message")
	// ErrUnknownVersion: a response (or result) names a version the reader
	// did not offer.
	ErrUnknownVersion = errors.New("protocol: unknown protocol version")
	// ErrDowngrade: a response chose a lower version than the highest one
	// both sides list.
	ErrDowngrade = errors.New("protocol: protocol version downgrade")
	// ErrBadSignature: a site signature (challenge, token) or a key
	// signature (response, registration, share) does not verify.
	ErrBadSignature = errors.New("protocol: bad signature")
	// ErrDecrypt: a ciphertext does not authenticate under this session:
	// tampered, or made for another challenge.
	ErrDecrypt = errors.New("protocol: cannot decrypt")
	// ErrLate: the response came after the reader's deadline, or for a
	// challenge the reader has already forgotten.
	ErrLate = errors.New("protocol: response too late")
	// ErrReplayed: the challenge was already answered once.
	ErrReplayed = errors.New("protocol: response replayed")
	// ErrUnsupportedVersion: the key and the reader share no version. The
	// key shows this to the user: the app must be updated.
	ErrUnsupportedVersion = errors.New("protocol: no common protocol version, the app must be updated")
	// ErrUnknownSite: a strict key was challenged by a site it does not know.
	ErrUnknownSite = errors.New("protocol: challenge from an unknown site")
	// ErrExpired: a credential token is past its expiry time.
	ErrExpired = errors.New("protocol: credential token expired")
	// ErrTooManyPending: the reader has too many unanswered challenges in
	// flight to issue another; it is not a refusal of a key's message.
	ErrTooManyPending = errors.New("protocol: too many pending challenges")
)

// refuse wraps kind with detail so errors.Is finds kind and the log line
// says what exactly was wrong.
func refuse(kind error, format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{kind}, args...)...)
}

// RefusalCode returns a short stable code for err, for event logs and
// metrics: "malformed", "unknown_version", "downgrade", "bad_signature",
// "decrypt", "late", "replayed", "unsupported_version", "unknown_site",
// "expired", "busy"; "" for nil and "error" for anything else.
func RefusalCode(err error) string {
	codes := []struct {
		err  error
		code string
	}{
		{ErrMalformed, "malformed"},
		{ErrUnknownVersion, "unknown_version"},
		{ErrDowngrade, "downgrade"},
		{ErrBadSignature, "bad_signature"},
		{ErrDecrypt, "decrypt"},
		{ErrLate, "late"},
		{ErrReplayed, "replayed"},
		{ErrUnsupportedVersion, "unsupported_version"},
		{ErrUnknownSite, "unknown_site"},
		{ErrExpired, "expired"},
		{ErrTooManyPending, "busy"},
	}
	if err == nil {
		return ""
	}
	for _, c := range codes {
		if errors.Is(err, c.err) {
			return c.code
		}
	}
	return "error"
}
