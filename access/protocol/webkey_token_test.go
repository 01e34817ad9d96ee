package protocol

import (
	"errors"
	"strings"
	"testing"
	"time"
)

func testWebKeyToken() WebKeyToken {
	return WebKeyToken{
		ID:         [16]byte{7, 7, 7},
		AdminEmail: "admin@bravo.example", HolderEmail: "zoe@home.example",
		FirstName: "Zoë", LastName: "Okafor",
		SiteID: SiteID{1}, SiteName: "Riverside Workshop", SiteURL: "https://doors.riverside.example",
		IssuedAt: t0, ExpiresAt: t0.Add(14 * 24 * time.Hour),
	}
}

func TestWebKeyToken(t *testing.T) {
	f := newFixture(t)
	s, err := EncodeWebKeyToken(testWebKeyToken(), f.site)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := TokenVersionOf(s); err != nil || v != TokenVersionWebKey {
		t.Fatalf("version %d %v, want %d", v, err, TokenVersionWebKey)
	}
	got, err := DecodeWebKeyToken(s, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	want := testWebKeyToken()
	if got.ID != want.ID || got.AdminEmail != want.AdminEmail || got.HolderEmail != want.HolderEmail || got.FirstName != want.FirstName ||
		got.LastName != want.LastName || got.SiteID != want.SiteID || got.SiteName != want.SiteName || got.SiteURL != want.SiteURL ||
		!got.IssuedAt.Equal(want.IssuedAt) || !got.ExpiresAt.Equal(want.ExpiresAt) || got.SiteFingerprint() != KeyFingerprint(&f.site.PublicKey) {
		t.Errorf("got %+v, want %+v", got, want)
	}

	payload, sig, _ := strings.Cut(strings.TrimPrefix(s, TokenPrefix), ".")
	raw, _ := tokenEncoding.DecodeString(payload)
	raw[len(raw)-1] ^= 1 // the site URL's last letter
	tampered := TokenPrefix + tokenEncoding.EncodeToString(raw) + "." + sig
	tests := []struct {
		name string
		text string
		at   time.Time
		want error
	}{
		{"tampered", tampered, t0, ErrBadSignature},
		{"expired", s, want.ExpiresAt, ErrExpired},
		{"cut short", s[:len(s)/2], t0, ErrMalformed},
	}
	for _, tt := range tests {
		if _, err := DecodeWebKeyToken(tt.text, tt.at); !errors.Is(err, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, err, tt.want)
		}
	}
	// Another version's decoder refuses it: it carries no keys to import.
	if _, err := DecodeTokenV2(s, t0); !errors.Is(err, ErrMalformed) {
		t.Errorf("DecodeTokenV2 of a web key token: %v, want ErrMalformed", err)
	}
	noHolder := testWebKeyToken()
	noHolder.HolderEmail = ""
	if _, err := EncodeWebKeyToken(noHolder, f.site); err == nil {
		t.Error("a web key token with no holder's address was encoded: the other site could not invite them")
	}
}
