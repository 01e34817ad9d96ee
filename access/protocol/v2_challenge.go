package protocol

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"
)

// What a version 2 challenge carries besides its fixed fields: bits of its
// contents byte. The site key comes with an introduction or a rollover,
// and only then.
const (
	carriesSiteKey  = 1 << 0
	carriesIntro    = 1 << 1
	carriesRollover = 1 << 2
	knownContents   = carriesSiteKey | carriesIntro | carriesRollover
)

// rolloverSize is a rollover certificate on the air: the previous key's
// id, the end of the overlap and the previous key's signature.
const rolloverSize = KeyIDSize + 8 + SignatureSize

// challengeV2Fixed is a version 2 challenge's size without its version
// list and optional parts: type, chosen version, count, site id, key id,
// reader id, requirements, unlock window, contents, reader key, signature.
const challengeV2Fixed = 3 + 16 + KeyIDSize + 16 + 1 + 1 + 1 + PublicKeySize + SignatureSize

// MaxUnlockWindow is the longest unlock window a challenge can state.
const MaxUnlockWindow = 255 * time.Second

// SiteSigner is the site's signing identity as a reader uses it.
type SiteSigner struct {
	ID  SiteID
	Key *ecdsa.PrivateKey
	// Rollover, during an overlap after the site key was rolled, is the
	// previous key's certificate of Key; challenges carry it so keys that
	// pinned the previous key learn this one.
	Rollover *Rollover
}

// Rollover is a site's previous key vouching for its new one until
// NotAfter, the end of the overlap.
type Rollover struct {
	OldKeyID  KeyID
	NotAfter  time.Time
	Signature [SignatureSize]byte
}

// rolloverDigest is what the previous key signs.
func rolloverDigest(site SiteID, old, new KeyID, newPub []byte, notAfter time.Time) [32]byte {
	return digest(labelRollover2, site[:], old[:], new[:], newPub, binary.BigEndian.AppendUint64(nil, uint64(notAfter.UnixMilli())))
}

// CertifyRollover makes the previous site key's certificate of the new
// one, valid until notAfter (millisecond precision).
func CertifyRollover(site SiteID, old *ecdsa.PrivateKey, newPub *ecdsa.PublicKey, notAfter time.Time) (Rollover, error) {
	oldPub, err := MarshalPublicKey(&old.PublicKey)
	if err != nil {
		return Rollover{}, err
	}
	pub, err := MarshalPublicKey(newPub)
	if err != nil {
		return Rollover{}, err
	}
	r := Rollover{OldKeyID: KeyIDOf(oldPub), NotAfter: time.UnixMilli(notAfter.UnixMilli())}
	d := rolloverDigest(site, r.OldKeyID, KeyIDOf(pub), pub, r.NotAfter)
	sig, err := sign(old, d[:])
	if err != nil {
		return Rollover{}, err
	}
	copy(r.Signature[:], sig)
	return r, nil
}

// ChallengeParams are what an access point puts in a challenge.
type ChallengeParams struct {
	Site     SiteSigner
	ReaderID ReaderID
	// Requirements and UnlockWindow: with RequireUnlock the key must answer
	// with a user-verification signature within UnlockWindow (rounded up
	// to whole seconds, 1 to 255) of the challenge.
	Requirements Requirements
	UnlockWindow time.Duration
	// Introduction is the secret of an imported share whose tag the hello
	// carried: the challenge proves the site holds it, and carries the
	// site key for the key to pin.
	Introduction []byte
	// Versions is what the reader speaks; nil means HelloVersions.
	Versions []Version
}

// ChallengeV2 is the site's signed answer to a hello. Its signature covers
// the hello, so it is good for that hello's key only.
type ChallengeV2 struct {
	Version      Version   // chosen by the reader
	Versions     []Version // the reader's own list
	SiteID       SiteID
	KeyID        KeyID
	ReaderID     ReaderID
	Requirements Requirements
	UnlockWindow time.Duration
	ReaderKey    *ecdh.PublicKey
	// SiteKey is the signing key itself, present with an introduction or
	// a rollover (a key that pinned the site has it already).
	SiteKey    []byte
	IntroProof *[TagSize]byte
	Rollover   *Rollover
	Signature  [SignatureSize]byte

	raw []byte
}

// ReaderExchange is the reader's side of one version 2 exchange, started
// from the hello it read.
type ReaderExchange struct {
	hello     *Hello
	helloHash [32]byte
	challenge []byte
	eph       *ecdh.PrivateKey
	version   Version
}

