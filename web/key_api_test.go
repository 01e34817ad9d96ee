package web_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"postern/access"
	"postern/access/protocol"
	"postern/store"
	"postern/web"
)

func TestKeyRegister(t *testing.T) {
	t.Parallel()
	env := newAdminEnv(t, withSmartURL)
	uid := env.smartUser(t, "Ann", "ann.key@example.com")
	id, code := env.smartAssign(t, uid)
	phone := newSmartDevice(t)
	req := phone.request(t, code)
	req.Device = "  Pixel 9 (Android 16)  "

	w := env.smartRegister(req, "")
	if w.Code != http.StatusOK {
		t.Fatalf("got status %d, want 200\n%s", w.Code, w.Body)
	}
	var resp web.KeyRegisterResponse
	if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil {
		t.Fatal(err)
	}
	site, err := env.s.Site(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	sitePub, _ := protocol.MarshalPublicKey(&site.Key.PublicKey)
	got := struct{ CredentialID, SiteID, SiteName, SiteURL, First, Last string }{
		resp.CredentialID, resp.Site.ID, resp.Site.Name, resp.Site.URL, resp.FirstName, resp.LastName}
	want := struct{ CredentialID, SiteID, SiteName, SiteURL, First, Last string }{
		id, hex.EncodeToString(site.ID[:]), "Postern", smartURL, "Ann", "Tester"}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	pub, err := protocol.ParsePublicKey(resp.Site.PublicKey)
	if err != nil {
		t.Fatalf("the site's public key does not parse: %v", err)
	}
	if !pub.Equal(&site.Key.PublicKey) || !bytes.Equal(resp.Site.PublicKey, sitePub) {
		t.Error("the site's public key is not the site's signing key")
	}

	c := env.smartCredential(t, id)
	if c.Status != access.CredentialActive || !bytes.Equal(c.TapKey, phone.tapPub) || !bytes.Equal(c.UVKey, phone.uvPub) {
		t.Errorf("got %s with keys %x / %x, want active with the phone's keys", c.Status, c.TapKey, c.UVKey)
	}
	if c.DeviceInfo != "Pixel 9 (Android 16)" || !c.RegisteredAt.Equal(env.clock.Now()) {
		t.Errorf("got device %q registered at %v, want %q at %v", c.DeviceInfo, c.RegisteredAt, "Pixel 9 (Android 16)", env.clock.Now())
	}
	if got := env.mustAPI(t, http.MethodGet, "/api/v1/credentials/"+id, "", http.StatusOK)["status"]; got != "active" {
		t.Errorf("got API status %v, want active", got)
	}
	var registered int
	for _, e := range env.events(t) {
		if e.Kind == "credential.registered" && e.CredentialID == id && e.UserID == uid {
			registered++
		}
	}
	if registered != 1 {
		t.Errorf("got %d credential.registered events, want 1", registered)
	}
}

// TestKeyRegisterDeviceInfo: the device's description is kept tidy.
func TestKeyRegisterDeviceInfo(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, device, want string }{
		{"trimmed", "  iPhone 16  ", "iPhone 16"},
		{"long", strings.Repeat("x", 300), strings.Repeat("x", 197) + "…"},
		{"cut inside a character", strings.Repeat("x", 196) + "ééé", strings.Repeat("x", 196) + "…"},
		{"control and format characters", "Pixel\x00 8\a\u202E", "Pixel 8"},
	}
	env := newAdminEnv(t, withSmartURL)
	uid := env.smartUser(t, "Al", "al@example.com")
	for _, version := range []int{1, 2} {
		for _, tt := range tests {
			t.Run(fmt.Sprintf("v%d %s", version, tt.name), func(t *testing.T) {
				id, code := env.smartAssign(t, uid)
				d := newSmartDevice(t)
				var body any
				if version == 1 {
					req := d.request(t, code)
					req.Device = tt.device
					body = req
				} else {
					body = d.requestV2(t, code, tt.device)
				}
				if w := env.smartPost(fmt.Sprintf("/api/key/v%d/register", version), body, ""); w.Code != http.StatusOK {
					t.Fatalf("got status %d, want 200\n%s", w.Code, w.Body)
				}
				if got := env.smartCredential(t, id).DeviceInfo; got != tt.want {
					t.Errorf("got %q, want %q", got, tt.want)
				}
			})
		}
	}
}

