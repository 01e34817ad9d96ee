package protocol

import (
	"bytes"
	"crypto/ecdsa"
	"errors"
	"testing"
	"time"
)

// Attacks on the weaknesses of version 1 that version 2 fixes
// (docs/protocol.md, "Threat model"). Each plays the attack against both
// versions: the version 1 row shows the weakness is real (the attack
// works), so the version 2 row, which must refuse it, is a test that can
// fail.

// TestAttackReplayedOldChallenge: a challenge recorded at the site once
// (a year ago, say) and played to a key later. A version 1 key that pinned
// the site answers it, so the recording is a permanent beacon that finds
// the site's phones; a version 2 key answers only a signature over its own
// fresh hello.
func TestAttackReplayedOldChallenge(t *testing.T) {
	f := newV2Fixture(t)
	t.Run("v1 answers", func(t *testing.T) {
		recorded, _ := f.challenge(t, 0, t0.AddDate(-1, 0, 0))
		replayed, err := ParseChallenge(recorded.Marshal())
		if err != nil {
			t.Fatal(err)
		}
		known := map[SiteID]*ecdsa.PublicKey{f.siteID: &f.site.PublicKey}
		if err := VerifyChallenge(replayed, known, true); err != nil {
			t.Fatalf("the version 1 weakness is gone? a strict key refused the replay: %v", err)
		}
		if _, _, err := Respond(nil, replayed, f.cred, f.tap, false); err != nil {
			t.Fatalf("respond: %v", err)
		}
	})
	t.Run("v2 refuses", func(t *testing.T) {
		old := f.hello(t, nil, nil)
		recorded, err := reader(t, old.Bytes()).Challenge(nil, f.params(0))
		if err != nil {
			t.Fatal(err)
		}
		now := f.hello(t, nil, nil)
		if _, _, err := now.ReadChallenge(recorded, f.pins, t0); !errors.Is(err, ErrBadSignature) {
			t.Fatalf("replayed challenge: got %v, want %v", err, ErrBadSignature)
		}
	})
}

// rogue is a reader with its own site key, unknown to the key.
func rogueSigner(t testing.TB) SiteSigner {
	return SiteSigner{ID: SiteID{0xBA, 0xD0}, Key: testKey(t, "rogue site")}
}

// TestAttackRogueSiteLinksPresentations: a rogue reader meets the same
// phone twice. With version 1 a non-strict key answers it and the rogue,
// holding the ephemeral key it sent, reads the credential id: the same at
// every presentation and at every site the credential was shared to. With
// version 2 the key answers no site it has not pinned, and nothing in its
// two hellos is the same.
func TestAttackRogueSiteLinksPresentations(t *testing.T) {
	f := newV2Fixture(t)
	t.Run("v1 leaks the credential id", func(t *testing.T) {
		var seen []CredentialID
		for range 2 {
			ch, eph, err := NewChallenge(nil, rogueSigner(t).Key, rogueSigner(t).ID, ReaderID{}, 0, t0)
			if err != nil {
				t.Fatal(err)
			}
			if err := VerifyChallenge(ch, map[SiteID]*ecdsa.PublicKey{f.siteID: &f.site.PublicKey}, false); err != nil {
				t.Fatalf("a non-strict version 1 key refused: %v", err)
			}
			resp, _, err := Respond(nil, ch, f.cred, f.tap, false)
			if err != nil {
				t.Fatal(err)
			}
			o, err := OpenResponse(ch, eph, resp)
			if err != nil {
				t.Fatal(err)
			}
			seen = append(seen, o.CredentialID)
		}
		if seen[0] != seen[1] || seen[0] != f.cred {
			t.Fatalf("the rogue read %v, want the credential id twice", seen)
		}
	})
	t.Run("v2 shows nothing", func(t *testing.T) {
		intro := bytes.Repeat([]byte{7}, SecretSize)
		ticket := &KeyTicket{ID: TicketID{0x71}, Secret: [SecretSize]byte{1}}
		var hellos [][]byte
		for _, k := range []*KeyHello{f.hello(t, ticket, intro), f.hello(t, nil, intro), f.hello(t, nil, nil)} {
			hellos = append(hellos, k.Bytes())
			raw, err := reader(t, k.Bytes()).Challenge(nil, ChallengeParams{Site: rogueSigner(t), Introduction: make([]byte, SecretSize)})
			if err != nil {
				t.Fatal(err)
			}
			if _, _, err := k.ReadChallenge(raw, f.pins, t0); !errors.Is(err, ErrUnknownSite) {
				t.Fatalf("the key trusted the rogue: %v", err)
			}
		}
		// Only the type and version list may repeat; every 8-byte window
		// after them differs between any two hellos.
		for i := range hellos {
			for j := i + 1; j < len(hellos); j++ {
				if w := commonWindow(hellos[i][3:], hellos[j][3:], 8); w != nil {
					t.Errorf("hellos %d and %d share %x", i, j, w)
				}
			}
			for _, secret := range [][]byte{f.cred[:], pubBytes(t, f.tap)[1:17], pubBytes(t, f.uv)[1:17]} {
				if bytes.Contains(hellos[i], secret[:8]) {
					t.Errorf("hello %d carries the credential's id or key", i)
				}
			}
		}
	})
}