// NewReaderExchange starts the reader's side from a parsed hello.
func NewReaderExchange(h *Hello) *ReaderExchange {
	return &ReaderExchange{hello: h, helloHash: sha256.Sum256(h.raw)}
}

// Hello is the hello this exchange answers.
func (x *ReaderExchange) Hello() *Hello { return x.hello }

// Challenge makes the signed challenge for the hello. It picks the highest
// version both sides speak (ErrUnsupportedVersion when there is none) and
// reads the reader's ephemeral scalar from rnd (nil means crypto/rand).
func (x *ReaderExchange) Challenge(rnd io.Reader, p ChallengeParams) ([]byte, error) {
	if x.challenge != nil {
		return nil, errors.New("protocol: challenge: this exchange already sent one")
	}
	versions := p.Versions
	if versions == nil {
		versions = HelloVersions()
	}
	if err := checkVersions(versions); err != nil {
		return nil, fmt.Errorf("protocol: challenge: %v", err)
	}
	v, err := chooseVersion(x.hello.Versions, versions)
	if err != nil {
		return nil, err
	}
	if p.Requirements&^knownRequirements != 0 {
		return nil, fmt.Errorf("protocol: challenge: requirements 0x%02x set undefined bits", uint8(p.Requirements))
	}
	if p.Site.Key == nil {
		return nil, errors.New("protocol: challenge: no site key")
	}
	sitePub, err := MarshalPublicKey(&p.Site.Key.PublicKey)
	if err != nil {
		return nil, err
	}
	var window byte
	if p.Requirements.UnlockRequired() {
		secs := (p.UnlockWindow + time.Second - 1) / time.Second
		if secs < 1 || secs > 255 {
			return nil, fmt.Errorf("protocol: challenge: unlock window %v, want 1 to 255 seconds", p.UnlockWindow)
		}
		window = byte(secs)
	}
	eph, err := ephemeral(rnd)
	if err != nil {
		return nil, err
	}
	var contents byte
	if p.Introduction != nil {
		if len(p.Introduction) != SecretSize {
			return nil, errors.New("protocol: challenge: an introduction secret is 32 bytes")
		}
		contents |= carriesSiteKey | carriesIntro
	}
	if p.Site.Rollover != nil {
		contents |= carriesSiteKey | carriesRollover
	}
	b := make([]byte, 0, challengeV2Fixed+len(versions)+PublicKeySize+TagSize+rolloverSize)
	b = append(b, typeChallengeV2, byte(v), byte(len(versions)))
	for _, rv := range versions {
		b = append(b, byte(rv))
	}
	keyID := KeyIDOf(sitePub)
	b = append(b, p.Site.ID[:]...)
	b = append(b, keyID[:]...)
	b = append(b, p.ReaderID[:]...)
	b = append(b, byte(p.Requirements), window, contents)
	b = append(b, eph.PublicKey().Bytes()...)
	if contents&carriesSiteKey != 0 {
		b = append(b, sitePub...)
	}
	if contents&carriesIntro != 0 {
		proof := introProof(p.Introduction, x.helloHash, p.Site.ID, sitePub)
		b = append(b, proof[:]...)
	}
	if r := p.Site.Rollover; r != nil {
		b = append(b, r.OldKeyID[:]...)
		b = binary.BigEndian.AppendUint64(b, uint64(r.NotAfter.UnixMilli()))
		b = append(b, r.Signature[:]...)
	}
	d := challengeDigest2(x.helloHash, b)
	sig, err := sign(p.Site.Key, d[:])
	if err != nil {
		return nil, err
	}
	b = append(b, sig...)
	x.challenge, x.eph, x.version = b, eph, v
	return bytes.Clone(b), nil
}

// introProof is the site's proof that it holds a share's introduction
// secret, bound to this hello and to the site key it asks the key to pin.
func introProof(secret []byte, helloHash [32]byte, site SiteID, sitePub []byte) [TagSize]byte {
	return tag(secret, labelIntroSite2, helloHash[:], site[:], sitePub)
}

// challengeDigest2 is what the site key signs: SHA-256(label ||
// SHA-256(hello) || challenge body).
func challengeDigest2(helloHash [32]byte, body []byte) [32]byte {
	return digest(labelChallenge2, helloHash[:], body)
}

