package protocol

import (
	"bytes"
	"errors"
	"testing"
)

// The fuzz targets check that no input panics, that every refusal is a
// typed refusal, and that whatever is accepted is well formed.

func FuzzParseChallenge(f *testing.F) {
	fx := newFixture(f)
	for _, req := range []Requirements{0, RequireUnlock} {
		ch, _ := fx.challenge(f, req, t0)
		f.Add(ch.Marshal())
	}
	ch, _, err := newChallenge(nil, fx.site, fx.siteID, fx.readerID, 0, t0, []Version{7, 3, 1})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(ch.Marshal())
	f.Add([]byte{})
	f.Add([]byte{typeChallenge, 1, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		ch, err := ParseChallenge(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("got %v, want %v", err, ErrMalformed)
			}
			return
		}
		// Strict parsing: what parses re-encodes to the same bytes, the
		// property both transcripts rely on.
		if got := ch.Marshal(); !bytes.Equal(got, b) {
			t.Fatalf("re-marshal: got %x, want %x", got, b)
		}
		if err := ch.Verify(&fx.site.PublicKey); err != nil && !errors.Is(err, ErrBadSignature) {
			t.Fatalf("verify: got %v, want nil or %v", err, ErrBadSignature)
		}
	})
}

func FuzzOpenResponse(f *testing.F) {
	fx := newFixture(f)
	ch, eph := fx.challenge(f, 0, t0)
	for _, uv := range []bool{false, true} {
		resp, _ := fx.respond(f, ch, uv)
		f.Add(resp)
	}
	f.Add([]byte{})
	f.Add([]byte{typeResponse, 1, 1, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		o, err := OpenResponse(ch, eph, b)
		if err != nil {
			if RefusalCode(err) == "error" {
				t.Fatalf("got untyped error %v", err)
			}
			return
		}
		if err := o.Verify(fx.keyFor(o)); err != nil && !errors.Is(err, ErrBadSignature) {
			t.Fatalf("verify: got %v, want nil or %v", err, ErrBadSignature)
		}
	})
}

func FuzzOpenResult(f *testing.F) {
	fx := newFixture(f)
	ch, eph := fx.challenge(f, 0, t0)
	resp, key := fx.respond(f, ch, false)
	o, err := OpenResponse(ch, eph, resp)
	if err != nil {
		f.Fatal(err)
	}
	sealed, err := SealResult(o.Session, Result{Granted: true, Reason: ReasonGranted, Message: "Welcome"})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sealed)
	f.Add([]byte{typeResult, 1})
	f.Fuzz(func(t *testing.T, b []byte) {
		res, err := OpenResult(key, b)
		if err != nil {
			if RefusalCode(err) == "error" {
				t.Fatalf("got untyped error %v", err)
			}
			return
		}
		if res.Granted != (res.Reason == ReasonGranted) || len(res.Message) > MaxResultMessage {
			t.Fatalf("accepted an inconsistent result %+v", res)
		}
	})
}

func FuzzReassembler(f *testing.F) {
	// The input is a stream of fragments, each prefixed by its length byte.
	frame := func(frags [][]byte) []byte {
		var b []byte
		for _, fr := range frags {
			b = append(b, byte(len(fr)))
			b = append(b, fr...)
		}
		return b
	}
	msg := bytes.Repeat([]byte("postern"), 30)
	f.Add(frame(Fragment(msg, MinMTU)))
	f.Add(frame(Fragment(msg, DefaultMTU)))
	f.Add(frame(Fragment(msg[:1], MinMTU)))
	f.Add([]byte{3, fragFirst | fragLast, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		var r Reassembler
		for len(b) > 0 {
			n := int(b[0])
			b = b[1:]
			if n > len(b) {
				n = len(b)
			}
			got, done, err := r.Add(b[:n])
			b = b[n:]
			if err != nil {
				if !errors.Is(err, ErrMalformed) {
					t.Fatalf("got %v, want %v", err, ErrMalformed)
				}
				continue
			}
			if done && (len(got) == 0 || len(got) > MaxMessageSize) {
				t.Fatalf("message of %d bytes, want 1 to %d", len(got), MaxMessageSize)
			}
			if !done && got != nil {
				t.Fatalf("got a message with done=false")
			}
		}
	})
}

func FuzzDecodeToken(f *testing.F) {
	fx := newFixture(f)
	s, err := EncodeToken(testToken(f), fx.site)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(s)
	f.Add("  " + s[:80] + "\r\n" + s[80:] + "\n")
	f.Add(TokenPrefix)
	f.Add(TokenPrefix + "AAAA.AAAA")
	f.Fuzz(func(t *testing.T, s string) {
		tok, err := DecodeToken(s, t0)
		if err != nil {
			if RefusalCode(err) == "error" {
				t.Fatalf("got untyped error %v", err)
			}
			return
		}
		if _, err := ParsePublicKey(tok.SiteKey); err != nil {
			t.Fatalf("accepted a token with site key %x: %v", tok.SiteKey, err)
		}
		if !t0.Before(tok.ExpiresAt) {
			t.Fatalf("accepted a token expired at %v", tok.ExpiresAt)
		}
	})
}
