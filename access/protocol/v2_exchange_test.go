package protocol

import (
	"bytes"
	"crypto/rand"
	"errors"
	"testing"
	"time"
)

func TestV2FullExchange(t *testing.T) {
	f := newV2Fixture(t)
	for _, uv := range []bool{false, true} {
		r := f.full(t, f.params(0), uv)
		if r.opened.CredentialID != f.cred || r.opened.UserVerified != uv {
			t.Fatalf("opened %+v, want credential %s uv=%v", r.opened, f.cred, uv)
		}
		if err := r.opened.Verify(f.keyFor(&Opened{UserVerified: uv})); err != nil {
			t.Fatalf("verify: %v", err)
		}
		if r.trust.Learned || r.trust.Introduced || r.trust.Pin.KeyID != PublicKeyID(&f.site.PublicKey) {
			t.Errorf("trust %+v, want the pinned key and nothing learned", r.trust)
		}
		tickets := NewTickets(func() time.Time { return t0 }, 0)
		next, err := tickets.Issue(nil, f.cred, r.opened.Session.NextTicketSecret(), r.trust.Pin.KeyID, [32]byte{})
		if err != nil {
			t.Fatal(err)
		}
		sealed, err := SealResult2(r.opened.Session, Result{Granted: true, Reason: ReasonGranted, Message: "Welcome"}, &next)
		if err != nil {
			t.Fatal(err)
		}
		if len(sealed) != ResultV2FullSize {
			t.Errorf("result is %d bytes, want %d", len(sealed), ResultV2FullSize)
		}
		res, kt, err := OpenResult2(r.keySess, sealed)
		if err != nil {
			t.Fatal(err)
		}
		if !res.Granted || res.Message != "Welcome" || kt == nil || kt.ID != next.ID || kt.Lifetime != DefaultTicketLifetime {
			t.Fatalf("got %+v ticket %+v, want granted with ticket %s", res, kt, next.ID)
		}
		if kt.Secret != r.opened.Session.NextTicketSecret() {
			t.Error("the key's ticket secret differs from the site's")
		}
	}
}

// TestV2Expedited: a ticket from a full exchange makes the next
// presentation one round trip, which yields the next ticket in turn.
func TestV2Expedited(t *testing.T) {
	f := newV2Fixture(t)
	tickets := NewTickets(func() time.Time { return t0 }, 0)
	keyID := PublicKeyID(&f.site.PublicKey)
	r := f.full(t, f.params(0), false)
	next, _ := tickets.Issue(nil, f.cred, r.opened.Session.NextTicketSecret(), keyID, [32]byte{})
	sealed, _ := SealResult2(r.opened.Session, Result{Granted: true, Reason: ReasonGranted}, &next)
	_, kt, err := OpenResult2(r.keySess, sealed)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		k := f.hello(t, kt, nil)
		if !k.OfferedTicket() {
			t.Fatal("the hello does not say it offered a ticket")
		}
		x := reader(t, k.Bytes())
		e, ok := tickets.Redeem(x.Hello(), keyID)
		if !ok || e.Credential != f.cred {
			t.Fatalf("round %d: redeem got %+v %v, want the credential's ticket", i, e, ok)
		}
		sess, err := x.Expedite(nil, e.Secret)
		if err != nil {
			t.Fatal(err)
		}
		next, _ := tickets.Issue(nil, e.Credential, sess.NextTicketSecret(), keyID, [32]byte{})
		out, err := SealResult2(sess, Result{Reason: ReasonNoPermission, Message: "No permission for Lab"}, &next)
		if err != nil {
			t.Fatal(err)
		}
		if len(out) != ResultV2ExpeditedSize {
			t.Errorf("expedited result is %d bytes, want %d", len(out), ResultV2ExpeditedSize)
		}
		res, got, err := k.OpenExpedited(out)
		if err != nil {
			t.Fatal(err)
		}
		if res.Reason != ReasonNoPermission || got == nil || got.ID != next.ID {
			t.Fatalf("got %+v %+v", res, got)
		}
		// Replaying the hello finds no ticket: it was spent.
		if _, ok := tickets.Redeem(reader(t, k.Bytes()).Hello(), keyID); ok {
			t.Fatal("a replayed hello redeemed its ticket twice")
		}
		kt = got
	}
}