// requestV2 is what a version 2 key sends to register with code.
func (d smartDevice) requestV2(t testing.TB, code, device string) web.KeyRegisterV2Request {
	t.Helper()
	nonce := make([]byte, protocol.NonceSize)
	rand.Read(nonce)
	tapSig, uvSig, err := protocol.SignRegistration2(code, nonce, d.tap, d.uv)
	if err != nil {
		t.Fatal(err)
	}
	return web.KeyRegisterV2Request{Code: code, Nonce: nonce, TapKey: d.tapPub, UVKey: d.uvPub, TapSig: tapSig, UVSig: uvSig, Device: device}
}

// TestKeyRegisterGroupedCode sends the code as the email groups it. The
// protocol signs "the exact string sent in the register request".
func TestKeyRegisterGroupedCode(t *testing.T) {
	t.Parallel()
	env := newAdminEnv(t, withSmartURL)
	id, code := env.smartAssign(t, env.smartUser(t, "Bo", "bo@example.com"))
	var groups []string
	for i := 0; i < len(code); i += 4 {
		groups = append(groups, code[i:i+4])
	}
	grouped := strings.Join(groups, " ")
	w := env.smartRegister(newSmartDevice(t).request(t, grouped), "")
	if w.Code != http.StatusOK {
		t.Fatalf("got status %d, want 200\n%s", w.Code, w.Body)
	}
	if got := env.smartCredential(t, id).Status; got != access.CredentialActive {
		t.Errorf("got %s, want active", got)
	}
}

// credentialState is everything a refused registration must leave as it
// was.
type credentialState struct {
	Credentials []access.Credential
	Events      []string
	Outbox      []string
}

func (env *env) credentialState(t *testing.T, userID int64) credentialState {
	t.Helper()
	var st credentialState
	var err error
	if st.Credentials, err = env.s.UserCredentials(t.Context(), userID); err != nil {
		t.Fatal(err)
	}
	for _, e := range env.events(t) {
		if e.Kind != "registration.failed" {
			st.Events = append(st.Events, e.Kind+" "+e.CredentialID)
		}
	}
	items, _, err := env.s.Outbox(t.Context(), 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		st.Outbox = append(st.Outbox, it.Status+" "+it.CredentialID)
	}
	return st
}

func TestKeyRegisterRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// prepare returns a code that must not register.
		prepare func(t *testing.T, env *env, userID int64) string
	}{
		{"used code", func(t *testing.T, env *env, userID int64) string {
			_, code := env.smartAssign(t, userID)
			env.mustRegister(t, newSmartDevice(t), code)
			return code
		}},
		{"expired code", func(t *testing.T, env *env, userID int64) string {
			id, code := env.smartAssign(t, userID)
			env.clock.Add(access.DefaultCodeLifetime + time.Second)
			if got := env.smartCredential(t, id).Status; got != access.CredentialExpired {
				t.Errorf("got status %s, want expired", got)
			}
			return code
		}},
		{"code replaced by reissue", func(t *testing.T, env *env, userID int64) string {
			id, code := env.smartAssign(t, userID)
			env.smartReissue(t, id)
			return code
		}},
		{"code replaced by resend", func(t *testing.T, env *env, userID int64) string {
			id, code := env.smartAssign(t, userID)
			if err := env.s.NewRegistrationCode(t.Context(), "test", mustID(t, id), "resent", access.NewRegistrationCode(), env.clock.Now().Add(time.Hour), noMail); err != nil {
				t.Fatal(err)
			}
			return code
		}},
		{"code of a revoked credential", func(t *testing.T, env *env, userID int64) string {
			id, code := env.smartAssign(t, userID)
			env.mustAPI(t, http.MethodPost, "/api/v1/credentials/"+id+"/revoke", "", http.StatusOK)
			return code
		}},
		{"code of an active credential revoked afterwards", func(t *testing.T, env *env, userID int64) string {
			id, code := env.smartAssign(t, userID)
			env.mustRegister(t, newSmartDevice(t), code)
			code2 := env.smartReissue(t, id)
			env.mustAPI(t, http.MethodPost, "/api/v1/credentials/"+id+"/revoke", "", http.StatusOK)
			return code2
		}},
		{"unknown code", func(t *testing.T, env *env, userID int64) string {
			env.smartAssign(t, userID)
			return access.NewRegistrationCode()
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newAdminEnv(t, withSmartURL)
			uid := env.smartUser(t, "Cy", "cy@example.com")
			code := tt.prepare(t, env, uid)
			before := env.credentialState(t, uid)

			wantRegistrationError(t, env.smartRegister(newSmartDevice(t).request(t, code), ""))

			if after := env.credentialState(t, uid); !reflect.DeepEqual(after, before) {
				t.Errorf("a refused registration changed things:\ngot  %+v\nwant %+v", after, before)
			}
			var failed int
			for _, e := range env.events(t) {
				if e.Kind == "registration.failed" {
					failed++
					if strings.Contains(e.Detail+e.Reason+e.Actor, code) {
						t.Errorf("the event holds the code: %+v", e)
					}
				}
			}
			if failed != 1 {
				t.Errorf("got %d registration.failed events, want 1", failed)
			}
		})
	}
}

