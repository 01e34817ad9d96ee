package protocol

import (
	"bytes"
	"crypto/ecdsa"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"time"
)

// TokenVersion2 is the credential token of version 2: per-site keys, bound
// to the administrator it was emailed to, imported once.
const TokenVersion2 = 2

// MaxTokenEmail bounds the administrator's address in a token.
const MaxTokenEmail = 254

// tokenV2Fixed is the payload's fixed part: version, token id, credential
// id, tap key, user-verification key, introduction secret, site id, site
// key, issued-at and expires-at.
const tokenV2Fixed = 1 + 16 + 16 + PublicKeySize + PublicKeySize + SecretSize + 16 + PublicKeySize + 8 + 8

// TokenV2 is a credential as its home site vouches for it to another site.
// Its keys and id were made on the phone for that other site alone, so the
// two sites see nothing in common; its introduction secret lets the other
// site prove to the phone that it imported the token (see
// ChallengeParams.Introduction).
type TokenV2 struct {
	// ID names this token: the importing site accepts it once, the home
	// site lists and withdraws it by this id.
	ID [16]byte
	// CredentialID, TapKey and UVKey are the credential at the receiving
	// site.
	CredentialID CredentialID
	TapKey       []byte
	UVKey        []byte
	Introduction []byte
	// AdminEmail is the administrator the token was emailed to; the
	// receiving site imports it only for an administrator with that
	// address.
	AdminEmail string
	FirstName  string
	LastName   string
	// SiteID, SiteName, SiteURL and SiteKey describe the issuing site.
	SiteID    SiteID
	SiteName  string
	SiteURL   string
	SiteKey   []byte
	IssuedAt  time.Time
	ExpiresAt time.Time
}

// SiteFingerprint is the issuing site key's fingerprint.
func (t *TokenV2) SiteFingerprint() string { return siteFingerprint(t.SiteKey) }

// TokenVersionOf returns the version byte of a token's payload, without
// checking anything else, so a reader can pick the decoder.
func TokenVersionOf(s string) (uint8, error) {
	payload, _, err := splitToken(s)
	if err != nil {
		return 0, err
	}
	return payload[0], nil
}

// EncodeTokenV2 signs t with the issuing site's key (filling in SiteKey)
// and returns its text form, the same "postern-credential:" form as
// version 1.
func EncodeTokenV2(t TokenV2, siteKey *ecdsa.PrivateKey) (string, error) {
	return sealToken(labelToken2, siteKey, &t.SiteKey, t.check, t.payload)
}

// sealToken encodes a token of a version after the first: it fills in
// *siteKeyField from siteKey, checks the token, signs its payload under
// label and returns the text form.
func sealToken(label string, siteKey *ecdsa.PrivateKey, siteKeyField *[]byte, check func() error, payload func() []byte) (string, error) {
	if siteKey == nil {
		return "", errors.New("protocol: encode token: no site key")
	}
	pub, err := MarshalPublicKey(&siteKey.PublicKey)
	if err != nil {
		return "", fmt.Errorf("protocol: encode token: %w", err)
	}
	*siteKeyField = pub
	if err := check(); err != nil {
		return "", fmt.Errorf("protocol: encode token: %w", err)
	}
	p := payload()
	d := digest(label, p)
	sig, err := sign(siteKey, d[:])
	if err != nil {
		return "", err
	}
	return TokenPrefix + tokenEncoding.EncodeToString(p) + "." + tokenEncoding.EncodeToString(sig), nil
}

func (t *TokenV2) check() error {
	if _, _, err := parsePair("token", t.TapKey, t.UVKey); err != nil {
		return err
	}
	if _, err := ParsePublicKey(t.SiteKey); err != nil {
		return fmt.Errorf("site key: %w", err)
	}
	if len(t.Introduction) != SecretSize {
		return fmt.Errorf("introduction secret is %d bytes, want %d", len(t.Introduction), SecretSize)
	}
	if t.AdminEmail == "" || !strings.Contains(t.AdminEmail, "@") {
		return errors.New("the administrator's email address is missing")
	}
	return checkTokenTexts(t.FirstName, t.LastName, t.SiteName, t.SiteURL, t.IssuedAt, t.ExpiresAt,
		textField{"administrator email", t.AdminEmail, MaxTokenEmail})
}

