package protocol

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func TestExchangeRoundTrip(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name string
		req  Requirements
		uv   bool
		res  Result
	}{
		{"tap granted", 0, false, Result{Granted: true, Reason: ReasonGranted, Message: "Welcome, Ana"}},
		{"unlock required, user verified", RequireUnlock, true, Result{Granted: true, Reason: ReasonGranted}},
		{"tap denied", 0, false, Result{Reason: ReasonOutsideSchedule, Message: "Outside your schedule"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := &clock{now: t0}
			p := NewPending(clk.Now, 0)
			ch, eph := f.challenge(t, tt.req, clk.Now())
			if err := p.Issue(ch, eph); err != nil {
				t.Fatalf("Issue: %v", err)
			}
			resp, keySess := f.respond(t, ch, tt.uv)
			if got, want := len(resp), responseSize(1); got != want {
				t.Errorf("response size: got %v, want %v", got, want)
			}
			clk.Advance(200 * time.Millisecond)
			o, err := p.Open(ch.Nonce, resp)
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			if o.CredentialID != f.cred || o.UserVerified != tt.uv || o.Version != Version1 {
				t.Errorf("opened: got %v/%v/%v, want %v/%v/%v", o.CredentialID, o.UserVerified, o.Version, f.cred, tt.uv, Version1)
			}
			if err := o.Verify(f.keyFor(o)); err != nil {
				t.Fatalf("Verify: got %v, want nil", err)
			}
			sealed, err := SealResult(o.Session, tt.res)
			if err != nil {
				t.Fatalf("SealResult: %v", err)
			}
			got, err := OpenResult(keySess, sealed)
			if err != nil {
				t.Fatalf("OpenResult: %v", err)
			}
			if got != tt.res {
				t.Errorf("result: got %+v, want %+v", got, tt.res)
			}
			if keySess.Version() != Version1 || o.Session.Version() != Version1 {
				t.Errorf("session version: got %v/%v, want %v", keySess.Version(), o.Session.Version(), Version1)
			}
		})
	}
}

func TestVersionNegotiation(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name   string
		reader []Version
		key    []Version
		want   Version // 0: no common version
	}{
		{"same single version", []Version{1}, []Version{1}, 1},
		{"newer reader, older key", []Version{3, 2, 1}, []Version{1}, 1},
		{"older reader, newer key", []Version{2, 1}, []Version{3, 2, 1}, 2},
		{"gaps", []Version{5, 3, 1}, []Version{4, 3, 2}, 3},
		{"nothing in common", []Version{3, 2}, []Version{1}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := highestCommon(tt.reader, tt.key)
			if !ok {
				got = 0
			}
			if got != tt.want {
				t.Fatalf("highest common: got %v, want %v", got, tt.want)
			}
			if tt.want == 0 {
				return
			}
			ch, eph, err := newChallenge(nil, f.site, f.siteID, f.readerID, 0, t0, tt.reader)
			if err != nil {
				t.Fatal(err)
			}
			resp, _, err := respond(nil, ch, f.cred, f.tap, false, tt.key, got)
			if err != nil {
				t.Fatal(err)
			}
			o, err := OpenResponse(ch, eph, resp)
			if err != nil {
				t.Fatalf("OpenResponse: got %v, want nil", err)
			}
			if o.Version != tt.want {
				t.Errorf("opened version: got %v, want %v", o.Version, tt.want)
			}
			if err := o.Verify(&f.tap.PublicKey); err != nil {
				t.Errorf("Verify: got %v, want nil", err)
			}
		})
	}
}

func TestRespondUnsupportedVersion(t *testing.T) {
	f := newFixture(t)
	ch, _, err := newChallenge(nil, f.site, f.siteID, f.readerID, 0, t0, []Version{3, 2})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = Respond(nil, ch, f.cred, f.tap, false)
	wantErr(t, err, ErrUnsupportedVersion)
	if !strings.Contains(err.Error(), "update") {
		t.Errorf("message: got %q, want it to tell the user to update", err)
	}
}

func TestOpenResponseNeedsItsOwnEphemeral(t *testing.T) {
	f := newFixture(t)
	ch, _ := f.challenge(t, 0, t0)
	_, other := f.challenge(t, 0, t0)
	resp, _ := f.respond(t, ch, false)
	_, err := OpenResponse(ch, other, resp)
	if err == nil || RefusalCode(err) != "error" {
		t.Errorf("got %v, want a caller error that is not a refusal", err)
	}
}

func TestOpenResponseMalformed(t *testing.T) {
	f := newFixture(t)
	ch, eph := f.challenge(t, 0, t0)
	resp, _ := f.respond(t, ch, false)
	edit := func(fn func(b []byte) []byte) []byte { return fn(append([]byte(nil), resp...)) }
	tests := []struct {
		name string
		raw  []byte
		want error
	}{
		{"empty", nil, ErrMalformed},
		{"wrong type", edit(func(b []byte) []byte { b[0] = typeChallenge; return b }), ErrMalformed},
		{"version not offered", edit(func(b []byte) []byte { b[1] = 2; return b }), ErrUnknownVersion},
		{"version zero", edit(func(b []byte) []byte { b[1] = 0; return b }), ErrUnknownVersion},
		{"no key versions", edit(func(b []byte) []byte { b[2] = 0; return b }), ErrMalformed},
		{"truncated", resp[:len(resp)-1], ErrMalformed},
		{"trailing byte", append(append([]byte(nil), resp...), 0), ErrMalformed},
		{"key version zero", edit(func(b []byte) []byte { b[3] = 0; return b }), ErrMalformed},
		{"key point off the curve", edit(func(b []byte) []byte { b[4+64] ^= 1; return b }), ErrMalformed},
		{"ciphertext changed", edit(func(b []byte) []byte { b[len(b)-20] ^= 1; return b }), ErrDecrypt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := OpenResponse(ch, eph, tt.raw)
			if !errors.Is(err, tt.want) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
}

func TestRefusalCode(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{nil, ""},
		{refuse(ErrMalformed, "x"), "malformed"},
		{refuse(ErrDowngrade, "x"), "downgrade"},
		{refuse(ErrLate, "x"), "late"},
		{refuse(ErrReplayed, "x"), "replayed"},
		{errors.New("disk on fire"), "error"},
	}
	for _, tt := range tests {
		if got := RefusalCode(tt.err); got != tt.want {
			t.Errorf("RefusalCode(%v): got %v, want %v", tt.err, got, tt.want)
		}
	}
}
