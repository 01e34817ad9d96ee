package web_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"postern/access"
)

// The link of an invitation, opened in a browser, speaks to the person it
// is for: the site by name, whether the code still works, and what to do
// next in their words, with no command line.
func TestRegistrationLinkPage(t *testing.T) {
	t.Parallel()
	env := newAdminEnv(t, withSmartURL)
	if err := env.s.SetSiteName(t.Context(), "test", "Acme Workshop"); err != nil {
		t.Fatal(err)
	}
	eve := env.smartUser(t, "Eve", "eve@example.com")
	_, code := env.smartAssign(t, eve)
	_, spent := env.smartAssign(t, eve)
	env.mustRegister(t, newSmartDevice(t), spent)
	reissued, old := env.smartAssign(t, eve)
	env.smartReissue(t, reissued)

	// Like someone who followed a link: no session, their own address.
	open := func(query string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, "/key/register"+query, nil)
		r.RemoteAddr = smartRemote()
		return env.serve(r)
	}
	nothing := []string{"postern key", "--state", smartURL}
	tests := []struct {
		name      string
		query     string
		wantState string
		wantSay   string
		wantCode  bool
	}{
		{"a valid code", "?code=" + code, "valid", "This invitation works until 2026-03-18 10:00:00", true},
		{"with spaces, as people copy it", "?code=" + code[:4] + "+" + code[4:], "valid", "works until", true},
		{"a used code", "?code=" + spent, "used", "already been used to set up a phone", false},
		{"a code a reissue replaced", "?code=" + old, "replaced", "a newer invitation took its place", false},
		{"a code never issued", "?code=" + access.NewRegistrationCode(), "unknown", "Acme Workshop does not know this code", false},
		{"no code", "", "", "This link has no registration code in it", false},
		{"not a code", "?code=12345", "", "This link has no registration code in it", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := open(tt.query)
			check(t, scenario{method: "GET", url: tt.query, wantStatus: http.StatusOK,
				wantTestIDs:     map[string]string{"register-site": "Acme Workshop", "code-state": tt.wantSay},
				wantNotContains: nothing, wantHeaders: map[string]string{"Cache-Control": "no-store"}}, w)
			doc := parse(t, w.Body.String())
			if got := byTestID(doc, "code-state").AttrOr("data-state", ""); got != tt.wantState {
				t.Errorf("state %q, want %q", got, tt.wantState)
			}
			if got := byTestID(doc, "registration-code").Length() == 1 && byTestID(doc, "next-steps").Length() == 1; got != tt.wantCode {
				t.Errorf("shows the code and the next steps: %v, want %v", got, tt.wantCode)
			}
		})
	}

	env.clock.Add(access.DefaultCodeLifetime)
	check(t, scenario{wantStatus: http.StatusOK, wantTestIDs: map[string]string{"code-state": "This invitation has expired"}}, open("?code="+code))
}

// Looking codes up is limited like registering with them.
func TestRegistrationLinkPageLimit(t *testing.T) {
	t.Parallel()
	env := newAdminEnv(t, withSmartURL)
	var last *httptest.ResponseRecorder
	for range 11 {
		r := httptest.NewRequest(http.MethodGet, "/key/register?code="+access.NewRegistrationCode(), nil)
		r.RemoteAddr = "203.0.113.9:4000"
		last = env.serve(r)
	}
	check(t, scenario{wantStatus: http.StatusTooManyRequests, wantHeaders: map[string]string{"Retry-After": "6"}, // one look back every 6 s
		wantTestIDs: map[string]string{"code-state": "Too many tries"}}, last)
}