func (t *TokenV2) payload() []byte {
	b := make([]byte, 0, tokenV2Fixed+5+len(t.AdminEmail)+len(t.FirstName)+len(t.LastName)+len(t.SiteName)+len(t.SiteURL))
	b = append(b, TokenVersion2)
	b = append(b, t.ID[:]...)
	b = append(b, t.CredentialID[:]...)
	b = append(b, t.TapKey...)
	b = append(b, t.UVKey...)
	b = append(b, t.Introduction...)
	b = append(b, t.SiteID[:]...)
	b = append(b, t.SiteKey...)
	b = binary.BigEndian.AppendUint64(b, uint64(t.IssuedAt.UnixMilli()))
	b = binary.BigEndian.AppendUint64(b, uint64(t.ExpiresAt.UnixMilli()))
	return appendTexts(b, t.AdminEmail, t.FirstName, t.LastName, t.SiteName, t.SiteURL)
}

// DecodeTokenV2 reads a version 2 token's text form, checks its signature
// against the site key it carries and that it has not expired at now,
// refusing with ErrMalformed, ErrBadSignature or ErrExpired (signature
// first). Pasting damage is ignored as by DecodeToken. Binding to the
// administrator and once-only import are the importing site's checks.
func DecodeTokenV2(s string, now time.Time) (*TokenV2, error) {
	payload, sig, err := splitToken(s)
	if err != nil {
		return nil, err
	}
	t, err := parseTokenV2Payload(payload)
	if err != nil {
		return nil, err
	}
	pub, _ := ParsePublicKey(t.SiteKey)
	d := digest(labelToken2, payload)
	if !verify(pub, d[:], sig) {
		return nil, refuse(ErrBadSignature, "credential token from site %q (%s) does not verify with its own site key", t.SiteName, t.SiteID)
	}
	if !now.Before(t.ExpiresAt) {
		return nil, refuse(ErrExpired, "credential token from site %q expired at %s", t.SiteName, t.ExpiresAt.UTC().Format(time.RFC3339))
	}
	return t, nil
}

// splitToken cleans a pasted token and decodes its two parts, refusing
// anything that is not "postern-credential:" payload "." signature.
func splitToken(s string) (payload, sig []byte, err error) {
	if len(s) > maxTokenText {
		return nil, nil, refuse(ErrMalformed, "token text is %d bytes, longer than any token", len(s))
	}
	rest, ok := strings.CutPrefix(cleanPaste(s), TokenPrefix)
	if !ok {
		return nil, nil, refuse(ErrMalformed, "token does not start with %q", TokenPrefix)
	}
	parts := strings.Split(rest, ".")
	if len(parts) != 2 {
		return nil, nil, refuse(ErrMalformed, "token has %d dot-separated parts, want 2", len(parts))
	}
	if payload, err = tokenEncoding.DecodeString(parts[0]); err != nil {
		return nil, nil, refuse(ErrMalformed, "token payload is not base64url: %v", err)
	}
	if sig, err = tokenEncoding.DecodeString(parts[1]); err != nil {
		return nil, nil, refuse(ErrMalformed, "token signature is not base64url: %v", err)
	}
	if len(sig) != SignatureSize {
		return nil, nil, refuse(ErrMalformed, "token signature is %d bytes, want %d", len(sig), SignatureSize)
	}
	if len(payload) == 0 {
		return nil, nil, refuse(ErrMalformed, "token payload is empty")
	}
	return payload, sig, nil
}

func parseTokenV2Payload(b []byte) (*TokenV2, error) {
	if len(b) < tokenV2Fixed+5 {
		return nil, refuse(ErrMalformed, "token payload is %d bytes, want at least %d", len(b), tokenV2Fixed+5)
	}
	if b[0] != TokenVersion2 {
		return nil, refuse(ErrMalformed, "token version %d, this reader reads %d", b[0], TokenVersion2)
	}
	t := &TokenV2{}
	off := 1
	take := func(n int) []byte {
		v := b[off : off+n]
		off += n
		return v
	}
	copy(t.ID[:], take(16))
	copy(t.CredentialID[:], take(16))
	t.TapKey = bytes.Clone(take(PublicKeySize))
	t.UVKey = bytes.Clone(take(PublicKeySize))
	t.Introduction = bytes.Clone(take(SecretSize))
	copy(t.SiteID[:], take(16))
	t.SiteKey = bytes.Clone(take(PublicKeySize))
	t.IssuedAt = time.UnixMilli(int64(binary.BigEndian.Uint64(take(8))))
	t.ExpiresAt = time.UnixMilli(int64(binary.BigEndian.Uint64(take(8))))
	strs, err := readTexts(b[off:], 5)
	if err != nil {
		return nil, err
	}
	t.AdminEmail, t.FirstName, t.LastName, t.SiteName, t.SiteURL = strs[0], strs[1], strs[2], strs[3], strs[4]
	if err := t.check(); err != nil {
		return nil, refuse(ErrMalformed, "token: %v", err)
	}
	return t, nil
}