// commonWindow returns an n-byte window found in both a and b, or nil.
func commonWindow(a, b []byte, n int) []byte {
	for i := 0; i+n <= len(a); i++ {
		if bytes.Contains(b, a[i:i+n]) {
			return a[i : i+n]
		}
	}
	return nil
}

// TestAttackResultLengthLeaksOutcome: a listener who cannot decrypt
// anything still sees the result's length. Version 1's differs by outcome
// (its message is as long as it needs); version 2's never does.
func TestAttackResultLengthLeaksOutcome(t *testing.T) {
	f := newV2Fixture(t)
	outcomes := []Result{
		{Granted: true, Reason: ReasonGranted, Message: "Welcome"},
		{Reason: ReasonUnknownCredential},
		{Reason: ReasonNoPermission, Message: "No permission for Front door"},
		{Reason: ReasonUnlockRequired, Message: "Unlock your phone and present it again"},
	}
	lengths := func(seal func(Result) int) map[int]bool {
		m := map[int]bool{}
		for _, r := range outcomes {
			m[seal(r)] = true
		}
		return m
	}
	v1 := lengths(func(r Result) int {
		ch, eph := f.challenge(t, 0, t0)
		resp, _ := f.respond(t, ch, false)
		o, err := OpenResponse(ch, eph, resp)
		if err != nil {
			t.Fatal(err)
		}
		b, err := SealResult(o.Session, r)
		if err != nil {
			t.Fatal(err)
		}
		return len(b)
	})
	if len(v1) < 2 {
		t.Fatalf("version 1 results are all one length %v: the weakness is gone?", v1)
	}
	v2 := lengths(func(r Result) int {
		run := f.full(t, f.params(0), false)
		b, err := SealResult2(run.opened.Session, r, nil)
		if err != nil {
			t.Fatal(err)
		}
		return len(b)
	})
	if len(v2) != 1 {
		t.Fatalf("version 2 results have lengths %v, want one", v2)
	}
}