func TestV2TicketsRefuse(t *testing.T) {
	f := newV2Fixture(t)
	now := t0
	tickets := NewTickets(func() time.Time { return now }, time.Hour)
	keyID := PublicKeyID(&f.site.PublicKey)
	var secret [SecretSize]byte
	rand.Read(secret[:])
	issue := func() *KeyTicket {
		n, err := tickets.Issue(nil, f.cred, secret, keyID, [32]byte{})
		if err != nil {
			t.Fatal(err)
		}
		return &KeyTicket{ID: n.ID, Secret: secret}
	}
	kt := issue()
	wrong := *kt
	wrong.Secret[0] ^= 1
	if _, ok := tickets.Redeem(reader(t, f.hello(t, &wrong, nil).Bytes()).Hello(), keyID); ok {
		t.Fatal("a MAC under the wrong secret redeemed the ticket")
	}
	if tickets.Len() != 1 {
		t.Fatal("a bad MAC spent the ticket: a listener could burn tickets")
	}
	if _, ok := tickets.Redeem(reader(t, f.hello(t, kt, nil).Bytes()).Hello(), KeyID{9}); ok {
		t.Fatal("a ticket issued under another site key was redeemed")
	}
	kt = issue()
	now = now.Add(time.Hour)
	if _, ok := tickets.Redeem(reader(t, f.hello(t, kt, nil).Bytes()).Hello(), keyID); ok {
		t.Fatal("an expired ticket was redeemed")
	}
	first := issue()
	second := issue()
	if _, ok := tickets.Redeem(reader(t, f.hello(t, first, nil).Bytes()).Hello(), keyID); ok {
		t.Fatal("a replaced ticket was redeemed")
	}
	tickets.Forget(f.cred)
	if _, ok := tickets.Redeem(reader(t, f.hello(t, second, nil).Bytes()).Hello(), keyID); ok {
		t.Fatal("a forgotten ticket was redeemed")
	}
}

// TestV2UnknownTicketFallsBack: a hello whose ticket the site does not
// know (another site's, a spent one, filler) gets a challenge, and the
// exchange goes on in full.
func TestV2UnknownTicketFallsBack(t *testing.T) {
	f := newV2Fixture(t)
	var secret [SecretSize]byte
	k := f.hello(t, &KeyTicket{ID: TicketID{1, 2, 3}, Secret: secret}, nil)
	x := reader(t, k.Bytes())
	if _, ok := NewTickets(func() time.Time { return t0 }, 0).Redeem(x.Hello(), KeyID{}); ok {
		t.Fatal("an unknown ticket was redeemed")
	}
	raw, err := x.Challenge(nil, f.params(0))
	if err != nil {
		t.Fatal(err)
	}
	ch, _, err := k.ReadChallenge(raw, f.pins, t0)
	if err != nil {
		t.Fatal(err)
	}
	resp, _, err := k.Respond(ch, f.cred, f.tap, false)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := x.OpenResponse(resp); err != nil {
		t.Fatal(err)
	}
	if _, err := x.Expedite(nil, secret); err == nil {
		t.Error("an exchange that sent a challenge also expedited")
	}
}

func TestV2Introduction(t *testing.T) {
	f := newV2Fixture(t)
	intro := make([]byte, SecretSize)
	rand.Read(intro)
	k := f.hello(t, nil, intro)
	x := reader(t, k.Bytes())
	if !x.Hello().Introduces(intro) {
		t.Fatal("the site does not recognise its share's introduction tag")
	}
	if x.Hello().Introduces(make([]byte, SecretSize)) {
		t.Fatal("another secret matches the introduction tag")
	}
	p := f.params(0)
	p.Introduction = intro
	raw, err := x.Challenge(nil, p)
	if err != nil {
		t.Fatal(err)
	}
	// The key has not pinned this site: only the introduction lets it in.
	ch, trust, err := k.ReadChallenge(raw, nil, t0)
	if err != nil {
		t.Fatal(err)
	}
	if !trust.Learned || !trust.Introduced || trust.Pin.Site != f.siteID || !trust.Pin.Key.Equal(&f.site.PublicKey) {
		t.Fatalf("trust %+v, want the site learned by introduction", trust)
	}
	if ch.SiteKey == nil || ch.IntroProof == nil {
		t.Fatal("the challenge does not carry the site key and proof")
	}
	// A site that does not hold the secret cannot introduce itself.
	other := f.hello(t, nil, intro)
	x2 := reader(t, other.Bytes())
	p.Introduction = make([]byte, SecretSize)
	raw2, _ := x2.Challenge(nil, p)
	if _, _, err := other.ReadChallenge(raw2, nil, t0); !errors.Is(err, ErrUnknownSite) {
		t.Fatalf("got %v, want %v", err, ErrUnknownSite)
	}
	// Nor does a proof made for another hello carry over.
	if _, _, err := other.ReadChallenge(raw, nil, t0); err == nil {
		t.Fatal("a challenge made for another hello was trusted")
	}
}

