package ble

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
	"postern/store"
)

// holderV2 is a credential registered by a version 2 key at the fixture's
// site: its own key pair, made for this site.
type holderV2 struct {
	cred    access.Credential
	user    access.User
	tap, uv *ecdsa.PrivateKey
}

func newPair(t *testing.T) (*ecdsa.PrivateKey, *ecdsa.PrivateKey, []byte, []byte) {
	t.Helper()
	tap, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	uv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tp, _ := protocol.MarshalPublicKey(&tap.PublicKey)
	up, _ := protocol.MarshalPublicKey(&uv.PublicKey)
	return tap, uv, tp, up
}

// registerV2 assigns u a credential and registers a version 2 device.
func (f *siteFixture) registerV2(u access.User) holderV2 {
	f.t.Helper()
	_, code := f.invite(u)
	return f.reregisterV2(u, code)
}

// reregisterV2 registers a new version 2 device with code.
func (f *siteFixture) reregisterV2(u access.User, code string) holderV2 {
	f.t.Helper()
	tap, uv, tp, up := newPair(f.t)
	c, _, err := f.st.RegisterCredential(f.ctx, access.Registration{Code: code, TapKey: tp, UVKey: up, DeviceInfo: "test key v2", Protocol: 2})
	if err != nil {
		f.t.Fatalf("register: %v", err)
	}
	return holderV2{cred: c, user: u, tap: tap, uv: uv}
}