// ParseChallengeV2 reads a version 2 challenge strictly, without checking
// its signature (see KeyHello.ReadChallenge). It refuses anything but the
// one canonical encoding with ErrMalformed.
func ParseChallengeV2(b []byte) (*ChallengeV2, error) {
	if len(b) < 3 {
		return nil, refuse(ErrMalformed, "challenge is %d bytes, too short for a header", len(b))
	}
	if b[0] != typeChallengeV2 {
		return nil, refuse(ErrMalformed, "message type 0x%02x is not a version 2 challenge (0x%02x)", b[0], typeChallengeV2)
	}
	m := int(b[2])
	if m < 1 || m > MaxVersions {
		return nil, refuse(ErrMalformed, "challenge lists %d versions, want 1 to %d", m, MaxVersions)
	}
	if len(b) < challengeV2Fixed+m {
		return nil, refuse(ErrMalformed, "challenge is %d bytes, want at least %d", len(b), challengeV2Fixed+m)
	}
	c := &ChallengeV2{Version: Version(b[1]), Versions: make([]Version, m), raw: bytes.Clone(b)}
	for i := range c.Versions {
		c.Versions[i] = Version(b[3+i])
	}
	if err := checkVersions(c.Versions); err != nil {
		return nil, refuse(ErrMalformed, "challenge: %v", err)
	}
	if !containsVersion(c.Versions, c.Version) {
		return nil, refuse(ErrMalformed, "challenge chose version %d, not in its own list %s", c.Version, versionList(c.Versions))
	}
	off := 3 + m
	off += copy(c.SiteID[:], b[off:])
	off += copy(c.KeyID[:], b[off:])
	off += copy(c.ReaderID[:], b[off:])
	c.Requirements = Requirements(b[off])
	window, contents := b[off+1], b[off+2]
	off += 3
	if c.Requirements&^knownRequirements != 0 {
		return nil, refuse(ErrMalformed, "challenge requirements 0x%02x set undefined bits", uint8(c.Requirements))
	}
	if (window != 0) != c.Requirements.UnlockRequired() {
		return nil, refuse(ErrMalformed, "challenge unlock window %ds does not match its requirements 0x%02x", window, uint8(c.Requirements))
	}
	c.UnlockWindow = time.Duration(window) * time.Second
	if contents&^knownContents != 0 {
		return nil, refuse(ErrMalformed, "challenge contents 0x%02x set undefined bits", contents)
	}
	if (contents&carriesSiteKey != 0) != (contents&(carriesIntro|carriesRollover) != 0) {
		return nil, refuse(ErrMalformed, "challenge contents 0x%02x: the site key comes with an introduction or a rollover, and only then", contents)
	}
	want := challengeV2Fixed + m
	if contents&carriesSiteKey != 0 {
		want += PublicKeySize
	}
	if contents&carriesIntro != 0 {
		want += TagSize
	}
	if contents&carriesRollover != 0 {
		want += rolloverSize
	}
	if len(b) != want {
		return nil, refuse(ErrMalformed, "challenge is %d bytes, want %d for contents 0x%02x", len(b), want, contents)
	}
	key, err := ecdh.P256().NewPublicKey(b[off : off+PublicKeySize])
	if err != nil {
		return nil, refuse(ErrMalformed, "challenge reader key is not a P-256 point: %v", err)
	}
	c.ReaderKey = key
	off += PublicKeySize
	if contents&carriesSiteKey != 0 {
		c.SiteKey = bytes.Clone(b[off : off+PublicKeySize])
		off += PublicKeySize
		if _, err := ParsePublicKey(c.SiteKey); err != nil {
			return nil, fmt.Errorf("challenge site key: %w", err)
		}
		if KeyIDOf(c.SiteKey) != c.KeyID {
			return nil, refuse(ErrMalformed, "challenge site key has id %s, the challenge names %s", KeyIDOf(c.SiteKey), c.KeyID)
		}
	}
	if contents&carriesIntro != 0 {
		var p [TagSize]byte
		off += copy(p[:], b[off:])
		c.IntroProof = &p
	}
	if contents&carriesRollover != 0 {
		r := &Rollover{}
		off += copy(r.OldKeyID[:], b[off:])
		r.NotAfter = time.UnixMilli(int64(binary.BigEndian.Uint64(b[off:])))
		off += 8
		off += copy(r.Signature[:], b[off:])
		if r.OldKeyID == c.KeyID {
			return nil, refuse(ErrMalformed, "challenge rollover certifies key %s by itself", c.KeyID)
		}
		c.Rollover = r
	}
	copy(c.Signature[:], b[off:])
	return c, nil
}