func TestV2Rollover(t *testing.T) {
	f := newV2Fixture(t)
	newKey := testKey(t, "site, rolled")
	notAfter := t0.Add(30 * 24 * time.Hour)
	roll, err := CertifyRollover(f.siteID, f.site, &newKey.PublicKey, notAfter)
	if err != nil {
		t.Fatal(err)
	}
	p := f.params(0)
	p.Site = SiteSigner{ID: f.siteID, Key: newKey, Rollover: &roll}
	k := f.hello(t, nil, nil)
	raw, err := reader(t, k.Bytes()).Challenge(nil, p)
	if err != nil {
		t.Fatal(err)
	}
	_, trust, err := k.ReadChallenge(raw, f.pins, t0)
	if err != nil {
		t.Fatal(err)
	}
	if !trust.Learned || trust.Introduced || trust.Pin.KeyID != PublicKeyID(&newKey.PublicKey) {
		t.Fatalf("trust %+v, want the new key learned", trust)
	}
	// Past the overlap the old key's word no longer counts.
	if _, _, err := k.ReadChallenge(raw, f.pins, notAfter.Add(time.Millisecond)); !errors.Is(err, ErrUnknownSite) {
		t.Errorf("after the overlap: got %v, want %v", err, ErrUnknownSite)
	}
	// A key that learned the new key needs no certificate.
	newPins := map[SiteID]SitePin{f.siteID: trust.Pin}
	p.Site.Rollover = nil
	k2 := f.hello(t, nil, nil)
	raw2, _ := reader(t, k2.Bytes()).Challenge(nil, p)
	if _, _, err := k2.ReadChallenge(raw2, newPins, t0); err != nil {
		t.Errorf("with the new key pinned: %v", err)
	}
	// Without a certificate the old pin does not accept the new key.
	if _, _, err := k2.ReadChallenge(raw2, f.pins, t0); !errors.Is(err, ErrUnknownSite) {
		t.Errorf("no certificate: got %v, want %v", err, ErrUnknownSite)
	}
	// A certificate by some other key is refused.
	forged, _ := CertifyRollover(f.siteID, testKey(t, "mallory"), &newKey.PublicKey, notAfter)
	forged.OldKeyID = f.pins[f.siteID].KeyID
	p.Site.Rollover = &forged
	k3 := f.hello(t, nil, nil)
	raw3, _ := reader(t, k3.Bytes()).Challenge(nil, p)
	if _, _, err := k3.ReadChallenge(raw3, f.pins, t0); !errors.Is(err, ErrBadSignature) {
		t.Errorf("forged certificate: got %v, want %v", err, ErrBadSignature)
	}
}

func TestV2ChallengeRequirements(t *testing.T) {
	f := newV2Fixture(t)
	p := f.params(RequireUnlock)
	p.UnlockWindow = 2500 * time.Millisecond
	r := f.full(t, p, true)
	if !r.ch.Requirements.UnlockRequired() || r.ch.UnlockWindow != 3*time.Second {
		t.Errorf("got requirements %v window %v, want unlock within 3s", r.ch.Requirements, r.ch.UnlockWindow)
	}
	for _, w := range []time.Duration{0, 256 * time.Second} {
		p.UnlockWindow = w
		if _, err := reader(t, f.hello(t, nil, nil).Bytes()).Challenge(nil, p); err == nil {
			t.Errorf("unlock window %v accepted", w)
		}
	}
}

func TestV2VersionNegotiation(t *testing.T) {
	f := newV2Fixture(t)
	k := f.hello(t, nil, nil)
	x := reader(t, k.Bytes())
	p := f.params(0)
	p.Versions = []Version{5}
	if _, err := x.Challenge(nil, p); !errors.Is(err, ErrUnsupportedVersion) {
		t.Fatalf("no common version: got %v, want %v", err, ErrUnsupportedVersion)
	}
	p.Versions = []Version{5, 2}
	raw, err := x.Challenge(nil, p)
	if err != nil {
		t.Fatal(err)
	}
	ch, _, err := k.ReadChallenge(raw, f.pins, t0)
	if err != nil || ch.Version != Version2 || len(ch.Versions) != 2 {
		t.Fatalf("got %+v %v, want version 2 of [5 2]", ch, err)
	}
}

