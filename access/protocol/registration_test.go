package protocol

import (
	"bytes"
	"testing"
)

func TestRegistrationRoundTrip(t *testing.T) {
	f := newFixture(t)
	code := "12345678901234567890123456789012"
	tapSig, uvSig, err := SignRegistration(code, f.tap, f.uv)
	if err != nil {
		t.Fatalf("SignRegistration: %v", err)
	}
	tapPub, uvPub := pubBytes(t, f.tap), pubBytes(t, f.uv)
	other := pubBytes(t, testKey(t, "other device"))
	tests := []struct {
		name          string
		code          string
		tapPub, uvPub []byte
		tapSig, uvSig []byte
		want          error
	}{
		{"genuine", code, tapPub, uvPub, tapSig, uvSig, nil},
		{"another code", "12345678901234567890123456789013", tapPub, uvPub, tapSig, uvSig, ErrBadSignature},
		{"keys swapped", code, uvPub, tapPub, uvSig, tapSig, ErrBadSignature},
		{"someone else's UV key", code, tapPub, other, tapSig, uvSig, ErrBadSignature},
		{"tap signature only", code, tapPub, uvPub, tapSig, tapSig, ErrBadSignature},
		{"same key twice", code, tapPub, tapPub, tapSig, tapSig, ErrMalformed},
		{"truncated key", code, tapPub[:64], uvPub, tapSig, uvSig, ErrMalformed},
		{"empty signature", code, tapPub, uvPub, nil, uvSig, ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifyRegistration(tt.code, tt.tapPub, tt.uvPub, tt.tapSig, tt.uvSig)
			if tt.want == nil && err != nil {
				t.Fatalf("got %v, want nil", err)
			}
			if tt.want != nil {
				wantErr(t, err, tt.want)
			}
		})
	}
}

func TestParsePublicKey(t *testing.T) {
	f := newFixture(t)
	good := pubBytes(t, f.tap)
	offCurve := bytes.Clone(good)
	offCurve[64] ^= 1
	compressed := append([]byte{0x02 | good[64]&1}, good[1:33]...)
	tests := []struct {
		name string
		in   []byte
		ok   bool
	}{
		{"uncompressed", good, true},
		{"off the curve", offCurve, false},
		{"identity", []byte{0x00}, false},
		{"all zeros", make([]byte, PublicKeySize), false},
		{"compressed", compressed, false},
		{"too long", append(bytes.Clone(good), 0), false},
		{"empty", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			pub, err := ParsePublicKey(tt.in)
			if tt.ok != (err == nil) {
				t.Fatalf("got %v, want ok=%v", err, tt.ok)
			}
			if !tt.ok {
				wantErr(t, err, ErrMalformed)
				return
			}
			back, err := MarshalPublicKey(pub)
			if err != nil || !bytes.Equal(back, tt.in) {
				t.Errorf("round trip: got %x (%v), want %x", back, err, tt.in)
			}
		})
	}
	if _, err := MarshalPublicKey(nil); err == nil {
		t.Errorf("MarshalPublicKey(nil): got nil error, want one")
	}
}
