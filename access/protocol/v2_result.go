package protocol

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// MaxResultMessageV2 bounds a version 2 result's message, which is padded
// to this length so that every result of a path has one size.
const MaxResultMessageV2 = 64

// resultPlainV2Size is the sealed part of a version 2 result: granted,
// reason, message length, the padded message, the ticket flag, the ticket
// id and its lifetime in seconds.
const resultPlainV2Size = 3 + MaxResultMessageV2 + 1 + 16 + 4

// Result sizes on the air, fixed whatever the outcome.
const (
	// ResultV2FullSize: type, version, path, sealed plaintext and tag.
	ResultV2FullSize = 3 + resultPlainV2Size + gcmTagSize
	// ResultV2ExpeditedSize adds the reader's ephemeral key.
	ResultV2ExpeditedSize = ResultV2FullSize + PublicKeySize
)

// MaxTicketLifetime bounds what a result may say a ticket lives.
const MaxTicketLifetime = 90 * 24 * time.Hour

// Kind is what a message is, by its first byte.
type Kind uint8

// Message kinds.
const (
	KindUnknown Kind = iota
	KindChallenge
	KindResponse
	KindResult
	KindHello
	KindChallengeV2
	KindResponseV2
	KindResultV2
)

// KindOf tells a message's kind from its type byte; it says nothing of
// whether the rest parses.
func KindOf(msg []byte) Kind {
	switch first(msg) {
	case typeChallenge:
		return KindChallenge
	case typeResponse:
		return KindResponse
	case typeResult:
		return KindResult
	case typeHello:
		return KindHello
	case typeChallengeV2:
		return KindChallengeV2
	case typeResponseV2:
		return KindResponseV2
	case typeResultV2:
		return KindResultV2
	}
	return KindUnknown
}

// NextTicket is a ticket a result hands the key for its next presentation
// at this site.
type NextTicket struct {
	ID       TicketID
	Lifetime time.Duration
}

// SealResult2 encrypts the reader's result, with the next ticket when
// there is one. The message is cleaned (see SealResult) and cut at
// MaxResultMessageV2 bytes, then padded: a listener sees the same length
// for every outcome. A session seals one result only.
func SealResult2(s *Session2, res Result, next *NextTicket) ([]byte, error) {
	if s == nil {
		return nil, errors.New("protocol: seal result: no session")
	}
	if res.Granted != (res.Reason == ReasonGranted) {
		return nil, fmt.Errorf("protocol: seal result: granted=%v with reason %q", res.Granted, res.Reason)
	}
	if next != nil && (next.Lifetime < time.Second || next.Lifetime > MaxTicketLifetime) {
		return nil, fmt.Errorf("protocol: seal result: ticket lifetime %v, want 1s to %v", next.Lifetime, MaxTicketLifetime)
	}
	if !s.sealed.CompareAndSwap(false, true) {
		return nil, errors.New("protocol: seal result: this session already sealed a result")
	}
	msg := cutMessage(cleanMessage(res.Message), MaxResultMessageV2)
	plain := make([]byte, resultPlainV2Size)
	if res.Granted {
		plain[0] = 1
	}
	plain[1] = byte(res.Reason)
	plain[2] = byte(len(msg))
	copy(plain[3:], msg)
	if next != nil {
		off := 3 + MaxResultMessageV2
		plain[off] = 1
		copy(plain[off+1:], next.ID[:])
		binary.BigEndian.PutUint32(plain[off+17:], uint32(next.Lifetime/time.Second))
	}
	return append(bytes.Clone(s.header), seal(s.result, s.header, plain)...), nil
}

