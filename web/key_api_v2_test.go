package web_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"postern/access"
	"postern/access/protocol"
	"postern/store"
	"postern/web"
)

// holderV2 registers h's keys at site with the version 2 key API and
// checks the site's signed answer, as `postern key register` does.
func (site *shareSite) holderV2(t *testing.T, first, last string) (shareHolder, web.KeySiteAnswer) {
	t.Helper()
	h, code := site.assigned(t, first, last)
	nonce := make([]byte, protocol.NonceSize)
	rand.Read(nonce)
	tapSig, uvSig, err := protocol.SignRegistration2(code, nonce, h.keys.Tap, h.keys.UV)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(web.KeyRegisterV2Request{Code: code, Nonce: nonce, TapKey: h.tapPub, UVKey: h.uvPub, TapSig: tapSig, UVSig: uvSig, Device: "test phone"})
	w := site.keyPost("/api/key/v2/register", body, nil)
	if w.Code != http.StatusOK {
		t.Fatalf("register: got status %d, want 200\n%s", w.Code, w.Body)
	}
	var resp web.KeySiteAnswer
	if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil || resp.CredentialID != h.id.String() {
		t.Fatalf("register: got %s (%v), want credential %s", w.Body, err, h.id)
	}
	a, err := resp.ProtocolAnswer()
	if err != nil {
		t.Fatal(err)
	}
	if err := protocol.VerifySiteAnswer(protocol.RegistrationDigest2(code, nonce, h.tapPub, h.uvPub), a, resp.Signature); err != nil {
		t.Fatalf("the registration answer does not verify: %v", err)
	}
	return h, resp
}

func TestKeyRegisterV2(t *testing.T) {
	t.Parallel()
	a := newShareSite(t, alphaName, alphaURL)
	h, resp := a.holderV2(t, "Ann", "Lee")
	if c := a.credential(t, h.id); c.Protocol != 2 || c.Status != access.CredentialActive {
		t.Errorf("credential %+v, want active on protocol 2", c)
	}
	if got, want := protocol.KeyFingerprint(mustPub(t, resp.Site.PublicKey)), a.fingerprint(t); got != want {
		t.Errorf("the answer's key has fingerprint %s, the settings page shows %s", got, want)
	}
	if resp.Site.URL != alphaURL || resp.Site.Name != alphaName || resp.FirstName != "Ann" {
		t.Errorf("answer %+v", resp)
	}
	// The same code again: refused, as in version 1.
	_, code := a.assigned(t, "Bo", "Other")
	nonce := make([]byte, protocol.NonceSize)
	tapSig, uvSig, _ := protocol.SignRegistration2(code, nonce, h.keys.Tap, h.keys.UV)
	ok, _ := json.Marshal(web.KeyRegisterV2Request{Code: code, Nonce: nonce, TapKey: h.tapPub, UVKey: h.uvPub, TapSig: tapSig, UVSig: uvSig})
	if w := a.keyPost("/api/key/v2/register", ok, nil); w.Code != http.StatusOK {
		t.Fatalf("second credential: %d %s", w.Code, w.Body)
	}
	wantKeyRefusal(t, a.keyPost("/api/key/v2/register", ok, nil), http.StatusConflict, web.KeyErrRegistration)
	// A proof over another nonce than the one sent.
	_, code = a.assigned(t, "Cy", "Third")
	tapSig, uvSig, _ = protocol.SignRegistration2(code, nonce, h.keys.Tap, h.keys.UV)
	bad, _ := json.Marshal(web.KeyRegisterV2Request{Code: code, Nonce: bytes.Repeat([]byte{1}, protocol.NonceSize), TapKey: h.tapPub, UVKey: h.uvPub, TapSig: tapSig, UVSig: uvSig})
	wantKeyRefusal(t, a.keyPost("/api/key/v2/register", bad, nil), http.StatusBadRequest, web.KeyErrBadRequest)
}

func mustPub(t *testing.T, b []byte) *ecdsa.PublicKey {
	t.Helper()
	pub, err := protocol.ParsePublicKey(b)
	if err != nil {
		t.Fatal(err)
	}
	return pub
}

