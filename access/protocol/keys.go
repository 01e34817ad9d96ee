package protocol

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math/big"
	"strings"
)

// PublicKeySize is the length of a P-256 public key on the wire: SEC1
// uncompressed, 0x04 || X || Y.
const PublicKeySize = 65

// SignatureSize is the length of an ECDSA P-256 signature on the wire: r || s,
// each a 32-byte big-endian integer. Fixed size keeps every layout fixed;
// phone keystores that return ASN.1 DER must convert.
const SignatureSize = 64

// ParsePublicKey reads a P-256 public key in SEC1 uncompressed form. It
// refuses any other length or form, points off the curve and the identity,
// so a key that parses is safe to verify with.
func ParsePublicKey(b []byte) (*ecdsa.PublicKey, error) {
	if len(b) != PublicKeySize || b[0] != 0x04 {
		return nil, refuse(ErrMalformed, "public key is %d bytes starting 0x%02x, want %d bytes starting 0x04 (SEC1 uncompressed P-256)", len(b), first(b), PublicKeySize)
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), b)
	if err != nil {
		return nil, refuse(ErrMalformed, "public key is not a P-256 point: %v", err)
	}
	return pub, nil
}

// MarshalPublicKey encodes a P-256 public key in SEC1 uncompressed form, the
// only form the protocol carries.
func MarshalPublicKey(pub *ecdsa.PublicKey) ([]byte, error) {
	if pub == nil || pub.Curve != elliptic.P256() {
		return nil, errors.New("protocol: public key is not a P-256 key")
	}
	b, err := pub.Bytes()
	if err != nil {
		return nil, fmt.Errorf("protocol: encoding public key: %w", err)
	}
	return b, nil
}

// KeyFingerprint is what people compare to trust a site key out of band:
// the first 16 bytes of SHA-256 over the SEC1 uncompressed key, in groups of
// four hex digits ("3f2a:9c01:…"). It returns "" for a key that is not P-256.
func KeyFingerprint(pub *ecdsa.PublicKey) string {
	b, err := MarshalPublicKey(pub)
	if err != nil {
		return ""
	}
	return fingerprint(b)
}

func fingerprint(sec1 []byte) string {
	sum := sha256.Sum256(sec1)
	h := hex.EncodeToString(sum[:16])
	groups := make([]string, 0, len(h)/4)
	for i := 0; i < len(h); i += 4 {
		groups = append(groups, h[i:i+4])
	}
	return strings.Join(groups, ":")
}

// sign makes a fixed-size r||s signature over digest. It draws its
// randomness from crypto/rand, never from the caller's reader: an injected
// deterministic stream (the test vectors use one) must not reach ECDSA's
// nonce, where reuse would leak the private key.
func sign(key *ecdsa.PrivateKey, digest []byte) ([]byte, error) {
	if key == nil || key.Curve != elliptic.P256() {
		return nil, errors.New("protocol: signing key is not a P-256 key")
	}
	r, s, err := ecdsa.Sign(rand.Reader, key, digest)
	if err != nil {
		return nil, fmt.Errorf("protocol: signing: %w", err)
	}
	sig := make([]byte, SignatureSize)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return sig, nil
}

// verify checks a fixed-size r||s signature over digest. Out-of-range r or s
// (zero, or not below the group order) fail inside ecdsa.Verify.
func verify(pub *ecdsa.PublicKey, digest, sig []byte) bool {
	if pub == nil || pub.Curve != elliptic.P256() || len(sig) != SignatureSize {
		return false
	}
	r := new(big.Int).SetBytes(sig[:32])
	s := new(big.Int).SetBytes(sig[32:])
	return ecdsa.Verify(pub, digest, r, s)
}

// ephemeral draws a P-256 ECDH key from rand by rejection sampling 32-byte
// scalars. Reading the scalar ourselves (instead of ecdh's GenerateKey, which
// ignores custom readers since Go 1.26) is what makes the test vectors
// reproducible from fixed bytes.
func ephemeral(rnd io.Reader) (*ecdh.PrivateKey, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	var b [32]byte
	// A uniformly random 32 bytes fails (zero or ≥ the group order) with
	// probability about 2^-32, so a handful of tries is plenty.
	for range 8 {
		if _, err := io.ReadFull(rnd, b[:]); err != nil {
			return nil, fmt.Errorf("protocol: reading randomness: %w", err)
		}
		k, err := ecdh.P256().NewPrivateKey(b[:])
		if err == nil {
			return k, nil
		}
	}
	return nil, errors.New("protocol: randomness source keeps yielding invalid P-256 scalars")
}

// readRand fills b from rnd, defaulting to crypto/rand.
func readRand(rnd io.Reader, b []byte) error {
	if rnd == nil {
		rnd = rand.Reader
	}
	if _, err := io.ReadFull(rnd, b); err != nil {
		return fmt.Errorf("protocol: reading randomness: %w", err)
	}
	return nil
}

func first(b []byte) byte {
	if len(b) == 0 {
		return 0
	}
	return b[0]
}
