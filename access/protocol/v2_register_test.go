package protocol

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestRegistration2(t *testing.T) {
	f := newFixture(t)
	nonce := bytes.Repeat([]byte{0x11}, NonceSize)
	code := "1234 5678 9012 3456 7890 1234 5678 9012"
	tapSig, uvSig, err := SignRegistration2(code, nonce, f.tap, f.uv)
	if err != nil {
		t.Fatal(err)
	}
	tapPub, uvPub := pubBytes(t, f.tap), pubBytes(t, f.uv)
	d, err := VerifyRegistration2(code, nonce, tapPub, uvPub, tapSig, uvSig)
	if err != nil {
		t.Fatal(err)
	}
	if d != RegistrationDigest2(code, nonce, tapPub, uvPub) {
		t.Error("the digest returned is not the registration digest")
	}
	tests := []struct {
		name  string
		code  string
		nonce []byte
		tap   []byte
		uv    []byte
		want  error
	}{
		{"other code", "1234", nonce, tapPub, uvPub, ErrBadSignature},
		{"other nonce", code, bytes.Repeat([]byte{2}, NonceSize), tapPub, uvPub, ErrBadSignature},
		{"short nonce", code, nonce[:8], tapPub, uvPub, ErrMalformed},
		{"swapped keys", code, nonce, uvPub, tapPub, ErrBadSignature},
		{"same key twice", code, nonce, tapPub, tapPub, ErrMalformed},
		{"not a key", code, nonce, tapPub[:10], uvPub, ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := VerifyRegistration2(tt.code, tt.nonce, tt.tap, tt.uv, tapSig, uvSig)
			wantErr(t, err, tt.want)
		})
	}
}

func TestSiteAnswer(t *testing.T) {
	f := newFixture(t)
	req := RegistrationDigest2("code", make([]byte, NonceSize), pubBytes(t, f.tap), pubBytes(t, f.uv))
	a := SiteAnswer{CredentialID: f.cred, SiteID: f.siteID, SiteName: "Head office", SiteURL: "https://doors.example", FirstName: "Ann", LastName: "Lee"}
	sig, err := SignSiteAnswer(req, &a, f.site)
	if err != nil {
		t.Fatal(err)
	}
	if a.KeyID() != PublicKeyID(&f.site.PublicKey) || a.Fingerprint() != KeyFingerprint(&f.site.PublicKey) {
		t.Error("the answer does not carry the signing key")
	}
	if err := VerifySiteAnswer(req, a, sig); err != nil {
		t.Fatal(err)
	}
	change := []struct {
		name string
		edit func(*SiteAnswer) [32]byte
	}{
		{"credential", func(a *SiteAnswer) [32]byte { a.CredentialID[0] ^= 1; return req }},
		{"site name", func(a *SiteAnswer) [32]byte { a.SiteName = "Evil"; return req }},
		{"url", func(a *SiteAnswer) [32]byte { a.SiteURL = "https://evil.example"; return req }},
		{"holder", func(a *SiteAnswer) [32]byte { a.LastName = "Other"; return req }},
		{"another request", func(a *SiteAnswer) [32]byte { return [32]byte{1} }},
		{"another key", func(a *SiteAnswer) [32]byte { a.SiteKey = pubBytes(t, testKey(t, "mallory")); return req }},
	}
	for _, c := range change {
		t.Run(c.name, func(t *testing.T) {
			b := a
			r := c.edit(&b)
			wantErr(t, VerifySiteAnswer(r, b, sig), ErrBadSignature)
		})
	}
	wantErr(t, VerifySiteAnswer(req, a, nil), ErrBadSignature)
	b := a
	b.SiteKey = nil
	wantErr(t, VerifySiteAnswer(req, b, sig), ErrMalformed)
}

func TestMigration(t *testing.T) {
	f := newFixture(t)
	newTap, newUV := testKey(t, "new tap"), testKey(t, "new uv")
	nonce := bytes.Repeat([]byte{3}, NonceSize)
	p, err := SignMigration(f.cred, nonce, f.tap, f.uv, newTap, newUV)
	if err != nil {
		t.Fatal(err)
	}
	oldTap, oldUV, tap, uv := pubBytes(t, f.tap), pubBytes(t, f.uv), pubBytes(t, newTap), pubBytes(t, newUV)
	if _, err := VerifyMigration(f.cred, nonce, oldTap, oldUV, tap, uv, p); err != nil {
		t.Fatal(err)
	}
	// Someone holding only the new keys cannot move a credential.
	forged, _ := SignMigration(f.cred, nonce, newTap, newUV, newTap, newUV)
	_, err = VerifyMigration(f.cred, nonce, oldTap, oldUV, tap, uv, forged)
	wantErr(t, err, ErrBadSignature)
	// Nor can the old keys name keys they do not hold.
	stolen := p
	stolen.TapSig, stolen.UVSig = p.OldTapSig, p.OldUVSig
	_, err = VerifyMigration(f.cred, nonce, oldTap, oldUV, tap, uv, stolen)
	wantErr(t, err, ErrBadSignature)
	_, err = VerifyMigration(CredentialID{9}, nonce, oldTap, oldUV, tap, uv, p)
	wantErr(t, err, ErrBadSignature)
	_, err = VerifyMigration(f.cred, nonce, oldTap, oldUV, oldTap, uv, p)
	wantErr(t, err, ErrMalformed)
}

