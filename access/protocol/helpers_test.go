package protocol

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"errors"
	"testing"
	"time"
)

// t0 is the fixed "now" of most tests.
var t0 = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// testKey derives a fixed P-256 key from a name, so failures reproduce.
func testKey(tb testing.TB, name string) *ecdsa.PrivateKey {
	tb.Helper()
	d := sha256.Sum256([]byte("postern test key: " + name))
	k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), d[:])
	if err != nil {
		tb.Fatalf("test key %q: %v", name, err)
	}
	return k
}

func pubBytes(tb testing.TB, k *ecdsa.PrivateKey) []byte {
	tb.Helper()
	b, err := MarshalPublicKey(&k.PublicKey)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// fixture is one site with one reader and one credential.
type fixture struct {
	site     *ecdsa.PrivateKey
	siteID   SiteID
	readerID ReaderID
	cred     CredentialID
	tap, uv  *ecdsa.PrivateKey
}

func newFixture(tb testing.TB) fixture {
	tb.Helper()
	return fixture{
		site:     testKey(tb, "site"),
		siteID:   SiteID{0x51, 0x7e, 1},
		readerID: ReaderID{0x4e, 0xad, 2},
		cred:     CredentialID{0xc4, 0xed, 3},
		tap:      testKey(tb, "tap"),
		uv:       testKey(tb, "uv"),
	}
}

// challenge makes a fresh challenge issued at at.
func (f fixture) challenge(tb testing.TB, req Requirements, at time.Time) (*Challenge, *ecdh.PrivateKey) {
	tb.Helper()
	ch, eph, err := NewChallenge(nil, f.site, f.siteID, f.readerID, req, at)
	if err != nil {
		tb.Fatalf("NewChallenge: %v", err)
	}
	return ch, eph
}

// respond answers ch as the fixture's credential, the way the key does
// after receiving the challenge's bytes.
func (f fixture) respond(tb testing.TB, ch *Challenge, uv bool) ([]byte, *Session) {
	tb.Helper()
	parsed, err := ParseChallenge(ch.Marshal())
	if err != nil {
		tb.Fatalf("ParseChallenge: %v", err)
	}
	signer := f.tap
	if uv {
		signer = f.uv
	}
	resp, sess, err := Respond(nil, parsed, f.cred, signer, uv)
	if err != nil {
		tb.Fatalf("Respond: %v", err)
	}
	return resp, sess
}

// keyFor is the reader's rule: the flag picks the key.
func (f fixture) keyFor(o *Opened) *ecdsa.PublicKey {
	if o.UserVerified {
		return &f.uv.PublicKey
	}
	return &f.tap.PublicKey
}

// clock is an injected clock the test moves by hand.
type clock struct{ now time.Time }

func (c *clock) Now() time.Time          { return c.now }
func (c *clock) Advance(d time.Duration) { c.now = c.now.Add(d) }

// flipped returns copies of b, each with one byte changed by one of a few
// masks, labelled by position and mask.
func flipped(b []byte, fn func(pos int, mask byte, m []byte)) {
	for i := range b {
		for _, mask := range []byte{0x01, 0x80, 0xFF} {
			m := bytes.Clone(b)
			m[i] ^= mask
			fn(i, mask, m)
		}
	}
}

// wantErr fails unless err wraps want.
func wantErr(tb testing.TB, err, want error) {
	tb.Helper()
	if !errors.Is(err, want) {
		tb.Fatalf("got %v, want %v", err, want)
	}
}
