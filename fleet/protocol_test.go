package fleet_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"testing"
	"time"

	"postern/access"
	"postern/access/protocol"
	"postern/ble"
	"postern/store"
)

// The tests in this file present real keys, version 1 and 2, to the
// reader's exchange on a remote reader, over an in-memory link, so what
// the site's protocol settings do at a remote door is seen as a key sees
// it.

// holder is a credential registered at the hub with real keys.
type holder struct {
	cred    access.CredentialID
	tap, uv *ecdsa.PrivateKey
}

// registerHolder gives a new user, let in at ap, a credential whose
// device speaks version proto.
func (s *site) registerHolder(t *testing.T, first, code string, proto int, ap access.AccessPoint) holder {
	t.Helper()
	ctx := t.Context()
	u := access.User{FirstName: first, LastName: "Key", Email: first + "@example.com", Enabled: true}
	if err := s.st.CreateUser(ctx, "test", &u); err != nil {
		t.Fatal(err)
	}
	if err := s.st.CreatePermission(ctx, "test", &access.Permission{UserID: u.ID, AccessPointID: ap.ID}); err != nil {
		t.Fatal(err)
	}
	mail := func(access.Credential, access.User) (store.Mail, error) {
		return store.Mail{Kind: "invitation", Recipient: u.Email, Subject: "key", Message: "{}"}, nil
	}
	if _, err := s.st.AssignCredential(ctx, "test", u.ID, code, time.Now().Add(time.Hour), mail); err != nil {
		t.Fatal(err)
	}
	h := holder{tap: newKey(t), uv: newKey(t)}
	tp, _ := protocol.MarshalPublicKey(&h.tap.PublicKey)
	up, _ := protocol.MarshalPublicKey(&h.uv.PublicKey)
	c, _, err := s.st.RegisterCredential(ctx, access.Registration{Code: code, TapKey: tp, UVKey: up, DeviceInfo: "test key", Protocol: proto})
	if err != nil {
		t.Fatal(err)
	}
	h.cred = c.ID
	return h
}

func newKey(t *testing.T) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// sitePin is the hub's site as a version 2 key pins it now.
func (s *site) sitePin(t *testing.T) protocol.SitePin {
	t.Helper()
	site, err := s.st.Site(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return protocol.SitePin{Site: protocol.SiteID(site.ID), KeyID: protocol.PublicKeyID(&site.Key.PublicKey), Key: &site.Key.PublicKey}
}

// present runs one presentation at ap through the remote reader's
// exchange, with key playing the key's end of the link, and returns what
// went wrong on either end.
func (r *reader) present(t *testing.T, x *ble.SiteExchange, ap access.AccessPoint, key func(context.Context, ble.Link) error) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	readerEnd, keyEnd := ble.Pipe()
	done := make(chan error, 1)
	go func() {
		defer keyEnd.Close()
		done <- key(ctx, keyEnd)
	}()
	err := x.Exchange(ctx, ble.ReaderConfig{ID: ap.ID, Name: ap.Name, Binding: ap.Reader}, ble.Candidate{Addr: "40:00:00:00:00:01", RSSI: -50}, readerEnd)
	readerEnd.Close()
	return errors.Join(err, <-done)
}

// exchange is the reader's exchange as `postern reader` wires it: it
// decides from the node's copy of the policy and checks web keys'
// passkeys against the hub's relying party in that copy.
func (r *reader) exchange(t *testing.T) *ble.SiteExchange {
	log := testLog(t)
	x := ble.NewSiteExchange(r.node.Store(), ble.LogDoor{Logger: log}, 0, log)
	x.RelyingParty = r.node.Store().RelyingParty
	return x
}

