package protocol

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Reason is the reader's reason code in a result, one byte on the wire. The
// values are fixed by the specification; a key shows codes it does not know
// as "denied (reason N)" rather than refusing the result.
type Reason uint8

// Reason codes. The numbers are part of the wire format: never renumber.
const (
	ReasonGranted             Reason = 0
	ReasonUnknownCredential   Reason = 1
	ReasonCredentialNotActive Reason = 2
	ReasonUserDisabled        Reason = 3
	ReasonNotYetValid         Reason = 4
	ReasonExpired             Reason = 5
	ReasonNoPermission        Reason = 6
	ReasonOutsideSchedule     Reason = 7
	ReasonUnlockRequired      Reason = 8
	ReasonLockedDown          Reason = 9
	// ReasonNotProcessed: the reader could not decide (a refused response,
	// an internal error). The door stays shut.
	ReasonNotProcessed Reason = 10
	// ReasonReplaced: the key is a phone the credential had before a newer
	// one registered in its place (after a reissue).
	ReasonReplaced Reason = 11
	// ReasonUpdateRequired: the site no longer accepts the key's protocol
	// version; the holder must update the key ("Update your key").
	ReasonUpdateRequired Reason = 12
)

var reasonNames = map[Reason]string{
	ReasonGranted:             "granted",
	ReasonUnknownCredential:   "unknown credential",
	ReasonCredentialNotActive: "credential not active",
	ReasonUserDisabled:        "user disabled",
	ReasonNotYetValid:         "not yet valid",
	ReasonExpired:             "expired",
	ReasonNoPermission:        "no permission",
	ReasonOutsideSchedule:     "outside schedule",
	ReasonUnlockRequired:      "unlock required",
	ReasonLockedDown:          "locked down",
	ReasonNotProcessed:        "not processed",
	ReasonReplaced:            "replaced by a newer phone",
	ReasonUpdateRequired:      "update required",
}

// String returns the reason as words, or "reason N" for a code this version
// does not name.
func (r Reason) String() string {
	if s, ok := reasonNames[r]; ok {
		return s
	}
	return fmt.Sprintf("reason %d", uint8(r))
}

// MaxResultMessage bounds a result's message in bytes of UTF-8: short enough
// for one BLE fragment and a phone notification.
const MaxResultMessage = 96

// resultHeaderSize is type and version; resultPlainFixed is granted, reason
// and message length.
const (
	resultHeaderSize = 2
	resultPlainFixed = 3
)

// Result is the reader's answer, told to the key so the app can show it.
type Result struct {
	// Granted is true exactly when Reason is ReasonGranted.
	Granted bool
	Reason  Reason
	// Message is a short human text from the reader ("Welcome, Ana").
	Message string
}

// SealResult encrypts a result for the key under the exchange's session. It
// cleans Message rather than failing, because the door decision must reach
// the key: invalid UTF-8 and control characters become spaces and the text
// is cut at MaxResultMessage bytes on a rune boundary. A session seals one
// result only.
func SealResult(s *Session, res Result) ([]byte, error) {
	if s == nil {
		return nil, errors.New("protocol: seal result: no session")
	}
	if res.Granted != (res.Reason == ReasonGranted) {
		return nil, fmt.Errorf("protocol: seal result: granted=%v with reason %q", res.Granted, res.Reason)
	}
	if !s.sealed.CompareAndSwap(false, true) {
		return nil, errors.New("protocol: seal result: this session already sealed a result")
	}
	msg := cleanMessage(res.Message)
	header := []byte{typeResult, byte(s.version)}
	plain := make([]byte, 0, resultPlainFixed+len(msg))
	granted := byte(0)
	if res.Granted {
		granted = 1
	}
	plain = append(plain, granted, byte(res.Reason), byte(len(msg)))
	plain = append(plain, msg...)
	return append(header, seal(s.resultKey, header, plain)...), nil
}

// cleanMessage makes any string a valid result message.
func cleanMessage(s string) string {
	s = strings.ToValidUTF8(s, " ")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	if len(s) <= MaxResultMessage {
		return s
	}
	cut := MaxResultMessage
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// OpenResult decrypts the reader's result on the key. It refuses a result
// for another exchange with ErrDecrypt and anything off-specification with
// ErrMalformed, so what the app shows came from the reader it answered.
func OpenResult(s *Session, b []byte) (Result, error) {
	if s == nil {
		return Result{}, errors.New("protocol: open result: no session")
	}
	shortest := resultHeaderSize + resultPlainFixed + gcmTagSize
	longest := shortest + MaxResultMessage
	if len(b) < shortest || len(b) > longest {
		return Result{}, refuse(ErrMalformed, "result is %d bytes, want %d to %d", len(b), shortest, longest)
	}
	if b[0] != typeResult {
		return Result{}, refuse(ErrMalformed, "message type 0x%02x is not a result (0x%02x)", b[0], typeResult)
	}
	if Version(b[1]) != s.version {
		return Result{}, refuse(ErrUnknownVersion, "result uses version %d, the exchange agreed on %d", b[1], s.version)
	}
	plain, err := open(s.resultKey, b[:resultHeaderSize], b[resultHeaderSize:])
	if err != nil {
		return Result{}, refuse(ErrDecrypt, "result does not authenticate under this session (tampered, or from another exchange)")
	}
	granted, reason, n := plain[0], Reason(plain[1]), int(plain[2])
	if granted > 1 {
		return Result{}, refuse(ErrMalformed, "result granted byte is %d, want 0 or 1", granted)
	}
	res := Result{Granted: granted == 1, Reason: reason}
	if res.Granted != (reason == ReasonGranted) {
		return Result{}, refuse(ErrMalformed, "result says granted=%v with reason %q", res.Granted, reason)
	}
	if n != len(plain)-resultPlainFixed {
		return Result{}, refuse(ErrMalformed, "result message length %d, but %d bytes follow", n, len(plain)-resultPlainFixed)
	}
	msg := string(plain[resultPlainFixed:])
	if !utf8.ValidString(msg) || strings.ContainsFunc(msg, unicode.IsControl) {
		return Result{}, refuse(ErrMalformed, "result message is not clean UTF-8 text")
	}
	res.Message = msg
	return res, nil
}
