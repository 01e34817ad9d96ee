package protocol

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// NonceSize is the key's fresh value in a registration or migration
// request; the site's signed answer covers it, so an answer cannot be
// replayed to another request.
const NonceSize = 16

// RegistrationDigest2 is what both new device keys sign to register at a
// site: SHA-256(label || SHA-256(code) || nonce || tap public || UV public).
func RegistrationDigest2(code string, nonce, tapPub, uvPub []byte) [32]byte {
	codeHash := sha256.Sum256([]byte(code))
	return digest(labelRegister2, codeHash[:], nonce, tapPub, uvPub)
}

// SignRegistration2 is the key's proof of possession at a version 2
// registration: both keys made for this site sign the code, the key's
// nonce and both public keys.
func SignRegistration2(code string, nonce []byte, tap, uv *ecdsa.PrivateKey) (tapSig, uvSig []byte, err error) {
	if len(nonce) != NonceSize {
		return nil, nil, fmt.Errorf("protocol: sign registration: nonce of %d bytes, want %d", len(nonce), NonceSize)
	}
	tapPub, uvPub, err := pairPublics(tap, uv)
	if err != nil {
		return nil, nil, err
	}
	d := RegistrationDigest2(code, nonce, tapPub, uvPub)
	return signBoth(d, tap, uv)
}

// VerifyRegistration2 is the site's check of SignRegistration2. It returns
// the digest, which the site's signed answer covers.
func VerifyRegistration2(code string, nonce, tapPub, uvPub, tapSig, uvSig []byte) ([32]byte, error) {
	if len(nonce) != NonceSize {
		return [32]byte{}, refuse(ErrMalformed, "registration nonce is %d bytes, want %d", len(nonce), NonceSize)
	}
	tap, uv, err := parsePair("registration", tapPub, uvPub)
	if err != nil {
		return [32]byte{}, err
	}
	d := RegistrationDigest2(code, nonce, tapPub, uvPub)
	if !verify(tap, d[:], tapSig) || !verify(uv, d[:], uvSig) {
		return [32]byte{}, refuse(ErrBadSignature, "registration: the new keys' signatures do not verify")
	}
	return d, nil
}

// MigrationDigest is what a version 1 key's old keys and its new ones all
// sign to move the credential to version 2 without a new code:
// SHA-256(label || credential id || nonce || new tap public || new UV
// public).
func MigrationDigest(cred CredentialID, nonce, newTapPub, newUVPub []byte) [32]byte {
	return digest(labelMigrate2, cred[:], nonce, newTapPub, newUVPub)
}

// MigrationProof carries the four signatures of a migration: the old tap
// and user-verification keys (the credential's authority) and the new ones
// (possession of what replaces them).
type MigrationProof struct {
	OldTapSig, OldUVSig []byte
	TapSig, UVSig       []byte
}

// SignMigration signs a migration request with the old keys and the new.
func SignMigration(cred CredentialID, nonce []byte, oldTap, oldUV, tap, uv *ecdsa.PrivateKey) (MigrationProof, error) {
	var p MigrationProof
	if len(nonce) != NonceSize {
		return p, fmt.Errorf("protocol: sign migration: nonce of %d bytes, want %d", len(nonce), NonceSize)
	}
	tapPub, uvPub, err := pairPublics(tap, uv)
	if err != nil {
		return p, err
	}
	d := MigrationDigest(cred, nonce, tapPub, uvPub)
	if p.OldTapSig, p.OldUVSig, err = signBoth(d, oldTap, oldUV); err != nil {
		return p, err
	}
	p.TapSig, p.UVSig, err = signBoth(d, tap, uv)
	return p, err
}

// VerifyMigration is the site's check: the old keys it has on record and
// the new keys both signed the request. It returns the digest the site's
// answer covers.
func VerifyMigration(cred CredentialID, nonce, oldTapPub, oldUVPub, newTapPub, newUVPub []byte, p MigrationProof) ([32]byte, error) {
	if len(nonce) != NonceSize {
		return [32]byte{}, refuse(ErrMalformed, "migration nonce is %d bytes, want %d", len(nonce), NonceSize)
	}
	oldTap, oldUV, err := parsePair("migration old", oldTapPub, oldUVPub)
	if err != nil {
		return [32]byte{}, err
	}
	tap, uv, err := parsePair("migration new", newTapPub, newUVPub)
	if err != nil {
		return [32]byte{}, err
	}
	if bytes.Equal(oldTapPub, newTapPub) || bytes.Equal(oldUVPub, newUVPub) {
		return [32]byte{}, refuse(ErrMalformed, "migration: the new keys must be new")
	}
	d := MigrationDigest(cred, nonce, newTapPub, newUVPub)
	if !verify(oldTap, d[:], p.OldTapSig) || !verify(oldUV, d[:], p.OldUVSig) {
		return [32]byte{}, refuse(ErrBadSignature, "migration of %s: not signed by the credential's keys", cred)
	}
	if !verify(tap, d[:], p.TapSig) || !verify(uv, d[:], p.UVSig) {
		return [32]byte{}, refuse(ErrBadSignature, "migration of %s: not signed by the new keys", cred)
	}
	return d, nil
}

// VerifyMigrationNew checks only the new keys' signatures over a migration
// digest: what a site can still check when a migration it has already
// made is asked for again (the old keys are gone by then).
func VerifyMigrationNew(d [32]byte, newTapPub, newUVPub, tapSig, uvSig []byte) error {
	tap, uv, err := parsePair("migration new", newTapPub, newUVPub)
	if err != nil {
		return err
	}
	if !verify(tap, d[:], tapSig) || !verify(uv, d[:], uvSig) {
		return refuse(ErrBadSignature, "migration: not signed by the new keys")
	}
	return nil
}

