package protocol

import (
	"bytes"
	"crypto/ecdsa"
	"errors"
	"strings"
	"testing"
	"time"
)

// Each test here is one attack from the threat model in docs/protocol.md,
// played against the real code; each must be refused.

func TestAttackReplayedResponse(t *testing.T) {
	f := newFixture(t)
	clk := &clock{now: t0}
	p := NewPending(clk.Now, 0)
	ch, eph := f.challenge(t, 0, clk.Now())
	if err := p.Issue(ch, eph); err != nil {
		t.Fatal(err)
	}
	resp, _ := f.respond(t, ch, false)
	if _, err := p.Open(ch.Nonce, resp); err != nil {
		t.Fatalf("first: got %v, want nil", err)
	}
	clk.Advance(100 * time.Millisecond)
	_, err := p.Open(ch.Nonce, resp)
	wantErr(t, err, ErrReplayed)

	// Once the challenge is forgotten the replay is still refused.
	clk.Advance(time.Hour)
	if err := p.Issue(f.challenge(t, 0, clk.Now())); err != nil { // prunes
		t.Fatal(err)
	}
	_, err = p.Open(ch.Nonce, resp)
	wantErr(t, err, ErrLate)
}

func TestAttackResponseReplayedToANewChallenge(t *testing.T) {
	// A recorded response played back to the next challenge: it was made
	// for another ephemeral key and transcript, so it does not decrypt.
	f := newFixture(t)
	clk := &clock{now: t0}
	p := NewPending(clk.Now, 0)
	old, _ := f.challenge(t, 0, clk.Now())
	recorded, _ := f.respond(t, old, false)
	ch, eph := f.challenge(t, 0, clk.Now())
	if err := p.Issue(ch, eph); err != nil {
		t.Fatal(err)
	}
	_, err := p.Open(ch.Nonce, recorded)
	wantErr(t, err, ErrDecrypt)
}

func TestAttackLateResponse(t *testing.T) {
	f := newFixture(t)
	clk := &clock{now: t0}
	p := NewPending(clk.Now, 0)
	ch, eph := f.challenge(t, 0, clk.Now())
	if err := p.Issue(ch, eph); err != nil {
		t.Fatal(err)
	}
	resp, _ := f.respond(t, ch, false)
	clk.Advance(DefaultDeadline + time.Millisecond) // a relay's extra round trips
	_, err := p.Open(ch.Nonce, resp)
	wantErr(t, err, ErrLate)
}

func TestAttackFlipChallengeBytes(t *testing.T) {
	f := newFixture(t)
	ch, eph := f.challenge(t, RequireUnlock, t0)
	known := map[SiteID]*ecdsa.PublicKey{f.siteID: &f.site.PublicKey}
	flipped(ch.Marshal(), func(pos int, mask byte, raw []byte) {
		got, err := ParseChallenge(raw)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Errorf("byte %d ^ %#x: parse: got %v, want %v", pos, mask, err, ErrMalformed)
			}
			return
		}
		// The key refuses it, whether it knows the site by id or not...
		if err := got.Verify(&f.site.PublicKey); !errors.Is(err, ErrBadSignature) {
			t.Errorf("byte %d ^ %#x: verify: got %v, want %v", pos, mask, err, ErrBadSignature)
		}
		if err := VerifyChallenge(got, known, true); err == nil {
			t.Errorf("byte %d ^ %#x: strict key: got nil, want a refusal", pos, mask)
		}
		// ...and a lenient key that answers anyway is refused by the
		// reader, whose transcript holds the genuine challenge.
		resp, _, err := Respond(nil, got, f.cred, f.tap, false)
		if err != nil {
			return
		}
		if o, err := OpenResponse(ch, eph, resp); err == nil {
			if o.Verify(&f.tap.PublicKey) == nil {
				t.Errorf("byte %d ^ %#x: reader accepted a response to a tampered challenge", pos, mask)
			}
		}
	})
}

