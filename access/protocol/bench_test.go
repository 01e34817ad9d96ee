package protocol

import (
	"crypto/ecdh"
	"testing"
)

// BenchmarkSiteSign is the reader's cost per challenge: nonce, ephemeral
// key and site signature.
func BenchmarkSiteSign(b *testing.B) {
	f := newFixture(b)
	for b.Loop() {
		if _, _, err := NewChallenge(nil, f.site, f.siteID, f.readerID, 0, t0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkECDH is one P-256 shared-secret computation, done once by each
// side per exchange.
func BenchmarkECDH(b *testing.B) {
	a, err := ecdh.P256().GenerateKey(nil)
	if err != nil {
		b.Fatal(err)
	}
	peer, err := ecdh.P256().GenerateKey(nil)
	if err != nil {
		b.Fatal(err)
	}
	pub := peer.PublicKey()
	for b.Loop() {
		if _, err := a.ECDH(pub); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkVerifyResponse is the reader's cost per response: ECDH, key
// derivation, decryption and the signature check.
func BenchmarkVerifyResponse(b *testing.B) {
	f := newFixture(b)
	ch, eph := f.challenge(b, 0, t0)
	resp, _ := f.respond(b, ch, false)
	for b.Loop() {
		o, err := OpenResponse(ch, eph, resp)
		if err != nil {
			b.Fatal(err)
		}
		if err := o.Verify(&f.tap.PublicKey); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRespond is the key's cost per challenge (the phone's, with a
// software key): ephemeral key, ECDH, key derivation, signature and
// encryption.
func BenchmarkRespond(b *testing.B) {
	f := newFixture(b)
	ch, _ := f.challenge(b, 0, t0)
	for b.Loop() {
		if _, _, err := Respond(nil, ch, f.cred, f.tap, false); err != nil {
			b.Fatal(err)
		}
	}
}
