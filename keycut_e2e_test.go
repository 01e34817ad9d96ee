package main

import (
	be "encoding/binary"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// cutAfterAnswer stands between keys and the appliance's air. It passes
// frames both ways and, when the key sends its nth protocol message (its
// answer: the first for a version 1 key or an expedited one, the second,
// after the hello, for a full version 2 exchange), kills the appliance
// before passing it on: the reader goes away mid-presentation, before it
// decides. killed is closed once the appliance has exited.
func cutAfterAnswer(t *testing.T, a *appliance, nth int) (addr string, killed <-chan struct{}) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	done := make(chan struct{})
	go func() {
		key, err := l.Accept()
		if err != nil {
			return
		}
		defer key.Close()
		air, err := net.Dial("tcp", a.air)
		if err != nil {
			return
		}
		defer air.Close()
		go func() {
			io.Copy(key, air)
			key.Close()
		}()
		for {
			var hdr [5]byte // length, then the frame's type
			if _, err := io.ReadFull(key, hdr[:]); err != nil {
				return
			}
			body := make([]byte, be.BigEndian.Uint32(hdr[:4])-1)
			if _, err := io.ReadFull(key, body); err != nil {
				return
			}
			if hdr[4] == 'M' {
				nth--
			}
			if hdr[4] == 'M' && nth == 0 {
				a.cmd.Process.Kill()
				a.cmd.Wait()
				close(done)
				return
			}
			air.Write(append(hdr[:], body...))
		}
	}()
	return l.Addr().String(), done
}

// TestKeyCutOffMidPresentation: the appliance dies between the key's
// answer and the reader's decision. Nothing was decided, so the key says
// so and exits 2, rather than reading it as a denial, whichever protocol
// and path it presented on.
func TestKeyCutOffMidPresentation(t *testing.T) {
	tests := []struct {
		name     string
		v1       bool
		warm     bool // present it once first: a version 2 key then holds a ticket
		messages int  // the key's messages up to and with its answer
	}{
		{"version 2, full exchange", false, false, 2},
		{"version 2, expedited", false, true, 1},
		{"version 1", true, true, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := startAppliance(t, t.TempDir())
			s := newE2ESite(t, a)
			front := s.accessPoint("Front door", "sim:front")
			annID := s.user("Ann", "Lee")
			s.permit(map[string]any{"user_id": annID, "access_point_id": front})
			var ann e2eKey
			if tt.v1 {
				ann = s.registerV1(annID, "ann")
			} else {
				ann = s.register(annID, "ann")
			}
			// Present once before the cut, which also waits for the reader
			// to listen; a key that must not hold a ticket has another key
			// do it.
			probe := ann
			if !tt.warm {
				probe = s.register(s.user("Bob", "Lee"), "bob")
				s.permit(map[string]any{"user_id": probe.userID, "access_point_id": front})
			}
			if out, errs, code := s.present(probe, "front", "--rssi", "-50"); code != 0 {
				t.Fatalf("before the cut: exit %d %q %q, want granted", code, out, errs)
			}

			proxy, killed := cutAfterAnswer(t, a, tt.messages)
			out, errs, code := postern(t, "", "key", "--state", ann.state, "present", "--air", proxy, "--reader", "front", "--rssi", "-50", "--timeout", "20s", "--pin-file", s.pin)
			select {
			case <-killed:
			case <-time.After(e2eGuard):
				t.Fatalf("the appliance was not cut off (exit %d %q %q)", code, out, errs)
			}
			if code != 2 || !strings.Contains(errs, "No answer from the reader: try again") {
				t.Errorf("got exit %d, %q %q; want exit 2 and No answer from the reader: try again", code, out, errs)
			}
			if strings.Contains(out+errs, "Access denied") {
				t.Errorf("a cut connection reads as a denial: %q %q", out, errs)
			}
		})
	}
}
