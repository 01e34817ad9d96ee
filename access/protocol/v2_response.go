package protocol

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"sync/atomic"
)

// Response flags of version 2. Bit 1 says the user-verification proof is
// a passkey's WebAuthn assertion that follows the response (see
// webauthn.go); it comes with bit 0.
const (
	flag2UserVerified = 1 << 0
	flag2WebAuthn     = 1 << 1
)

// responseV2Size is a version 2 response: type, version, and the sealed
// credential id, flags and signature.
const responseV2Size = 2 + responsePlainSize + gcmTagSize

// Path says how a version 2 exchange went.
type Path uint8

// Exchange paths.
const (
	// PathFull: hello, challenge, response, result.
	PathFull Path = 0
	// PathExpedited: hello with a ticket, result.
	PathExpedited Path = 1
)

// String returns "full" or "expedited".
func (p Path) String() string {
	if p == PathExpedited {
		return "expedited"
	}
	return "full"
}

// Session2 is what remains of a version 2 exchange once both sides have
// the shared keys: the result key and the secret of the next ticket.
type Session2 struct {
	version Version
	path    Path
	header  []byte // the result's clear part: type, version, path, and on the expedited path the reader key
	result  [32]byte
	ticket  [SecretSize]byte
	sealed  atomic.Bool
}

// Path is the exchange's path.
func (s *Session2) Path() Path { return s.path }

// NextTicketSecret is the secret of the ticket a result may carry; the
// site keeps it with the ticket's id, the key with the id it reads.
func (s *Session2) NextTicketSecret() [SecretSize]byte { return s.ticket }

// transcriptHash is SHA-256(hello || challenge).
func transcriptHash(hello, challenge []byte) [32]byte {
	h := sha256.New()
	h.Write(hello)
	h.Write(challenge)
	var d [32]byte
	h.Sum(d[:0])
	return d
}

// fullKeys derives the full path's keys from the ECDH secret and the
// transcript.
func fullKeys(shared []byte, th [32]byte) (sessionKeys2, error) {
	salt := digest(labelSession2, th[:])
	return derive2(shared, salt[:])
}

// responseDigest2 is what the credential key signs.
func responseDigest2(th [32]byte, cred CredentialID, flags byte) [32]byte {
	return digest(labelResponse2, th[:], cred[:], []byte{flags})
}

// Respond answers a challenge the key has decided to trust (see
// ReadChallenge) as the credential cred, the key's id at this site. signer
// is the credential's tap key at this site, or its user-verification key
// when userVerified is set; the reader checks with the key the flag names.
func (k *KeyHello) Respond(ch *ChallengeV2, cred CredentialID, signer *ecdsa.PrivateKey, userVerified bool) ([]byte, *Session2, error) {
	var flags byte
	if userVerified {
		flags |= flag2UserVerified
	}
	msg, sess, _, err := k.respond(ch, cred, signer, flags)
	return msg, sess, err
}

// respond seals a response with the given flags, signed by signer, and
// returns the transcript digest it signed.
func (k *KeyHello) respond(ch *ChallengeV2, cred CredentialID, signer *ecdsa.PrivateKey, flags byte) ([]byte, *Session2, [32]byte, error) {
	shared, err := k.eph.ECDH(ch.ReaderKey)
	if err != nil {
		return nil, nil, [32]byte{}, fmt.Errorf("protocol: respond: ECDH with the reader key: %w", err)
	}
	th := transcriptHash(k.raw, ch.raw)
	keys, err := fullKeys(shared, th)
	if err != nil {
		return nil, nil, [32]byte{}, err
	}
	d := responseDigest2(th, cred, flags)
	sig, err := sign(signer, d[:])
	if err != nil {
		return nil, nil, [32]byte{}, err
	}
	header := []byte{typeResponseV2, byte(ch.Version)}
	plain := make([]byte, 0, responsePlainSize)
	plain = append(plain, cred[:]...)
	plain = append(plain, flags)
	plain = append(plain, sig...)
	msg := append(header, seal(keys.response, header, plain)...)
	return msg, newSession2(ch.Version, PathFull, nil, keys), d, nil
}

func newSession2(v Version, p Path, readerKey []byte, k sessionKeys2) *Session2 {
	h := append([]byte{typeResultV2, byte(v), byte(p)}, readerKey...)
	return &Session2{version: v, path: p, header: h, result: k.result, ticket: k.ticket}
}

// Opened2 is a decrypted version 2 response whose signature is not yet
// checked: the reader looks the credential up, then calls Verify with the
// key the UserVerified flag names.
type Opened2 struct {
	CredentialID CredentialID
	UserVerified bool
	// Passkey says the user verification is a passkey's assertion, which
	// the key sends after the response: the response itself is signed by
	// the tap key (see VerifyAssertion).
	Passkey bool
	Session *Session2

	digest    [32]byte
	signature [SignatureSize]byte
}

