package protocol

import (
	"bytes"
	"errors"
	"testing"
	"time"
)

// Fuzz targets for the version 2 parsers: no input panics, every refusal
// is typed, and what is accepted is canonical.

func FuzzParseHello(f *testing.F) {
	fx := newV2Fixture(f)
	f.Add(fx.hello(f, nil, nil).Bytes())
	f.Add(fx.hello(f, &KeyTicket{ID: TicketID{1}}, make([]byte, SecretSize)).Bytes())
	f.Add([]byte{typeHello, 1, 2})
	f.Fuzz(func(t *testing.T, b []byte) {
		h, err := ParseHello(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("got %v, want %v", err, ErrMalformed)
			}
			return
		}
		if !bytes.Equal(h.Bytes(), b) || len(b) != helloSize(len(h.Versions)) {
			t.Fatalf("accepted %x as %+v", b, h)
		}
		h.TicketValid([SecretSize]byte{})
		h.Introduces(make([]byte, SecretSize))
	})
}

func FuzzReadChallengeV2(f *testing.F) {
	fx := newV2Fixture(f)
	k := fx.hello(f, nil, make([]byte, SecretSize))
	roll, err := CertifyRollover(fx.siteID, fx.site, &testKey(f, "next").PublicKey, t0.Add(time.Hour))
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range []ChallengeParams{
		fx.params(0),
		fx.params(RequireUnlock),
		{Site: fx.signer(), Introduction: make([]byte, SecretSize)},
		{Site: SiteSigner{ID: fx.siteID, Key: testKey(f, "next"), Rollover: &roll}},
	} {
		raw, err := reader(f, k.Bytes()).Challenge(nil, p)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Add([]byte{typeChallengeV2, 2, 1, 2})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseChallengeV2(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("parse: got %v, want %v", err, ErrMalformed)
			}
			return
		}
		if !bytes.Equal(c.Bytes(), b) {
			t.Fatal("the parsed challenge does not keep its bytes")
		}
		if _, _, err := k.ReadChallenge(b, fx.pins, t0); err != nil && RefusalCode(err) == "error" {
			t.Fatalf("read: untyped error %v", err)
		}
	})
}

func FuzzOpenResponseV2(f *testing.F) {
	fx := newV2Fixture(f)
	r := fx.full(f, fx.params(0), false)
	f.Add(r.response)
	f.Add([]byte{typeResponseV2, 2})
	f.Fuzz(func(t *testing.T, b []byte) {
		x := NewReaderExchange(r.x.hello)
		x.challenge, x.eph, x.version = r.x.challenge, r.x.eph, r.x.version
		o, err := x.OpenResponse(b)
		if err != nil {
			if RefusalCode(err) == "error" {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if err := o.Verify(&fx.tap.PublicKey); err != nil && !errors.Is(err, ErrBadSignature) {
			t.Fatalf("verify: %v", err)
		}
	})
}

func FuzzOpenResultV2(f *testing.F) {
	fx := newV2Fixture(f)
	r := fx.full(f, fx.params(0), false)
	sealed, err := SealResult2(r.opened.Session, Result{Granted: true, Reason: ReasonGranted, Message: "Welcome"}, &NextTicket{ID: TicketID{1}, Lifetime: time.Hour})
	if err != nil {
		f.Fatal(err)
	}
	var secret [SecretSize]byte
	k := fx.hello(f, &KeyTicket{ID: TicketID{2}, Secret: secret}, nil)
	sess, err := reader(f, k.Bytes()).Expedite(nil, secret)
	if err != nil {
		f.Fatal(err)
	}
	exp, err := SealResult2(sess, Result{Reason: ReasonNoPermission}, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sealed)
	f.Add(exp)
	f.Fuzz(func(t *testing.T, b []byte) {
		if res, _, err := OpenResult2(r.keySess, b); err != nil {
			if RefusalCode(err) == "error" {
				t.Fatalf("full: untyped error %v", err)
			}
		} else if res.Granted != (res.Reason == ReasonGranted) {
			t.Fatalf("full: accepted %+v", res)
		}
		if res, _, err := k.OpenExpedited(b); err != nil {
			if RefusalCode(err) == "error" {
				t.Fatalf("expedited: untyped error %v", err)
			}
		} else if res.Granted != (res.Reason == ReasonGranted) {
			t.Fatalf("expedited: accepted %+v", res)
		}
	})
}

func FuzzDecodeTokenV2(f *testing.F) {
	fx := newFixture(f)
	s, err := EncodeTokenV2(testTokenV2(f), fx.site)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(s)
	f.Add(TokenPrefix + "Ag.AA")
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := DecodeTokenV2(s, t0)
		if err != nil {
			if RefusalCode(err) == "error" {
				t.Fatalf("untyped error %v", err)
			}
			return
		}
		if err := tok.check(); err != nil {
			t.Fatalf("accepted a token that fails its own checks: %v", err)
		}
	})
}