func TestAttackFlipResponseBytes(t *testing.T) {
	f := newFixture(t)
	ch, eph := f.challenge(t, 0, t0)
	resp, _ := f.respond(t, ch, false)
	flipped(resp, func(pos int, mask byte, raw []byte) {
		o, err := OpenResponse(ch, eph, raw)
		if err == nil {
			err = o.Verify(f.keyFor(o))
		}
		if RefusalCode(err) == "" || RefusalCode(err) == "error" {
			t.Errorf("byte %d ^ %#x: got %v, want a refusal", pos, mask, err)
		}
	})
}

func TestAttackFlipResultBytes(t *testing.T) {
	reader, key := sessions(t)
	sealed, err := SealResult(reader, Result{Reason: ReasonNoPermission, Message: "No entry"})
	if err != nil {
		t.Fatal(err)
	}
	flipped(sealed, func(pos int, mask byte, raw []byte) {
		if got, err := OpenResult(key, raw); err == nil {
			t.Errorf("byte %d ^ %#x: got %+v, want a refusal", pos, mask, got)
		}
	})
}

func TestAttackFlipTokenBytes(t *testing.T) {
	f := newFixture(t)
	s, err := EncodeToken(testToken(t), f.site)
	if err != nil {
		t.Fatal(err)
	}
	p64, s64, _ := strings.Cut(strings.TrimPrefix(s, TokenPrefix), ".")
	payload, _ := tokenEncoding.DecodeString(p64)
	sig, _ := tokenEncoding.DecodeString(s64)
	flipped(payload, func(pos int, mask byte, m []byte) {
		forged := TokenPrefix + tokenEncoding.EncodeToString(m) + "." + s64
		if _, err := DecodeToken(forged, t0); err == nil {
			t.Errorf("payload byte %d ^ %#x: got nil error, want a refusal", pos, mask)
		}
	})
	flipped(sig, func(pos int, mask byte, m []byte) {
		forged := TokenPrefix + p64 + "." + tokenEncoding.EncodeToString(m)
		if _, err := DecodeToken(forged, t0); !errors.Is(err, ErrBadSignature) {
			t.Errorf("signature byte %d ^ %#x: got %v, want %v", pos, mask, err, ErrBadSignature)
		}
	})
	// The text form too: any changed character, bar whitespace, is refused.
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.:"
	for i := range len(s) {
		for _, c := range []byte{alphabet[(strings.IndexByte(alphabet, s[i])+1)%len(alphabet)], '.'} {
			if c == s[i] {
				continue
			}
			m := s[:i] + string(c) + s[i+1:]
			if _, err := DecodeToken(m, t0); err == nil {
				t.Errorf("character %d %q->%q: got nil error, want a refusal", i, s[i], c)
			}
		}
	}
}

func TestAttackDowngrade(t *testing.T) {
	// A reader and key that both speak versions 2 and 1, as after a future
	// release; the attacks try to land them on 1.
	f := newFixture(t)
	both := []Version{2, 1}
	ch, eph, err := newChallenge(nil, f.site, f.siteID, f.readerID, 0, t0, both)
	if err != nil {
		t.Fatal(err)
	}

	t.Run("key chooses the lower version", func(t *testing.T) {
		resp, _, err := respond(nil, ch, f.cred, f.tap, false, both, 1)
		if err != nil {
			t.Fatal(err)
		}
		_, err = OpenResponse(ch, eph, resp)
		wantErr(t, err, ErrDowngrade)
	})
	t.Run("key chooses a version it does not list", func(t *testing.T) {
		resp, _, err := respond(nil, ch, f.cred, f.tap, false, []Version{2}, 1)
		if err != nil {
			t.Fatal(err)
		}
		_, err = OpenResponse(ch, eph, resp)
		wantErr(t, err, ErrDowngrade)
	})
	t.Run("chosen version lowered on the air", func(t *testing.T) {
		resp, _, err := respond(nil, ch, f.cred, f.tap, false, both, 2)
		if err != nil {
			t.Fatal(err)
		}
		resp[1] = 1
		_, err = OpenResponse(ch, eph, resp)
		wantErr(t, err, ErrDecrypt)
	})
	t.Run("key's version list stripped on the air", func(t *testing.T) {
		resp, _, err := respond(nil, ch, f.cred, f.tap, false, both, 2)
		if err != nil {
			t.Fatal(err)
		}
		stripped := append([]byte{resp[0], 1, 1, 1}, resp[5:]...)
		_, err = OpenResponse(ch, eph, stripped)
		wantErr(t, err, ErrDecrypt)
	})
	t.Run("version the reader never offered", func(t *testing.T) {
		resp, _, err := respond(nil, ch, f.cred, f.tap, false, []Version{3, 2, 1}, 3)
		if err != nil {
			t.Fatal(err)
		}
		_, err = OpenResponse(ch, eph, resp)
		wantErr(t, err, ErrUnknownVersion)
	})
	t.Run("version stripped from the challenge on the air", func(t *testing.T) {
		raw := ch.Marshal()
		stripped := append([]byte{raw[0], 1, 1}, raw[4:]...)
		got, err := ParseChallenge(stripped)
		if err != nil {
			t.Fatalf("parse: %v", err)
		}
		if !bytes.Equal(got.Marshal(), stripped) {
			t.Fatalf("setup: stripped challenge does not round-trip")
		}
		wantErr(t, got.Verify(&f.site.PublicKey), ErrBadSignature)
		// A lenient key answering it anyway answers version 1 to a
		// transcript the reader does not have.
		resp, _, err := Respond(nil, got, f.cred, f.tap, false)
		if err != nil {
			t.Fatal(err)
		}
		_, err = OpenResponse(ch, eph, resp)
		wantErr(t, err, ErrDecrypt)
	})
}