func TestV2ResultsOneLength(t *testing.T) {
	f := newV2Fixture(t)
	outcomes := []Result{
		{Granted: true, Reason: ReasonGranted, Message: "Welcome"},
		{Reason: ReasonUnknownCredential},
		{Reason: ReasonNoPermission, Message: "No permission for a very long access point name that goes on"},
		{Reason: ReasonUnlockRequired, Message: "Unlock your phone and present it again"},
		{Reason: ReasonNotProcessed, Message: "not accepted"},
	}
	sizes := map[int]bool{}
	for i, res := range outcomes {
		r := f.full(t, f.params(0), false)
		var next *NextTicket
		if i%2 == 0 {
			next = &NextTicket{ID: TicketID{byte(i)}, Lifetime: time.Hour}
		}
		sealed, err := SealResult2(r.opened.Session, res, next)
		if err != nil {
			t.Fatal(err)
		}
		sizes[len(sealed)] = true
		got, _, err := OpenResult2(r.keySess, sealed)
		if err != nil {
			t.Fatal(err)
		}
		want := cutMessage(res.Message, MaxResultMessageV2)
		if got.Reason != res.Reason || got.Message != want {
			t.Errorf("got %+v, want reason %v message %q", got, res.Reason, want)
		}
	}
	if len(sizes) != 1 {
		t.Errorf("results of %d different lengths %v, want one", len(sizes), sizes)
	}
}

func TestV2ResultRefused(t *testing.T) {
	f := newV2Fixture(t)
	r := f.full(t, f.params(0), false)
	sealed, _ := SealResult2(r.opened.Session, Result{Granted: true, Reason: ReasonGranted}, nil)
	if _, err := SealResult2(r.opened.Session, Result{Granted: true, Reason: ReasonGranted}, nil); err == nil {
		t.Error("a session sealed two results")
	}
	other := f.full(t, f.params(0), false)
	if _, _, err := OpenResult2(other.keySess, sealed); !errors.Is(err, ErrDecrypt) {
		t.Errorf("result from another exchange: got %v, want %v", err, ErrDecrypt)
	}
	if _, _, err := OpenResult2(r.keySess, sealed[:len(sealed)-1]); !errors.Is(err, ErrMalformed) {
		t.Errorf("short result: got %v, want %v", err, ErrMalformed)
	}
	if _, _, err := r.key.OpenExpedited(sealed); !errors.Is(err, ErrMalformed) {
		t.Errorf("full result read as expedited: got %v, want %v", err, ErrMalformed)
	}
	if _, err := SealResult2(other.opened.Session, Result{Granted: true, Reason: ReasonGranted}, &NextTicket{Lifetime: 0}); err == nil {
		t.Error("a ticket with no lifetime was sealed")
	}
}

func TestV2ResponseRefused(t *testing.T) {
	f := newV2Fixture(t)
	r := f.full(t, f.params(0), false)
	other := f.full(t, f.params(0), false)
	if _, err := other.x.OpenResponse(r.response); !errors.Is(err, ErrDecrypt) {
		t.Errorf("response to another exchange: got %v, want %v", err, ErrDecrypt)
	}
	if err := r.opened.Verify(&f.uv.PublicKey); !errors.Is(err, ErrBadSignature) {
		t.Errorf("tap signature checked with the UV key: got %v, want %v", err, ErrBadSignature)
	}
	bad := bytes.Clone(r.response)
	bad[1] = 3
	if _, err := r.x.OpenResponse(bad); !errors.Is(err, ErrUnknownVersion) {
		t.Errorf("other version: got %v, want %v", err, ErrUnknownVersion)
	}
	if _, err := r.x.OpenResponse(r.response[:50]); !errors.Is(err, ErrMalformed) {
		t.Errorf("short: got %v, want %v", err, ErrMalformed)
	}
	x := reader(t, f.hello(t, nil, nil).Bytes())
	if _, err := x.OpenResponse(r.response); err == nil {
		t.Error("a response was opened before any challenge")
	}
}

func TestKindOf(t *testing.T) {
	tests := []struct {
		msg  []byte
		want Kind
	}{
		{nil, KindUnknown},
		{[]byte{typeChallenge}, KindChallenge},
		{[]byte{typeHello, 1}, KindHello},
		{[]byte{typeChallengeV2}, KindChallengeV2},
		{[]byte{typeResultV2}, KindResultV2},
		{[]byte{0x00}, KindUnknown},
	}
	for _, tt := range tests {
		if got := KindOf(tt.msg); got != tt.want {
			t.Errorf("KindOf(%x): got %v, want %v", tt.msg, got, tt.want)
		}
	}
}
