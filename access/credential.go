package access

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"
)

// CredentialID is a credential's 128-bit random identity.
type CredentialID [16]byte

// NewCredentialID draws a fresh id from crypto/rand.
func NewCredentialID() CredentialID {
	var id CredentialID
	rand.Read(id[:])
	return id
}

// ParseCredentialID reads the 32 hex digits String writes.
func ParseCredentialID(s string) (CredentialID, error) {
	var id CredentialID
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(id) {
		return id, fmt.Errorf("%q is not a credential id", s)
	}
	copy(id[:], b)
	return id, nil
}

func (id CredentialID) String() string { return hex.EncodeToString(id[:]) }

// CredentialStatus is where a credential is in its life.
type CredentialStatus string

// Credential statuses.
const (
	// CredentialInvited: assigned and emailed, no device registered yet.
	CredentialInvited CredentialStatus = "invited"
	// CredentialActive: a device is registered and may open doors.
	CredentialActive CredentialStatus = "active"
	// CredentialRevoked: refused everywhere at once.
	CredentialRevoked CredentialStatus = "revoked"
	// CredentialExpired: the invitation ran out before a device registered.
	CredentialExpired CredentialStatus = "expired"
)

// Credential is a Smart credential: a phone (or soft key) bound to a user.
type Credential struct {
	ID           CredentialID
	UserID       int64
	Kind         string // "smart"
	Status       CredentialStatus
	TapKey       []byte // device public keys, SEC1 uncompressed, once registered
	UVKey        []byte
	DeviceInfo   string
	CreatedAt    time.Time
	RegisteredAt time.Time
	LastUsedAt   time.Time

	// Issuer is the site that issued a credential added from another site
	// ("Add a credential"); its Name is empty for the site's own.
	Issuer IssuerSite

	// Protocol is the credential protocol version its device speaks: 1
	// for keys registered before version 2 (and not migrated), 2 after.
	Protocol int
	// Introduction is the secret of the version 2 share it was imported
	// from, kept until the phone has been introduced to this site at a
	// reader; nil once it has, and for every other credential.
	Introduction []byte
	// TokenID is the version 2 token it was imported from: a token is
	// imported once.
	TokenID []byte
}

// Introduction is a pending introduction the reader checks a hello's tag
// against: an imported version 2 credential the phone has not yet met
// this site with.
type Introduction struct {
	Credential CredentialID
	Secret     []byte
}

// IssuerSite names the site a credential came from.
type IssuerSite struct {
	ID   [16]byte
	Name string
	URL  string
	Key  []byte // SEC1 public key
}

// DeviceKeys are a registered device's public keys, SEC1 uncompressed.
type DeviceKeys struct {
	Tap []byte
	UV  []byte
}
