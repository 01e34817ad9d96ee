package ble

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"io"
	"testing"
	"time"

	"postern/access/protocol"
)

// scriptedLink is a key-side Link whose reader says what the script says:
// each Recv returns the next message or error.
type scriptedLink struct {
	recvs []func() ([]byte, error)
}

func (l *scriptedLink) Send(context.Context, []byte) error { return nil }
func (l *scriptedLink) Close() error                       { return nil }
func (l *scriptedLink) Recv(ctx context.Context) ([]byte, error) {
	if len(l.recvs) == 0 {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	next := l.recvs[0]
	l.recvs = l.recvs[1:]
	return next()
}

// TestPresentKeyTellsACutFromARefusal: a reader that hangs up after the
// answer refused it (exit 1 at the key); a link lost, or silent until the
// key's deadline, decided nothing, and says so (ErrNoAnswer).
func TestPresentKeyTellsACutFromARefusal(t *testing.T) {
	siteKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tap, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	site := protocol.SiteID{1, 2, 3}
	ch, _, err := protocol.NewChallenge(nil, siteKey, site, ReaderID(site, "sim:front"), 0, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	challenge := func() ([]byte, error) { return ch.Marshal(), nil }
	fails := func(err error) func() ([]byte, error) { return func() ([]byte, error) { return nil, err } }
	k := KeyCredential{ID: protocol.CredentialID{9}, Tap: tap, Sites: map[protocol.SiteID]*ecdsa.PublicKey{site: &siteKey.PublicKey}}
	tests := []struct {
		name  string
		recvs []func() ([]byte, error)
		want  error
	}{
		{"cut before the challenge", []func() ([]byte, error){fails(ErrLinkLost)}, ErrNoAnswer},
		{"hung up before the challenge", []func() ([]byte, error){fails(io.EOF)}, ErrNoAnswer},
		{"cut after the answer", []func() ([]byte, error){challenge, fails(ErrLinkLost)}, ErrNoAnswer},
		{"silent after the answer until the deadline", []func() ([]byte, error){challenge}, ErrNoAnswer},
		{"hung up after the answer", []func() ([]byte, error){challenge, fails(io.EOF)}, ErrNoResult},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
			defer cancel()
			_, err := PresentKey(ctx, &scriptedLink{recvs: tt.recvs}, k, false)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			other := ErrNoResult
			if tt.want == ErrNoResult {
				other = ErrNoAnswer
			}
			if errors.Is(err, other) {
				t.Errorf("got %v, which also reads as %v", err, other)
			}
		})
	}
}

// TestAirLinkCut: when the air goes away during a link (the appliance
// stopped), the key reads what came before, then a lost link, not the
// reader hanging up.
func TestAirLinkCut(t *testing.T) {
	ctx := guardCtx(t)
	a, reader, key := linkedOverAir(t, ctx)
	reader.Send(ctx, []byte("challenge"))
	if got, err := key.Recv(ctx); err != nil || string(got) != "challenge" {
		t.Fatalf("key got %q, %v; want the challenge", got, err)
	}
	a.Close()
	_, err := key.Recv(ctx)
	if !errors.Is(err, ErrLinkLost) || errors.Is(err, io.EOF) {
		t.Fatalf("key Recv after the air went away: got %v, want ErrLinkLost and not EOF", err)
	}
	if err := key.Send(ctx, []byte("answer")); !errors.Is(err, ErrLinkLost) {
		t.Errorf("key Send after the air went away: got %v, want ErrLinkLost", err)
	}
}

// linkedOverAir is a key at reader "front" on a fresh air, taken up: the
// reader's and the key's ends of their link.
func linkedOverAir(t *testing.T, ctx context.Context) (a *Air, reader, key Link) {
	t.Helper()
	a, addr := startAir(t, AirOptions{})
	cands, _, _ := listenAir(t, a, "front")
	ap, err := DialAir(ctx, addr, Presence{Reader: "front", RSSI: -50})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ap.Close() })
	if reader, err = recv(t, cands, "the candidate").Connect(ctx); err != nil {
		t.Fatal(err)
	}
	if key, err = ap.Link(ctx); err != nil {
		t.Fatal(err)
	}
	return a, reader, key
}
