package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// presentJSON presents k with --json and reads the line it prints.
func (s *e2eSite) presentJSON(k e2eKey, reader string) (presentJSON, string, int) {
	s.t.Helper()
	out, errs, code := s.present(k, reader, "--rssi", "-50", "--json")
	var j presentJSON
	if err := json.Unmarshal([]byte(out), &j); err != nil {
		s.t.Fatalf("present --json printed %q (%q, exit %d): %v", out, errs, code, err)
	}
	return j, errs, code
}

// The life of a key across protocol versions, through the binary: a
// version 2 key registers, presents in full and then expedited, and is
// refused on both paths once revoked; a key of the previous app keeps
// working until version 1 is turned off, is told to update, migrates
// without a new code, and presents again; a site key rollover is learned
// by the key on its next presentation. Events say which protocol each
// presentation used.
func TestProtocolVersionsEndToEnd(t *testing.T) {
	data := t.TempDir()
	a := startAppliance(t, data)
	s := newE2ESite(t, a)
	front := s.accessPoint("Front door", "sim:front")
	annID, bobID := s.user("Ann", "Lee"), s.user("Bob", "Old")
	for _, u := range []int64{annID, bobID} {
		s.permit(map[string]any{"user_id": u, "access_point_id": front})
	}
	ann := s.register(annID, "ann")

	want := func(what string, j presentJSON, code int, result, proto string, roundTrips int) {
		t.Helper()
		if j.Result != result || j.Protocol != proto || j.RoundTrips != roundTrips || code != map[string]int{"granted": 0, "denied": 1}[result] {
			t.Errorf("%s: exit %d %+v, want %s on %s in %d round trips", what, code, j, result, proto, roundTrips)
		}
	}
	full, _, code := s.presentJSON(ann, "front")
	want("first presentation", full, code, "granted", "v2", 2)
	fast, _, code := s.presentJSON(ann, "front")
	want("second presentation", fast, code, "granted", "v2 expedited", 1)
	if fast.BytesSent >= full.BytesSent || fast.BytesReceived >= full.BytesReceived {
		t.Errorf("expedited %+v is not cheaper than full %+v", fast, full)
	}

	s.call("POST", "/api/v1/credentials/"+ann.credID+"/revoke", nil, nil, 200)
	j, _, code := s.presentJSON(ann, "front")
	want("expedited after revoking", j, code, "denied", "v2 expedited", 1)
	j, _, code = s.presentJSON(ann, "front")
	want("full after revoking", j, code, "denied", "v2", 2)
	if !strings.Contains(j.Reason, "credential not active") {
		t.Errorf("after revoking: reason %q, want credential not active", j.Reason)
	}

	// A key of the previous app, still let in.
	bob := s.registerV1(bobID, "bob")
	j, _, code = s.presentJSON(bob, "front")
	want("version 1 key", j, code, "granted", "v1", 2)

	// The admin turns version 1 off: the old key is told to update.
	s.call("PUT", "/api/v1/settings/protocol", map[string]bool{"accept_v1": false}, nil, 200)
	time.Sleep(1100 * time.Millisecond) // readers read the site's settings once a second
	out, errs, code := s.present(bob, "front", "--rssi", "-50")
	if code != 1 || !strings.Contains(out, "Access denied: update required (Update your key)") || !strings.Contains(errs, "migrate") {
		t.Fatalf("version 1 once off: exit %d %q %q, want told to update", code, out, errs)
	}

	// It migrates, with no new code, and opens again.
	out, errs, code = postern(t, "", "key", "--state", bob.state, "migrate", "--pin-file", s.pin)
	if code != 0 || !strings.Contains(out, "Migrated") {
		t.Fatalf("migrate: exit %d %q %q\n%s", code, out, errs, a.output())
	}
	if _, err := os.Stat(bob.state + ".migrating"); !os.IsNotExist(err) {
		t.Errorf("the migration's working file is left behind: %v", err)
	}
	if out, errs, code := postern(t, "", "key", "--state", bob.state, "migrate", "--pin-file", s.pin); code != 1 || !strings.Contains(errs, "already speaks protocol version 2") {
		t.Errorf("migrating twice: exit %d %q %q", code, out, errs)
	}
	j, _, code = s.presentJSON(bob, "front")
	want("migrated key", j, code, "granted", "v2", 2)
	j, _, code = s.presentJSON(bob, "front")
	want("migrated key again", j, code, "granted", "v2 expedited", 1)

	// The admin rolls the site key: the key learns the new one, signed by
	// the old, on its next (full) presentation, then goes fast again.
	s.call("POST", "/api/v1/site/key/roll", map[string]int{"overlap_days": 30}, nil, 200)
	time.Sleep(1100 * time.Millisecond)
	j, _, code = s.presentJSON(bob, "front")
	want("after the rollover", j, code, "granted", "v2", 2)
	j, _, code = s.presentJSON(bob, "front")
	want("after the rollover, again", j, code, "granted", "v2 expedited", 1)

	// Events say which protocol each presentation used.
	var page struct {
		Events []struct {
			Kind, Reason, Protocol string
		} `json:"events"`
	}
	s.call("GET", "/api/v1/events?kind=access.&limit=100", nil, &page, 200)
	var got []string
	for i := len(page.Events) - 1; i >= 0; i-- {
		e := page.Events[i]
		got = append(got, e.Protocol+" "+e.Reason)
	}
	wantEvents := []string{"v2 granted", "v2 expedited granted", "v2 expedited credential not active", "v2 credential not active",
		"v1 granted", "v1 update required", "v2 granted", "v2 expedited granted", "v2 granted", "v2 expedited granted"}
	if strings.Join(got, ", ") != strings.Join(wantEvents, ", ") {
		t.Errorf("events:\n got %q\nwant %q", got, wantEvents)
	}
}

// registerV1 registers a key of the previous app (protocol version 1).
func (s *e2eSite) registerV1(userID int64, name string) e2eKey {
	s.t.Helper()
	var cred struct{ ID, Code string }
	s.call("POST", fmt.Sprintf("/api/v1/users/%d/credentials?show_code=1", userID), map[string]string{"kind": "smart"}, &cred, 201)
	k := e2eKey{state: filepath.Join(s.dir, name+".json"), credID: cred.ID, userID: userID}
	out, errs, code := postern(s.t, "", "key", "--state", k.state, "register", cred.Code, "--site", s.a.url, "--pin-file", s.pin, "--protocol", "1")
	if code != 0 || !strings.Contains(out, "protocol version 1") {
		s.t.Fatalf("register a version 1 key: exit %d\n%s%s", code, out, errs)
	}
	return k
}
