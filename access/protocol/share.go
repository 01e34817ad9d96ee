package protocol

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/binary"
	"time"
)

// shareDigest is what the key signs to ask its home site to share it:
// SHA-256(label || credential id || at as unix ms, big-endian int64 ||
// SHA-256(body)).
func shareDigest(cred CredentialID, body []byte, at time.Time) [32]byte {
	bodyHash := sha256.Sum256(body)
	h := sha256.New()
	h.Write([]byte(labelShare))
	h.Write(cred[:])
	h.Write(binary.BigEndian.AppendUint64(nil, uint64(at.UnixMilli())))
	h.Write(bodyHash[:])
	var d [32]byte
	h.Sum(d[:0])
	return d
}

// SignShare signs a share request ("Add credential to new site") with the
// credential's tap key, so only the registered device can make its home site
// email its credential. body is the request body exactly as sent and at its
// timestamp (millisecond precision; send it as unix ms). It returns nil if
// key is not a P-256 private key, which the site then refuses.
func SignShare(cred CredentialID, body []byte, at time.Time, key *ecdsa.PrivateKey) []byte {
	d := shareDigest(cred, body, at)
	sig, err := sign(key, d[:])
	if err != nil {
		return nil
	}
	return sig
}

// VerifyShare checks SignShare with the credential's tap key, refusing with
// ErrBadSignature. Whether at is recent enough is the caller's policy (the
// site compares it with its clock and remembers recent signatures).
func VerifyShare(cred CredentialID, body []byte, at time.Time, sig []byte, pub *ecdsa.PublicKey) error {
	d := shareDigest(cred, body, at)
	if !verify(pub, d[:], sig) {
		return refuse(ErrBadSignature, "share request for credential %s does not verify with its tap key", cred)
	}
	return nil
}
