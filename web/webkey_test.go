package web_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"postern/access"
	"postern/access/protocol"
	"postern/web"
)

// signedDoors is a web key's signed request body for action.
func signedDoors(t *testing.T, action string, cred access.CredentialID, at time.Time, tap *ecdsa.PrivateKey) string {
	t.Helper()
	sig, err := protocol.SignWebKeyRequest(action, protocol.CredentialID(cred), at, tap)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]any{"credential_id": cred.String(), "at": at.UnixMilli(), "signature": sig})
	return string(b)
}

func TestWebKeyAPI(t *testing.T) {
	t.Parallel()
	env := newAdminEnv(t, withSmartURL)
	uid := env.smartUser(t, "Eve", "eve@example.com")
	front := env.create(t, "access-points", `{"name":"Front door","reader":"sim:front","mode":"direct","phone_open":true,"phone_networks":["198.51.100.0/24"]}`)
	back := env.create(t, "access-points", `{"name":"Back door","reader":"sim:back","mode":"direct"}`)
	vault := env.create(t, "access-points", `{"name":"Vault","reader":"sim:vault","mode":"direct","phone_open":true,"phone_passkey":true}`)
	env.create(t, "access-points", `{"name":"Shed","reader":"sim:shed","mode":"direct","phone_open":true}`) // no permission
	for _, ap := range []int64{front, back, vault} {
		env.create(t, "permissions", fmt.Sprintf(`{"user_id":%d,"access_point_id":%d}`, uid, ap))
	}
	idText, code := env.smartAssign(t, uid)
	id, err := access.ParseCredentialID(idText)
	if err != nil {
		t.Fatal(err)
	}
	regPage := "/key/register?code=" + code
	env.runAPI(t, []scenario{
		{name: "the registration page names the holder", method: "GET", url: regPage, wantStatus: 200,
			wantTestIDs: map[string]string{"holder": "Eve Tester", "code-state": "works until", "register": "Register this phone"}},
		{name: "no code", method: "GET", url: "/key/register", wantStatus: 200, wantTestIDs: map[string]string{"code-state": "no registration code"}},
		{name: "begin with a code that is not one", method: "POST", url: "/api/key/web/register/begin", body: `{"code":"123"}`, wantStatus: 400},
		{name: "begin with an unknown code", method: "POST", url: "/api/key/web/register/begin", body: `{"code":"` + access.NewRegistrationCode() + `"}`,
			wantStatus: 409, wantContains: []string{`"error":"registration_error"`}},
		{name: "begin asks for a platform passkey with user verification, ES256", method: "POST", url: "/api/key/web/register/begin", body: `{"code":"` + code + `"}`,
			wantStatus: 200, wantContains: []string{`"session":"`, `"holder":"Eve Tester"`, `"authenticatorAttachment":"platform"`, `"userVerification":"required"`, `"alg":-7`, `"id":"doors.example.com"`}},
		{name: "finish with an unknown session", method: "POST", url: "/api/key/web/register/finish", body: `{"session":"nope","code":"` + code + `"}`,
			wantStatus: 410, wantContains: []string{`"error":"session_expired"`}},
	})

	// Register keys the test holds, as the page would have.
	tap, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	uv, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tp, _ := protocol.MarshalPublicKey(&tap.PublicKey)
	up, _ := protocol.MarshalPublicKey(&uv.PublicKey)
	if _, _, err := env.s.RegisterCredential(t.Context(), access.Registration{Code: code, TapKey: tp, UVKey: up, DeviceInfo: "Web key: test", Protocol: 2, At: env.clock.Now()}); err != nil {
		t.Fatal(err)
	}
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	now := env.clock.Now()
	env.runAPI(t, []scenario{
		{name: "the used link says Registration Error", method: "GET", url: regPage, wantStatus: 200,
			wantTestIDs: map[string]string{"code-state": "Registration Error"}, wantNotContains: []string{`data-testid="register"`}},
		{name: "the doors the holder may open, those from the phone first", method: "POST", url: "/api/key/web/doors", body: signedDoors(t, "doors", id, now, tap),
			wantStatus: 200, wantContains: []string{`{"doors":[{"id":` + itoa(vault) + `,"name":"Vault","phone":true,"passkey":true},{"id":` + itoa(back) + `,"name":"Back door","phone":false,"passkey":false},{"id":` + itoa(front) + `,"name":"Front door","phone":false,"passkey":false}]}`}},
		{name: "signed by another key", method: "POST", url: "/api/key/web/doors", body: signedDoors(t, "doors", id, now, other), wantStatus: 401,
			wantContains: []string{`"error":"credential_error"`}},
		{name: "signed for another action", method: "POST", url: "/api/key/web/doors", body: signedDoors(t, "remove", id, now, tap), wantStatus: 401},
		{name: "signed an hour ago", method: "POST", url: "/api/key/web/doors", body: signedDoors(t, "doors", id, now.Add(-time.Hour), tap), wantStatus: 400},
		{name: "a door that opens from the phone names itself", method: "GET", url: "/api/key/web/doors/" + itoa(vault), wantStatus: 200,
			wantContains: []string{`"name":"Vault"`, `"passkey":true`}},
		{name: "a door that does not, does not", method: "GET", url: "/api/key/web/doors/" + itoa(back), wantStatus: 404, wantNotContains: []string{"Back door"}},
		{name: "open a door that does not open from the phone", method: "POST", url: "/api/key/web/open", body: fmt.Sprintf(`{"access_point":%d,"messages":["sQ"]}`, back),
			wantStatus: 403, wantContains: []string{`"error":"not_from_here"`}},
		{name: "open from outside the door's networks", method: "POST", url: "/api/key/web/open", body: fmt.Sprintf(`{"access_point":%d,"messages":["sQ"]}`, front),
			wantStatus: 403, wantContains: []string{`"error":"not_from_here"`, "site's own network"}},
		{name: "an open with no hello", method: "POST", url: "/api/key/web/open", body: fmt.Sprintf(`{"access_point":%d,"messages":[]}`, vault), wantStatus: 400},
		{name: "answer an exchange that is not there", method: "POST", url: "/api/key/web/open/feed", body: `{"messages":["sQ"]}`, wantStatus: 410},
		{name: "the holder removes the key", method: "POST", url: "/api/key/web/remove", body: signedDoors(t, "remove", id, now, tap), wantStatus: 204},
		{name: "a removed key lists no doors", method: "POST", url: "/api/key/web/doors", body: signedDoors(t, "doors", id, now, tap), wantStatus: 403},
	})
	c, err := env.s.CredentialByID(t.Context(), id)
	if err != nil || c.Status != access.CredentialRevoked {
		t.Errorf("after the holder removed it: %+v, %v; want revoked", c.Status, err)
	}
}

