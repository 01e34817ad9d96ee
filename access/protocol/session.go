package protocol

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/sha256"
	"sync/atomic"
)

// HKDF info strings. One output key per direction, so the response and the
// result never share a key, and each key encrypts exactly one message, which
// is what makes the fixed all-zero GCM nonce safe.
const (
	infoResponse = "postern response key"
	infoResult   = "postern result key"
)

// gcmTagSize is AES-GCM's authentication tag length.
const gcmTagSize = 16

// Session is what remains of one challenge-response exchange: the key that
// carries the reader's result back to the key, bound to the whole transcript.
// The reader gets it from OpenResponse, the key from Respond.
type Session struct {
	version   Version
	resultKey [32]byte
	// sealed guards the fixed nonce: a second result under the same key
	// would reuse it, which breaks GCM.
	sealed atomic.Bool
}

// Version is the protocol version the exchange agreed on.
func (s *Session) Version() Version { return s.version }

// sessionKeys are the two HKDF outputs of one exchange.
type sessionKeys struct {
	response [32]byte
	result   [32]byte
}

// deriveKeys runs HKDF-SHA256 over the ECDH shared secret, salted with the
// transcript so far: SHA-256(label || SHA-256(challenge) || response header).
// Binding the salt to the signed challenge and to the key's ephemeral key
// means a response only decrypts under the exact challenge it answered.
func deriveKeys(shared []byte, challengeHash [32]byte, header []byte) (sessionKeys, error) {
	h := sha256.New()
	h.Write([]byte(labelSession))
	h.Write(challengeHash[:])
	h.Write(header)
	salt := h.Sum(nil)
	var k sessionKeys
	prk, err := hkdf.Extract(sha256.New, shared, salt)
	if err != nil {
		return k, err
	}
	resp, err := hkdf.Expand(sha256.New, prk, infoResponse, 32)
	if err != nil {
		return k, err
	}
	res, err := hkdf.Expand(sha256.New, prk, infoResult, 32)
	if err != nil {
		return k, err
	}
	copy(k.response[:], resp)
	copy(k.result[:], res)
	return k, nil
}

// newGCM builds AES-256-GCM for a one-message key.
func newGCM(key [32]byte) cipher.AEAD {
	block, err := aes.NewCipher(key[:])
	if err != nil {
		panic("protocol: AES-256 refused a 32-byte key: " + err.Error())
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		panic("protocol: GCM: " + err.Error())
	}
	return gcm
}

// seal encrypts under a key used for this one message only, so the nonce is
// all zeros (see infoResponse).
func seal(key [32]byte, aad, plain []byte) []byte {
	var nonce [12]byte
	return newGCM(key).Seal(nil, nonce[:], plain, aad)
}

func open(key [32]byte, aad, ct []byte) ([]byte, error) {
	var nonce [12]byte
	return newGCM(key).Open(nil, nonce[:], ct, aad)
}
