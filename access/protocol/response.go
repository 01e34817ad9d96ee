package protocol

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
)

// flagUserVerified marks a response signed with the user-verification key.
const flagUserVerified = 1 << 0

// responsePlainSize is the encrypted part: credential id, flags, signature.
const responsePlainSize = 16 + 1 + SignatureSize

// responseSize is the exact size of a response whose key lists n versions:
// type, chosen version, version count, the list, the key's ephemeral key,
// and the ciphertext with its tag.
func responseSize(n int) int { return 3 + n + PublicKeySize + responsePlainSize + gcmTagSize }

// Respond is the key's answer to a challenge it has decided to answer (see
// VerifyChallenge). It picks the highest version both sides speak, or fails
// with ErrUnsupportedVersion, which the app shows as "update the app". signer
// is the credential's tap key, or its user-verification key when
// userVerified is true: the flag tells the reader which key to check, so
// claiming user verification while signing with the tap key gets nowhere. It
// reads the ephemeral scalar from rnd (nil means crypto/rand).
func Respond(rnd io.Reader, ch *Challenge, cred CredentialID, signer *ecdsa.PrivateKey, userVerified bool) ([]byte, *Session, error) {
	own := SupportedVersions()
	v, ok := highestCommon(ch.Versions, own)
	if !ok {
		return nil, nil, refuse(ErrUnsupportedVersion, "the reader speaks versions %s, this app speaks %s", versionList(ch.Versions), versionList(own))
	}
	return respond(rnd, ch, cred, signer, userVerified, own, v)
}

// respond builds a response for an explicit version list and choice, so
// tests can play keys from other releases, honest or not.
func respond(rnd io.Reader, ch *Challenge, cred CredentialID, signer *ecdsa.PrivateKey, userVerified bool, own []Version, chosen Version) ([]byte, *Session, error) {
	if ch.ReaderKey == nil {
		return nil, nil, errors.New("protocol: respond: challenge has no reader key")
	}
	eph, err := ephemeral(rnd)
	if err != nil {
		return nil, nil, err
	}
	header := responseHeader(chosen, own, eph.PublicKey())
	chHash := sha256.Sum256(ch.Marshal())
	shared, err := eph.ECDH(ch.ReaderKey)
	if err != nil {
		return nil, nil, fmt.Errorf("protocol: respond: ECDH with the reader key: %w", err)
	}
	keys, err := deriveKeys(shared, chHash, header)
	if err != nil {
		return nil, nil, fmt.Errorf("protocol: respond: deriving keys: %w", err)
	}
	var flags byte
	if userVerified {
		flags |= flagUserVerified
	}
	d := responseDigest(chHash, header, cred, flags)
	sig, err := sign(signer, d[:])
	if err != nil {
		return nil, nil, err
	}
	plain := make([]byte, 0, responsePlainSize)
	plain = append(plain, cred[:]...)
	plain = append(plain, flags)
	plain = append(plain, sig...)
	msg := append(header, seal(keys.response, header, plain)...)
	return msg, &Session{version: chosen, resultKey: keys.result}, nil
}

// responseHeader is the response's clear part: type, chosen version, the
// key's own version list and its ephemeral key.
func responseHeader(chosen Version, own []Version, pub *ecdh.PublicKey) []byte {
	h := make([]byte, 0, responseSize(len(own)))
	h = append(h, typeResponse, byte(chosen), byte(len(own)))
	for _, v := range own {
		h = append(h, byte(v))
	}
	return append(h, pub.Bytes()...)
}

// responseDigest is what the credential key signs: SHA-256(label ||
// SHA-256(challenge) || response header || credential id || flags). The
// header brings in the chosen version, the key's version list and its
// ephemeral key, so none of them can be changed without breaking the
// signature.
func responseDigest(chHash [32]byte, header []byte, cred CredentialID, flags byte) [32]byte {
	h := sha256.New()
	h.Write([]byte(labelResponse))
	h.Write(chHash[:])
	h.Write(header)
	h.Write(cred[:])
	h.Write([]byte{flags})
	var d [32]byte
	h.Sum(d[:0])
	return d
}

// Opened is a decrypted response whose signature is not yet checked: the
// reader looks the credential up by CredentialID, then calls Verify with the
// key the UserVerified flag names.
type Opened struct {
	// CredentialID is the credential the key claims to be.
	CredentialID CredentialID
	// UserVerified claims the signature is by the user-verification key.
	UserVerified bool
	// Version is the protocol version the key chose.
	Version Version
	// Session seals the reader's result for this exchange. It is usable
	// before Verify so a refusal can be told to the key too.
	Session *Session

	digest    [32]byte
	signature [SignatureSize]byte
}

