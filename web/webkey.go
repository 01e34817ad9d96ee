package web

import (
	"crypto/rand"
	"encoding/hex"
	"sync"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"
	"github.com/labstack/echo/v4"

	"postern/access/protocol"
)

// The web key: a key page the appliance serves itself, which a phone's
// browser registers from the invitation link (a WebCrypto tap key and a
// passkey) and uses to open doors over Web Bluetooth or over this HTTPS
// ("open from this phone"). Its scripts are plain ES modules in
// assets/static/key; docs/webkey.md says what it does and does not prove.

// Web key API error codes, beside the key API's.
const (
	// KeyErrWebKeyOff: the appliance has no public URL, so passkeys have
	// no relying party to be made for.
	KeyErrWebKeyOff = "web_key_unavailable"
	// KeyErrPasskey: the passkey's registration did not verify.
	KeyErrPasskey = "passkey_error"
	// KeyErrSession: the registration or the open took too long, or was
	// already finished.
	KeyErrSession = "session_expired"
	// KeyErrNotHere: the access point does not open from the phone, or
	// not from this network.
	KeyErrNotHere = "not_from_here"
	// KeyErrCredential: the request is not signed by an active credential.
	KeyErrCredential = "credential_error"
)

// RelyingParty returns who web keys' passkeys are made for: the public
// URL's host name and its origin. ok is false without a usable public URL.
func RelyingParty(publicURL string) (protocol.RelyingParty, bool) {
	return protocol.RelyingPartyOf(publicURL)
}

// webauthnFor returns the WebAuthn relying party of this appliance, named
// after the site.
func (h *handler) webauthnFor(siteName string) (*webauthn.WebAuthn, error) {
	rp, ok := RelyingParty(h.publicURL)
	if !ok {
		return nil, errWebKeyOff
	}
	if siteName == "" {
		siteName = "Postern"
	}
	return webauthn.New(&webauthn.Config{RPID: rp.ID, RPDisplayName: siteName, RPOrigins: rp.Origins})
}

// pending keeps what a web key started and must finish within ttl: a
// passkey registration, or an open in progress. It holds at most max
// entries, dropping the oldest, so nobody can fill the appliance's memory.
type pending[T any] struct {
	mu    sync.Mutex
	ttl   time.Duration
	max   int
	items map[string]pendingItem[T]
	now   func() time.Time
}

type pendingItem[T any] struct {
	v       T
	created time.Time
}

func newPending[T any](ttl time.Duration, max int, now func() time.Time) *pending[T] {
	return &pending[T]{ttl: ttl, max: max, items: map[string]pendingItem[T]{}, now: now}
}

// put keeps v under a new random id and returns the id.
func (p *pending[T]) put(v T) string {
	b := make([]byte, 16)
	rand.Read(b)
	id := hex.EncodeToString(b)
	p.mu.Lock()
	defer p.mu.Unlock()
	now := p.now()
	var oldest string
	for k, it := range p.items {
		if now.Sub(it.created) > p.ttl {
			delete(p.items, k)
		} else if oldest == "" || it.created.Before(p.items[oldest].created) {
			oldest = k
		}
	}
	if len(p.items) >= p.max {
		delete(p.items, oldest)
	}
	p.items[id] = pendingItem[T]{v: v, created: now}
	return id
}

// take removes and returns the entry under id, if it is there and fresh.
func (p *pending[T]) take(id string) (T, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	it, ok := p.items[id]
	delete(p.items, id)
	if !ok || p.now().Sub(it.created) > p.ttl {
		var zero T
		return zero, false
	}
	return it.v, true
}

func (h *handler) webKeyRoutes(pages, api *echo.Group) {
	pages.GET("/key", h.webKeyPage)
	pages.GET("/key/manifest.webmanifest", h.webKeyManifest)
	pages.GET("/key/sw.js", h.webKeyServiceWorker)
	api.POST("/register/begin", h.webKeyRegisterBegin)
	api.POST("/register/finish", h.webKeyRegisterFinish)
	api.POST("/share", h.webKeyShare)
}
