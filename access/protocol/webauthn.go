package protocol

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"time"
)

// A web key's user-verification key is a passkey: the browser signs with
// it only as a WebAuthn assertion (over the authenticator data and the
// hash of the client data), never over a digest of ours. Version 2 binds
// one to the exchange by its challenge: the key sets flags bits 0 and 1,
// signs the response with its tap key, asks the passkey for an assertion
// whose challenge is D_resp, and sends that assertion as the next message.
// The reader then knows the phone's own hardware verified the holder for
// this transcript and no other (docs/protocol.md, "Passkey assertion").

// typeAssertion is the message that carries a passkey's assertion.
const typeAssertion byte = 0xB5

// Authenticator data flags the reader checks (WebAuthn §6.1).
const (
	authUserPresent  = 0x01
	authUserVerified = 0x04
	authDataMin      = 37 // rpIdHash, flags, signCount
)

// Assertion is a passkey's WebAuthn assertion as the browser returns it.
type Assertion struct {
	AuthenticatorData []byte
	ClientDataJSON    []byte
	Signature         []byte // ASN.1 DER, as WebAuthn gives it
}

// Marshal lays the assertion out as its message: type 0xB5, then the
// authenticator data and the client data each with a two-byte length, then
// the signature with a one-byte length.
func (a Assertion) Marshal() []byte {
	b := []byte{typeAssertion}
	b = binary.BigEndian.AppendUint16(b, uint16(len(a.AuthenticatorData)))
	b = append(b, a.AuthenticatorData...)
	b = binary.BigEndian.AppendUint16(b, uint16(len(a.ClientDataJSON)))
	b = append(b, a.ClientDataJSON...)
	b = append(b, byte(len(a.Signature)))
	return append(b, a.Signature...)
}

// ParseAssertion reads an assertion message strictly: every length must
// account for the bytes exactly.
func ParseAssertion(b []byte) (Assertion, error) {
	var a Assertion
	if len(b) < 1 || b[0] != typeAssertion {
		return a, refuse(ErrMalformed, "not a passkey assertion (%d bytes, type 0x%02x)", len(b), first(b))
	}
	rest := b[1:]
	field := func(size int) ([]byte, bool) {
		if len(rest) < size {
			return nil, false
		}
		var n int
		if size == 2 {
			n = int(binary.BigEndian.Uint16(rest))
		} else {
			n = int(rest[0])
		}
		if n == 0 || len(rest) < size+n {
			return nil, false
		}
		f := bytes.Clone(rest[size : size+n])
		rest = rest[size+n:]
		return f, true
	}
	var ok1, ok2, ok3 bool
	a.AuthenticatorData, ok1 = field(2)
	a.ClientDataJSON, ok2 = field(2)
	a.Signature, ok3 = field(1)
	if !ok1 || !ok2 || !ok3 || len(rest) != 0 || len(a.AuthenticatorData) < authDataMin {
		return Assertion{}, refuse(ErrMalformed, "passkey assertion of %d bytes does not have its layout", len(b))
	}
	return a, nil
}

// RelyingParty is who the passkeys were made for: the appliance's host
// name (the WebAuthn RP ID) and the origins its key page is served from.
type RelyingParty struct {
	ID      string
	Origins []string
}

// RelyingPartyOf returns the relying party of a site served at publicURL:
// its host name and its origin. ok is false without a usable URL (no
// host, or a scheme other than http or https).
func RelyingPartyOf(publicURL string) (rp RelyingParty, ok bool) {
	u, err := url.Parse(publicURL)
	if err != nil || u.Hostname() == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return RelyingParty{}, false
	}
	return RelyingParty{ID: u.Hostname(), Origins: []string{u.Scheme + "://" + u.Host}}, true
}

// AssertionChallenge is the WebAuthn challenge that binds a passkey's
// assertion to this exchange: the response's transcript digest.
func (o *Opened2) AssertionChallenge() []byte { return bytes.Clone(o.digest[:]) }