// OpenResponse is the reader's first step: check the version, decrypt with
// the challenge's ephemeral key, and check the version choice. It refuses
// with ErrMalformed, ErrUnknownVersion, ErrDecrypt or ErrDowngrade. The
// signature is checked by Opened.Verify once the caller has looked the
// credential up. Use Pending.Open to also enforce the deadline and
// once-only acceptance.
func OpenResponse(ch *Challenge, readerEph *ecdh.PrivateKey, raw []byte) (*Opened, error) {
	if readerEph == nil || ch.ReaderKey == nil || !readerEph.PublicKey().Equal(ch.ReaderKey) {
		return nil, errors.New("protocol: open response: the ephemeral key does not belong to this challenge")
	}
	if len(raw) < 3 {
		return nil, refuse(ErrMalformed, "response is %d bytes, too short for a header", len(raw))
	}
	if raw[0] != typeResponse {
		return nil, refuse(ErrMalformed, "message type 0x%02x is not a response (0x%02x)", raw[0], typeResponse)
	}
	chosen := Version(raw[1])
	if !containsVersion(ch.Versions, chosen) {
		return nil, refuse(ErrUnknownVersion, "response uses version %d, the reader offered %s", chosen, versionList(ch.Versions))
	}
	n := int(raw[2])
	if n < 1 || n > MaxVersions {
		return nil, refuse(ErrMalformed, "response lists %d key versions, want 1 to %d", n, MaxVersions)
	}
	if len(raw) != responseSize(n) {
		return nil, refuse(ErrMalformed, "response is %d bytes, want %d", len(raw), responseSize(n))
	}
	own := make([]Version, n)
	for i := range own {
		own[i] = Version(raw[3+i])
	}
	if err := checkVersions(own); err != nil {
		return nil, refuse(ErrMalformed, "response: key %v", err)
	}
	hlen := 3 + n + PublicKeySize
	keyPub, err := ecdh.P256().NewPublicKey(raw[3+n : hlen])
	if err != nil {
		return nil, refuse(ErrMalformed, "response key is not a P-256 point: %v", err)
	}
	shared, err := readerEph.ECDH(keyPub)
	if err != nil {
		return nil, refuse(ErrMalformed, "response key: ECDH: %v", err)
	}
	header := raw[:hlen]
	chHash := sha256.Sum256(ch.Marshal())
	keys, err := deriveKeys(shared, chHash, header)
	if err != nil {
		return nil, fmt.Errorf("protocol: open response: deriving keys: %w", err)
	}
	plain, err := open(keys.response, header, raw[hlen:])
	if err != nil {
		return nil, refuse(ErrDecrypt, "response does not authenticate under challenge %s (tampered, or made for another challenge)", ch.Nonce)
	}
	// Checked after decryption: the header is authenticated by then, so
	// this is the key's own choice, not a bit flipped on the air.
	if want, ok := highestCommon(ch.Versions, own); !ok || chosen != want {
		return nil, refuse(ErrDowngrade, "response chose version %d, but the reader offered %s and the key lists %s", chosen, versionList(ch.Versions), versionList(own))
	}
	o := &Opened{Version: chosen, Session: &Session{version: chosen, resultKey: keys.result}}
	copy(o.CredentialID[:], plain[:16])
	flags := plain[16]
	if flags&^flagUserVerified != 0 {
		return nil, refuse(ErrMalformed, "response flags 0x%02x set bits version 1 does not define", flags)
	}
	o.UserVerified = flags&flagUserVerified != 0
	copy(o.signature[:], plain[17:])
	o.digest = responseDigest(chHash, header, o.CredentialID, flags)
	return o, nil
}

// Verify checks the key's signature over the transcript. The caller passes
// the credential's user-verification key when UserVerified is set and its
// tap key otherwise; choosing by the flag is what makes "unlock required"
// a proof: a tap-key signature with the flag set fails here.
func (o *Opened) Verify(pub *ecdsa.PublicKey) error {
	return verifyResponse(pub, o.digest, o.signature, o.CredentialID, o.UserVerified)
}

// verifyResponse checks a response's signature, naming the key the flag
// chose when it does not verify.
func verifyResponse(pub *ecdsa.PublicKey, digest [32]byte, sig [SignatureSize]byte, cred CredentialID, uv bool) error {
	if !verify(pub, digest[:], sig[:]) {
		which := "tap"
		if uv {
			which = "user-verification"
		}
		return refuse(ErrBadSignature, "response from credential %s does not verify with its %s key", cred, which)
	}
	return nil
}
