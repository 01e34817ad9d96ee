// Package softkey is the reference soft credential's state: what a phone app
// keeps in its secure storage, kept here in one JSON file per credential.
//
// A version 1 file (State) stores the tap key as it is and seals the
// user-verification key under a PIN with PBKDF2; it is still read, so that
// it can be presented and migrated. A version 2 file (StateV2) seals every
// secret under a passphrase with argon2id (Vault).
package softkey

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// FormatVersion is the state file's format.
const FormatVersion = 1

// pbkdf2Iterations follows OWASP's 2023 advice for PBKDF2-HMAC-SHA256.
const pbkdf2Iterations = 600_000

// MinPINLength is the shortest PIN accepted.
const MinPINLength = 4

// Site is a site the key knows: its home site from registration, or one it
// met at a reader after being added there.
type Site struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	URL       string    `json:"url,omitempty"`
	PublicKey []byte    `json:"public_key"`
	LastUsed  time.Time `json:"last_used,omitzero"`
}

// Sealed is a secret encrypted under a key derived from the PIN.
type Sealed struct {
	Salt       []byte `json:"salt"`
	Iterations int    `json:"iterations"`
	Nonce      []byte `json:"nonce"`
	Ciphertext []byte `json:"ciphertext"`
}

// State is one soft key: one credential, like one per app instance.
type State struct {
	Version      int       `json:"version"`
	CredentialID string    `json:"credential_id"`
	FirstName    string    `json:"first_name,omitempty"`
	LastName     string    `json:"last_name,omitempty"`
	Home         Site      `json:"home"`
	Sites        []Site    `json:"sites,omitempty"` // other sites it has been added to and used at
	TapKey       []byte    `json:"tap_key"`         // PKCS#8
	UVKeyPublic  []byte    `json:"uv_key_public"`   // SEC1; the private half is sealed
	UVKey        Sealed    `json:"uv_key"`
	RegisteredAt time.Time `json:"registered_at"`
	Strict       bool      `json:"strict,omitempty"` // answer no site it does not know
}

// ErrNoCredential is returned by Load when the file does not exist.
var ErrNoCredential = errors.New("this key holds no credential yet: register one with a code from your invitation email")

// ErrWrongPIN is returned when the PIN does not open the user-verification key.
var ErrWrongPIN = errors.New("wrong PIN")

// Keys are freshly made device keys, before registration.
type Keys struct {
	Tap *ecdsa.PrivateKey
	UV  *ecdsa.PrivateKey
}

// NewKeys makes the two P-256 key pairs a credential needs.
func NewKeys() (Keys, error) {
	tap, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return Keys{}, err
	}
	uv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return Keys{}, err
	}
	return Keys{Tap: tap, UV: uv}, nil
}

// Seal stores keys in s, sealing the user-verification key under pin.
func (s *State) Seal(k Keys, pin string) error {
	if len(pin) < MinPINLength {
		return fmt.Errorf("the PIN must be at least %d characters", MinPINLength)
	}
	tap, err := x509.MarshalPKCS8PrivateKey(k.Tap)
	if err != nil {
		return err
	}
	uv, err := x509.MarshalPKCS8PrivateKey(k.UV)
	if err != nil {
		return err
	}
	if s.UVKeyPublic, err = k.UV.PublicKey.Bytes(); err != nil {
		return err
	}
	sealed, err := seal(uv, pin)
	if err != nil {
		return err
	}
	s.TapKey, s.UVKey = tap, sealed
	return nil
}

// Tap returns the tap key.
func (s *State) Tap() (*ecdsa.PrivateKey, error) {
	return parseKey(s.TapKey)
}

// UV opens the user-verification key with the PIN.
func (s *State) UV(pin string) (*ecdsa.PrivateKey, error) {
	der, err := open(s.UVKey, pin)
	if err != nil {
		return nil, err
	}
	return parseKey(der)
}

func parseKey(der []byte) (*ecdsa.PrivateKey, error) {
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("the key in the state file is damaged: %w", err)
	}
	ek, ok := k.(*ecdsa.PrivateKey)
	if !ok || ek.Curve != elliptic.P256() {
		return nil, errors.New("the key in the state file is not a P-256 key")
	}
	return ek, nil
}

func deriveKey(pin string, salt []byte, iter int) ([]byte, error) {
	return pbkdf2.Key(sha256.New, pin, salt, iter, 32)
}

func seal(secret []byte, pin string) (Sealed, error) {
	s := Sealed{Salt: make([]byte, 16), Iterations: pbkdf2Iterations, Nonce: make([]byte, 12)}
	rand.Read(s.Salt)
	rand.Read(s.Nonce)
	gcm, err := pinCipher(pin, s)
	if err != nil {
		return s, err
	}
	s.Ciphertext = gcm.Seal(nil, s.Nonce, secret, []byte("postern-softkey-uv-v1"))
	return s, nil
}

func open(s Sealed, pin string) ([]byte, error) {
	if s.Iterations < 1000 || s.Iterations > 10_000_000 || len(s.Nonce) != 12 {
		return nil, errors.New("the sealed key in the state file is damaged")
	}
	gcm, err := pinCipher(pin, s)
	if err != nil {
		return nil, err
	}
	out, err := gcm.Open(nil, s.Nonce, s.Ciphertext, []byte("postern-softkey-uv-v1"))
	if err != nil {
		return nil, ErrWrongPIN
	}
	return out, nil
}

// pinCipher is AES-GCM under the key PBKDF2 derives from the PIN and the
// sealed secret's salt.
func pinCipher(pin string, s Sealed) (cipher.AEAD, error) {
	key, err := deriveKey(pin, s.Salt, s.Iterations)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// Load reads a state file.
func Load(path string) (*State, error) {
	var s State
	if err := readState(path, &s); err != nil {
		return nil, err
	}
	if s.Version != FormatVersion {
		return nil, fmt.Errorf("the state file %s has format %d; this postern reads format %d", path, s.Version, FormatVersion)
	}
	if s.CredentialID == "" || len(s.TapKey) == 0 || len(s.Home.PublicKey) == 0 {
		return nil, fmt.Errorf("the state file %s is incomplete", path)
	}
	return &s, nil
}

// readState reads a state file of any format into v.
func readState(path string, v any) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return ErrNoCredential
	}
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("the state file %s is not a Postern key: %v", path, err)
	}
	return nil
}

// Save writes the state file atomically, readable by its owner only.
func (s *State) Save(path string) error {
	s.Version = FormatVersion
	return writeState(path, s)
}

// writeState writes a state file atomically, readable by its owner only.
func writeState(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".postern-key-*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}

// Exists reports whether path holds anything, so register can refuse to
// overwrite a credential.
func Exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// Site returns the known site with id, or false.
func (s *State) Site(id string) (Site, bool) {
	if s.Home.ID == id {
		return s.Home, true
	}
	for _, site := range s.Sites {
		if site.ID == id {
			return site, true
		}
	}
	return Site{}, false
}

// Remember records that the key was used at a site, learning it on first
// contact.
func (s *State) Remember(site Site, at time.Time) {
	site.LastUsed = at
	if s.Home.ID == site.ID {
		s.Home.LastUsed = at
		return
	}
	for i := range s.Sites {
		if s.Sites[i].ID == site.ID {
			s.Sites[i].LastUsed = at
			return
		}
	}
	s.Sites = append(s.Sites, site)
}