// OpenResponse decrypts the key's response to this exchange's challenge.
// It refuses with ErrMalformed, ErrUnknownVersion or ErrDecrypt; a response
// made for another exchange does not decrypt. Timing is the caller's:
// read the response within the deadline measured on a monotonic clock.
func (x *ReaderExchange) OpenResponse(raw []byte) (*Opened2, error) {
	if x.challenge == nil {
		return nil, errors.New("protocol: open response: no challenge was sent")
	}
	if len(raw) < 2 || raw[0] != typeResponseV2 {
		return nil, refuse(ErrMalformed, "not a version 2 response (%d bytes, type 0x%02x)", len(raw), first(raw))
	}
	if Version(raw[1]) != x.version {
		return nil, refuse(ErrUnknownVersion, "response uses version %d, the challenge chose %d", raw[1], x.version)
	}
	if len(raw) != responseV2Size {
		return nil, refuse(ErrMalformed, "response is %d bytes, want %d", len(raw), responseV2Size)
	}
	shared, err := x.eph.ECDH(x.hello.KeyEphemeral)
	if err != nil {
		return nil, refuse(ErrMalformed, "hello key: ECDH: %v", err)
	}
	th := transcriptHash(x.hello.raw, x.challenge)
	keys, err := fullKeys(shared, th)
	if err != nil {
		return nil, err
	}
	plain, err := open(keys.response, raw[:2], raw[2:])
	if err != nil {
		return nil, refuse(ErrDecrypt, "response does not authenticate under this exchange (tampered, or made for another one)")
	}
	flags := plain[16]
	if flags&^(flag2UserVerified|flag2WebAuthn) != 0 {
		return nil, refuse(ErrMalformed, "response flags 0x%02x set undefined bits", flags)
	}
	if flags&flag2WebAuthn != 0 && flags&flag2UserVerified == 0 {
		return nil, refuse(ErrMalformed, "response flags 0x%02x announce a passkey assertion without user verification", flags)
	}
	o := &Opened2{UserVerified: flags&flag2UserVerified != 0, Passkey: flags&flag2WebAuthn != 0, Session: newSession2(x.version, PathFull, nil, keys)}
	copy(o.CredentialID[:], plain[:16])
	copy(o.signature[:], plain[17:])
	o.digest = responseDigest2(th, o.CredentialID, flags)
	return o, nil
}

// Verify checks the key's signature over the transcript with the
// credential's user-verification key when UserVerified is set and its tap
// key otherwise; with Passkey set, the signature is the tap key's and the
// user verification is the assertion's (VerifyAssertion).
func (o *Opened2) Verify(pub *ecdsa.PublicKey) error {
	return verifyResponse(pub, o.digest, o.signature, o.CredentialID, o.UserVerified && !o.Passkey)
}

// expeditedKeys derives the expedited path's keys: the ticket secret and a
// fresh ECDH secret, salted with the hello, so the result and the next
// ticket stay secret from anyone who later learns this ticket's secret.
func expeditedKeys(secret [SecretSize]byte, shared []byte, helloHash [32]byte) (sessionKeys2, error) {
	salt := digest(labelExpedite2, helloHash[:])
	ikm := append(secret[:len(secret):len(secret)], shared...)
	return derive2(ikm, salt[:])
}

// Expedite answers a hello whose ticket the site found and checked (see
// Hello.TicketValid): it draws the reader's ephemeral key from rnd and
// returns the session to seal the result in. There is no challenge: the
// ticket, shown once, is the key's proof.
func (x *ReaderExchange) Expedite(rnd io.Reader, secret [SecretSize]byte) (*Session2, error) {
	if x.challenge != nil {
		return nil, errors.New("protocol: expedite: this exchange already sent a challenge")
	}
	v, err := chooseVersion(x.hello.Versions, HelloVersions())
	if err != nil {
		return nil, err
	}
	eph, err := ephemeral(rnd)
	if err != nil {
		return nil, err
	}
	shared, err := eph.ECDH(x.hello.KeyEphemeral)
	if err != nil {
		return nil, refuse(ErrMalformed, "hello key: ECDH: %v", err)
	}
	keys, err := expeditedKeys(secret, shared, x.helloHash)
	if err != nil {
		return nil, err
	}
	x.version = v
	return newSession2(v, PathExpedited, eph.PublicKey().Bytes(), keys), nil
}

// keyExpedited is the key's side of an expedited result: derive the keys
// from the ticket it offered and the reader key in the result's header.
func (k *KeyHello) keyExpedited(v Version, readerKey []byte) (*Session2, error) {
	if k.ticket == nil {
		return nil, refuse(ErrMalformed, "an expedited result, but this hello offered no ticket")
	}
	pub, err := ecdh.P256().NewPublicKey(readerKey)
	if err != nil {
		return nil, refuse(ErrMalformed, "expedited result reader key is not a P-256 point: %v", err)
	}
	shared, err := k.eph.ECDH(pub)
	if err != nil {
		return nil, refuse(ErrMalformed, "expedited result reader key: ECDH: %v", err)
	}
	keys, err := expeditedKeys(k.ticket.Secret, shared, sha256.Sum256(k.raw))
	if err != nil {
		return nil, err
	}
	return newSession2(v, PathExpedited, readerKey, keys), nil
}
