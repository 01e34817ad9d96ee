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
// frames both ways and, when the key sends its first protocol message (its
// answer to the challenge), kills the appliance before passing it on: the
// reader goes away mid-presentation, before it decides. killed is closed
// once the appliance has exited.
func cutAfterAnswer(t *testing.T, a *appliance) (addr string, killed <-chan struct{}) {
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
// so and exits 2, rather than reading it as a denial.
func TestKeyCutOffMidPresentation(t *testing.T) {
	data := t.TempDir()
	a := startAppliance(t, data)
	s := newE2ESite(t, a)
	front := s.accessPoint("Front door", "sim:front")
	annID := s.user("Ann", "Lee")
	s.permit(map[string]any{"user_id": annID, "access_point_id": front})
	ann := s.register(annID, "ann")
	if out, errs, code := s.present(ann, "front", "--rssi", "-50"); code != 0 {
		t.Fatalf("before the cut: exit %d %q %q, want granted", code, out, errs)
	}

	proxy, killed := cutAfterAnswer(t, a)
	out, errs, code := postern(t, "", "key", "--state", ann.state, "present", "--air", proxy, "--reader", "front", "--rssi", "-50", "--timeout", "20s")
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
}