// TestKeyAPIVersion1Off: once version 1 is turned off, the version 1 key
// API answers "Update your key" and version 2 goes on.
func TestKeyAPIVersion1Off(t *testing.T) {
	t.Parallel()
	a := newShareSite(t, alphaName, alphaURL)
	old := a.holder(t, "Old", "Key")
	if err := a.s.SetSetting(t.Context(), "test", store.SettingAcceptV1, "false"); err != nil {
		t.Fatal(err)
	}
	_, code := a.assigned(t, "New", "Key")
	tapSig, uvSig, _ := protocol.SignRegistration(code, old.keys.Tap, old.keys.UV)
	body, _ := json.Marshal(web.KeyRegisterRequest{Code: code, TapKey: old.tapPub, UVKey: old.uvPub, TapSig: tapSig, UVSig: uvSig})
	ke := wantKeyRefusal(t, a.keyPost("/api/key/v1/register", body, nil), http.StatusGone, web.KeyErrUpdateRequired)
	if !strings.Contains(ke.Message, "Update your key") {
		t.Errorf("message %q, want Update your key", ke.Message)
	}
	wantKeyRefusal(t, a.share(old.signed(old.ask(bravoAdmin), a.clock.Now())), http.StatusGone, web.KeyErrUpdateRequired)
	a.holderV2(t, "Fresh", "Key")
}

// migrateBody is a migration request for h to new keys n.
func migrateBody(t *testing.T, h, n shareHolder, nonce []byte) []byte {
	t.Helper()
	p, err := protocol.SignMigration(protocol.CredentialID(h.id), nonce, h.keys.Tap, h.keys.UV, n.keys.Tap, n.keys.UV)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(web.KeyMigrateRequest{CredentialID: h.id.String(), Nonce: nonce, TapKey: n.tapPub, UVKey: n.uvPub,
		OldTapSig: p.OldTapSig, OldUVSig: p.OldUVSig, TapSig: p.TapSig, UVSig: p.UVSig, Device: "test phone, updated"})
	return b
}

func TestKeyMigrate(t *testing.T) {
	t.Parallel()
	a := newShareSite(t, alphaName, alphaURL)
	h := a.holder(t, "Ann", "Lee")
	n := newHolderKeys(t, "Ann", "Lee")
	nonce := bytes.Repeat([]byte{7}, protocol.NonceSize)
	body := migrateBody(t, h, n, nonce)
	for i := range 2 {
		// Twice: an answer lost on the way is asked for again.
		w := a.keyPost("/api/key/v2/migrate", body, nil)
		if w.Code != http.StatusOK {
			t.Fatalf("migrate %d: got %d %s", i, w.Code, w.Body)
		}
		var resp web.KeySiteAnswer
		json.Unmarshal(w.Body.Bytes(), &resp)
		ans, err := resp.ProtocolAnswer()
		if err != nil {
			t.Fatal(err)
		}
		if err := protocol.VerifySiteAnswer(protocol.MigrationDigest(protocol.CredentialID(h.id), nonce, n.tapPub, n.uvPub), ans, resp.Signature); err != nil {
			t.Errorf("migrate %d: answer does not verify: %v", i, err)
		}
	}
	if c := a.credential(t, h.id); c.Protocol != 2 || !bytes.Equal(c.TapKey, n.tapPub) {
		t.Errorf("after migrating: %+v", c)
	}
	// Accepted once: other new keys are refused, even signed by the old.
	other := newHolderKeys(t, "Ann", "Lee")
	wantKeyRefusal(t, a.keyPost("/api/key/v2/migrate", migrateBody(t, h, other, nonce), nil), http.StatusConflict, web.KeyErrMigration)
	// Signed by keys that are not the credential's: refused.
	b := a.holder(t, "Bo", "Lee")
	thief := newHolderKeys(t, "Bo", "Lee")
	thief.id = b.id
	wantKeyRefusal(t, a.keyPost("/api/key/v2/migrate", migrateBody(t, thief, newHolderKeys(t, "Bo", "Lee"), nonce), nil), http.StatusUnauthorized, web.KeyErrBadSignature)
	if c := a.credential(t, b.id); c.Protocol != 1 {
		t.Error("a refused migration moved the credential")
	}
}