// Bytes returns the challenge as received.
func (c *ChallengeV2) Bytes() []byte { return bytes.Clone(c.raw) }

// SitePin is a site key a key trusts: learned at registration, from an
// introduction, or from a rollover certificate signed by a pinned key.
type SitePin struct {
	Site  SiteID
	KeyID KeyID
	Key   *ecdsa.PublicKey
}

// Trust is how a key came to trust a challenge's site.
type Trust struct {
	// Pin is the site key the challenge verified with.
	Pin SitePin
	// Learned is set when Pin is new to the key: a rollover or an
	// introduction taught it, and the key should store it in place of
	// what it had for the site.
	Learned bool
	// Introduced is set when the site proved it imported the share the
	// hello offered: that share now belongs to this site.
	Introduced bool
}

// ReadChallenge is the key's decision to trust a challenge. The signature
// must be the site's over this key's own hello, so a recorded challenge
// (made for another hello) is refused with ErrBadSignature. The site must
// be pinned, at the key id the challenge names or at the previous key of a
// rollover certificate the pinned key signed and whose overlap has not
// ended at now; or, for a site not pinned, it must prove it holds the
// introduction secret the hello offered. Otherwise the key refuses with
// ErrUnknownSite, having shown nothing that identifies it.
func (k *KeyHello) ReadChallenge(raw []byte, pins map[SiteID]SitePin, now time.Time) (*ChallengeV2, Trust, error) {
	c, err := ParseChallengeV2(raw)
	if err != nil {
		return nil, Trust{}, err
	}
	own := HelloVersions()
	if want, ok := highestCommon(own, c.Versions); !ok || c.Version != want {
		return nil, Trust{}, refuse(ErrDowngrade, "reader chose version %d, but it lists %s and the key %s", c.Version, versionList(c.Versions), versionList(own))
	}
	helloHash := sha256.Sum256(k.raw)
	var t Trust
	pin, pinned := pins[c.SiteID]
	switch {
	case pinned && pin.KeyID == c.KeyID:
		t.Pin = pin
	case pinned && c.Rollover != nil && c.Rollover.OldKeyID == pin.KeyID:
		d := rolloverDigest(c.SiteID, pin.KeyID, c.KeyID, c.SiteKey, c.Rollover.NotAfter)
		if !verify(pin.Key, d[:], c.Rollover.Signature[:]) {
			return nil, Trust{}, refuse(ErrBadSignature, "site %s: the rollover to key %s is not signed by the pinned key %s", c.SiteID, c.KeyID, pin.KeyID)
		}
		if now.After(c.Rollover.NotAfter) {
			return nil, Trust{}, refuse(ErrUnknownSite, "site %s rolled its key to %s and the overlap ended %s: this key must be registered again", c.SiteID, c.KeyID, c.Rollover.NotAfter.UTC().Format(time.RFC3339))
		}
		pub, _ := ParsePublicKey(c.SiteKey)
		t.Pin, t.Learned = SitePin{Site: c.SiteID, KeyID: c.KeyID, Key: pub}, true
	case !pinned && c.IntroProof != nil && k.intro != nil:
		want := introProof(k.intro, helloHash, c.SiteID, c.SiteKey)
		if !hmac.Equal(want[:], c.IntroProof[:]) {
			return nil, Trust{}, refuse(ErrUnknownSite, "site %s does not prove it holds the share this key offered", c.SiteID)
		}
		pub, _ := ParsePublicKey(c.SiteKey)
		t.Pin, t.Learned, t.Introduced = SitePin{Site: c.SiteID, KeyID: c.KeyID, Key: pub}, true, true
	case pinned:
		return nil, Trust{}, refuse(ErrUnknownSite, "site %s signs with key %s, this key pinned %s and no rollover links them", c.SiteID, c.KeyID, pin.KeyID)
	default:
		return nil, Trust{}, refuse(ErrUnknownSite, "site %s is not pinned by this key", c.SiteID)
	}
	d := challengeDigest2(helloHash, raw[:len(raw)-SignatureSize])
	if !verify(t.Pin.Key, d[:], c.Signature[:]) {
		return nil, Trust{}, refuse(ErrBadSignature, "challenge from site %s is not signed by key %s over this key's hello", c.SiteID, c.KeyID)
	}
	return c, t, nil
}
