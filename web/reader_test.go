package web_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"postern/web"
)

// withFleet lets the Readers page make tokens, as serve does.
func withFleet(c *web.Config) {
	c.FleetToken = func(id int64, secret string) (string, error) {
		return "pt1." + itoa(id) + "." + secret + "." + strings.Repeat("ab", 32), nil
	}
	c.FleetAddress = "doors.example.com:7422"
}

func TestReadersPage(t *testing.T) {
	t.Parallel()
	env := newLoggedInEnv(t, withFleet)
	env.runPages(t, []scenario{
		{name: "none yet", method: "GET", url: "/readers", wantStatus: http.StatusOK,
			wantTestIDs: map[string]string{"empty": "opens no port"}, wantFields: map[string]string{"lease_days": "7"}},
		{name: "add", method: "POST", url: "/readers", body: url.Values{"name": {"back-door"}}.Encode(), wantStatus: http.StatusOK,
			wantTestIDs: map[string]string{"enrolment": "back-door", "enrolment-command": "postern reader --hub doors.example.com:7422 --enrol pt1.", "reader-status": "waiting for enrolment"}},
		{name: "shown once", method: "GET", url: "/readers", wantStatus: http.StatusOK, wantNotContains: []string{"--enrol pt1."},
			wantTestIDs: map[string]string{"reader-row": "back-door"}},
		{name: "a name taken", method: "POST", url: "/readers", body: url.Values{"name": {"back-door"}}.Encode(), wantStatus: http.StatusUnprocessableEntity,
			wantTestIDs: map[string]string{"error-form": "already exists"}},
		{name: "a name that cannot prefix a binding", method: "POST", url: "/readers", body: url.Values{"name": {"Back door/1"}}.Encode(), wantStatus: http.StatusUnprocessableEntity,
			wantTestIDs: map[string]string{"error-name": "lower-case"}},
		{name: "lease", method: "POST", url: "/readers/lease", body: url.Values{"lease_days": {"14"}}.Encode(), wantStatus: http.StatusSeeOther},
		{name: "lease kept", method: "GET", url: "/readers", wantStatus: http.StatusOK, wantFields: map[string]string{"lease_days": "14"}},
		{name: "lease past the bound", method: "POST", url: "/readers/lease", body: url.Values{"lease_days": {"31"}}.Encode(), wantStatus: http.StatusUnprocessableEntity,
			wantTestIDs: map[string]string{"error-lease_days": "1 to 30"}},
	})
}

func TestReadersAPI(t *testing.T) {
	t.Parallel()
	env := newAdminEnv(t, withFleet)
	created := env.mustAPI(t, "POST", "/api/v1/readers", `{"name":"door1"}`, http.StatusCreated)
	tok, _ := created["token"].(string)
	if !regexp.MustCompile(`^pt1\.1\.[0-9a-f]{32}\.(ab){32}$`).MatchString(tok) {
		t.Errorf("token: got %q, want pt1.ID.SECRET.FINGERPRINT", tok)
	}
	list := env.mustAPI(t, "GET", "/api/v1/readers", "", http.StatusOK)
	rs, _ := list["readers"].([]any)
	if len(rs) != 1 || strings.Contains(env.api("GET", "/api/v1/readers", "").Body.String(), tok) {
		t.Fatalf("list: got %v, want door1 without its token", list)
	}
	id := idOf(t, created)
	env.mustAPI(t, "DELETE", "/api/v1/readers/"+itoa(id), "", http.StatusNoContent)
	env.mustAPI(t, "DELETE", "/api/v1/readers/"+itoa(id), "", http.StatusNotFound)
}
