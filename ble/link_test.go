package ble

import (
	"errors"
	"io"
	"testing"
)

func TestPipe(t *testing.T) {
	ctx := guardCtx(t)
	reader, key := Pipe()
	if err := reader.Send(ctx, []byte("challenge")); err != nil {
		t.Fatal(err)
	}
	if err := reader.Send(ctx, []byte("result")); err != nil {
		t.Fatal(err)
	}
	reader.Close()
	// What was sent before the close still arrives, then the end.
	for _, want := range []string{"challenge", "result"} {
		if got, err := key.Recv(ctx); err != nil || string(got) != want {
			t.Fatalf("got %q, %v; want %q", got, err, want)
		}
	}
	if _, err := key.Recv(ctx); !errors.Is(err, io.EOF) {
		t.Fatalf("after the peer closed: got %v, want EOF", err)
	}
	if err := key.Send(ctx, []byte("late")); err == nil {
		t.Fatal("Send to a closed peer succeeded")
	}
	if _, err := reader.Recv(ctx); !errors.Is(err, ErrLinkClosed) {
		t.Fatalf("Recv on a closed link: got %v, want ErrLinkClosed", err)
	}
}

func TestSendRefusesOversizedMessages(t *testing.T) {
	ctx := guardCtx(t)
	a, addr := startAir(t, AirOptions{})
	cands, _, _ := listenAir(t, a, "front")
	ap, err := DialAir(ctx, addr, Presence{Reader: "front", RSSI: -50})
	if err != nil {
		t.Fatal(err)
	}
	defer ap.Close()
	airReader, err := recv(t, cands, "the candidate").Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	airKey, err := ap.Link(ctx)
	if err != nil {
		t.Fatal(err)
	}
	pipeR, pipeK := Pipe()

	tests := []struct {
		name string
		link Link
	}{
		{name: "pipe", link: pipeR},
		{name: "pipe key", link: pipeK},
		{name: "air reader", link: airReader},
		{name: "air key", link: airKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.link.Send(ctx, make([]byte, MaxMessage+1)); !errors.Is(err, ErrMessageTooLong) {
				t.Fatalf("got %v, want ErrMessageTooLong", err)
			}
			if err := tt.link.Send(ctx, make([]byte, MaxMessage)); err != nil {
				t.Fatalf("largest message: %v", err)
			}
		})
	}
}