// TestAttackV2Tampering: changing any byte of any version 2 message is
// refused somewhere before it counts.
func TestAttackV2Tampering(t *testing.T) {
	f := newV2Fixture(t)
	t.Run("hello", func(t *testing.T) {
		k := f.hello(t, nil, nil)
		flipped(k.Bytes(), func(pos int, mask byte, m []byte) {
			h, err := ParseHello(m)
			if err != nil {
				return
			}
			raw, err := NewReaderExchange(h).Challenge(nil, f.params(0))
			if err != nil {
				return
			}
			// The site signed the tampered hello; the key checks against
			// the one it sent.
			if _, _, err := k.ReadChallenge(raw, f.pins, t0); err == nil {
				t.Errorf("byte %d ^ %02x: the key trusted a challenge over a changed hello", pos, mask)
			}
		})
	})
	t.Run("challenge", func(t *testing.T) {
		k := f.hello(t, nil, nil)
		raw, err := reader(t, k.Bytes()).Challenge(nil, f.params(RequireUnlock))
		if err != nil {
			t.Fatal(err)
		}
		flipped(raw, func(pos int, mask byte, m []byte) {
			if _, _, err := k.ReadChallenge(m, f.pins, t0); err == nil {
				t.Errorf("byte %d ^ %02x: the key trusted a changed challenge", pos, mask)
			}
		})
	})
	t.Run("response", func(t *testing.T) {
		r := f.full(t, f.params(0), false)
		flipped(r.response, func(pos int, mask byte, m []byte) {
			if _, err := r.x.OpenResponse(m); err == nil {
				t.Errorf("byte %d ^ %02x: a changed response opened", pos, mask)
			}
		})
	})
	t.Run("result", func(t *testing.T) {
		r := f.full(t, f.params(0), false)
		sealed, _ := SealResult2(r.opened.Session, Result{Granted: true, Reason: ReasonGranted}, &NextTicket{ID: TicketID{1}, Lifetime: time.Hour})
		flipped(sealed, func(pos int, mask byte, m []byte) {
			if _, _, err := OpenResult2(r.keySess, m); err == nil {
				t.Errorf("byte %d ^ %02x: a changed result opened", pos, mask)
			}
		})
	})
	t.Run("expedited hello", func(t *testing.T) {
		tickets := NewTickets(func() time.Time { return t0 }, 0)
		keyID := PublicKeyID(&f.site.PublicKey)
		var secret [SecretSize]byte
		n, _ := tickets.Issue(nil, f.cred, secret, keyID, [32]byte{})
		k := f.hello(t, &KeyTicket{ID: n.ID, Secret: secret}, nil)
		flipped(k.Bytes(), func(pos int, mask byte, m []byte) {
			h, err := ParseHello(m)
			if err != nil {
				return
			}
			if _, ok := tickets.Redeem(h, keyID); ok {
				t.Fatalf("byte %d ^ %02x: a changed hello redeemed the ticket", pos, mask)
			}
		})
	})
	t.Run("expedited result", func(t *testing.T) {
		var secret [SecretSize]byte
		k := f.hello(t, &KeyTicket{ID: TicketID{5}, Secret: secret}, nil)
		sess, err := reader(t, k.Bytes()).Expedite(nil, secret)
		if err != nil {
			t.Fatal(err)
		}
		sealed, _ := SealResult2(sess, Result{Granted: true, Reason: ReasonGranted}, nil)
		if _, _, err := k.OpenExpedited(sealed); err != nil {
			t.Fatal(err)
		}
		flipped(sealed, func(pos int, mask byte, m []byte) {
			if _, _, err := k.OpenExpedited(m); err == nil {
				t.Errorf("byte %d ^ %02x: a changed expedited result opened", pos, mask)
			}
		})
		// A reader without the ticket's secret cannot make one.
		var wrong [SecretSize]byte
		wrong[0] = 1
		fake, _ := reader(t, k.Bytes()).Expedite(nil, wrong)
		forged, _ := SealResult2(fake, Result{Granted: true, Reason: ReasonGranted}, nil)
		if _, _, err := k.OpenExpedited(forged); !errors.Is(err, ErrDecrypt) {
			t.Errorf("result sealed without the ticket secret: got %v, want %v", err, ErrDecrypt)
		}
	})
}

// TestAttackUVClaimWithTapKeyV2: claiming user verification while signing
// with the tap key fails, as in version 1.
func TestAttackUVClaimWithTapKeyV2(t *testing.T) {
	f := newV2Fixture(t)
	k := f.hello(t, nil, nil)
	x := reader(t, k.Bytes())
	raw, _ := x.Challenge(nil, f.params(RequireUnlock))
	ch, _, err := k.ReadChallenge(raw, f.pins, t0)
	if err != nil {
		t.Fatal(err)
	}
	resp, _, _ := k.Respond(ch, f.cred, f.tap, true)
	o, err := x.OpenResponse(resp)
	if err != nil {
		t.Fatal(err)
	}
	if err := o.Verify(&f.uv.PublicKey); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("got %v, want %v", err, ErrBadSignature)
	}
}