func TestShare2(t *testing.T) {
	f := newFixture(t)
	body := []byte(`{"admin_email":"admin@b.example"}`)
	sig, err := SignShare2(f.cred, body, t0, f.uv)
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyShare2(f.cred, body, t0, sig, &f.uv.PublicKey); err != nil {
		t.Fatal(err)
	}
	wantErr(t, VerifyShare2(f.cred, body, t0, sig, &f.tap.PublicKey), ErrBadSignature)
	wantErr(t, VerifyShare2(f.cred, body, t0.Add(time.Millisecond), sig, &f.uv.PublicKey), ErrBadSignature)
	wantErr(t, VerifyShare2(f.cred, append(body, ' '), t0, sig, &f.uv.PublicKey), ErrBadSignature)
}

func testTokenV2(t testing.TB) TokenV2 {
	f := newFixture(t)
	return TokenV2{
		ID: [16]byte{0x70, 0x6b}, CredentialID: CredentialID{0xb0},
		TapKey: pubBytes(t, testKey(t, "tap at b")), UVKey: pubBytes(t, testKey(t, "uv at b")),
		Introduction: bytes.Repeat([]byte{0x1d}, SecretSize),
		AdminEmail:   "admin@b.example", FirstName: "Ann", LastName: "Lee",
		SiteID: f.siteID, SiteName: "Head office", SiteURL: "https://a.example",
		IssuedAt: t0, ExpiresAt: t0.Add(30 * 24 * time.Hour),
	}
}

func TestTokenV2RoundTrip(t *testing.T) {
	f := newFixture(t)
	tok := testTokenV2(t)
	s, err := EncodeTokenV2(tok, f.site)
	if err != nil {
		t.Fatal(err)
	}
	if v, err := TokenVersionOf(s); err != nil || v != TokenVersion2 {
		t.Fatalf("TokenVersionOf: %d %v", v, err)
	}
	pasted := strings.Replace(s, ".", ".\r\n   ", 1)
	got, err := DecodeTokenV2(pasted, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	tok.SiteKey = pubBytes(t, f.site)
	tok.IssuedAt, tok.ExpiresAt = got.IssuedAt, got.ExpiresAt
	if got.ID != tok.ID || got.AdminEmail != tok.AdminEmail || !bytes.Equal(got.Introduction, tok.Introduction) ||
		!bytes.Equal(got.TapKey, tok.TapKey) || got.SiteURL != tok.SiteURL || got.SiteFingerprint() != KeyFingerprint(&f.site.PublicKey) {
		t.Fatalf("got %+v, want %+v", got, tok)
	}
	if _, err := DecodeTokenV2(s, tok.ExpiresAt); !errors.Is(err, ErrExpired) {
		t.Errorf("expired: got %v, want %v", err, ErrExpired)
	}
	// Version 1's reader does not take a version 2 token, nor the reverse.
	if _, err := DecodeToken(s, t0); !errors.Is(err, ErrMalformed) {
		t.Errorf("v1 reader: got %v, want %v", err, ErrMalformed)
	}
	v1, err := EncodeToken(testToken(t), f.site)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := DecodeTokenV2(v1, t0); !errors.Is(err, ErrMalformed) {
		t.Errorf("v2 reader on a v1 token: got %v, want %v", err, ErrMalformed)
	}
	flipped([]byte(s[len(TokenPrefix):]), func(pos int, mask byte, m []byte) {
		if _, err := DecodeTokenV2(TokenPrefix+string(m), t0); err == nil && !bytes.Equal(m, []byte(s[len(TokenPrefix):])) {
			t.Errorf("byte %d ^ %02x: a changed token decoded", pos, mask)
		}
	})
}

func TestEncodeTokenV2Refuses(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name string
		edit func(*TokenV2)
	}{
		{"no email", func(t *TokenV2) { t.AdminEmail = "" }},
		{"long email", func(t *TokenV2) { t.AdminEmail = strings.Repeat("a", 250) + "@b.example" }},
		{"no introduction", func(t *TokenV2) { t.Introduction = nil }},
		{"same keys", func(t *TokenV2) { t.UVKey = t.TapKey }},
		{"no name", func(t *TokenV2) { t.FirstName, t.LastName = "", "" }},
		{"control in name", func(t *TokenV2) { t.FirstName = "A\nB" }},
		{"expires before issue", func(t *TokenV2) { t.ExpiresAt = t.IssuedAt }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok := testTokenV2(t)
			tt.edit(&tok)
			if _, err := EncodeTokenV2(tok, f.site); err == nil {
				t.Error("encoded")
			}
		})
	}
}
