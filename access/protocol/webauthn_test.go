package protocol

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"testing"
)

var testRP = RelyingParty{ID: "doors.example.com", Origins: []string{"https://doors.example.com"}}

// passkeyRun runs a full exchange at an unlock-required door with the
// passkey's way of proving unlock, up to the reader's open response.
func (f v2fixture) passkeyRun(tb testing.TB) (fullRun, []byte) {
	tb.Helper()
	var r fullRun
	r.key = f.hello(tb, nil, nil)
	r.x = reader(tb, r.key.Bytes())
	var err error
	if r.challenge, err = r.x.Challenge(nil, f.params(RequireUnlock)); err != nil {
		tb.Fatal(err)
	}
	if r.ch, r.trust, err = r.key.ReadChallenge(r.challenge, f.pins, t0); err != nil {
		tb.Fatal(err)
	}
	var challenge []byte
	if r.response, r.keySess, challenge, err = r.key.RespondWithPasskey(r.ch, f.cred, f.tap); err != nil {
		tb.Fatal(err)
	}
	if r.opened, err = r.x.OpenResponse(r.response); err != nil {
		tb.Fatal(err)
	}
	return r, challenge
}

func TestPasskeyAssertion(t *testing.T) {
	f := newV2Fixture(t)
	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader) // another phone's passkey
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		make    func(challenge []byte) (Assertion, error)
		wantUV  bool
		wantErr error
		tamper  func(a *Assertion)
	}{
		{name: "verified by the phone", wantUV: true},
		{name: "present but not verified", make: func(c []byte) (Assertion, error) {
			return SignAssertion(f.uv, testRP, testRP.Origins[0], c, false)
		}, wantUV: false},
		{name: "another exchange's challenge", make: func(c []byte) (Assertion, error) {
			return SignAssertion(f.uv, testRP, testRP.Origins[0], append([]byte{1}, c[1:]...), true)
		}, wantErr: ErrBadSignature},
		{name: "another site's origin", make: func(c []byte) (Assertion, error) {
			return SignAssertion(f.uv, testRP, "https://evil.example", c, true)
		}, wantErr: ErrBadSignature},
		{name: "another relying party", make: func(c []byte) (Assertion, error) {
			return SignAssertion(f.uv, RelyingParty{ID: "evil.example"}, testRP.Origins[0], c, true)
		}, wantErr: ErrBadSignature},
		{name: "another phone's passkey", make: func(c []byte) (Assertion, error) {
			return SignAssertion(other, testRP, testRP.Origins[0], c, true)
		}, wantErr: ErrBadSignature},
		{name: "flags tampered to verified", make: func(c []byte) (Assertion, error) {
			return SignAssertion(f.uv, testRP, testRP.Origins[0], c, false)
		}, tamper: func(a *Assertion) { a.AuthenticatorData[32] |= authUserVerified }, wantErr: ErrBadSignature},
		{name: "no user present", make: func(c []byte) (Assertion, error) {
			return SignAssertion(f.uv, testRP, testRP.Origins[0], c, true)
		}, tamper: func(a *Assertion) { a.AuthenticatorData[32] &^= authUserPresent }, wantErr: ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, challenge := f.passkeyRun(t)
			if !r.opened.Passkey || !r.opened.UserVerified {
				t.Fatalf("opened: got passkey %v, uv %v, want both", r.opened.Passkey, r.opened.UserVerified)
			}
			// The response itself is the tap key's.
			if err := r.opened.Verify(&f.tap.PublicKey); err != nil {
				t.Fatalf("tap signature: %v", err)
			}
			if err := r.opened.Verify(&f.uv.PublicKey); !errors.Is(err, ErrBadSignature) {
				t.Fatalf("checked with the UV key: got %v, want a bad signature", err)
			}
			mk := tt.make
			if mk == nil {
				mk = func(c []byte) (Assertion, error) { return SignAssertion(f.uv, testRP, testRP.Origins[0], c, true) }
			}
			a, err := mk(challenge)
			if err != nil {
				t.Fatal(err)
			}
			if tt.tamper != nil {
				tt.tamper(&a)
			}
			// Through the wire, as the reader receives it.
			got, err := ParseAssertion(a.Marshal())
			if err != nil {
				t.Fatalf("ParseAssertion: %v", err)
			}
			uv, err := r.opened.VerifyAssertion(&f.uv.PublicKey, got, testRP)
			if !errors.Is(err, tt.wantErr) || (err == nil) != (tt.wantErr == nil) {
				t.Fatalf("got error %v, want %v", err, tt.wantErr)
			}
			if uv != tt.wantUV {
				t.Errorf("user verified: got %v, want %v", uv, tt.wantUV)
			}
		})
	}
}

func TestParseAssertionRefusesOtherLayouts(t *testing.T) {
	f := newV2Fixture(t)
	a, err := SignAssertion(f.uv, testRP, testRP.Origins[0], make([]byte, 32), true)
	if err != nil {
		t.Fatal(err)
	}
	good := a.Marshal()
	tests := []struct {
		name string
		b    []byte
	}{
		{"empty", nil},
		{"another type", append([]byte{0xB3}, good[1:]...)},
		{"a byte short", good[:len(good)-1]},
		{"a byte over", append(append([]byte(nil), good...), 0)},
		{"short authenticator data", Assertion{AuthenticatorData: make([]byte, 10), ClientDataJSON: []byte("{}"), Signature: []byte{1}}.Marshal()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := ParseAssertion(tt.b); !errors.Is(err, ErrMalformed) {
				t.Errorf("got %v, want malformed", err)
			}
		})
	}
}

func TestPasskeyFlagNeedsUserVerified(t *testing.T) {
	f := newV2Fixture(t)
	r := f.full(t, f.params(0), false)
	if r.opened.Passkey {
		t.Fatal("a tap-key response announced a passkey")
	}
	if _, err := r.opened.VerifyAssertion(&f.uv.PublicKey, Assertion{}, testRP); !errors.Is(err, ErrMalformed) {
		t.Errorf("assertion for a response that announced none: got %v, want malformed", err)
	}
	// Bit 1 alone is refused when the response is opened.
	k := f.hello(t, nil, nil)
	x := reader(t, k.Bytes())
	chal, err := x.Challenge(nil, f.params(0))
	if err != nil {
		t.Fatal(err)
	}
	ch, _, err := k.ReadChallenge(chal, f.pins, t0)
	if err != nil {
		t.Fatal(err)
	}
	msg, _, _, err := k.respond(ch, f.cred, f.tap, flag2WebAuthn)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := x.OpenResponse(msg); !errors.Is(err, ErrMalformed) {
		t.Errorf("bit 1 without bit 0: got %v, want malformed", err)
	}
}
