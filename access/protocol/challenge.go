package protocol

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"io"
	"time"
)

// Message type bytes: the first byte of every message. They double as a
// magic number, so a stray write on the characteristic is refused at once.
const (
	typeChallenge byte = 0xA1
	typeResponse  byte = 0xA2
	typeResult    byte = 0xA3
)

// Domain-separation labels. Each signature and key derivation hashes its own
// label first, so a signature made for one purpose (a token, a challenge)
// can never be replayed as another, even under the same key.
const (
	labelChallenge = "postern-challenge-v1"
	labelResponse  = "postern-response-v1"
	labelSession   = "postern-session-v1"
	labelRegister  = "postern-register-v1"
	labelShare     = "postern-share-v1"
	labelToken     = "postern-token-v1"
)

// challengeFixed is a challenge's size without its version list: type,
// version count, site id, reader id, nonce, requirements, reader key,
// timestamp and signature.
const challengeFixed = 1 + 1 + 16 + 16 + 16 + 1 + PublicKeySize + 8 + SignatureSize

// challengeSize is the exact size of a challenge listing n versions.
func challengeSize(n int) int { return challengeFixed + n }

// Challenge is the reader's opening message. Everything in it is signed by
// the site key, including the version list (so a downgrade is detected) and
// the reader's ephemeral key (so only this reader can read the response).
type Challenge struct {
	// Versions are the protocol versions the reader speaks, highest first.
	Versions []Version
	// SiteID and ReaderID say who is asking.
	SiteID   SiteID
	ReaderID ReaderID
	// Nonce is fresh from the reader's randomness for every challenge.
	Nonce Nonce
	// Requirements tell the key what this access point will insist on.
	Requirements Requirements
	// ReaderKey is the reader's ephemeral ECDH key for this challenge only.
	ReaderKey *ecdh.PublicKey
	// IssuedAt is the reader's clock at issue, with millisecond precision.
	IssuedAt time.Time
	// Signature is the site's r||s signature over the bytes before it.
	Signature [SignatureSize]byte
}

// NewChallenge makes a signed challenge and the ephemeral ECDH key the reader
// keeps to open the response. It reads the nonce (16 bytes) and then the
// ephemeral scalar (32 bytes, more only on the rare rejection) from rnd; nil
// means crypto/rand. Production callers pass nil; tests pass fixed bytes.
func NewChallenge(rnd io.Reader, siteKey *ecdsa.PrivateKey, siteID SiteID, readerID ReaderID, req Requirements, now time.Time) (*Challenge, *ecdh.PrivateKey, error) {
	return newChallenge(rnd, siteKey, siteID, readerID, req, now, SupportedVersions())
}

// newChallenge is NewChallenge with the reader's version list as a
// parameter, so tests can play a reader from a future release.
func newChallenge(rnd io.Reader, siteKey *ecdsa.PrivateKey, siteID SiteID, readerID ReaderID, req Requirements, now time.Time, versions []Version) (*Challenge, *ecdh.PrivateKey, error) {
	if err := checkVersions(versions); err != nil {
		return nil, nil, fmt.Errorf("protocol: new challenge: %v", err)
	}
	if req&^knownRequirements != 0 {
		return nil, nil, fmt.Errorf("protocol: new challenge: requirements 0x%02x set bits version 1 does not define", uint8(req))
	}
	ch := &Challenge{
		Versions:     append([]Version(nil), versions...),
		SiteID:       siteID,
		ReaderID:     readerID,
		Requirements: req,
		IssuedAt:     time.UnixMilli(now.UnixMilli()),
	}
	if err := readRand(rnd, ch.Nonce[:]); err != nil {
		return nil, nil, err
	}
	eph, err := ephemeral(rnd)
	if err != nil {
		return nil, nil, err
	}
	ch.ReaderKey = eph.PublicKey()
	if err := ch.sign(siteKey); err != nil {
		return nil, nil, err
	}
	return ch, eph, nil
}

// sign fills in the site signature over the challenge body.
func (c *Challenge) sign(siteKey *ecdsa.PrivateKey) error {
	d := challengeDigest(c.body())
	sig, err := sign(siteKey, d[:])
	if err != nil {
		return err
	}
	copy(c.Signature[:], sig)
	return nil
}

// challengeDigest is what the site key signs: SHA-256(label || body).
func challengeDigest(body []byte) [32]byte {
	h := sha256.New()
	h.Write([]byte(labelChallenge))
	h.Write(body)
	var d [32]byte
	h.Sum(d[:0])
	return d
}

