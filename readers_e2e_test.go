package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestReadersFollowTheAPIAtOnce: an access point created, rebound or
// removed through the API, and a credential revoked, take effect for a key
// presented the moment the call returns, with no poll to wait for (nothing
// here retries).
func TestReadersFollowTheAPIAtOnce(t *testing.T) {
	data := t.TempDir()
	a := startAppliance(t, data)
	s := &e2eSite{t: t, a: a, token: adminToken(t, data, "admin@office.example"), dir: t.TempDir()}
	s.pin = filepath.Join(s.dir, "pin")
	if err := os.WriteFile(s.pin, []byte("battery staple 2468\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	annID := s.user("Ann", "Lee")
	ann := s.register(annID, "ann")
	presentNow := func(what, reader string, wantCode int, wantOut string) {
		t.Helper()
		out, errs, code := s.present(ann, reader, "--rssi", "-50")
		if code != wantCode || !strings.Contains(out+errs, wantOut) {
			t.Fatalf("%s: got exit %d, %q %q; want exit %d and %q\n%s", what, code, out, errs, wantCode, wantOut, a.output())
		}
	}

	side := s.accessPoint("Side door", "sim:side")
	s.permit(map[string]any{"user_id": annID, "access_point_id": side})
	presentNow("right after the access point is created", "side", 0, "Access granted")

	s.call("PATCH", fmt.Sprintf("/api/v1/access-points/%d", side), map[string]any{"reader": "sim:yard"}, nil, 200)
	presentNow("right after it moves to another reader", "yard", 0, "Access granted")
	presentNow("at the reader it left", "side", 2, "no reader named")

	s.call("POST", "/api/v1/credentials/"+ann.credID+"/revoke", nil, nil, 200)
	presentNow("right after the credential is revoked", "yard", 1, "Access denied: credential not active")

	s.call("DELETE", fmt.Sprintf("/api/v1/access-points/%d", side), nil, nil, 204)
	presentNow("right after the access point is deleted", "yard", 2, "no reader named")
}