// shareV2 is h's version 2 share request for adminEmail, with a new
// identity for the other site, signed with the key signer.
func (h shareHolder) shareV2(t *testing.T, adminEmail string, at time.Time, uv bool) (shareRequest, shareHolder) {
	t.Helper()
	site := newHolderKeys(t, h.first, h.last)
	site.id = access.NewCredentialID()
	req := web.KeyShareV2Request{KeyShareRequest: h.ask(adminEmail), SiteCredentialID: site.id.String(), TapKey: site.tapPub, UVKey: site.uvPub,
		Introduction: bytes.Repeat([]byte{0x1d}, protocol.SecretSize)}
	body, _ := json.Marshal(req)
	signer := h.keys.UV
	if !uv {
		signer = h.keys.Tap
	}
	at = time.UnixMilli(at.UnixMilli())
	sig, err := protocol.SignShare2(protocol.CredentialID(h.id), body, at, signer)
	if err != nil {
		t.Fatal(err)
	}
	return shareRequest{body: body, headers: map[string]string{
		web.HeaderShareTime:      strconv.FormatInt(at.UnixMilli(), 10),
		web.HeaderShareSignature: base64.StdEncoding.EncodeToString(sig),
	}}, site
}

// servedSite is a share site reachable over HTTP at its public URL, so
// another site can confirm an import with it.
func servedSite(t *testing.T, name string) *shareSite {
	t.Helper()
	var site *shareSite
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { site.e.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	site = newShareSite(t, name, srv.URL)
	return site
}

func TestShareV2(t *testing.T) {
	t.Parallel()
	a := servedSite(t, alphaName)
	b := newShareSite(t, bravoName, bravoURL)
	ann, _ := a.holderV2(t, "Ann", "Lee")

	// Sending a credential on takes the holder's unlock: the tap key's
	// signature is not enough.
	tapOnly, _ := ann.shareV2(t, bravoAdmin, a.clock.Now(), false)
	wantKeyRefusal(t, a.keyPost("/api/key/v2/share", tapOnly.body, tapOnly.headers), http.StatusUnauthorized, web.KeyErrBadSignature)
	req, atB := ann.shareV2(t, bravoAdmin, a.clock.Now().Add(time.Millisecond), true)
	if w := a.keyPost("/api/key/v2/share", req.body, req.headers); w.Code != http.StatusAccepted {
		t.Fatalf("share: %d %s", w.Code, w.Body)
	}
	_, token := shareMessage(t, a.shareMails(t)[0])
	tok, err := protocol.DecodeTokenV2(token, a.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if tok.AdminEmail != bravoAdmin || tok.CredentialID != protocol.CredentialID(atB.id) || !bytes.Equal(tok.TapKey, atB.tapPub) {
		t.Errorf("token %+v, want B's own identity, bound to %s", tok, bravoAdmin)
	}
	shares := a.documentedAPI(t, "GET", "/api/v1/shares", http.StatusOK)["shares"].([]any)
	if len(shares) != 1 || shares[0].(map[string]any)["status"] != "sent" {
		t.Fatalf("shares %v, want the one sent", shares)
	}

	// B imports only for the administrator it was sent to.
	visitor := b.shareUser(t, "Ann", "Visitor", "")
	wantConflict := func(w *httptest.ResponseRecorder, has string) {
		t.Helper()
		if w.Code != http.StatusConflict || !strings.Contains(w.Body.String(), has) {
			t.Errorf("got %d %s, want 409 mentioning %q", w.Code, w.Body, has)
		}
	}
	wantConflict(b.api("POST", importURL(visitor), importBody(token)), "not an administrator of this site")
	if _, err := b.s.CreateAdmin(t.Context(), "test", bravoAdmin, adminHash(), false); err != nil {
		t.Fatal(err)
	}
	w := b.api("POST", importURL(visitor), importBody(token))
	if w.Code != http.StatusCreated || !strings.Contains(w.Body.String(), atB.id.String()) {
		t.Fatalf("import: %d %s", w.Code, w.Body)
	}
	if c := b.credential(t, atB.id); c.Protocol != 2 || c.Introduction == nil || strings.Contains(c.DeviceInfo, "not confirmed") {
		t.Errorf("imported %+v, want protocol 2, its introduction pending, confirmed by A", c)
	}
	wantConflict(b.api("POST", importURL(visitor), importBody(token)), "imported once")
	if sh := a.documentedAPI(t, "GET", "/api/v1/shares", http.StatusOK)["shares"].([]any)[0].(map[string]any); sh["status"] != "imported" {
		t.Errorf("A's share after B imported it: %v", sh)
	}

	// A withdraws the next share before anyone imports it.
	req, _ = ann.shareV2(t, bravoAdmin, a.clock.Now().Add(2*time.Millisecond), true)
	if w := a.keyPost("/api/key/v2/share", req.body, req.headers); w.Code != http.StatusAccepted {
		t.Fatalf("second share: %d %s", w.Code, w.Body)
	}
	_, second := shareMessage(t, a.shareMails(t)[0])
	tok2, _ := protocol.DecodeTokenV2(second, a.clock.Now())
	if sh := a.documentedAPI(t, "POST", "/api/v1/shares/"+hex.EncodeToString(tok2.ID[:])+"/withdraw", http.StatusOK); sh["status"] != "withdrawn" {
		t.Errorf("the share withdrawn: %v", sh)
	}
	wantConflict(b.api("POST", importURL(visitor), importBody(second)), "withdrawn")

	// And a token taken to a third site after B imported it is refused.
	c := newShareSite(t, "Charlie", "https://doors.charlie.example")
	c.s.CreateAdmin(t.Context(), "test", bravoAdmin, adminHash(), false)
	wantConflict(c.api("POST", importURL(c.shareUser(t, "Ann", "Elsewhere", "")), importBody(token)), "already been added at a site")
}

// TestImportV2Unconfirmed: an issuing site that cannot be reached does not
// stop an import; the credential says it was not confirmed.
func TestImportV2Unconfirmed(t *testing.T) {
	t.Parallel()
	a := newShareSite(t, alphaName, "http://127.0.0.1:1")
	b := newShareSite(t, bravoName, bravoURL)
	b.s.CreateAdmin(t.Context(), "test", bravoAdmin, adminHash(), false)
	ann, _ := a.holderV2(t, "Ann", "Lee")
	req, atB := ann.shareV2(t, bravoAdmin, a.clock.Now(), true)
	if w := a.keyPost("/api/key/v2/share", req.body, req.headers); w.Code != http.StatusAccepted {
		t.Fatalf("share: %d %s", w.Code, w.Body)
	}
	_, token := shareMessage(t, a.shareMails(t)[0])
	if w := b.api("POST", importURL(b.shareUser(t, "Ann", "Visitor", "")), importBody(token)); w.Code != http.StatusCreated {
		t.Fatalf("import: %d %s", w.Code, w.Body)
	}
	if c := b.credential(t, atB.id); !strings.Contains(c.DeviceInfo, "not confirmed") {
		t.Errorf("device info %q, want it to say the import was not confirmed", c.DeviceInfo)
	}
}

func TestProtocolSettings(t *testing.T) {
	t.Parallel()
	env := newLoggedInEnv(t)
	got := env.mustAPI(t, "GET", "/api/v1/settings/protocol", "", http.StatusOK)
	if got["accept_v1"] != true || got["site_key_id"] == "" || got["previous_key_id"] != nil {
		t.Fatalf("protocol settings %v", got)
	}
	firstKey := got["site_key_id"]
	got = env.mustAPI(t, "PUT", "/api/v1/settings/protocol", `{"accept_v1": false}`, http.StatusOK)
	if got["accept_v1"] != false {
		t.Errorf("after turning version 1 off: %v", got)
	}
	env.mustAPI(t, "PUT", "/api/v1/settings/protocol", `{}`, http.StatusUnprocessableEntity)
	env.mustAPI(t, "POST", "/api/v1/site/key/roll", `{"overlap_days": 400}`, http.StatusUnprocessableEntity)
	got = env.mustAPI(t, "POST", "/api/v1/site/key/roll", `{"overlap_days": 7}`, http.StatusOK)
	if got["site_key_id"] == firstKey || got["previous_key_id"] != firstKey || got["overlap_until"] == nil {
		t.Errorf("after the roll: %v, want a new key vouched for by %v", got, firstKey)
	}

	// The page: version 1 back on, and a roll needs its confirmation.
	if w := env.post("/settings/protocol", url.Values{"accept_v1": {"on"}}); w.Code != http.StatusSeeOther {
		t.Fatalf("save: %d", w.Code)
	}
	page := parse(t, env.get("/settings").Body.String())
	if _, ok := byTestID(page, "accept-v1").Attr("checked"); !ok {
		t.Error("version 1 is not shown as accepted")
	}
	if byTestID(page, "site-key-overlap").Length() != 1 {
		t.Error("the settings page does not show the rollover's overlap")
	}
	w := env.post("/settings/site-key/roll", url.Values{"overlap_days": {"30"}})
	if w.Code != http.StatusUnprocessableEntity || byTestID(parse(t, w.Body.String()), "roll-error").Length() != 1 {
		t.Errorf("roll without confirming: got %d, want 422 with the reason", w.Code)
	}
	if w := env.post("/settings/site-key/roll", url.Values{"overlap_days": {"30"}, "confirm": {"roll"}}); w.Code != http.StatusSeeOther {
		t.Errorf("roll: got %d", w.Code)
	}
	n := 0
	for _, e := range env.events(t) {
		if e.Kind == "site.key_rolled" {
			n++
		}
	}
	if n != 2 {
		t.Errorf("%d rollover events, want 2", n)
	}
}

func TestSharesPage(t *testing.T) {
	t.Parallel()
	a := newShareSite(t, alphaName, alphaURL)
	a.login(t)
	ann, _ := a.holderV2(t, "Ann", "Lee")
	req, _ := ann.shareV2(t, bravoAdmin, a.clock.Now(), true)
	if w := a.keyPost("/api/key/v2/share", req.body, req.headers); w.Code != http.StatusAccepted {
		t.Fatalf("share: %d %s", w.Code, w.Body)
	}
	doc := parse(t, a.get("/shares").Body.String())
	rows := byTestID(doc, "share-row")
	if rows.Length() != 1 || rows.AttrOr("data-status", "") != "sent" || !strings.Contains(rows.Text(), bravoAdmin) {
		t.Fatalf("shares page rows: %q", rows.Text())
	}
	action, _ := rows.Find("form").Attr("action")
	if w := a.post(action, url.Values{}); w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/shares?flash=withdrawn" {
		t.Fatalf("withdraw: %d to %q, want 303 to the shares page", w.Code, w.Header().Get("Location"))
	}
	doc = parse(t, a.get("/shares").Body.String())
	if s := byTestID(doc, "share-row").AttrOr("data-status", ""); s != "withdrawn" || byTestID(doc, "share-withdraw").Length() != 0 {
		t.Errorf("after withdrawing: status %q", s)
	}
}

func TestAccessPointTimings(t *testing.T) {
	t.Parallel()
	env := newAdminEnv(t)
	got := env.mustAPI(t, "POST", "/api/v1/access-points", `{"name":"Lab","reader":"sim:lab","require_unlock":true,"unlock_window_seconds":5,"deadline_ms":400}`, http.StatusCreated)
	if got["unlock_window_seconds"] != 5.0 || got["deadline_ms"] != 400.0 {
		t.Errorf("created %v", got)
	}
	for _, body := range []string{`{"unlock_window_seconds":1}`, `{"unlock_window_seconds":61}`, `{"deadline_ms":50}`, `{"deadline_ms":20000}`, `{"deadline_ms":-1}`} {
		env.mustAPI(t, "PATCH", "/api/v1/access-points/"+itoa(idOf(t, got)), body, http.StatusUnprocessableEntity)
	}
	got = env.mustAPI(t, "PATCH", "/api/v1/access-points/"+itoa(idOf(t, got)), `{"deadline_ms":0}`, http.StatusOK)
	if got["deadline_ms"] != 0.0 || got["unlock_window_seconds"] != 5.0 {
		t.Errorf("back to the default deadline: %v", got)
	}
}