// pin is the fixture's site as a version 2 key pins it.
func (f *siteFixture) pin() protocol.SitePin {
	site, err := f.st.Site(f.ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	return protocol.SitePin{Site: protocol.SiteID(site.ID), KeyID: protocol.PublicKeyID(&site.Key.PublicKey), Key: &site.Key.PublicKey}
}

func (h holderV2) site(pin protocol.SitePin) KeySite {
	uv := h.uv
	return KeySite{Pin: pin, Credential: protocol.CredentialID(h.cred.ID), Tap: h.tap, UV: func() (*ecdsa.PrivateKey, error) { return uv, nil }}
}

// v2Key is a version 2 key on the fixture's side: it keeps its ticket and
// pins from one presentation to the next, as the soft key's state does.
type v2Key struct {
	k        KeyCredentialV2
	outcomes []KeyOutcomeV2
	stats    []LinkStats
}

func (f *siteFixture) keyV2(h holderV2) *v2Key {
	pin := f.pin()
	return &v2Key{k: KeyCredentialV2{Sites: map[protocol.SiteID]KeySite{pin.Site: h.site(pin)}}}
}

// side presents the key once and remembers what it learned.
func (k *v2Key) side() keySide {
	return func(ctx context.Context, l Link) (protocol.Result, error) {
		cl := Count(l)
		out, err := PresentKeyV2(ctx, cl, k.k)
		k.outcomes = append(k.outcomes, out)
		k.stats = append(k.stats, cl.Stats())
		// A ticket is shown once: forget it whatever happened.
		k.k.Ticket = nil
		if err == nil {
			if out.Next != nil {
				k.k.Ticket, k.k.TicketSite = out.Next, out.Site
			}
			if out.Learned != nil {
				s := k.k.Sites[out.Site]
				if out.Introduced {
					s = k.k.Intro.Site
					k.k.Intro = nil
				}
				s.Pin = *out.Learned
				k.k.Sites[out.Site] = s
			}
		}
		return out.Result, err
	}
}

func (k *v2Key) last() (KeyOutcomeV2, LinkStats) {
	return k.outcomes[len(k.outcomes)-1], k.stats[len(k.stats)-1]
}

func TestExchangeV2FullThenExpedited(t *testing.T) {
	f := newSiteFixture(t)
	front := f.accessPoint("Front door", "sim:front", nil)
	ann := f.registerV2(f.user("Ann"))
	f.permit(access.Permission{UserID: ann.user.ID, AccessPointID: front.ID})
	key := f.keyV2(ann)
	for i, want := range []struct {
		path       protocol.Path
		proto      string
		roundTrips int
	}{
		{protocol.PathFull, "v2", 2},
		{protocol.PathExpedited, "v2 expedited", 1},
		{protocol.PathExpedited, "v2 expedited", 1},
	} {
		p := f.present(front, -50, key.side())
		if p.err != nil || p.keyErr != nil {
			t.Fatalf("presentation %d: exchange %v; key %v", i, p.err, p.keyErr)
		}
		out, stats := key.last()
		if !p.result.Granted || out.Path != want.path || out.Next == nil {
			t.Fatalf("presentation %d: got %+v path %v ticket %v, want granted on the %v path with a ticket", i, p.result, out.Path, out.Next, want.path)
		}
		if got := stats.RoundTrips(); got != want.roundTrips {
			t.Errorf("presentation %d: %d round trips (%+v), want %d", i, got, stats, want.roundTrips)
		}
		e := p.only(t)
		checkEvent(t, e, "access.granted", "granted", front, ann.cred.ID.String(), ann.user.ID, -50)
		if e.Protocol != want.proto {
			t.Errorf("presentation %d: event protocol %q, want %q", i, e.Protocol, want.proto)
		}
		if d := recv(t, f.door.pulses, "the door"); d.ID != front.ID {
			t.Errorf("presentation %d: pulsed door %+v, want %s", i, d, front.Name)
		}
	}
	if _, stats := key.last(); stats.BytesSent != 116 || stats.BytesReceived != protocol.ResultV2ExpeditedSize {
		t.Errorf("expedited bytes %+v, want a 116-byte hello and a %d-byte result", stats, protocol.ResultV2ExpeditedSize)
	}
}

// TestExchangeV2Revoked: revocation ends the expedited path as it ends
// everything: the ticket finds the credential, which is refused, and no
// next ticket is given, so the presentation after is full and refused too.
func TestExchangeV2Revoked(t *testing.T) {
	f := newSiteFixture(t)
	front := f.accessPoint("Front door", "sim:front", nil)
	ann := f.registerV2(f.user("Ann"))
	f.permit(access.Permission{UserID: ann.user.ID, AccessPointID: front.ID})
	key := f.keyV2(ann)
	if p := f.present(front, -50, key.side()); !p.result.Granted {
		t.Fatalf("before revoking: %+v %v %v", p.result, p.err, p.keyErr)
	}
	if err := f.st.RevokeCredential(f.ctx, "test", ann.cred.ID); err != nil {
		t.Fatal(err)
	}
	for _, path := range []protocol.Path{protocol.PathExpedited, protocol.PathFull} {
		p := f.present(front, -50, key.side())
		out, _ := key.last()
		if p.err != nil || p.keyErr != nil || out.Path != path || p.result.Granted || p.result.Reason != protocol.ReasonCredentialNotActive || out.Next != nil {
			t.Fatalf("%v after revoking: got %+v on %v, ticket %v (%v, %v); want refused as not active, no ticket", path, p.result, out.Path, out.Next, p.err, p.keyErr)
		}
	}
	recv(t, f.door.pulses, "the door opened before revoking")
	if n := len(f.pulses()); n != 0 {
		t.Errorf("%d door pulses after revoking, want none", n)
	}
}

// TestExchangeV2ReissueEndsTheOldPhonesTicket: when a new phone registers
// the credential, the old phone's ticket opens nothing, and neither does
// its full exchange: on both paths it is denied as replaced by a newer
// phone, with its user named, gets no new ticket, and is no use of the
// credential. The new phone opens.
func TestExchangeV2ReissueEndsTheOldPhonesTicket(t *testing.T) {
	f := newSiteFixture(t)
	front := f.accessPoint("Front door", "sim:front", nil)
	u := f.user("Ann")
	old := f.registerV2(u)
	f.permit(access.Permission{UserID: u.ID, AccessPointID: front.ID})
	oldKey := f.keyV2(old)
	if p := f.present(front, -50, oldKey.side()); !p.result.Granted || oldKey.k.Ticket == nil {
		t.Fatalf("old phone: %+v", p.result)
	}
	recv(t, f.door.pulses, "the door opened for the old phone before the reissue")
	code := access.NewRegistrationCode()
	if err := f.st.NewRegistrationCode(f.ctx, "test", old.cred.ID, "reissued", code, time.Now().Add(time.Hour), func(access.Credential, access.User) (store.Mail, error) {
		return store.Mail{Kind: "invitation", Recipient: u.Email, Subject: "s", Message: "{}"}, nil
	}); err != nil {
		t.Fatal(err)
	}
	newPhone := f.reregisterV2(u, code)
	before, err := f.st.CredentialByID(f.ctx, old.cred.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range []protocol.Path{protocol.PathExpedited, protocol.PathFull} {
		p := f.present(front, -50, oldKey.side())
		out, _ := oldKey.last()
		if p.err != nil || p.keyErr != nil || out.Path != path || p.result.Granted || p.result.Reason != protocol.ReasonReplaced || out.Next != nil {
			t.Fatalf("old phone on %v after the reissue: got %+v on %v, ticket %v (%v, %v); want denied as replaced, no ticket", path, p.result, out.Path, out.Next, p.err, p.keyErr)
		}
		e := p.only(t)
		checkEvent(t, e, "access.denied", "replaced by a newer phone", front, old.cred.ID.String(), u.ID, -50)
		if want := map[protocol.Path]string{protocol.PathExpedited: "v2 expedited", protocol.PathFull: "v2"}[path]; e.Protocol != want {
			t.Errorf("event protocol %q, want %q", e.Protocol, want)
		}
	}
	if n := len(f.pulses()); n != 0 {
		t.Errorf("%d door pulses for the replaced phone, want none", n)
	}
	after, err := f.st.CredentialByID(f.ctx, old.cred.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !after.LastUsedAt.Equal(before.LastUsedAt) {
		t.Errorf("the old phone moved the credential's last use from %v to %v", before.LastUsedAt, after.LastUsedAt)
	}
	if p := f.present(front, -50, f.keyV2(newPhone).side()); !p.result.Granted {
		t.Errorf("new phone: got %+v, want granted", p.result)
	}
}

// TestExchangeV2UnlockRequired: an unlock-required access point always
// runs the full exchange, says so in the challenge, and gets a
// user-verification signature made within its unlock window.
func TestExchangeV2UnlockRequired(t *testing.T) {
	f := newSiteFixture(t)
	lab := f.accessPoint("Lab", "sim:lab", func(a *access.AccessPoint) { a.RequireUnlock = true; a.UnlockWindow = 3 * time.Second })
	ann := f.registerV2(f.user("Ann"))
	f.permit(access.Permission{UserID: ann.user.ID, AccessPointID: lab.ID})
	key := f.keyV2(ann)
	for i := range 2 {
		p := f.present(lab, -50, key.side())
		out, _ := key.last()
		if p.err != nil || p.keyErr != nil || !p.result.Granted || !out.UnlockNeeded || !out.UserVerified || out.Path != protocol.PathFull {
			t.Fatalf("presentation %d: got %+v %+v (%v, %v), want granted in full with user verification", i, p.result, out, p.err, p.keyErr)
		}
	}
	// A key that cannot unlock in the window answers with its tap key and
	// is told unlock is required.
	slow := key.k.Sites[f.pin().Site]
	slow.UV = func() (*ecdsa.PrivateKey, error) { time.Sleep(3100 * time.Millisecond); return ann.uv, nil }
	key.k.Sites[f.pin().Site] = slow
	p := f.present(lab, -50, key.side())
	if p.result.Granted || p.result.Reason != protocol.ReasonUnlockRequired {
		t.Fatalf("slow unlock: got %+v, want unlock required", p.result)
	}
}

func TestExchangeV2Late(t *testing.T) {
	f := newSiteFixture(t)
	front := f.accessPoint("Front door", "sim:front", func(a *access.AccessPoint) { a.ResponseDeadline = 300 * time.Millisecond })
	ann := f.registerV2(f.user("Ann"))
	f.permit(access.Permission{UserID: ann.user.ID, AccessPointID: front.ID})
	key := f.keyV2(ann)
	// The key answers after the access point's deadline (the fixture's
	// default is ten seconds: the access point's own applies).
	slow := key.k.Sites[f.pin().Site]
	slow.UV = func() (*ecdsa.PrivateKey, error) { f.clock.advance(400 * time.Millisecond); return ann.uv, nil }
	key.k.Sites[f.pin().Site], key.k.Unlocked = slow, true
	p := f.present(front, -50, key.side())
	if p.result.Granted || !errors.Is(p.keyErr, ErrNoResult) {
		t.Fatalf("got %+v, key %v; want no result", p.result, p.keyErr)
	}
	if e := p.only(t); e.Kind != "access.rejected" || e.Reason != "late" || e.Protocol != "v2" {
		t.Errorf("got event %+v, want a late rejection", e)
	}
}

// TestExchangeV2UnknownSiteGetsNothing: a key pinned elsewhere refuses the
// challenge and sends nothing more; the reader is left with no decision.
func TestExchangeV2UnknownSiteGetsNothing(t *testing.T) {
	f := newSiteFixture(t)
	front := f.accessPoint("Front door", "sim:front", nil)
	ann := f.registerV2(f.user("Ann"))
	key := f.keyV2(ann)
	other := protocol.SitePin{Site: protocol.SiteID{9}, KeyID: protocol.KeyID{9}, Key: &ann.tap.PublicKey}
	key.k.Sites = map[protocol.SiteID]KeySite{other.Site: ann.site(other)}
	tap := &sendTap{}
	p := f.present(front, -50, func(ctx context.Context, l Link) (protocol.Result, error) {
		tap.Link = l
		return key.side()(ctx, tap)
	})
	if !errors.Is(p.keyErr, ErrUnknownSite) {
		t.Fatalf("key: got %v, want %v", p.keyErr, ErrUnknownSite)
	}
	if n := len(tap.messages()); n != 1 {
		t.Errorf("the key sent %d messages, want only its hello", n)
	}
	if len(p.events) != 0 {
		t.Errorf("events %+v, want none: no decision was made", p.events)
	}
}

// TestExchangeV1Off: once an admin turns version 1 off, a version 1 key
// is told to update and the event says so; version 2 keys are unaffected.
func TestExchangeV1Off(t *testing.T) {
	f := newSiteFixture(t)
	front := f.accessPoint("Front door", "sim:front", nil)
	old := f.register(f.user("Old"))
	ann := f.registerV2(f.user("Ann"))
	for _, u := range []int64{old.user.ID, ann.user.ID} {
		f.permit(access.Permission{UserID: u, AccessPointID: front.ID})
	}
	p := f.present(front, -50, honest(f.keyFor(old), false))
	if !p.result.Granted || p.only(t).Protocol != "v1" {
		t.Fatalf("version 1 while accepted: got %+v %+v", p.result, p.events)
	}
	if err := f.st.SetSetting(f.ctx, "test", store.SettingAcceptV1, "false"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(siteTTL)
	p = f.present(front, -50, honest(f.keyFor(old), false))
	if p.result.Granted || p.result.Reason != protocol.ReasonUpdateRequired || p.result.Message != "Update your key" {
		t.Fatalf("version 1 once off: got %+v, want update required", p.result)
	}
	e := p.only(t)
	checkEvent(t, e, "access.denied", "update required", front, old.cred.ID.String(), old.user.ID, -50)
	if e.Protocol != "v1" {
		t.Errorf("event protocol %q, want v1", e.Protocol)
	}
	if p := f.present(front, -50, f.keyV2(ann).side()); !p.result.Granted {
		t.Errorf("version 2 key: got %+v, want granted", p.result)
	}
}

// TestExchangeV2Introduction: a site that imported a share proves it to
// the phone on first contact; the phone pins it and answers with the
// identity made for it, and the site forgets the secret.
func TestExchangeV2Introduction(t *testing.T) {
	f := newSiteFixture(t)
	front := f.accessPoint("Front door", "sim:front", nil)
	u := f.user("Visitor")
	tap, uv, tp, up := newPair(t)
	secret := make([]byte, protocol.SecretSize)
	rand.Read(secret)
	cred := access.Credential{ID: access.NewCredentialID(), TapKey: tp, UVKey: up, Protocol: 2, Introduction: secret, TokenID: []byte{1},
		Issuer: access.IssuerSite{ID: [16]byte{7}, Name: "Home", URL: "https://home.example", Key: tp}}
	if err := f.st.ImportCredential(f.ctx, "test", u.ID, cred); err != nil {
		t.Fatal(err)
	}
	f.permit(access.Permission{UserID: u.ID, AccessPointID: front.ID})
	pending := holderV2{cred: cred, user: u, tap: tap, uv: uv}
	key := &v2Key{k: KeyCredentialV2{Sites: map[protocol.SiteID]KeySite{}, Intro: &KeyIntroduction{Secret: secret, Site: pending.site(protocol.SitePin{})}}}
	p := f.present(front, -50, key.side())
	out, _ := key.last()
	if p.err != nil || p.keyErr != nil || !p.result.Granted || !out.Introduced || out.Learned == nil || out.Learned.KeyID != f.pin().KeyID {
		t.Fatalf("first contact: got %+v %+v (%v, %v), want granted after an introduction", p.result, out, p.err, p.keyErr)
	}
	if intros, err := f.st.Introductions(f.ctx); err != nil || len(intros) != 0 {
		t.Errorf("introductions after first contact: %+v %v, want none", intros, err)
	}
	// Now pinned, with a ticket: the next presentation is expedited.
	if p := f.present(front, -50, key.side()); !p.result.Granted {
		t.Fatalf("second presentation: %+v", p.result)
	}
	if out, _ := key.last(); out.Path != protocol.PathExpedited {
		t.Errorf("second presentation on the %v path, want expedited", out.Path)
	}
}

// TestExchangeV2Rollover: after an admin rolls the site key, a key that
// pinned the old one learns the new one from the old one's certificate,
// and its ticket from before the roll is not taken.
func TestExchangeV2Rollover(t *testing.T) {
	f := newSiteFixture(t)
	front := f.accessPoint("Front door", "sim:front", nil)
	ann := f.registerV2(f.user("Ann"))
	f.permit(access.Permission{UserID: ann.user.ID, AccessPointID: front.ID})
	key := f.keyV2(ann)
	if p := f.present(front, -50, key.side()); !p.result.Granted || key.k.Ticket == nil {
		t.Fatalf("before the roll: %+v", p.result)
	}
	oldPin := f.pin()
	next, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.st.RollSiteKey(f.ctx, "test", next, func(old *ecdsa.PrivateKey) (access.SiteRollover, error) {
		r, err := protocol.CertifyRollover(oldPin.Site, old, &next.PublicKey, time.Now().Add(24*time.Hour))
		return access.SiteRollover{OldKeyID: r.OldKeyID, NotAfter: r.NotAfter, Signature: r.Signature[:]}, err
	}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(siteTTL)
	p := f.present(front, -50, key.side())
	out, _ := key.last()
	if !p.result.Granted || out.Path != protocol.PathFull || out.Learned == nil || out.Learned.KeyID != protocol.PublicKeyID(&next.PublicKey) {
		t.Fatalf("after the roll: got %+v %+v, want granted in full, learning the new key", p.result, out)
	}
	if p := f.present(front, -50, key.side()); !p.result.Granted {
		t.Fatalf("with the new key pinned: %+v", p.result)
	}
	if out, _ := key.last(); out.Path != protocol.PathExpedited || out.Learned != nil {
		t.Errorf("with the new key pinned: %+v, want expedited, nothing learned", out)
	}
}