// VerifyAssertion checks a passkey's assertion for this response: made for
// rp, at one of its origins, over this transcript's digest, and signed by
// the credential's passkey uv. It reports whether the authenticator
// verified the user (biometric or passcode); an assertion without that
// flag is genuine but proves only presence, and the decision treats it as
// an unverified answer.
func (o *Opened2) VerifyAssertion(uv *ecdsa.PublicKey, a Assertion, rp RelyingParty) (bool, error) {
	if !o.Passkey {
		return false, refuse(ErrMalformed, "an assertion for a response that announced none")
	}
	return verifyAssertion(uv, a, rp, o.digest[:], o.CredentialID)
}

func verifyAssertion(uv *ecdsa.PublicKey, a Assertion, rp RelyingParty, challenge []byte, cred CredentialID) (bool, error) {
	var cd struct {
		Type        string `json:"type"`
		Challenge   string `json:"challenge"`
		Origin      string `json:"origin"`
		CrossOrigin bool   `json:"crossOrigin"`
	}
	if err := json.Unmarshal(a.ClientDataJSON, &cd); err != nil {
		return false, refuse(ErrMalformed, "passkey client data is not JSON: %v", err)
	}
	switch {
	case cd.Type != "webauthn.get":
		return false, refuse(ErrMalformed, "passkey client data is of type %q, want webauthn.get", cd.Type)
	case cd.Challenge != base64.RawURLEncoding.EncodeToString(challenge):
		return false, refuse(ErrBadSignature, "credential %s: the passkey signed another exchange's challenge", cred)
	case cd.CrossOrigin || !slices.Contains(rp.Origins, cd.Origin):
		return false, refuse(ErrBadSignature, "credential %s: the passkey was used from origin %q, not this site's", cred, cd.Origin)
	}
	rpHash := sha256.Sum256([]byte(rp.ID))
	if !bytes.Equal(a.AuthenticatorData[:32], rpHash[:]) {
		return false, refuse(ErrBadSignature, "credential %s: the passkey answered for another relying party", cred)
	}
	flags := a.AuthenticatorData[32]
	if flags&authUserPresent == 0 {
		return false, refuse(ErrBadSignature, "credential %s: the passkey's assertion shows no user present", cred)
	}
	cdHash := sha256.Sum256(a.ClientDataJSON)
	signed := sha256.Sum256(append(bytes.Clone(a.AuthenticatorData), cdHash[:]...))
	if uv == nil || !ecdsa.VerifyASN1(uv, signed[:], a.Signature) {
		return false, refuse(ErrBadSignature, "credential %s: the passkey's assertion does not verify with its key", cred)
	}
	return flags&authUserVerified != 0, nil
}

// RespondWithPasskey answers a challenge as a web key does where unlock is
// required: the response announces a passkey assertion and is signed by
// tap, and the returned digest is the challenge the passkey must sign
// (base64url in the assertion's client data).
func (k *KeyHello) RespondWithPasskey(ch *ChallengeV2, cred CredentialID, tap *ecdsa.PrivateKey) ([]byte, *Session2, []byte, error) {
	msg, sess, d, err := k.respond(ch, cred, tap, flag2UserVerified|flag2WebAuthn)
	if err != nil {
		return nil, nil, nil, err
	}
	return msg, sess, d[:], nil
}

// SignAssertion makes the assertion a passkey would, for tests and tools:
// authenticator data for rp with the given flags, client data over
// challenge at origin, signed by key.
func SignAssertion(key *ecdsa.PrivateKey, rp RelyingParty, origin string, challenge []byte, verified bool) (Assertion, error) {
	rpHash := sha256.Sum256([]byte(rp.ID))
	flags := byte(authUserPresent)
	if verified {
		flags |= authUserVerified
	}
	auth := append(rpHash[:], flags, 0, 0, 0, 1)
	cd, err := json.Marshal(map[string]any{"type": "webauthn.get", "challenge": base64.RawURLEncoding.EncodeToString(challenge), "origin": origin, "crossOrigin": false})
	if err != nil {
		return Assertion{}, err
	}
	cdHash := sha256.Sum256(cd)
	signed := sha256.Sum256(append(bytes.Clone(auth), cdHash[:]...))
	sig, err := ecdsa.SignASN1(nil, key, signed[:])
	if err != nil {
		return Assertion{}, fmt.Errorf("protocol: sign assertion: %w", err)
	}
	return Assertion{AuthenticatorData: auth, ClientDataJSON: cd, Signature: sig}, nil
}

