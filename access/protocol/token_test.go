package protocol

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

func testToken(t testing.TB) Token {
	f := newFixture(t)
	return Token{
		CredentialID: f.cred,
		TapKey:       pubBytes(t, f.tap),
		UVKey:        pubBytes(t, f.uv),
		FirstName:    "Zoë",
		LastName:     "Okafor",
		SiteID:       f.siteID,
		SiteName:     "Riverside Workshop",
		SiteURL:      "https://doors.riverside.example",
		IssuedAt:     t0,
		ExpiresAt:    t0.Add(14 * 24 * time.Hour),
	}
}

func TestTokenRoundTrip(t *testing.T) {
	f := newFixture(t)
	tok := testToken(t)
	s, err := EncodeToken(tok, f.site)
	if err != nil {
		t.Fatalf("EncodeToken: %v", err)
	}
	if !regexp.MustCompile(`^postern-credential:[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$`).MatchString(s) {
		t.Errorf("text form %q has characters outside the URL-safe set", s)
	}
	got, err := DecodeToken(s, t0.Add(time.Hour))
	if err != nil {
		t.Fatalf("DecodeToken: %v", err)
	}
	tok.Version = TokenVersion1
	tok.SiteKey = pubBytes(t, f.site)
	if got.CredentialID != tok.CredentialID || got.FirstName != tok.FirstName || got.LastName != tok.LastName ||
		got.SiteID != tok.SiteID || got.SiteName != tok.SiteName || got.SiteURL != tok.SiteURL ||
		string(got.TapKey) != string(tok.TapKey) || string(got.UVKey) != string(tok.UVKey) || string(got.SiteKey) != string(tok.SiteKey) ||
		!got.IssuedAt.Equal(tok.IssuedAt) || !got.ExpiresAt.Equal(tok.ExpiresAt) || got.Version != tok.Version {
		t.Errorf("got %+v, want %+v", got, tok)
	}
	if got, want := got.SiteFingerprint(), KeyFingerprint(&f.site.PublicKey); got != want || !regexp.MustCompile(`^([0-9a-f]{4}:){7}[0-9a-f]{4}$`).MatchString(got) {
		t.Errorf("fingerprint: got %q, want %q in 8 groups of 4 hex digits", got, want)
	}
}

func TestDecodeTokenToleratesPasting(t *testing.T) {
	f := newFixture(t)
	s, err := EncodeToken(testToken(t), f.site)
	if err != nil {
		t.Fatal(err)
	}
	wrap := func(s string, n int, sep string) string {
		var b strings.Builder
		for i := 0; i < len(s); i += n {
			if i > 0 {
				b.WriteString(sep)
			}
			b.WriteString(s[i:min(i+n, len(s))])
		}
		return b.String()
	}
	tests := []struct {
		name string
		in   string
	}{
		{"as is", s},
		{"surrounding blank lines", "\r\n\n  " + s + "  \n\n"},
		{"wrapped at 76 with CRLF", wrap(s, 76, "\r\n")},
		{"wrapped and quoted-style indent", wrap(s, 60, "\n    ")},
		{"tabs and non-breaking spaces", "\t" + wrap(s, 50, "\u00a0") + "\t"},
		{"zero-width spaces from a rich-text client", wrap(s, 40, "\u200b")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := DecodeToken(tt.in, t0); err != nil {
				t.Errorf("got %v, want nil", err)
			}
		})
	}
}

func TestDecodeTokenRefuses(t *testing.T) {
	f := newFixture(t)
	s, err := EncodeToken(testToken(t), f.site)
	if err != nil {
		t.Fatal(err)
	}
	payload, sig, _ := strings.Cut(strings.TrimPrefix(s, TokenPrefix), ".")

	// A token naming our site key but signed by another.
	other := testToken(t)
	other.SiteKey = pubBytes(t, f.site)
	otherKey := testKey(t, "impostor")
	forgedPayload := other.payload()
	d := tokenDigest(forgedPayload)
	forgedSig, err := sign(otherKey, d[:])
	if err != nil {
		t.Fatal(err)
	}
	forged := TokenPrefix + tokenEncoding.EncodeToString(forgedPayload) + "." + tokenEncoding.EncodeToString(forgedSig)

	tests := []struct {
		name string
		in   string
		now  time.Time
		want error
	}{
		{"empty", "", t0, ErrMalformed},
		{"no prefix", payload + "." + sig, t0, ErrMalformed},
		{"other prefix", "postern-token:" + payload + "." + sig, t0, ErrMalformed},
		{"no signature", TokenPrefix + payload, t0, ErrMalformed},
		{"three parts", s + ".AA", t0, ErrMalformed},
		{"standard base64 characters", TokenPrefix + strings.ReplaceAll(payload, "_", "/") + "+." + sig, t0, ErrMalformed},
		{"padding", s + "==", t0, ErrMalformed},
		{"short signature", TokenPrefix + payload + "." + sig[:20], t0, ErrMalformed},
		{"signature swapped for another site's", forged, t0, ErrBadSignature},
		{"expired", s, t0.Add(14 * 24 * time.Hour), ErrExpired},
		{"huge paste", TokenPrefix + strings.Repeat("A", 10000), t0, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := DecodeToken(tt.in, tt.now)
			wantErr(t, err, tt.want)
		})
	}
}

func TestEncodeTokenRefuses(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name string
		edit func(*Token)
	}{
		{"no tap key", func(t *Token) { t.TapKey = nil }},
		{"same tap and UV key", func(t *Token) { t.UVKey = t.TapKey }},
		{"no name", func(t *Token) { t.FirstName, t.LastName = "", "" }},
		{"name too long", func(t *Token) { t.FirstName = strings.Repeat("a", MaxTokenName+1) }},
		{"control character in a name", func(t *Token) { t.LastName = "O\nkafor" }},
		{"URL too long", func(t *Token) { t.SiteURL = "https://" + strings.Repeat("a", MaxTokenSiteURL) }},
		{"expires before issued", func(t *Token) { t.ExpiresAt = t.IssuedAt }},
		{"another site key", func(tk *Token) { tk.SiteKey = pubBytes(t, f.tap) }},
		{"unknown version", func(t *Token) { t.Version = 2 }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := testToken(t)
			tt.edit(&tok)
			if _, err := EncodeToken(tok, f.site); err == nil {
				t.Errorf("got nil error, want a refusal")
			}
		})
	}
}
