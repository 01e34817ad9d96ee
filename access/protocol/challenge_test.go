package protocol

import (
	"bytes"
	"crypto/ecdsa"
	"errors"
	"reflect"
	"testing"
	"time"
)

func TestChallengeRoundTrip(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name string
		req  Requirements
	}{
		{"tap", 0},
		{"unlock required", RequireUnlock},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			at := t0.Add(123456789 * time.Nanosecond)
			ch, eph := f.challenge(t, tt.req, at)
			raw := ch.Marshal()
			if got, want := len(raw), challengeSize(1); got != want {
				t.Fatalf("size: got %v, want %v", got, want)
			}
			got, err := ParseChallenge(raw)
			if err != nil {
				t.Fatalf("ParseChallenge: %v", err)
			}
			if !reflect.DeepEqual(got.Versions, []Version{Version1}) {
				t.Errorf("versions: got %v, want %v", got.Versions, []Version{Version1})
			}
			if got.SiteID != f.siteID || got.ReaderID != f.readerID || got.Nonce != ch.Nonce {
				t.Errorf("ids: got %v/%v/%v, want %v/%v/%v", got.SiteID, got.ReaderID, got.Nonce, f.siteID, f.readerID, ch.Nonce)
			}
			if got.Requirements != tt.req || got.Requirements.UnlockRequired() != (tt.req == RequireUnlock) {
				t.Errorf("requirements: got %v, want %v", got.Requirements, tt.req)
			}
			if !got.ReaderKey.Equal(eph.PublicKey()) {
				t.Errorf("reader key: got %x, want %x", got.ReaderKey.Bytes(), eph.PublicKey().Bytes())
			}
			if want := at.Truncate(time.Millisecond); !got.IssuedAt.Equal(want) {
				t.Errorf("issued at: got %v, want %v", got.IssuedAt, want)
			}
			if !bytes.Equal(got.Marshal(), raw) {
				t.Errorf("re-marshal: got %x, want %x", got.Marshal(), raw)
			}
			if err := got.Verify(&f.site.PublicKey); err != nil {
				t.Errorf("Verify: got %v, want nil", err)
			}
		})
	}
}

func TestNewChallengeIsFresh(t *testing.T) {
	f := newFixture(t)
	a, ea := f.challenge(t, 0, t0)
	b, eb := f.challenge(t, 0, t0)
	if a.Nonce == b.Nonce {
		t.Errorf("nonce: got %v twice, want fresh nonces", a.Nonce)
	}
	if ea.PublicKey().Equal(eb.PublicKey()) {
		t.Errorf("ephemeral key: got the same key twice, want fresh keys")
	}
}

func TestNewChallengeRefuses(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name     string
		req      Requirements
		versions []Version
		key      *ecdsa.PrivateKey
	}{
		{"undefined requirement bit", 0x80, SupportedVersions(), f.site},
		{"empty version list", 0, nil, f.site},
		{"ascending versions", 0, []Version{1, 2}, f.site},
		{"no site key", 0, SupportedVersions(), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, _, err := newChallenge(nil, tt.key, f.siteID, f.readerID, tt.req, t0, tt.versions)
			if err == nil {
				t.Fatalf("got nil error, want a refusal")
			}
		})
	}
}

func TestParseChallengeMalformed(t *testing.T) {
	f := newFixture(t)
	ch, _ := f.challenge(t, 0, t0)
	good := ch.Marshal()
	keyOff := 2 + 1 + 16 + 16 + 16 + 1
	edit := func(fn func(b []byte) []byte) []byte { return fn(bytes.Clone(good)) }
	tests := []struct {
		name string
		raw  []byte
	}{
		{"empty", nil},
		{"one byte", []byte{typeChallenge}},
		{"wrong type", edit(func(b []byte) []byte { b[0] = typeResponse; return b })},
		{"no versions", edit(func(b []byte) []byte { b[1] = 0; return b })},
		{"too many versions", edit(func(b []byte) []byte { b[1] = MaxVersions + 1; return b })},
		{"truncated", good[:len(good)-1]},
		{"trailing byte", append(bytes.Clone(good), 0)},
		{"version zero", edit(func(b []byte) []byte { b[2] = 0; return b })},
		{"undefined requirement bit", edit(func(b []byte) []byte { b[keyOff-1] |= 0x02; return b })},
		{"compressed reader key", edit(func(b []byte) []byte { b[keyOff] = 0x02; return b })},
		{"reader key off the curve", edit(func(b []byte) []byte { b[keyOff+64] ^= 1; return b })},
		{"ascending versions", func() []byte {
			c := *ch
			c.Versions = []Version{1, 2}
			return c.Marshal()
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseChallenge(tt.raw)
			wantErr(t, err, ErrMalformed)
		})
	}
}

func TestVerifyChallenge(t *testing.T) {
	f := newFixture(t)
	other := testKey(t, "other site")
	ch, _ := f.challenge(t, 0, t0)
	forged, _, err := NewChallenge(nil, other, f.siteID, f.readerID, 0, t0)
	if err != nil {
		t.Fatal(err)
	}
	known := map[SiteID]*ecdsa.PublicKey{f.siteID: &f.site.PublicKey}
	tests := []struct {
		name   string
		ch     *Challenge
		known  map[SiteID]*ecdsa.PublicKey
		strict bool
		want   error
	}{
		{"known site, its signature", ch, known, true, nil},
		{"known site, another key's signature", forged, known, false, ErrBadSignature},
		{"unknown site, strict", ch, nil, true, ErrUnknownSite},
		{"unknown site, not strict", ch, nil, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifyChallenge(tt.ch, tt.known, tt.strict)
			if !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
				t.Errorf("got %v, want %v", err, tt.want)
			}
		})
	}
}