// hubEvent returns the hub's newest event from a reader of the given
// reason, if any.
func hubEvent(t *testing.T, st *store.Store, reason string) (access.Event, bool) {
	t.Helper()
	evs, _, err := st.Events(t.Context(), access.EventFilter{Kind: "access.", Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if e.UID != "" && e.Reason == reason {
			return e, true
		}
	}
	return access.Event{}, false
}

func TestRemoteReaderTurnsVersion1OffWithTheHub(t *testing.T) {
	s := startSite(t)
	r := s.startReader(t, s.addReader(t, "door1"))
	ctx := t.Context()
	old := s.registerHolder(t, "Old", "31313131313131313131313131313131", 1, s.front)
	pin := s.sitePin(t)
	key := ble.KeyCredential{ID: protocol.CredentialID(old.cred), Tap: old.tap, Strict: true,
		Sites: map[protocol.SiteID]*ecdsa.PublicKey{pin.Site: pin.Key}}
	var last ble.KeyOutcome
	v1 := func(ctx context.Context, l ble.Link) (err error) {
		last, err = ble.PresentKey(ctx, l, key, false)
		return err
	}
	x := r.exchange(t)

	eventually(t, 10*time.Second, "the version 1 key opens at the remote reader", func() bool {
		return r.present(t, x, s.front, v1) == nil && last.Result.Granted
	})
	if err := s.st.SetSetting(ctx, "test", store.SettingAcceptV1, "false"); err != nil {
		t.Fatal(err)
	}
	took := eventually(t, 10*time.Second, "the remote reader tells the version 1 key to update", func() bool {
		err := r.present(t, x, s.front, v1)
		return err == nil && !last.Result.Granted && last.Result.Reason == protocol.ReasonUpdateRequired
	})
	t.Logf("turning version 1 off reached the remote reader in %v", took)

	// The refusal reaches the hub's log as the appliance's own readers
	// write it: with the version the key presented with.
	var e access.Event
	eventually(t, 20*time.Second, "the refusal reaches the hub", func() bool {
		var ok bool
		e, ok = hubEvent(t, s.st, access.ReasonUpdateRequired.String())
		return ok
	})
	if e.Kind != "access.denied" || e.Protocol != "v1" || e.CredentialID != old.cred.String() {
		t.Errorf("the hub's event: got kind %q protocol %q credential %q, want access.denied, v1, %s", e.Kind, e.Protocol, e.CredentialID, old.cred)
	}

	// Turned on again, the reader lets version 1 in again.
	if err := s.st.SetSetting(ctx, "test", store.SettingAcceptV1, "true"); err != nil {
		t.Fatal(err)
	}
	eventually(t, 10*time.Second, "turning version 1 on again reaches the remote reader", func() bool {
		return r.present(t, x, s.front, v1) == nil && last.Result.Granted
	})
}

func TestRemoteReaderVouchesForARolledSiteKey(t *testing.T) {
	s := startSite(t)
	r := s.startReader(t, s.addReader(t, "door1"))
	ctx := t.Context()
	ann := s.registerHolder(t, "Ann2", "42424242424242424242424242424242", 2, s.front)
	oldPin := s.sitePin(t)
	uv := ann.uv
	k := ble.KeyCredentialV2{Sites: map[protocol.SiteID]ble.KeySite{oldPin.Site: {
		Pin: oldPin, Credential: protocol.CredentialID(ann.cred), Tap: ann.tap, UV: func() (*ecdsa.PrivateKey, error) { return uv, nil },
	}}}
	var last ble.KeyOutcomeV2
	v2 := func(ctx context.Context, l ble.Link) (err error) {
		// No ticket: each presentation is the full exchange, signed by
		// the site key the reader holds.
		last, err = ble.PresentKeyV2(ctx, l, k)
		return err
	}
	x := r.exchange(t)
	eventually(t, 10*time.Second, "the version 2 key opens at the remote reader", func() bool {
		return r.present(t, x, s.front, v2) == nil && last.Result.Granted
	})

	next := newKey(t)
	if err := s.st.RollSiteKey(ctx, "test", next, func(old *ecdsa.PrivateKey) (access.SiteRollover, error) {
		c, err := protocol.CertifyRollover(oldPin.Site, old, &next.PublicKey, time.Now().Add(24*time.Hour))
		return access.SiteRollover{OldKeyID: c.OldKeyID, NotAfter: c.NotAfter, Signature: c.Signature[:]}, err
	}); err != nil {
		t.Fatal(err)
	}
	newID := protocol.PublicKeyID(&next.PublicKey)
	var err error
	took := eventually(t, 10*time.Second, "a key pinned to the old site key learns the new one at the remote reader", func() bool {
		err = r.present(t, x, s.front, v2)
		return err == nil && last.Result.Granted && last.Learned != nil && last.Learned.KeyID == newID
	})
	t.Logf("the rolled key and its certificate reached the remote reader in %v (last key error: %v)", took, err)
}