// SiteAnswer is a site's signed answer to a registration or migration:
// who the key now is there, and the site key to pin.
type SiteAnswer struct {
	CredentialID CredentialID
	SiteID       SiteID
	SiteKey      []byte // SEC1 uncompressed P-256
	SiteName     string
	SiteURL      string
	FirstName    string
	LastName     string
}

// KeyID is the id of the answer's site key.
func (a SiteAnswer) KeyID() KeyID { return KeyIDOf(a.SiteKey) }

// Fingerprint is the answer's site key fingerprint (see KeyFingerprint),
// for the key to compare with the one in its invitation.
func (a SiteAnswer) Fingerprint() string { return fingerprint(a.SiteKey) }

// payload is the answer's signed encoding: credential id, site id, key id,
// site key, then the four texts with two-byte lengths.
func (a SiteAnswer) payload() []byte {
	id := a.KeyID()
	b := make([]byte, 0, 16+16+KeyIDSize+PublicKeySize+8+len(a.SiteName)+len(a.SiteURL)+len(a.FirstName)+len(a.LastName))
	b = append(b, a.CredentialID[:]...)
	b = append(b, a.SiteID[:]...)
	b = append(b, id[:]...)
	b = append(b, a.SiteKey...)
	for _, s := range []string{a.SiteName, a.SiteURL, a.FirstName, a.LastName} {
		b = appendString16(b, s)
	}
	return b
}

// SignSiteAnswer signs an answer to the request whose digest is request,
// with the site's current key, which it puts in the answer.
func SignSiteAnswer(request [32]byte, a *SiteAnswer, key *ecdsa.PrivateKey) ([]byte, error) {
	pub, err := MarshalPublicKey(&key.PublicKey)
	if err != nil {
		return nil, err
	}
	for _, s := range []string{a.SiteName, a.SiteURL, a.FirstName, a.LastName} {
		if len(s) > 0xFFFF {
			return nil, errors.New("protocol: sign answer: a text field is longer than 65535 bytes")
		}
	}
	a.SiteKey = pub
	d := digest(labelSiteAnswer2, request[:], a.payload())
	return sign(key, d[:])
}

// VerifySiteAnswer checks that the answer to the request whose digest is
// request was signed by the site key it names. Whether that is the right
// site is the fingerprint's business: compare it with the invitation's.
func VerifySiteAnswer(request [32]byte, a SiteAnswer, sig []byte) error {
	pub, err := ParsePublicKey(a.SiteKey)
	if err != nil {
		return fmt.Errorf("answer site key: %w", err)
	}
	d := digest(labelSiteAnswer2, request[:], a.payload())
	if !verify(pub, d[:], sig) {
		return refuse(ErrBadSignature, "the site's answer is not signed by the site key it names")
	}
	return nil
}

// ShareDigest2 is what the key's user-verification key signs to ask its
// home site to share the credential: SHA-256(label || credential id || at
// as unix ms || SHA-256(body)).
func ShareDigest2(cred CredentialID, body []byte, at time.Time) [32]byte {
	bodyHash := sha256.Sum256(body)
	return digest(labelShare2, cred[:], binary.BigEndian.AppendUint64(nil, uint64(at.UnixMilli())), bodyHash[:])
}

// SignShare2 signs a version 2 share request with the user-verification
// key: sending the credential to another site takes the holder's unlock.
func SignShare2(cred CredentialID, body []byte, at time.Time, uv *ecdsa.PrivateKey) ([]byte, error) {
	d := ShareDigest2(cred, body, at)
	return sign(uv, d[:])
}

// VerifyShare2 checks SignShare2 with the credential's user-verification
// key.
func VerifyShare2(cred CredentialID, body []byte, at time.Time, sig []byte, uv *ecdsa.PublicKey) error {
	d := ShareDigest2(cred, body, at)
	if !verify(uv, d[:], sig) {
		return refuse(ErrBadSignature, "share request for credential %s does not verify with its user-verification key", cred)
	}
	return nil
}

func pairPublics(tap, uv *ecdsa.PrivateKey) ([]byte, []byte, error) {
	if tap == nil || uv == nil {
		return nil, nil, errors.New("protocol: both keys are required")
	}
	tapPub, err := MarshalPublicKey(&tap.PublicKey)
	if err != nil {
		return nil, nil, err
	}
	uvPub, err := MarshalPublicKey(&uv.PublicKey)
	if err != nil {
		return nil, nil, err
	}
	return tapPub, uvPub, nil
}

func signBoth(d [32]byte, tap, uv *ecdsa.PrivateKey) ([]byte, []byte, error) {
	tapSig, err := sign(tap, d[:])
	if err != nil {
		return nil, nil, err
	}
	uvSig, err := sign(uv, d[:])
	if err != nil {
		return nil, nil, err
	}
	return tapSig, uvSig, nil
}

func parsePair(what string, tapPub, uvPub []byte) (*ecdsa.PublicKey, *ecdsa.PublicKey, error) {
	tap, err := ParsePublicKey(tapPub)
	if err != nil {
		return nil, nil, fmt.Errorf("%s tap key: %w", what, err)
	}
	uv, err := ParsePublicKey(uvPub)
	if err != nil {
		return nil, nil, fmt.Errorf("%s user-verification key: %w", what, err)
	}
	if bytes.Equal(tapPub, uvPub) {
		return nil, nil, refuse(ErrMalformed, "%s: the tap and user-verification keys are the same key", what)
	}
	return tap, uv, nil
}