func TestWebKeyOff(t *testing.T) {
	t.Parallel()
	env := newAdminEnv(t) // no public URL
	uid := env.smartUser(t, "Eve", "eve@example.com")
	_, code := env.smartAssign(t, uid)
	env.runAPI(t, []scenario{
		{name: "the page offers only the code", method: "GET", url: "/key/register?code=" + code, wantStatus: 200,
			wantTestIDs: map[string]string{"registration-code": ""}, wantNotContains: []string{`data-testid="register"`}},
		{name: "begin is refused", method: "POST", url: "/api/key/web/register/begin", body: `{"code":"` + code + `"}`,
			wantStatus: 409, wantContains: []string{`"error":"web_key_unavailable"`}},
	})
}

func TestRelyingParty(t *testing.T) {
	tests := []struct {
		url, wantID, wantOrigin string
		ok                      bool
	}{
		{"https://doors.example.com", "doors.example.com", "https://doors.example.com", true},
		{"https://doors.example.com:8443/", "doors.example.com", "https://doors.example.com:8443", true},
		{"http://localhost:8080", "localhost", "http://localhost:8080", true},
		{"", "", "", false},
		{"ftp://doors.example.com", "", "", false},
	}
	for _, tt := range tests {
		rp, ok := web.RelyingParty(tt.url)
		if ok != tt.ok || rp.ID != tt.wantID || (ok && rp.Origins[0] != tt.wantOrigin) {
			t.Errorf("RelyingParty(%q): got %+v %v, want %q %q %v", tt.url, rp, ok, tt.wantID, tt.wantOrigin, tt.ok)
		}
	}
}
