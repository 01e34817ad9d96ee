package softkey

import (
	"crypto/ecdsa"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"time"
)

// FormatVersion2 is the state file of a version 2 key.
const FormatVersion2 = 2

// SiteV2 is a site a version 2 key holds a credential at: the key it
// pinned there and the identity it made for that site alone. Its private
// keys are in the vault, under CredentialID.
type SiteV2 struct {
	ID           string `json:"id"`
	Name         string `json:"name"`
	URL          string `json:"url,omitempty"`
	KeyID        string `json:"key_id"`
	PublicKey    []byte `json:"public_key"`
	CredentialID string `json:"credential_id"`
	Home         bool   `json:"home,omitempty"`
	// CertPin is the fingerprint of the home site's self-signed HTTPS
	// certificate, when the key was told to trust it at registration.
	CertPin  string    `json:"tls_fingerprint,omitempty"`
	AddedAt  time.Time `json:"added_at"`
	LastUsed time.Time `json:"last_used,omitzero"`
}

// PendingShare is a share sent from the home site and not yet met at the
// site that imports it: the identity made for that site waits, with its
// introduction secret, in the vault under CredentialID.
type PendingShare struct {
	CredentialID string    `json:"credential_id"`
	AdminEmail   string    `json:"admin_email"`
	SentAt       time.Time `json:"sent_at"`
	ExpiresAt    time.Time `json:"expires_at"`
	LastOffered  time.Time `json:"last_offered,omitzero"`
}

// StateV2 is a version 2 soft key: one credential, registered at its home
// site and added to others with a different identity at each. Everything
// secret is in the vault, sealed under the passphrase; a real phone keeps
// the private keys in its secure hardware instead, and only the tickets
// and introduction secrets in its app storage.
type StateV2 struct {
	Version      int            `json:"version"`
	FirstName    string         `json:"first_name,omitempty"`
	LastName     string         `json:"last_name,omitempty"`
	Sites        []SiteV2       `json:"sites"`
	Pending      []PendingShare `json:"pending_shares,omitempty"`
	RegisteredAt time.Time      `json:"registered_at"`
	// Migrating is set while a version 1 credential is being moved: the
	// vault still holds its old keys, and the request can be sent again
	// with the same new keys until the home site confirms.
	Migrating bool  `json:"migrating,omitempty"`
	Vault     Vault `json:"vault"`

	secrets *Secrets
	key     []byte
}

// Secrets are what the vault holds.
type Secrets struct {
	// Keys are the key pairs by credential id: one per site, and one per
	// pending share.
	Keys map[string]KeyPair `json:"keys"`
	// Intros are the pending shares' introduction secrets, by credential id.
	Intros map[string][]byte `json:"intros,omitempty"`
	// Tickets are the expedited-path tickets, by site id.
	Tickets map[string]Ticket `json:"tickets,omitempty"`
	// Legacy is the version 1 key pair of a credential being migrated.
	Legacy *KeyPair `json:"legacy,omitempty"`
}

// KeyPair is a tap and a user-verification key, PKCS#8.
type KeyPair struct {
	Tap []byte `json:"tap"`
	UV  []byte `json:"uv"`
}

// Ticket is an expedited-path ticket the key holds for one site.
type Ticket struct {
	ID      []byte    `json:"id"`
	Secret  []byte    `json:"secret"`
	Expires time.Time `json:"expires"`
}

// ErrLocked is returned when the vault is needed and was not opened.
var ErrLocked = errors.New("the key's vault is not open: give its passphrase")

// NewStateV2 returns an empty version 2 state whose vault seals under
// passphrase.
func NewStateV2(passphrase string) (*StateV2, error) {
	v, key, err := newVault(passphrase)
	if err != nil {
		return nil, err
	}
	return &StateV2{Version: FormatVersion2, Vault: v, key: key, secrets: &Secrets{Keys: map[string]KeyPair{}}}, nil
}

// Format returns the format version of a state file: 1, 2, or
// ErrNoCredential when there is none.
func Format(path string) (int, error) {
	var probe struct {
		Version int `json:"version"`
	}
	err := readState(path, &probe)
	return probe.Version, err
}

