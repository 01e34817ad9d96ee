package protocol

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/sha256"
	"fmt"
)

// registrationDigest is what both device keys sign at registration:
// SHA-256(label || SHA-256(code) || tapPub || uvPub). The code is hashed so
// the input has a fixed layout whatever the code's length.
func registrationDigest(code string, tapPub, uvPub []byte) [32]byte {
	codeHash := sha256.Sum256([]byte(code))
	h := sha256.New()
	h.Write([]byte(labelRegister))
	h.Write(codeHash[:])
	h.Write(tapPub)
	h.Write(uvPub)
	var d [32]byte
	h.Sum(d[:0])
	return d
}

// SignRegistration is the key's proof of possession at registration: both
// its tap and user-verification keys sign the registration code and both
// public keys. It shows the site that the device holds both private keys
// and ties them to this code, so a code seen in transit cannot register
// someone else's keys with these signatures. code is exactly the string the
// key sends in the register request.
func SignRegistration(code string, tap, uv *ecdsa.PrivateKey) (tapSig, uvSig []byte, err error) {
	tapPub, uvPub, err := pairPublics(tap, uv)
	if err != nil {
		return nil, nil, fmt.Errorf("protocol: sign registration: %w", err)
	}
	return signBoth(registrationDigest(code, tapPub, uvPub), tap, uv)
}

// VerifyRegistration is the site's check of SignRegistration. It refuses
// keys that do not parse and a tap key equal to the user-verification key
// (ErrMalformed: "unlock required" would then prove nothing), and either
// signature that does not verify (ErrBadSignature).
func VerifyRegistration(code string, tapPub, uvPub []byte, tapSig, uvSig []byte) error {
	tap, err := ParsePublicKey(tapPub)
	if err != nil {
		return fmt.Errorf("registration tap key: %w", err)
	}
	uv, err := ParsePublicKey(uvPub)
	if err != nil {
		return fmt.Errorf("registration user-verification key: %w", err)
	}
	if bytes.Equal(tapPub, uvPub) {
		return refuse(ErrMalformed, "registration: the tap and user-verification keys are the same key")
	}
	d := registrationDigest(code, tapPub, uvPub)
	if !verify(tap, d[:], tapSig) {
		return refuse(ErrBadSignature, "registration: the tap key's signature does not verify")
	}
	if !verify(uv, d[:], uvSig) {
		return refuse(ErrBadSignature, "registration: the user-verification key's signature does not verify")
	}
	return nil
}