// body encodes everything before the signature.
func (c *Challenge) body() []byte {
	b := make([]byte, 0, challengeSize(len(c.Versions)))
	b = append(b, typeChallenge, byte(len(c.Versions)))
	for _, v := range c.Versions {
		b = append(b, byte(v))
	}
	b = append(b, c.SiteID[:]...)
	b = append(b, c.ReaderID[:]...)
	b = append(b, c.Nonce[:]...)
	b = append(b, byte(c.Requirements))
	if c.ReaderKey != nil {
		b = append(b, c.ReaderKey.Bytes()...)
	} else {
		// Encode a missing key as zeros (which no parser accepts) rather
		// than panic: Marshal of a half-built challenge is a caller bug,
		// and the peer's refusal names it.
		b = append(b, make([]byte, PublicKeySize)...)
	}
	return binary.BigEndian.AppendUint64(b, uint64(c.IssuedAt.UnixMilli()))
}

// Marshal encodes the challenge for the wire. Parsing is strict, so for a
// parsed challenge Marshal returns exactly the bytes that were parsed, which
// both sides hash into the transcript.
func (c *Challenge) Marshal() []byte {
	return append(c.body(), c.Signature[:]...)
}

// ParseChallenge decodes a challenge without checking its signature (see
// Verify and VerifyChallenge). It refuses anything but the one canonical
// encoding, with ErrMalformed.
func ParseChallenge(b []byte) (*Challenge, error) {
	if len(b) < 2 {
		return nil, refuse(ErrMalformed, "challenge is %d bytes, too short for a header", len(b))
	}
	if b[0] != typeChallenge {
		return nil, refuse(ErrMalformed, "message type 0x%02x is not a challenge (0x%02x)", b[0], typeChallenge)
	}
	n := int(b[1])
	if n < 1 || n > MaxVersions {
		return nil, refuse(ErrMalformed, "challenge lists %d versions, want 1 to %d", n, MaxVersions)
	}
	if len(b) != challengeSize(n) {
		return nil, refuse(ErrMalformed, "challenge is %d bytes, want %d for %d versions", len(b), challengeSize(n), n)
	}
	c := &Challenge{Versions: make([]Version, n)}
	off := 2
	for i := range c.Versions {
		c.Versions[i] = Version(b[off+i])
	}
	off += n
	if err := checkVersions(c.Versions); err != nil {
		return nil, refuse(ErrMalformed, "challenge: %v", err)
	}
	off += copy(c.SiteID[:], b[off:])
	off += copy(c.ReaderID[:], b[off:])
	off += copy(c.Nonce[:], b[off:])
	c.Requirements = Requirements(b[off])
	off++
	if c.Requirements&^knownRequirements != 0 {
		return nil, refuse(ErrMalformed, "challenge requirements 0x%02x set bits version 1 does not define", uint8(c.Requirements))
	}
	key, err := ecdh.P256().NewPublicKey(b[off : off+PublicKeySize])
	if err != nil {
		return nil, refuse(ErrMalformed, "challenge reader key is not a P-256 point: %v", err)
	}
	c.ReaderKey = key
	off += PublicKeySize
	c.IssuedAt = time.UnixMilli(int64(binary.BigEndian.Uint64(b[off:])))
	off += 8
	copy(c.Signature[:], b[off:])
	return c, nil
}

// Verify checks the site's signature. A key calls it (or VerifyChallenge)
// before answering, so a forged or altered challenge, including one whose
// version list was cut down, is refused with ErrBadSignature.
func (c *Challenge) Verify(sitePub *ecdsa.PublicKey) error {
	d := challengeDigest(c.body())
	if !verify(sitePub, d[:], c.Signature[:]) {
		return refuse(ErrBadSignature, "challenge from site %s, reader %s: site signature does not verify", c.SiteID, c.ReaderID)
	}
	return nil
}

// VerifyChallenge is the key's decision to answer a challenge. A site in
// known (the home site from registration, and any other the key was given)
// must have signed it. A site not in known is answered only when strict is
// false; a strict key refuses it with ErrUnknownSite. Strict is the caller's
// choice: it keeps the credential id and a signature away from readers the
// key cannot authenticate, at the price of not opening sites the credential
// was shared to unless their keys were added to known.
func VerifyChallenge(ch *Challenge, known map[SiteID]*ecdsa.PublicKey, strict bool) error {
	pub, ok := known[ch.SiteID]
	if !ok {
		if strict {
			return refuse(ErrUnknownSite, "site %s is not known to this key, and the key is strict", ch.SiteID)
		}
		return nil
	}
	return ch.Verify(pub)
}