// LoadV2 reads a version 2 state file; Open unseals its vault.
func LoadV2(path string) (*StateV2, error) {
	var s StateV2
	if err := readState(path, &s); err != nil {
		return nil, err
	}
	if s.Version != FormatVersion2 {
		return nil, fmt.Errorf("the state file %s has format %d, not %d", path, s.Version, FormatVersion2)
	}
	if s.Home() == nil {
		return nil, fmt.Errorf("the state file %s has no home site", path)
	}
	return &s, nil
}

// Open unseals the vault with the passphrase (ErrWrongPIN when it does not
// open).
func (s *StateV2) Open(passphrase string) error {
	var sec Secrets
	key, err := s.Vault.open(passphrase, &sec)
	if err != nil {
		return err
	}
	if sec.Keys == nil {
		sec.Keys = map[string]KeyPair{}
	}
	s.secrets, s.key = &sec, key
	return nil
}

// Save seals the vault again (with the key Open or NewStateV2 derived)
// and writes the file atomically, readable by its owner only.
func (s *StateV2) Save(path string) error {
	if s.secrets == nil {
		return ErrLocked
	}
	if err := s.Vault.seal(s.key, s.secrets); err != nil {
		return err
	}
	s.Version = FormatVersion2
	return writeState(path, s)
}

// Home is the home site, where the credential was registered.
func (s *StateV2) Home() *SiteV2 {
	for i := range s.Sites {
		if s.Sites[i].Home {
			return &s.Sites[i]
		}
	}
	return nil
}

// Site returns the site with id, or nil.
func (s *StateV2) Site(id string) *SiteV2 {
	for i := range s.Sites {
		if s.Sites[i].ID == id {
			return &s.Sites[i]
		}
	}
	return nil
}

// AddSite records a site and the key pair made for it.
func (s *StateV2) AddSite(site SiteV2, k Keys) error {
	if s.secrets == nil {
		return ErrLocked
	}
	pair, err := marshalPair(k)
	if err != nil {
		return err
	}
	s.Sites = slices.DeleteFunc(s.Sites, func(x SiteV2) bool { return x.ID == site.ID })
	s.Sites = append(s.Sites, site)
	s.secrets.Keys[site.CredentialID] = pair
	return nil
}

// AddPending records a share sent, with the key pair and introduction
// secret made for the site that will import it.
func (s *StateV2) AddPending(p PendingShare, k Keys, intro []byte) error {
	if s.secrets == nil {
		return ErrLocked
	}
	pair, err := marshalPair(k)
	if err != nil {
		return err
	}
	s.Pending = append(s.Pending, p)
	s.secrets.Keys[p.CredentialID] = pair
	if s.secrets.Intros == nil {
		s.secrets.Intros = map[string][]byte{}
	}
	s.secrets.Intros[p.CredentialID] = intro
	return nil
}

// NextPending returns the pending share to offer for an introduction, its
// keys and secret: the one offered longest ago, so a share that is never
// imported does not hold the others back. Expired ones are dropped.
func (s *StateV2) NextPending(now time.Time) (*PendingShare, Keys, []byte, error) {
	if s.secrets == nil {
		return nil, Keys{}, nil, ErrLocked
	}
	s.Pending = slices.DeleteFunc(s.Pending, func(p PendingShare) bool {
		if !now.Before(p.ExpiresAt) {
			delete(s.secrets.Keys, p.CredentialID)
			delete(s.secrets.Intros, p.CredentialID)
			return true
		}
		return false
	})
	if len(s.Pending) == 0 {
		return nil, Keys{}, nil, nil
	}
	p := slices.MinFunc(s.Pending, func(a, b PendingShare) int { return a.LastOffered.Compare(b.LastOffered) })
	k, err := s.Keys(p.CredentialID)
	if err != nil {
		return nil, Keys{}, nil, err
	}
	for i := range s.Pending {
		if s.Pending[i].CredentialID == p.CredentialID {
			return &s.Pending[i], k, s.secrets.Intros[p.CredentialID], nil
		}
	}
	return nil, Keys{}, nil, nil
}

