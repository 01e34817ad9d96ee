package protocol

import (
	"encoding/hex"
	"fmt"
	"strings"
)

// SiteID identifies a site: one Postern appliance and its signing key.
type SiteID [16]byte

// CredentialID identifies a Smart credential. Its underlying type matches
// access.CredentialID, so the two convert directly.
type CredentialID [16]byte

// ReaderID identifies a reader (an access point's radio). The caller derives
// it; the protocol only carries and signs its 16 bytes.
type ReaderID [16]byte

// Nonce is the challenge's fresh random value; the reader accepts one
// response per nonce.
type Nonce [16]byte

// String returns the id as 32 lowercase hex digits, for logs.
func (id SiteID) String() string { return hex.EncodeToString(id[:]) }

// String returns the id as 32 lowercase hex digits, for logs.
func (id CredentialID) String() string { return hex.EncodeToString(id[:]) }

// String returns the id as 32 lowercase hex digits, for logs.
func (id ReaderID) String() string { return hex.EncodeToString(id[:]) }

// String returns the nonce as 32 lowercase hex digits, for logs.
func (n Nonce) String() string { return hex.EncodeToString(n[:]) }

// Version is a protocol version number as carried on the wire (one byte).
type Version uint8

// Version1 is the protocol this package implements, described in
// docs/protocol.md.
const Version1 Version = 1

// MaxVersions bounds a version list on the wire, so a list can never push a
// message past its fixed budget.
const MaxVersions = 8

// SupportedVersions returns the versions this package speaks, highest first.
// It returns a fresh slice so no caller can change what others negotiate.
func SupportedVersions() []Version { return []Version{Version1} }

// versionList formats a version list the way error messages show it.
func versionList(vs []Version) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = fmt.Sprint(uint8(v))
	}
	return "[" + strings.Join(parts, " ") + "]"
}

// checkVersions enforces the one canonical form of a version list: 1 to
// MaxVersions non-zero entries, strictly descending. A single canonical form
// keeps parsing and re-encoding byte-identical, which the transcript needs.
func checkVersions(vs []Version) error {
	if len(vs) == 0 || len(vs) > MaxVersions {
		return fmt.Errorf("version list has %d entries, want 1 to %d", len(vs), MaxVersions)
	}
	for i, v := range vs {
		if v == 0 {
			return fmt.Errorf("version list %s contains 0", versionList(vs))
		}
		if i > 0 && v >= vs[i-1] {
			return fmt.Errorf("version list %s is not strictly descending", versionList(vs))
		}
	}
	return nil
}

// highestCommon returns the highest version present in both lists.
func highestCommon(a, b []Version) (Version, bool) {
	var best Version
	found := false
	for _, x := range a {
		for _, y := range b {
			if x == y && (!found || x > best) {
				best, found = x, true
			}
		}
	}
	return best, found
}

func containsVersion(vs []Version, v Version) bool {
	for _, x := range vs {
		if x == v {
			return true
		}
	}
	return false
}

// Requirements are the access point's demands on the key, carried in the
// signed challenge so the key can prompt for what the reader will insist on.
type Requirements uint8

// RequireUnlock means only a signature by the credential's user-verification
// key opens this access point: the holder must unlock the phone.
const RequireUnlock Requirements = 1 << 0

// knownRequirements are the bits version 1 defines; the rest must be zero.
const knownRequirements = RequireUnlock

// UnlockRequired reports whether RequireUnlock is set.
func (r Requirements) UnlockRequired() bool { return r&RequireUnlock != 0 }
