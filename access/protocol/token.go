package protocol

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// TokenPrefix starts every credential token's text form.
const TokenPrefix = "postern-credential:"

// TokenVersion1 is the token layout this package writes and reads.
const TokenVersion1 = 1

// Token field bounds, in bytes of UTF-8. They keep a token short enough to
// paste and every length in one byte.
const (
	MaxTokenName    = 64
	MaxTokenSiteURL = 255
)

// maxTokenText bounds the text DecodeToken looks at before decoding, so a
// huge paste costs nothing.
const maxTokenText = 4096

// tokenFixed is the payload's fixed part: version, credential id, tap key,
// user-verification key, site id, site key, issued-at, expires-at.
const tokenFixed = 1 + 16 + PublicKeySize + PublicKeySize + 16 + PublicKeySize + 8 + 8

// tokenEncoding is base64url without padding, strict so that each token has
// exactly one text form.
var tokenEncoding = base64.RawURLEncoding.Strict()

// Token is a credential as one site vouches for it to another ("Add
// credential to new site"). It proves only that the holder of SiteKey issued
// it: the receiving administrator decides whether to trust that site, which
// is what SiteFingerprint is for.
type Token struct {
	// Version is the token layout; DecodeToken sets it, EncodeToken writes
	// TokenVersion1.
	Version uint8
	// CredentialID, TapKey and UVKey are the credential: the same id and
	// the device's SEC1 uncompressed public keys, so the same phone opens
	// the new site's doors.
	CredentialID CredentialID
	TapKey       []byte
	UVKey        []byte
	// FirstName and LastName are what the holder typed, so the admin knows
	// who it is from.
	FirstName string
	LastName  string
	// SiteID, SiteName, SiteURL and SiteKey describe the issuing site.
	SiteID   SiteID
	SiteName string
	SiteURL  string
	SiteKey  []byte
	// IssuedAt and ExpiresAt have millisecond precision.
	IssuedAt  time.Time
	ExpiresAt time.Time
}

// SiteFingerprint is the issuing site key's fingerprint (see
// KeyFingerprint), for the admin to compare with what the other site shows.
func (t *Token) SiteFingerprint() string { return siteFingerprint(t.SiteKey) }

// EncodeToken signs t with the issuing site's key and returns its text form.
// It fills in SiteKey from siteKey (refusing a different one already set)
// and refuses fields out of bounds.
func EncodeToken(t Token, siteKey *ecdsa.PrivateKey) (string, error) {
	if siteKey == nil {
		return "", errors.New("protocol: encode token: no site key")
	}
	pub, err := MarshalPublicKey(&siteKey.PublicKey)
	if err != nil {
		return "", fmt.Errorf("protocol: encode token: %w", err)
	}
	if t.SiteKey != nil && !bytes.Equal(t.SiteKey, pub) {
		return "", errors.New("protocol: encode token: SiteKey is not the signing key's public key")
	}
	if t.Version != 0 && t.Version != TokenVersion1 {
		return "", fmt.Errorf("protocol: encode token: version %d, this package writes %d", t.Version, TokenVersion1)
	}
	t.SiteKey = pub
	if err := t.check(); err != nil {
		return "", fmt.Errorf("protocol: encode token: %w", err)
	}
	payload := t.payload()
	d := tokenDigest(payload)
	sig, err := sign(siteKey, d[:])
	if err != nil {
		return "", err
	}
	return TokenPrefix + tokenEncoding.EncodeToString(payload) + "." + tokenEncoding.EncodeToString(sig), nil
}

// check enforces the bounds both EncodeToken and DecodeToken apply.
func (t *Token) check() error {
	for _, k := range []struct {
		name string
		b    []byte
	}{{"tap key", t.TapKey}, {"user-verification key", t.UVKey}, {"site key", t.SiteKey}} {
		if _, err := ParsePublicKey(k.b); err != nil {
			return fmt.Errorf("%s: %w", k.name, err)
		}
	}
	if bytes.Equal(t.TapKey, t.UVKey) {
		return errors.New("the tap and user-verification keys are the same key")
	}
	return checkTokenTexts(t.FirstName, t.LastName, t.SiteName, t.SiteURL, t.IssuedAt, t.ExpiresAt)
}