// cutMessage cuts s to at most n bytes on a rune boundary.
func cutMessage(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// OpenResult2 decrypts the full path's result on the key. The ticket, when
// the result carries one, comes with the secret this exchange derived.
func OpenResult2(s *Session2, raw []byte) (Result, *KeyTicket, error) {
	if s == nil {
		return Result{}, nil, errors.New("protocol: open result: no session")
	}
	if s.path != PathFull {
		return Result{}, nil, errors.New("protocol: open result: an expedited session is opened by KeyHello.OpenExpedited")
	}
	return openResult2(s, raw)
}

// OpenExpedited reads the reader's answer to a hello that offered a
// ticket, when that answer is a result rather than a challenge: the site
// found the ticket, and only the site that issued it can seal this.
func (k *KeyHello) OpenExpedited(raw []byte) (Result, *KeyTicket, error) {
	if len(raw) != ResultV2ExpeditedSize || raw[0] != typeResultV2 || Path(raw[2]) != PathExpedited {
		return Result{}, nil, refuse(ErrMalformed, "not an expedited result (%d bytes, want %d)", len(raw), ResultV2ExpeditedSize)
	}
	if !containsVersion(HelloVersions(), Version(raw[1])) {
		return Result{}, nil, refuse(ErrUnknownVersion, "expedited result uses version %d", raw[1])
	}
	s, err := k.keyExpedited(Version(raw[1]), raw[3:3+PublicKeySize])
	if err != nil {
		return Result{}, nil, err
	}
	return openResult2(s, raw)
}

func openResult2(s *Session2, raw []byte) (Result, *KeyTicket, error) {
	want := ResultV2FullSize + len(s.header) - 3
	if len(raw) != want {
		return Result{}, nil, refuse(ErrMalformed, "result is %d bytes, want %d", len(raw), want)
	}
	if raw[0] != typeResultV2 {
		return Result{}, nil, refuse(ErrMalformed, "message type 0x%02x is not a version 2 result (0x%02x)", raw[0], typeResultV2)
	}
	if Version(raw[1]) != s.version || Path(raw[2]) != s.path {
		return Result{}, nil, refuse(ErrUnknownVersion, "result is version %d path %d, the exchange is version %d path %d", raw[1], raw[2], s.version, s.path)
	}
	hl := len(s.header)
	plain, err := open(s.result, raw[:hl], raw[hl:])
	if err != nil {
		return Result{}, nil, refuse(ErrDecrypt, "result does not authenticate under this exchange (tampered, or from another one)")
	}
	granted, reason, n := plain[0], Reason(plain[1]), int(plain[2])
	if granted > 1 {
		return Result{}, nil, refuse(ErrMalformed, "result granted byte is %d, want 0 or 1", granted)
	}
	res := Result{Granted: granted == 1, Reason: reason}
	if res.Granted != (reason == ReasonGranted) {
		return Result{}, nil, refuse(ErrMalformed, "result says granted=%v with reason %q", res.Granted, reason)
	}
	if n > MaxResultMessageV2 {
		return Result{}, nil, refuse(ErrMalformed, "result message length %d, at most %d", n, MaxResultMessageV2)
	}
	msg := plain[3 : 3+n]
	off := 3 + MaxResultMessageV2
	if !allZero(plain[3+n : off]) {
		return Result{}, nil, refuse(ErrMalformed, "result message padding is not zero")
	}
	if !utf8.Valid(msg) || strings.ContainsFunc(string(msg), unicode.IsControl) {
		return Result{}, nil, refuse(ErrMalformed, "result message is not clean UTF-8 text")
	}
	res.Message = string(msg)
	var next *KeyTicket
	switch plain[off] {
	case 0:
		if !allZero(plain[off+1:]) {
			return Result{}, nil, refuse(ErrMalformed, "result has no ticket but its ticket fields are not zero")
		}
	case 1:
		life := time.Duration(binary.BigEndian.Uint32(plain[off+17:])) * time.Second
		if life < time.Second || life > MaxTicketLifetime {
			return Result{}, nil, refuse(ErrMalformed, "result ticket lifetime %v, want 1s to %v", life, MaxTicketLifetime)
		}
		next = &KeyTicket{Secret: s.ticket, Lifetime: life}
		copy(next.ID[:], plain[off+1:])
	default:
		return Result{}, nil, refuse(ErrMalformed, "result ticket flag %d, want 0 or 1", plain[off])
	}
	return res, next, nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}
