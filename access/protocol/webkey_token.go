package protocol

import (
	"bytes"
	"crypto/ecdsa"
	"encoding/binary"
	"fmt"
	"strings"
	"time"
)

// TokenVersionWebKey is the credential token a web key's home site sends:
// a web key lives in its site's origin (its passkey belongs to that host
// name, its tap key to that page's storage), so it cannot carry keys to
// another site. The token carries no keys: it introduces the holder, and
// the receiving site invites them to register a web key of its own.
const TokenVersionWebKey = 3

// tokenWebKeyFixed is the payload's fixed part: version, token id, site
// id, site key, issued-at and expires-at.
const tokenWebKeyFixed = 1 + 16 + 16 + PublicKeySize + 8 + 8

// labelTokenWebKey separates the web key token's signature from every
// other signature a site key makes.
const labelTokenWebKey = "postern-token-webkey-v1"

// WebKeyToken is a holder of a web key as their home site vouches for them
// to another site.
type WebKeyToken struct {
	// ID names this token, as TokenV2.ID does: imported once, listed and
	// withdrawn by the home site.
	ID [16]byte
	// AdminEmail is the administrator the token was emailed to; the
	// receiving site imports it only for an administrator with that
	// address.
	AdminEmail string
	// HolderEmail is where the receiving site sends its invitation: the
	// holder typed it on the key page.
	HolderEmail string
	FirstName   string
	LastName    string
	// SiteID, SiteName, SiteURL and SiteKey describe the issuing site.
	SiteID    SiteID
	SiteName  string
	SiteURL   string
	SiteKey   []byte
	IssuedAt  time.Time
	ExpiresAt time.Time
}

// SiteFingerprint is the issuing site key's fingerprint.
func (t *WebKeyToken) SiteFingerprint() string { return siteFingerprint(t.SiteKey) }

// EncodeWebKeyToken signs t with the issuing site's key (filling in
// SiteKey) and returns its text form, the same "postern-credential:" form
// as the other versions.
func EncodeWebKeyToken(t WebKeyToken, siteKey *ecdsa.PrivateKey) (string, error) {
	return sealToken(labelTokenWebKey, siteKey, &t.SiteKey, t.check, t.payload)
}

func (t *WebKeyToken) check() error {
	if _, err := ParsePublicKey(t.SiteKey); err != nil {
		return fmt.Errorf("site key: %w", err)
	}
	for _, e := range []struct{ who, addr string }{{"administrator", t.AdminEmail}, {"holder", t.HolderEmail}} {
		if e.addr == "" || !strings.Contains(e.addr, "@") {
			return fmt.Errorf("the %s's email address is missing", e.who)
		}
	}
	return checkTokenTexts(t.FirstName, t.LastName, t.SiteName, t.SiteURL, t.IssuedAt, t.ExpiresAt,
		textField{"administrator email", t.AdminEmail, MaxTokenEmail}, textField{"holder email", t.HolderEmail, MaxTokenEmail})
}

func (t *WebKeyToken) payload() []byte {
	b := make([]byte, 0, tokenWebKeyFixed+6+len(t.AdminEmail)+len(t.HolderEmail)+len(t.FirstName)+len(t.LastName)+len(t.SiteName)+len(t.SiteURL))
	b = append(b, TokenVersionWebKey)
	b = append(b, t.ID[:]...)
	b = append(b, t.SiteID[:]...)
	b = append(b, t.SiteKey...)
	b = binary.BigEndian.AppendUint64(b, uint64(t.IssuedAt.UnixMilli()))
	b = binary.BigEndian.AppendUint64(b, uint64(t.ExpiresAt.UnixMilli()))
	return appendTexts(b, t.AdminEmail, t.HolderEmail, t.FirstName, t.LastName, t.SiteName, t.SiteURL)
}

// DecodeWebKeyToken reads a web key token's text form, checks its
// signature against the site key it carries and that it has not expired
// at now, refusing as DecodeTokenV2 does. Binding to the administrator and
// once-only import are the importing site's checks.
func DecodeWebKeyToken(s string, now time.Time) (*WebKeyToken, error) {
	payload, sig, err := splitToken(s)
	if err != nil {
		return nil, err
	}
	if len(payload) < tokenWebKeyFixed+6 || payload[0] != TokenVersionWebKey {
		return nil, refuse(ErrMalformed, "web key token payload of %d bytes, version %d", len(payload), payload[0])
	}
	t := &WebKeyToken{}
	off := 1
	take := func(n int) []byte {
		v := payload[off : off+n]
		off += n
		return v
	}
	copy(t.ID[:], take(16))
	copy(t.SiteID[:], take(16))
	t.SiteKey = bytes.Clone(take(PublicKeySize))
	t.IssuedAt = time.UnixMilli(int64(binary.BigEndian.Uint64(take(8))))
	t.ExpiresAt = time.UnixMilli(int64(binary.BigEndian.Uint64(take(8))))
	strs, err := readTexts(payload[off:], 6)
	if err != nil {
		return nil, err
	}
	t.AdminEmail, t.HolderEmail, t.FirstName, t.LastName, t.SiteName, t.SiteURL = strs[0], strs[1], strs[2], strs[3], strs[4], strs[5]
	if err := t.check(); err != nil {
		return nil, refuse(ErrMalformed, "token: %v", err)
	}
	pub, _ := ParsePublicKey(t.SiteKey)
	d := digest(labelTokenWebKey, payload)
	if !verify(pub, d[:], sig) {
		return nil, refuse(ErrBadSignature, "credential token from site %q (%s) does not verify with its own site key", t.SiteName, t.SiteID)
	}
	if !now.Before(t.ExpiresAt) {
		return nil, refuse(ErrExpired, "credential token from site %q expired at %s", t.SiteName, t.ExpiresAt.UTC().Format(time.RFC3339))
	}
	return t, nil
}
