package protocol

import (
	"crypto/ecdsa"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// Version 2 (docs/protocol.md, "Version 2") changes who speaks first: the
// key opens with a hello carrying its fresh ephemeral key, and the site
// signs over it, so a key answers only a signature made for its own fresh
// value. The messages live beside version 1's, which is kept as it was.

// Version2 is the protocol whose key speaks first.
const Version2 Version = 2

// HelloVersions returns the versions a key lists in its hello, highest
// first. Version 1 is not among them: its key waits to be challenged.
func HelloVersions() []Version { return []Version{Version2} }

// Message type bytes of version 2. They differ from version 1's, so the
// reader tells the two apart by the first byte of the key's first message.
const (
	typeHello       byte = 0xB1
	typeChallengeV2 byte = 0xB2
	typeResponseV2  byte = 0xB3
	typeResultV2    byte = 0xB4
)

// Domain-separation labels of version 2: every signature, MAC and key
// derivation hashes its own, as in version 1.
const (
	labelChallenge2  = "postern-challenge-v2"
	labelResponse2   = "postern-response-v2"
	labelSession2    = "postern-session-v2"
	labelExpedite2   = "postern-expedite-v2"
	labelTicketMAC2  = "postern-ticket-v2"
	labelIntroKey2   = "postern-intro-key-v2"
	labelIntroSite2  = "postern-intro-site-v2"
	labelRollover2   = "postern-rollover-v2"
	labelRegister2   = "postern-register-v2"
	labelMigrate2    = "postern-migrate-v2"
	labelSiteAnswer2 = "postern-site-answer-v2"
	labelShare2      = "postern-share-v2"
	labelToken2      = "postern-token-v2"
)

// HKDF info strings of version 2. One output per purpose; each AES key
// seals exactly one message, so the all-zero GCM nonce stays safe.
const (
	infoResponse2 = "postern v2 response key"
	infoResult2   = "postern v2 result key"
	infoTicket2   = "postern v2 ticket secret"
)

// Sizes of version 2's fixed fields.
const (
	// KeyIDSize is a site key id: the first 8 bytes of SHA-256 over the
	// SEC1 public key, that is the first 8 bytes of its fingerprint.
	KeyIDSize = 8
	// TagSize is every truncated HMAC-SHA256 on the air (ticket MAC,
	// introduction tag and proof): 128 bits.
	TagSize = 16
	// SecretSize is a ticket secret or an introduction secret.
	SecretSize = 32
)

// KeyID names one site key, so every signed message says which key signed
// it and a key can follow a rollover.
type KeyID [KeyIDSize]byte

// String returns the id as 16 lowercase hex digits.
func (id KeyID) String() string { return hex.EncodeToString(id[:]) }

// KeyIDOf returns the id of a SEC1 uncompressed public key.
func KeyIDOf(sec1 []byte) KeyID {
	sum := sha256.Sum256(sec1)
	var id KeyID
	copy(id[:], sum[:])
	return id
}

// PublicKeyID returns the id of a P-256 public key, or the zero id for a
// key that is not P-256.
func PublicKeyID(pub *ecdsa.PublicKey) KeyID {
	b, err := MarshalPublicKey(pub)
	if err != nil {
		return KeyID{}
	}
	return KeyIDOf(b)
}

// TicketID names one expedited-path ticket. It is random, shown once, and
// means something only to the site that issued it.
type TicketID [16]byte

// String returns the id as 32 lowercase hex digits, for logs.
func (id TicketID) String() string { return hex.EncodeToString(id[:]) }

// tag is HMAC-SHA256(key, label || parts...) cut to TagSize.
func tag(key []byte, label string, parts ...[]byte) [TagSize]byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(label))
	for _, p := range parts {
		m.Write(p)
	}
	var t [TagSize]byte
	copy(t[:], m.Sum(nil))
	return t
}

// digest is SHA-256(label || parts...).
func digest(label string, parts ...[]byte) [32]byte {
	h := sha256.New()
	h.Write([]byte(label))
	for _, p := range parts {
		h.Write(p)
	}
	var d [32]byte
	h.Sum(d[:0])
	return d
}

// expand derives one 32-byte key from a pseudorandom key.
func expand(prk []byte, info string) ([32]byte, error) {
	var k [32]byte
	b, err := hkdf.Expand(sha256.New, prk, info, 32)
	if err != nil {
		return k, fmt.Errorf("protocol: HKDF expand %q: %w", info, err)
	}
	copy(k[:], b)
	return k, nil
}

// sessionKeys2 are the outputs of one version 2 key agreement: the
// response key (full path only), the result key and the next ticket's
// secret.
type sessionKeys2 struct {
	response, result, ticket [32]byte
}

// derive2 runs HKDF-Extract(salt, ikm) and expands the three keys.
func derive2(ikm, salt []byte) (sessionKeys2, error) {
	var k sessionKeys2
	prk, err := hkdf.Extract(sha256.New, ikm, salt)
	if err != nil {
		return k, fmt.Errorf("protocol: HKDF extract: %w", err)
	}
	if k.response, err = expand(prk, infoResponse2); err != nil {
		return k, err
	}
	if k.result, err = expand(prk, infoResult2); err != nil {
		return k, err
	}
	if k.ticket, err = expand(prk, infoTicket2); err != nil {
		return k, err
	}
	return k, nil
}

// appendString16 appends a string with a two-byte big-endian length, the
// encoding of variable text inside signed payloads.
func appendString16(b []byte, s string) []byte {
	b = append(b, byte(len(s)>>8), byte(len(s)))
	return append(b, s...)
}