// Labels of the web key's own signed requests over HTTPS.
const (
	labelWebKeyRegister = "postern-webkey-register-v1"
	labelWebKeyRequest  = "postern-webkey-request-v1"
)

// WebKeyRegistrationDigest is what a web key's tap key signs to register:
// SHA-256(label || SHA-256(code) || nonce || tap public || passkey
// challenge). The passkey's own registration (its attestation, checked by
// the site) carries the same challenge, so both keys are bound to one
// ceremony and one code.
func WebKeyRegistrationDigest(code string, nonce, tapPub, challenge []byte) [32]byte {
	codeHash := sha256.Sum256([]byte(code))
	return digest(labelWebKeyRegister, codeHash[:], nonce, tapPub, challenge)
}

// VerifyWebKeyRegistration checks the tap key's registration signature
// (r || s over WebKeyRegistrationDigest) and returns the digest, which the
// site's signed answer covers.
func VerifyWebKeyRegistration(code string, nonce, tapPub, challenge, sig []byte) ([32]byte, error) {
	if len(nonce) != NonceSize {
		return [32]byte{}, refuse(ErrMalformed, "registration nonce is %d bytes, want %d", len(nonce), NonceSize)
	}
	tap, err := ParsePublicKey(tapPub)
	if err != nil {
		return [32]byte{}, err
	}
	d := WebKeyRegistrationDigest(code, nonce, tapPub, challenge)
	if !verify(tap, d[:], sig) {
		return [32]byte{}, refuse(ErrBadSignature, "web key registration: the tap key's signature does not verify")
	}
	return d, nil
}

// WebKeyRequestDigest is what a web key's tap key signs to ask its site
// for something about itself (its doors, its removal): SHA-256(label ||
// action || credential id || at, unix ms).
func WebKeyRequestDigest(action string, cred CredentialID, at time.Time) [32]byte {
	return digest(labelWebKeyRequest, []byte(action), cred[:], binary.BigEndian.AppendUint64(nil, uint64(at.UnixMilli())))
}

// VerifyWebKeyRequest checks a web key request's signature with the
// credential's tap key.
func VerifyWebKeyRequest(action string, cred CredentialID, at time.Time, sig []byte, tap *ecdsa.PublicKey) error {
	d := WebKeyRequestDigest(action, cred, at)
	if !verify(tap, d[:], sig) {
		return refuse(ErrBadSignature, "web key request %q of credential %s does not verify with its tap key", action, cred)
	}
	return nil
}

// SignWebKeyRequest signs a web key request, as the key page does with
// WebCrypto; for tests and tools.
func SignWebKeyRequest(action string, cred CredentialID, at time.Time, tap *ecdsa.PrivateKey) ([]byte, error) {
	d := WebKeyRequestDigest(action, cred, at)
	return sign(tap, d[:])
}

// SignWebKeyRegistration signs a web key registration, as the key page
// does; for tests and tools.
func SignWebKeyRegistration(code string, nonce, challenge []byte, tap *ecdsa.PrivateKey) ([]byte, error) {
	tapPub, err := MarshalPublicKey(&tap.PublicKey)
	if err != nil {
		return nil, err
	}
	d := WebKeyRegistrationDigest(code, nonce, tapPub, challenge)
	return sign(tap, d[:])
}

// VerifyShareAssertion checks a web key's share request: its passkey's
// assertion made for rp, at one of its origins, over the challenge
// ShareDigest2(cred, body, at) (the bytes a native key's
// user-verification key signs with SignShare2), and signed by the
// credential's passkey uv. It refuses with ErrBadSignature an assertion
// whose authenticator did not verify the holder: sending the key to
// another site takes the holder's unlock, as it does for a native key.
func VerifyShareAssertion(cred CredentialID, body []byte, at time.Time, a Assertion, uv *ecdsa.PublicKey, rp RelyingParty) error {
	d := ShareDigest2(cred, body, at)
	verified, err := verifyAssertion(uv, a, rp, d[:], cred)
	if err != nil {
		return err
	}
	if !verified {
		return refuse(ErrBadSignature, "credential %s: the passkey did not verify the holder (no fingerprint, face or passcode)", cred)
	}
	return nil
}
