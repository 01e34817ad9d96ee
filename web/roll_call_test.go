package web_test

import (
	"net/url"
	"testing"
	"time"

	"postern/access"
)

func TestRollCallPage(t *testing.T) {
	t.Parallel()
	env := newLoggedInEnv(t)
	env.runPages(t, []scenario{
		{name: "no entry or exit doors yet", method: "GET", url: "/roll-call", wantStatus: 200,
			wantTestIDs: map[string]string{"on-site-count": "0", "empty": "Nobody", "roll-call-doors": "entries", "nav-roll-call": ""}},
	})
	front := env.create(t, "access-points", `{"name":"Front","reader":"sim:front","direction":"entry"}`)
	gate := env.create(t, "access-points", `{"name":"Back","reader":"sim:back"}`)
	// The form sets the direction too.
	w := env.post("/access-points/"+itoa(gate), url.Values{"name": {"Back"}, "reader": {"sim:back"}, "mode": {"direct"}, "state": {"normal"},
		"rssi_threshold": {"-60"}, "rssi_offset": {"0"}, "unlock_seconds": {"5"}, "direction": {"exit"}})
	if w.Code != 303 {
		t.Fatalf("save the back door: got %d, want 303\n%s", w.Code, w.Body)
	}
	ann := env.create(t, "users", `{"first_name":"Ann","last_name":"Lee"}`)
	bob := env.create(t, "users", `{"first_name":"Bob","last_name":"Ray"}`)
	now := env.clock.Now()
	for _, e := range []access.Event{
		{At: now.Add(-2 * time.Hour), Kind: "access.granted", UserID: ann, AccessPointID: front},
		{At: now.Add(-2 * time.Hour), Kind: "access.granted", UserID: bob, AccessPointID: front},
		{At: now.Add(-time.Hour), Kind: "access.granted", UserID: bob, AccessPointID: gate},
	} {
		if err := env.s.AppendEvent(t.Context(), &e); err != nil {
			t.Fatal(err)
		}
	}
	env.runPages(t, []scenario{
		{name: "Ann is in, Bob left", method: "GET", url: "/roll-call", wantStatus: 200,
			wantTestIDs:     map[string]string{"on-site-count": "1", "on-site-name": "Ann Lee", "roll-call-print": ""},
			wantNotContains: []string{"Bob Ray", `data-testid="roll-call-doors"`}},
		{name: "the access point form shows the direction", method: "GET", url: "/access-points/" + itoa(gate), wantStatus: 200,
			wantFields: map[string]string{"direction": "exit"}},
	})
	env.runAPI(t, []scenario{
		{name: "the API shows the direction", method: "GET", url: "/api/v1/access-points/" + itoa(front), wantStatus: 200,
			wantContains: []string{`"direction":"entry"`}},
		{name: "an unknown direction is refused", method: "PATCH", url: "/api/v1/access-points/" + itoa(front), body: `{"direction":"sideways"}`,
			wantStatus: 422, wantContains: []string{"direction"}},
	})
}
