package access

import (
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// CodeDigits is the length of a registration code.
const CodeDigits = 32

// DefaultCodeLifetime is how long a registration code works unless the site
// sets otherwise.
const DefaultCodeLifetime = 7 * 24 * time.Hour

var codeSpace = new(big.Int).Exp(big.NewInt(10), big.NewInt(CodeDigits), nil)

// NewRegistrationCode draws a 32-digit code from crypto/rand. rand.Int
// rejects out-of-range draws rather than reducing them, so every code is
// equally likely: no modulo bias.
func NewRegistrationCode() string {
	n, err := rand.Int(rand.Reader, codeSpace)
	if err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return fmt.Sprintf("%0*s", CodeDigits, n.String())
}

// NormalizeCode strips the spaces and dashes people type or paste between
// digit groups, and reports whether what is left is a well-formed code.
func NormalizeCode(s string) (string, bool) {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '\t' || r == '\u00a0':
		default:
			return "", false
		}
	}
	code := b.String()
	return code, len(code) == CodeDigits
}

// HashCode is how a registration code is stored: a code carries 106 bits of
// chance, so a plain SHA-256 cannot be searched, and the database never holds
// a code that works.
func HashCode(code string) []byte {
	h := sha256.Sum256([]byte("postern-registration-code:" + code))
	return h[:]
}

// CodeState is what a registration code can still do, as the page an
// invitation's link opens tells its holder.
type CodeState string

// Registration code states.
const (
	// CodeValid: it registers a phone, once, until it expires.
	CodeValid CodeState = "valid"
	// CodeUsed: a phone registered with it.
	CodeUsed CodeState = "used"
	// CodeExpired: it ran out before a phone registered.
	CodeExpired CodeState = "expired"
	// CodeReplaced: a newer code took its place, or the credential was
	// revoked.
	CodeReplaced CodeState = "replaced"
	// CodeUnknown: this site never issued it (or its user was deleted).
	CodeUnknown CodeState = "unknown"
)

// Site is this appliance's identity, which keys learn when they register
// and check on every challenge.
type Site struct {
	ID   [16]byte
	Name string
	URL  string
	Key  *ecdsa.PrivateKey
	// Rollover is set during the overlap after an admin rolled the site
	// key: the previous key's certificate of Key, which readers show keys
	// that still know only the previous key.
	Rollover *SiteRollover
	// AcceptV1 lets keys that speak only protocol version 1 in. It is on
	// until an administrator turns it off in Settings.
	AcceptV1 bool
}

// SiteRollover is the previous site key vouching for the current one
// until NotAfter, the end of the overlap.
type SiteRollover struct {
	OldKeyID  [8]byte
	OldKey    []byte // SEC1 public key, for display
	NotAfter  time.Time
	Signature []byte
	At        time.Time
}

// ValidateSiteName checks a name for the site, as keys, emails and other
// sites show it.
func ValidateSiteName(name string) error {
	if name == "" || len(name) > 100 {
		return Invalid("site_name", "must be 1 to 100 characters")
	}
	if err := CheckLine(name); err != nil {
		return Invalid("site_name", "%s", err.(*ValidationError).Message)
	}
	return nil
}

// Registration is what a key sends to bind itself to a credential.
type Registration struct {
	Code       string
	TapKey     []byte // SEC1 uncompressed P-256 public keys
	UVKey      []byte
	DeviceInfo string
	At         time.Time
	// Protocol is the version the device speaks: 1 or 2.
	Protocol int
}

// ErrRegistration is the one answer to a code that cannot register: used,
// expired, reissued or never issued. One error for all of them, so a
// guesser learns nothing.
var ErrRegistration = &RegistrationError{}

// RegistrationError is returned when a registration code cannot be used.
type RegistrationError struct{}

func (*RegistrationError) Error() string {
	return "This registration code has already been used or is not valid. Ask your administrator for a new Smart credential."
}