// Introduced moves a pending share to the sites: the site that imported it
// introduced itself, and the key pinned site.
func (s *StateV2) Introduced(credentialID string, site SiteV2) {
	s.Pending = slices.DeleteFunc(s.Pending, func(p PendingShare) bool { return p.CredentialID == credentialID })
	if s.secrets != nil {
		delete(s.secrets.Intros, credentialID)
	}
	site.CredentialID = credentialID
	s.Sites = slices.DeleteFunc(s.Sites, func(x SiteV2) bool { return x.ID == site.ID && !x.Home })
	s.Sites = append(s.Sites, site)
}

// ForgetPending drops a pending share and its secrets: its request did
// not reach the home site.
func (s *StateV2) ForgetPending(credentialID string) {
	s.Pending = slices.DeleteFunc(s.Pending, func(p PendingShare) bool { return p.CredentialID == credentialID })
	if s.secrets != nil {
		delete(s.secrets.Keys, credentialID)
		delete(s.secrets.Intros, credentialID)
	}
}

// Keys returns the key pair of one of the key's credentials.
func (s *StateV2) Keys(credentialID string) (Keys, error) {
	if s.secrets == nil {
		return Keys{}, ErrLocked
	}
	pair, ok := s.secrets.Keys[credentialID]
	if !ok {
		return Keys{}, fmt.Errorf("the state file has no keys for credential %s", credentialID)
	}
	return parsePair(pair)
}

// Ticket returns the live ticket held for a site, if any.
func (s *StateV2) Ticket(siteID string, now time.Time) (Ticket, bool) {
	if s.secrets == nil {
		return Ticket{}, false
	}
	t, ok := s.secrets.Tickets[siteID]
	if !ok || !now.Before(t.Expires) {
		return Ticket{}, false
	}
	return t, true
}

// SetTicket keeps the ticket a site gave, replacing what was there.
func (s *StateV2) SetTicket(siteID string, t Ticket) {
	if s.secrets == nil {
		return
	}
	if s.secrets.Tickets == nil {
		s.secrets.Tickets = map[string]Ticket{}
	}
	s.secrets.Tickets[siteID] = t
}

// DropTicket forgets a site's ticket: it has been shown once.
func (s *StateV2) DropTicket(siteID string) {
	if s.secrets != nil {
		delete(s.secrets.Tickets, siteID)
	}
}

// SetLegacy keeps a version 1 key pair in the vault while it is migrated;
// nil forgets it.
func (s *StateV2) SetLegacy(k *Keys) error {
	if s.secrets == nil {
		return ErrLocked
	}
	if k == nil {
		s.secrets.Legacy = nil
		return nil
	}
	pair, err := marshalPair(*k)
	if err != nil {
		return err
	}
	s.secrets.Legacy = &pair
	return nil
}

// Legacy returns the version 1 key pair being migrated.
func (s *StateV2) Legacy() (Keys, error) {
	if s.secrets == nil {
		return Keys{}, ErrLocked
	}
	if s.secrets.Legacy == nil {
		return Keys{}, errors.New("the state file holds no version 1 keys")
	}
	return parsePair(*s.secrets.Legacy)
}

func marshalPair(k Keys) (KeyPair, error) {
	tap, err := x509.MarshalPKCS8PrivateKey(k.Tap)
	if err != nil {
		return KeyPair{}, err
	}
	uv, err := x509.MarshalPKCS8PrivateKey(k.UV)
	if err != nil {
		return KeyPair{}, err
	}
	return KeyPair{Tap: tap, UV: uv}, nil
}

func parsePair(p KeyPair) (Keys, error) {
	tap, err := parseKey(p.Tap)
	if err != nil {
		return Keys{}, err
	}
	uv, err := parseKey(p.UV)
	if err != nil {
		return Keys{}, err
	}
	return Keys{Tap: tap, UV: uv}, nil
}

// PublicKeys returns the SEC1 public keys of a pair, as the protocol
// carries them.
func (k Keys) PublicKeys() (tap, uv []byte, err error) {
	if tap, err = publicBytes(k.Tap); err != nil {
		return nil, nil, err
	}
	uv, err = publicBytes(k.UV)
	return tap, uv, err
}

func publicBytes(k *ecdsa.PrivateKey) ([]byte, error) {
	if k == nil {
		return nil, errors.New("no key")
	}
	return k.PublicKey.Bytes()
}