func TestAttackUserVerifiedFlagWithTapKey(t *testing.T) {
	// The phone was not unlocked, so it only has the tap key; it claims
	// user verification anyway.
	f := newFixture(t)
	ch, eph := f.challenge(t, RequireUnlock, t0)
	resp, _, err := Respond(nil, ch, f.cred, f.tap, true)
	if err != nil {
		t.Fatal(err)
	}
	o, err := OpenResponse(ch, eph, resp)
	if err != nil {
		t.Fatal(err)
	}
	if !o.UserVerified {
		t.Fatalf("setup: got UserVerified=false, want the false claim")
	}
	wantErr(t, o.Verify(f.keyFor(o)), ErrBadSignature)
}

func TestAttackOtherCredentialID(t *testing.T) {
	// Mallory has her own registered keys and names Alice's credential.
	f := newFixture(t)
	mallory := testKey(t, "mallory tap")
	alice := CredentialID{0xa1, 0x1c, 0xe}
	aliceTap := testKey(t, "alice tap")
	ch, eph := f.challenge(t, 0, t0)
	resp, _, err := Respond(nil, ch, alice, mallory, false)
	if err != nil {
		t.Fatal(err)
	}
	o, err := OpenResponse(ch, eph, resp)
	if err != nil {
		t.Fatal(err)
	}
	if o.CredentialID != alice {
		t.Fatalf("setup: got %v, want %v", o.CredentialID, alice)
	}
	// The reader looks up the claimed id and so checks Alice's key.
	wantErr(t, o.Verify(&aliceTap.PublicKey), ErrBadSignature)
}

func TestAttackChallengeFromAnotherSiteKey(t *testing.T) {
	f := newFixture(t)
	rogue := testKey(t, "rogue site")
	ch, _, err := NewChallenge(nil, rogue, f.siteID, f.readerID, 0, t0)
	if err != nil {
		t.Fatal(err)
	}
	got, err := ParseChallenge(ch.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	wantErr(t, got.Verify(&f.site.PublicKey), ErrBadSignature)
	known := map[SiteID]*ecdsa.PublicKey{f.siteID: &f.site.PublicKey}
	for _, strict := range []bool{true, false} {
		wantErr(t, VerifyChallenge(got, known, strict), ErrBadSignature)
	}
}

func TestAttackResultFromAnotherExchange(t *testing.T) {
	// A "granted" recorded from someone else's exchange, shown to this key.
	otherReader, _ := sessions(t)
	_, key := sessions(t)
	granted, err := SealResult(otherReader, Result{Granted: true, Reason: ReasonGranted})
	if err != nil {
		t.Fatal(err)
	}
	_, err = OpenResult(key, granted)
	wantErr(t, err, ErrDecrypt)
}
