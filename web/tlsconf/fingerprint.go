package tlsconf

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
)

// Fingerprint is the SHA-256 of a certificate's DER bytes written the way
// browsers show it in their certificate viewers: upper-case hex pairs
// joined by colons, so an admin can compare it pair by pair.
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	h := strings.ToUpper(hex.EncodeToString(sum[:]))
	pairs := make([]string, 0, len(sum))
	for i := 0; i < len(h); i += 2 {
		pairs = append(pairs, h[i:i+2])
	}
	return strings.Join(pairs, ":")
}