// checkTokenTexts enforces what every token version shares: the text
// bounds (with extra fields a version adds), a holder's name, and an
// expiry after the issue.
func checkTokenTexts(first, last, siteName, siteURL string, issued, expires time.Time, extra ...textField) error {
	if err := checkTexts(append(extra,
		textField{"first name", first, MaxTokenName},
		textField{"last name", last, MaxTokenName},
		textField{"site name", siteName, MaxTokenName},
		textField{"site URL", siteURL, MaxTokenSiteURL},
	)); err != nil {
		return err
	}
	if first == "" && last == "" {
		return errors.New("the holder's name is empty")
	}
	if !expires.After(issued) {
		return fmt.Errorf("expires at %s, not after issued at %s", expires.UTC().Format(time.RFC3339), issued.UTC().Format(time.RFC3339))
	}
	return nil
}

// payload encodes the signed part of a token.
func (t *Token) payload() []byte {
	b := make([]byte, 0, tokenFixed+4+len(t.FirstName)+len(t.LastName)+len(t.SiteName)+len(t.SiteURL))
	b = append(b, TokenVersion1)
	b = append(b, t.CredentialID[:]...)
	b = append(b, t.TapKey...)
	b = append(b, t.UVKey...)
	b = append(b, t.SiteID[:]...)
	b = append(b, t.SiteKey...)
	b = binary.BigEndian.AppendUint64(b, uint64(t.IssuedAt.UnixMilli()))
	b = binary.BigEndian.AppendUint64(b, uint64(t.ExpiresAt.UnixMilli()))
	return appendTexts(b, t.FirstName, t.LastName, t.SiteName, t.SiteURL)
}

// tokenDigest is what the site key signs: SHA-256(label || payload).
func tokenDigest(payload []byte) [32]byte {
	h := sha256.New()
	h.Write([]byte(labelToken))
	h.Write(payload)
	var d [32]byte
	h.Sum(d[:0])
	return d
}

// DecodeToken reads a token's text form, checks its signature against the
// site key it carries and that it has not expired at now. Whitespace and
// invisible formatting characters anywhere (line breaks and indents an email
// client added) are ignored. It refuses with ErrMalformed, ErrBadSignature
// or ErrExpired, checking the signature before the expiry so a forged token
// never reads as merely expired.
func DecodeToken(s string, now time.Time) (*Token, error) {
	if len(s) > maxTokenText {
		return nil, refuse(ErrMalformed, "token text is %d bytes, longer than any token", len(s))
	}
	s = cleanPaste(s)
	rest, ok := strings.CutPrefix(s, TokenPrefix)
	if !ok {
		return nil, refuse(ErrMalformed, "token does not start with %q", TokenPrefix)
	}
	parts := strings.Split(rest, ".")
	if len(parts) != 2 {
		return nil, refuse(ErrMalformed, "token has %d dot-separated parts, want 2", len(parts))
	}
	payload, err := tokenEncoding.DecodeString(parts[0])
	if err != nil {
		return nil, refuse(ErrMalformed, "token payload is not base64url: %v", err)
	}
	sig, err := tokenEncoding.DecodeString(parts[1])
	if err != nil {
		return nil, refuse(ErrMalformed, "token signature is not base64url: %v", err)
	}
	if len(sig) != SignatureSize {
		return nil, refuse(ErrMalformed, "token signature is %d bytes, want %d", len(sig), SignatureSize)
	}
	t, err := parseTokenPayload(payload)
	if err != nil {
		return nil, err
	}
	sitePub, err := ParsePublicKey(t.SiteKey)
	if err != nil {
		return nil, fmt.Errorf("token site key: %w", err)
	}
	d := tokenDigest(payload)
	if !verify(sitePub, d[:], sig) {
		return nil, refuse(ErrBadSignature, "credential token from site %q (%s) does not verify with its own site key", t.SiteName, t.SiteID)
	}
	if !now.Before(t.ExpiresAt) {
		return nil, refuse(ErrExpired, "credential token from site %q expired at %s", t.SiteName, t.ExpiresAt.UTC().Format(time.RFC3339))
	}
	return t, nil
}

