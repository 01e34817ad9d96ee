package protocol

import (
	"crypto/ecdsa"
	"testing"
	"time"
)

func TestShareSignature(t *testing.T) {
	f := newFixture(t)
	body := []byte(`{"first_name":"Zoë","last_name":"Okafor","admin_email":"admin@other.example"}`)
	sig := SignShare(f.cred, body, t0, f.tap)
	if len(sig) != SignatureSize {
		t.Fatalf("signature: got %d bytes, want %d", len(sig), SignatureSize)
	}
	tests := []struct {
		name string
		cred CredentialID
		body []byte
		at   time.Time
		pub  *ecdsa.PublicKey
		want error
	}{
		{"genuine", f.cred, body, t0, &f.tap.PublicKey, nil},
		{"sub-millisecond difference is the same time", f.cred, body, t0.Add(time.Microsecond), &f.tap.PublicKey, nil},
		{"other body", f.cred, append([]byte(nil), body[1:]...), t0, &f.tap.PublicKey, ErrBadSignature},
		{"other time", f.cred, body, t0.Add(time.Millisecond), &f.tap.PublicKey, ErrBadSignature},
		{"other credential", CredentialID{9}, body, t0, &f.tap.PublicKey, ErrBadSignature},
		{"UV key instead of tap key", f.cred, body, t0, &f.uv.PublicKey, ErrBadSignature},
		{"no key", f.cred, body, t0, nil, ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifyShare(tt.cred, tt.body, tt.at, sig, tt.pub)
			if tt.want == nil && err != nil {
				t.Fatalf("got %v, want nil", err)
			}
			if tt.want != nil {
				wantErr(t, err, tt.want)
			}
		})
	}
	if got := SignShare(f.cred, body, t0, nil); got != nil {
		t.Errorf("SignShare with no key: got %x, want nil", got)
	}
}