func mustID(t *testing.T, s string) access.CredentialID {
	t.Helper()
	id, err := access.ParseCredentialID(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// noMail is an invitation with nothing in it, for changes made at the
// store.
func noMail(c access.Credential, u access.User) (store.Mail, error) {
	return store.Mail{Kind: "invitation", Recipient: u.Email, Subject: "test", Message: "{}"}, nil
}

// TestKeyRegisterSecondDevice: the first device's binding survives a
// second device trying the same code.
func TestKeyRegisterSecondDevice(t *testing.T) {
	t.Parallel()
	env := newAdminEnv(t, withSmartURL)
	id, code := env.smartAssign(t, env.smartUser(t, "Di", "di@example.com"))
	first, second := newSmartDevice(t), newSmartDevice(t)
	env.mustRegister(t, first, code)
	want := env.smartCredential(t, id)
	env.clock.Add(time.Minute)
	wantRegistrationError(t, env.smartRegister(second.request(t, code), ""))
	if got := env.smartCredential(t, id); !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want the first device's binding unchanged %+v", got, want)
	}
}

// TestKeyRegisterReissueReplacesDevice: reissue kills every earlier code,
// and the device that registers with the new one replaces the old device.
func TestKeyRegisterReissueReplacesDevice(t *testing.T) {
	t.Parallel()
	env := newAdminEnv(t, withSmartURL)
	id, codeA := env.smartAssign(t, env.smartUser(t, "Ed", "ed@example.com"))
	oldPhone, newPhone := newSmartDevice(t), newSmartDevice(t)
	env.mustRegister(t, oldPhone, codeA)
	codeB := env.smartReissue(t, id)
	codeC := env.smartReissue(t, id)
	if got := env.smartCredential(t, id); got.Status != access.CredentialActive || !bytes.Equal(got.TapKey, oldPhone.tapPub) {
		t.Errorf("got %s, want the old phone active until the new one registers", got.Status)
	}
	for _, code := range []string{codeA, codeB} {
		wantRegistrationError(t, env.smartRegister(newPhone.request(t, code), ""))
	}
	if got := env.mustRegister(t, newPhone, codeC); got.CredentialID != id {
		t.Errorf("got credential %s, want %s", got.CredentialID, id)
	}
	got := env.smartCredential(t, id)
	if got.Status != access.CredentialActive || !bytes.Equal(got.TapKey, newPhone.tapPub) || !bytes.Equal(got.UVKey, newPhone.uvPub) {
		t.Errorf("got %s with tap key %x, want active with the new phone's keys", got.Status, got.TapKey)
	}
	var replaced bool
	for _, e := range env.events(t) {
		replaced = replaced || (e.Kind == "credential.registered" && strings.Contains(e.Detail, "replaces the previous device"))
	}
	if !replaced {
		t.Error("no event says the new device replaced the old one")
	}
	wantRegistrationError(t, env.smartRegister(oldPhone.request(t, codeC), ""))
}

// TestKeyRegisterRace: of many devices registering with one code at once,
// exactly one wins.
func TestKeyRegisterRace(t *testing.T) {
	t.Parallel()
	const rounds, devices = 20, 8
	env := newAdminEnv(t, withSmartURL)
	uid := env.smartUser(t, "Flo", "flo@example.com")
	for round := range rounds {
		id, code := env.smartAssign(t, uid)
		phones := make([]smartDevice, devices)
		reqs := make([]web.KeyRegisterRequest, devices)
		for i := range phones {
			phones[i] = newSmartDevice(t)
			reqs[i] = phones[i].request(t, code)
		}
		statuses := make([]int, devices)
		bodies := make([]string, devices)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range devices {
			wg.Go(func() {
				<-start
				w := env.smartRegister(reqs[i], "")
				statuses[i], bodies[i] = w.Code, w.Body.String()
			})
		}
		close(start)
		wg.Wait()

		winner := -1
		for i, st := range statuses {
			switch {
			case st == http.StatusOK && winner < 0:
				winner = i
			case st == http.StatusOK:
				t.Errorf("round %d: devices %d and %d both registered", round, winner, i)
			case st != http.StatusConflict || !strings.Contains(bodies[i], `"error":"registration_error"`):
				t.Errorf("round %d: got %d %s, want 409 registration_error", round, st, bodies[i])
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: got statuses %v, want exactly one 200", round, statuses)
		}
		if got := env.smartCredential(t, id); !bytes.Equal(got.TapKey, phones[winner].tapPub) || !bytes.Equal(got.UVKey, phones[winner].uvPub) {
			t.Errorf("round %d: the credential holds keys other than the winner's", round)
		}
	}
}

func TestKeyRegisterRateLimit(t *testing.T) {
	t.Parallel()
	env := newAdminEnv(t, withSmartURL)
	_, code := env.smartAssign(t, env.smartUser(t, "Gil", "gil@example.com"))
	guesser := newSmartDevice(t)
	const attacker = "203.0.113.9:51000"

	allowed := 0
	var limited bool
	for range 50 {
		w := env.smartRegister(guesser.request(t, access.NewRegistrationCode()), attacker)
		if w.Code == http.StatusTooManyRequests {
			limited = true
			if ke := keyError(t, w); ke.Error != web.KeyErrRateLimited {
				t.Errorf("got error %q, want %q", ke.Error, web.KeyErrRateLimited)
			}
			// The bucket refills one try every 6 s: that is the wait.
			if got := w.Header().Get("Retry-After"); got != "6" {
				t.Errorf("got Retry-After %q, want 6 (seconds until the next try)", got)
			}
			break
		}
		wantRegistrationError(t, w)
		allowed++
	}
	if !limited || allowed < 3 || allowed > 20 {
		t.Fatalf("got %d guesses allowed before the limit (limited %v), want a small burst then 429", allowed, limited)
	}
	// Even the right code waits now: the limit is on the address.
	if w := env.smartRegister(guesser.request(t, code), attacker); w.Code != http.StatusTooManyRequests {
		t.Errorf("got status %d, want 429 for the limited address\n%s", w.Code, w.Body)
	}
	if w := env.smartRegister(guesser.request(t, access.NewRegistrationCode()), "203.0.113.10:51000"); w.Code != http.StatusConflict {
		t.Errorf("another address: got status %d, want 409\n%s", w.Code, w.Body)
	}
	// Just before Retry-After the address still waits; at it, it may try.
	env.clock.Add(5 * time.Second)
	if w := env.smartRegister(guesser.request(t, code), attacker); w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "1" {
		t.Errorf("5 s later: got status %d, Retry-After %q, want 429 and 1", w.Code, w.Header().Get("Retry-After"))
	}
	env.clock.Add(time.Second)
	if w := env.smartRegister(guesser.request(t, code), attacker); w.Code != http.StatusOK {
		t.Errorf("at Retry-After: got status %d, want 200\n%s", w.Code, w.Body)
	}
}

// offCurve is a 65-byte uncompressed point that is not on P-256.
func offCurve(t *testing.T) []byte {
	t.Helper()
	for {
		b := make([]byte, 65)
		b[0] = 4
		rand.Read(b[1:])
		if _, err := protocol.ParsePublicKey(b); err != nil {
			return b
		}
	}
}

func TestKeyRegisterBadRequests(t *testing.T) {
	t.Parallel()
	env := newAdminEnv(t, withSmartURL)
	id, code := env.smartAssign(t, env.smartUser(t, "Hu", "hu@example.com"))
	phone, other := newSmartDevice(t), newSmartDevice(t)
	good := func() web.KeyRegisterRequest { return phone.request(t, code) }
	with := func(change func(*web.KeyRegisterRequest)) web.KeyRegisterRequest {
		r := good()
		change(&r)
		return r
	}
	sameKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	samePub, _ := protocol.MarshalPublicKey(&sameKey.PublicKey)
	sameTapSig, sameUVSig, _ := protocol.SignRegistration(code, sameKey, sameKey)
	otherSigs := other.request(t, code)
	otherCode := phone.request(t, access.NewRegistrationCode())
	goodJSON, _ := json.Marshal(good())

	tests := []struct {
		name        string
		body        any
		wantStatus  int // 0 for 400
		wantMessage string
	}{
		{"not JSON", "hello", 0, "not valid JSON"},
		{"empty body", "", 0, "empty"},
		{"truncated JSON", string(goodJSON[:len(goodJSON)/2]), 0, "not valid JSON"},
		{"two objects", string(goodJSON) + "{}", 0, "one JSON object"},
		{"an array", "[]", 0, "must be a JSON object"},
		{"unknown field", strings.Replace(string(goodJSON), "{", `{"pin":"1234",`, 1), 0, `"pin"`},
		{"code is a number", `{"code":12345678901234567890123456789012}`, 0, "field code must be a string"},
		{"tap key is a number", `{"tap_key":5}`, 0, "field tap_key must be a base64 string"},
		{"tap key is not base64", `{"tap_key":"not base64!"}`, 0, "is not base64"},
		{"device is an object", `{"device":{}}`, 0, "field device must be a string"},
		{"null", "null", 0, "32 digits"},
		{"no code", with(func(r *web.KeyRegisterRequest) { r.Code = "" }), 0, "32 digits"},
		{"31 digits", with(func(r *web.KeyRegisterRequest) { r.Code = code[:31] }), 0, "32 digits"},
		{"33 digits", with(func(r *web.KeyRegisterRequest) { r.Code = code + "0" }), 0, "32 digits"},
		{"letters in the code", with(func(r *web.KeyRegisterRequest) { r.Code = code[:31] + "x" }), 0, "32 digits"},
		{"tap key too short", with(func(r *web.KeyRegisterRequest) { r.TapKey = r.TapKey[:64] }), 0, "tap key"},
		{"uv key too long", with(func(r *web.KeyRegisterRequest) { r.UVKey = append(r.UVKey, 0) }), 0, "user-verification key"},
		{"no keys", with(func(r *web.KeyRegisterRequest) { r.TapKey, r.UVKey = nil, nil }), 0, "tap key"},
		{"tap key off the curve", with(func(r *web.KeyRegisterRequest) { r.TapKey = offCurve(t) }), 0, "tap key"},
		{"uv key off the curve", with(func(r *web.KeyRegisterRequest) { r.UVKey = offCurve(t) }), 0, "user-verification key"},
		{"tap key is the uv key", with(func(r *web.KeyRegisterRequest) {
			r.TapKey, r.UVKey, r.TapSig, r.UVSig = samePub, samePub, sameTapSig, sameUVSig
		}), 0, "same key"},
		{"signatures swapped", with(func(r *web.KeyRegisterRequest) { r.TapSig, r.UVSig = r.UVSig, r.TapSig }), 0, "signature"},
		{"signatures of another code", with(func(r *web.KeyRegisterRequest) { r.TapSig, r.UVSig = otherCode.TapSig, otherCode.UVSig }), 0, "signature"},
		{"signatures of other keys", with(func(r *web.KeyRegisterRequest) { r.TapSig, r.UVSig = otherSigs.TapSig, otherSigs.UVSig }), 0, "signature"},
		{"uv signature of other keys", with(func(r *web.KeyRegisterRequest) { r.UVSig = otherSigs.UVSig }), 0, "user-verification key's signature"},
		{"no signatures", with(func(r *web.KeyRegisterRequest) { r.TapSig, r.UVSig = nil, nil }), 0, "signature"},
		{"signature too short", with(func(r *web.KeyRegisterRequest) { r.TapSig = r.TapSig[:63] }), 0, "signature"},
		{"body too large", `{"device":"` + strings.Repeat("x", 70<<10) + `"}`, http.StatusRequestEntityTooLarge, "too large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var b []byte
			if s, ok := tt.body.(string); ok {
				b = []byte(s)
			} else {
				b, _ = json.Marshal(tt.body)
			}
			r := httptest.NewRequest(http.MethodPost, "/api/key/v1/register", bytes.NewReader(b))
			r.Header.Set("Content-Type", "application/json")
			r.RemoteAddr = smartRemote()
			w := env.serve(r)
			want := tt.wantStatus
			if want == 0 {
				want = http.StatusBadRequest
			}
			if w.Code != want {
				t.Fatalf("got status %d, want %d\n%s", w.Code, want, w.Body)
			}
			ke := keyError(t, w)
			if want == http.StatusBadRequest && ke.Error != web.KeyErrBadRequest {
				t.Errorf("got error %q, want %q", ke.Error, web.KeyErrBadRequest)
			}
			if !strings.Contains(ke.Message, tt.wantMessage) {
				t.Errorf("got message %q, want it to contain %q", ke.Message, tt.wantMessage)
			}
			if strings.Contains(w.Body.String(), code) {
				t.Errorf("the answer holds the code: %s", w.Body)
			}
		})
	}

	// Nothing above used the code up, and no event keeps it.
	if got := env.smartCredential(t, id).Status; got != access.CredentialInvited {
		t.Errorf("got %s, want still invited", got)
	}
	var failed int
	longDigits := regexp.MustCompile(`\d{16,}`)
	for _, e := range env.events(t) {
		if e.Kind == "registration.failed" {
			failed++
		}
		if longDigits.MatchString(e.Detail + e.Reason) {
			t.Errorf("event %s holds a code or part of one: %q %q", e.Kind, e.Reason, e.Detail)
		}
	}
	if failed < 15 {
		t.Errorf("got %d registration.failed events, want one for each refused code or key", failed)
	}
	env.mustRegister(t, phone, code)
}

func TestKeyAPIErrorsAreJSON(t *testing.T) {
	t.Parallel()
	env := newEnv(t)
	tests := []struct{ method, url string }{
		{http.MethodGet, "/api/key/v1/register"},
		{http.MethodPost, "/api/key/v1/nothing-here"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.url, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.url, strings.NewReader("{}"))
			r.RemoteAddr = smartRemote()
			w := env.serve(r)
			if w.Code != http.StatusNotFound && w.Code != http.StatusMethodNotAllowed {
				t.Fatalf("got status %d, want 404 or 405\n%s", w.Code, w.Body)
			}
			checkAPIError(t, w.Code, w.Body.Bytes())
		})
	}
}