// parseTokenPayload decodes the signed part strictly: exact length, fields
// within bounds, keys on the curve.
func parseTokenPayload(b []byte) (*Token, error) {
	if len(b) < tokenFixed+4 {
		return nil, refuse(ErrMalformed, "token payload is %d bytes, want at least %d", len(b), tokenFixed+4)
	}
	if b[0] != TokenVersion1 {
		return nil, refuse(ErrMalformed, "token version %d, this software reads %d", b[0], TokenVersion1)
	}
	t := &Token{Version: b[0]}
	off := 1
	take := func(n int) []byte {
		v := b[off : off+n]
		off += n
		return v
	}
	copy(t.CredentialID[:], take(16))
	t.TapKey = bytes.Clone(take(PublicKeySize))
	t.UVKey = bytes.Clone(take(PublicKeySize))
	copy(t.SiteID[:], take(16))
	t.SiteKey = bytes.Clone(take(PublicKeySize))
	t.IssuedAt = time.UnixMilli(int64(binary.BigEndian.Uint64(take(8))))
	t.ExpiresAt = time.UnixMilli(int64(binary.BigEndian.Uint64(take(8))))
	strs, err := readTexts(b[off:], 4)
	if err != nil {
		return nil, err
	}
	t.FirstName, t.LastName, t.SiteName, t.SiteURL = strs[0], strs[1], strs[2], strs[3]
	if err := t.check(); err != nil {
		return nil, refuse(ErrMalformed, "token: %v", err)
	}
	return t, nil
}

// textField is one text field of a token, with its bound in bytes.
type textField struct {
	name, v string
	max     int
}

// checkTexts enforces a token's text bounds: length, UTF-8, no control
// characters.
func checkTexts(fields []textField) error {
	for _, f := range fields {
		if len(f.v) > f.max {
			return fmt.Errorf("%s is %d bytes, at most %d", f.name, len(f.v), f.max)
		}
		if !utf8.ValidString(f.v) || strings.ContainsFunc(f.v, unicode.IsControl) {
			return fmt.Errorf("%s is not clean UTF-8 text", f.name)
		}
	}
	return nil
}

// cleanPaste drops whitespace and invisible formatting characters, which
// email clients add to a long line.
func cleanPaste(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, s)
}

// appendTexts appends texts to b, each after its one-byte length, as
// readTexts reads them. Callers check each text's length first.
func appendTexts(b []byte, texts ...string) []byte {
	for _, s := range texts {
		b = append(b, byte(len(s)))
		b = append(b, s...)
	}
	return b
}

// readTexts reads exactly n one-byte-length-prefixed texts that fill b, the
// tail of a token's payload.
func readTexts(b []byte, n int) ([]string, error) {
	strs := make([]string, n)
	off := 0
	for i := range strs {
		if off >= len(b) {
			return nil, refuse(ErrMalformed, "token payload ends inside its text fields")
		}
		l := int(b[off])
		off++
		if off+l > len(b) {
			return nil, refuse(ErrMalformed, "token text field %d runs past the payload", i+1)
		}
		strs[i] = string(b[off : off+l])
		off += l
	}
	if off != len(b) {
		return nil, refuse(ErrMalformed, "token payload has %d trailing bytes", len(b)-off)
	}
	return strs, nil
}

// siteFingerprint is a token's issuing site key's fingerprint, or "" for a
// key that does not parse.
func siteFingerprint(key []byte) string {
	if _, err := ParsePublicKey(key); err != nil {
		return ""
	}
	return fingerprint(key)
}
