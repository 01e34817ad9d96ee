package web_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"postern/access"
	"postern/access/protocol"
	"postern/access/softkey"
	"postern/mail"
	"postern/store"
	"postern/web"
)

// "Add credential to new site": a key asks its home site (A) to email
// another site's administrator a signed token, and that administrator adds
// it to a user at their site (B). Two sites in one test are two stores and
// two servers that share nothing but the token the test carries across.

const (
	alphaName = "Alpha Works"
	alphaURL  = "https://doors.alpha.example"
	bravoName = "Bravo Depot"
	bravoURL  = "https://doors.bravo.example"
	// bravoAdmin is the address the holder gives for B's administrator.
	bravoAdmin = "admin@bravo.example"
)

// shareTokenLine is how a token stands in the email: alone on its line,
// only URL-safe characters.
var shareTokenLine = regexp.MustCompile(`^postern-credential:[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$`)

// shareSite is one appliance with a name and an address of its own.
type shareSite struct {
	*env
	name, url string
}

func newShareSite(t *testing.T, name, publicURL string) *shareSite {
	t.Helper()
	env := newAdminEnv(t, func(c *web.Config) { c.PublicURL = publicURL })
	if err := env.s.SetSiteName(t.Context(), "setup", name); err != nil {
		t.Fatalf("name the site %q: %v", name, err)
	}
	return &shareSite{env: env, name: name, url: publicURL}
}

var shareRemoteN atomic.Int64

// shareRemote is a client address no earlier request used, so the key
// API's per-address limit never answers for the per-credential one.
func shareRemote() string {
	n := shareRemoteN.Add(1)
	return fmt.Sprintf("172.%d.%d.%d:50000", 16+n>>16&15, n>>8&255, n&255)
}

// keyPost sends body to the key-facing API from a fresh address.
func (site *shareSite) keyPost(path string, body []byte, headers map[string]string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.RemoteAddr = shareRemote()
	setHeaders(r, headers)
	return site.serve(r)
}

// shareHolder is someone whose phone holds a credential a site knows.
type shareHolder struct {
	first, last string
	userID      int64
	id          access.CredentialID
	keys        softkey.Keys
	tapPub      []byte
	uvPub       []byte
}

func newHolderKeys(t *testing.T, first, last string) shareHolder {
	t.Helper()
	keys, err := softkey.NewKeys()
	if err != nil {
		t.Fatal(err)
	}
	h := shareHolder{first: first, last: last, keys: keys}
	if h.tapPub, err = protocol.MarshalPublicKey(&keys.Tap.PublicKey); err != nil {
		t.Fatal(err)
	}
	if h.uvPub, err = protocol.MarshalPublicKey(&keys.UV.PublicKey); err != nil {
		t.Fatal(err)
	}
	return h
}

// sharePlainInvite stands in for the invitation email: these tests read
// only share emails.
func sharePlainInvite(c access.Credential, u access.User) (store.Mail, error) {
	return store.Mail{Kind: "invitation", Recipient: u.Email, Subject: "Your Postern key", Message: "{}"}, nil
}

// shareUser creates a user at site and returns its id.
func (site *shareSite) shareUser(t *testing.T, first, last, email string) int64 {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"first_name": first, "last_name": last, "email": email})
	return site.create(t, "users", string(b))
}

// assigned is a Smart credential assigned to a new user and its code, with
// no device registered yet.
func (site *shareSite) assigned(t *testing.T, first, last string) (shareHolder, string) {
	t.Helper()
	h := newHolderKeys(t, first, last)
	host := strings.TrimPrefix(site.url, "https://")
	if strings.HasPrefix(site.url, "http://") {
		host = "site.example" // a test server on loopback
	}
	h.userID = site.shareUser(t, first, last, strings.ToLower(first+"."+last)+"@"+host)
	code := access.NewRegistrationCode()
	cred, err := site.s.AssignCredential(t.Context(), "setup", h.userID, code, site.clock.Now().Add(7*24*time.Hour), sharePlainInvite)
	if err != nil {
		t.Fatalf("assign: %v", err)
	}
	h.id = cred.ID
	return h, code
}

// holder is a user at site whose phone registered its Smart credential
// through the key API, as `postern key register` does.
func (site *shareSite) holder(t *testing.T, first, last string) shareHolder {
	t.Helper()
	h, code := site.assigned(t, first, last)
	tapSig, uvSig, err := protocol.SignRegistration(code, h.keys.Tap, h.keys.UV)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(web.KeyRegisterRequest{Code: code, TapKey: h.tapPub, UVKey: h.uvPub, TapSig: tapSig, UVSig: uvSig, Device: "test phone"})
	w := site.keyPost("/api/key/v1/register", body, nil)
	if w.Code != http.StatusOK {
		t.Fatalf("register: got status %d, want 200\n%s", w.Code, w.Body)
	}
	var resp web.KeyRegisterResponse
	if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil || resp.CredentialID != h.id.String() {
		t.Fatalf("register: got %s (%v), want credential %s", w.Body, err, h.id)
	}
	return h
}

// ask is the share request the holder's key sends for adminEmail.
func (h shareHolder) ask(adminEmail string) web.KeyShareRequest {
	return web.KeyShareRequest{CredentialID: h.id.String(), FirstName: h.first, LastName: h.last, AdminEmail: adminEmail}
}

// shareRequest is a share request as it goes over the wire: the exact body
// and the headers that sign it.
type shareRequest struct {
	body    []byte
	headers map[string]string
}

// signed signs req with the holder's tap key at at, as the key's client does.
func (h shareHolder) signed(req web.KeyShareRequest, at time.Time) shareRequest {
	body, _ := json.Marshal(req)
	return h.signedBody(body, at, at)
}

// signedBody signs body at signAt and sends it saying sendAt.
func (h shareHolder) signedBody(body []byte, signAt, sendAt time.Time) shareRequest {
	sig := protocol.SignShare(protocol.CredentialID(h.id), body, time.UnixMilli(signAt.UnixMilli()), h.keys.Tap)
	return shareRequest{body: body, headers: map[string]string{
		web.HeaderShareTime:      strconv.FormatInt(sendAt.UnixMilli(), 10),
		web.HeaderShareSignature: base64.StdEncoding.EncodeToString(sig),
	}}
}

func (site *shareSite) share(r shareRequest) *httptest.ResponseRecorder {
	return site.keyPost("/api/key/v1/share", r.body, r.headers)
}

// shareMails returns the share emails in site's outbox, newest first.
func (site *shareSite) shareMails(t *testing.T) []store.OutboxItem {
	t.Helper()
	items, _, err := site.s.Outbox(t.Context(), 0, store.MaxLimit)
	if err != nil {
		t.Fatalf("outbox: %v", err)
	}
	var out []store.OutboxItem
	for _, it := range items {
		if it.Kind == "share" {
			out = append(out, it)
		}
	}
	return out
}

// shareMessage decodes a queued share email and returns it with the one
// token line its text holds.
func shareMessage(t *testing.T, it store.OutboxItem) (mail.Message, string) {
	t.Helper()
	var msg mail.Message
	if err := json.Unmarshal([]byte(it.Message), &msg); err != nil {
		t.Fatalf("the queued share email does not decode: %v\n%s", err, it.Message)
	}
	var tokens []string
	for _, line := range strings.Split(strings.ReplaceAll(msg.Text, "\r\n", "\n"), "\n") {
		if strings.HasPrefix(line, protocol.TokenPrefix) {
			tokens = append(tokens, line)
		}
	}
	if len(tokens) != 1 {
		t.Fatalf("got %d lines starting with %s, want exactly one:\n%s", len(tokens), protocol.TokenPrefix, msg.Text)
	}
	if !shareTokenLine.MatchString(tokens[0]) {
		t.Fatalf("token line %q has characters that are not URL-safe, or no signature part", tokens[0])
	}
	return msg, tokens[0]
}

// shareToken has h's key ask site to send the credential to B's admin and
// returns the token from the email.
func (site *shareSite) shareToken(t *testing.T, h shareHolder) string {
	t.Helper()
	before := len(site.shareMails(t))
	if w := site.share(h.signed(h.ask(bravoAdmin), site.clock.Now())); w.Code != http.StatusAccepted {
		t.Fatalf("share: got status %d, want 202\n%s", w.Code, w.Body)
	}
	mails := site.shareMails(t)
	if len(mails) != before+1 {
		t.Fatalf("got %d share emails after sharing, want %d", len(mails), before+1)
	}
	_, tok := shareMessage(t, mails[0])
	return tok
}

// wantKeyRefusal checks a key API refusal's status, stable code and shape.
func wantKeyRefusal(t *testing.T, w *httptest.ResponseRecorder, status int, code string) web.KeyError {
	t.Helper()
	if w.Code != status {
		t.Fatalf("got status %d, want %d\n%s", w.Code, status, w.Body)
	}
	checkAPIError(t, w.Code, w.Body.Bytes())
	var ke web.KeyError
	if err := json.Unmarshal(w.Body.Bytes(), &ke); err != nil {
		t.Fatal(err)
	}
	if ke.Error != code {
		t.Errorf("got code %q, want %q (%s)", ke.Error, code, ke.Message)
	}
	return ke
}

// fingerprint is what site's Settings page shows as its key's fingerprint.
func (site *shareSite) fingerprint(t *testing.T) string {
	t.Helper()
	if site.session == nil {
		site.login(t)
	}
	w := site.get("/settings")
	if w.Code != http.StatusOK {
		t.Fatalf("GET /settings: got status %d, want 200", w.Code)
	}
	fp := strings.TrimSpace(byTestID(parse(t, w.Body.String()), "site-fingerprint").Text())
	if fp == "" {
		t.Fatal("the settings page shows no site fingerprint")
	}
	return fp
}

// credentialCount is how many credentials site holds, for every user.
func (site *shareSite) credentialCount(t *testing.T) int {
	t.Helper()
	users, err := site.s.Users(t.Context(), store.ListOptions{Limit: store.MaxLimit})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, u := range users.Items {
		creds, err := site.s.UserCredentials(t.Context(), u.ID)
		if err != nil {
			t.Fatal(err)
		}
		n += len(creds)
	}
	return n
}

// importBody is the JSON body of an import request.
func importBody(token string) string {
	b, _ := json.Marshal(map[string]string{"token": token})
	return string(b)
}

func importURL(userID int64) string {
	return "/api/v1/users/" + itoa(userID) + "/credentials/import"
}

func (site *shareSite) credential(t *testing.T, id access.CredentialID) access.Credential {
	t.Helper()
	c, err := site.s.CredentialByID(t.Context(), id)
	if err != nil {
		t.Fatalf("%s: credential %s: %v", site.name, id, err)
	}
	return c
}

func countEvents(t *testing.T, site *shareSite, kind string) int {
	t.Helper()
	n := 0
	for _, e := range site.events(t) {
		if e.Kind == kind {
			n++
		}
	}
	return n
}

// ---- the home site: POST /api/key/v1/share

// The key asks its home site to share; the email to B's admin carries a
// token that is the credential as A vouches for it. (The key's own client
// is tested in package main, against this same API.)
func TestShareEmailsTheToken(t *testing.T) {
	t.Parallel()
	a := newShareSite(t, alphaName, alphaURL)
	ann := a.holder(t, "Ann", "Lee")
	now := a.clock.Now()

	w := a.share(ann.signed(ann.ask(bravoAdmin), now))
	var resp web.KeyShareResponse
	if w.Code != http.StatusAccepted || json.Unmarshal(w.Body.Bytes(), &resp) != nil {
		t.Fatalf("share: got %d %s, want 202 and the key's answer", w.Code, w.Body)
	}
	if resp.Status != "queued" || !resp.ExpiresAt.Equal(now.Add(30*24*time.Hour)) {
		t.Errorf("got %+v, want queued until %s", resp, now.Add(30*24*time.Hour))
	}
	mails := a.shareMails(t)
	if len(mails) != 1 {
		t.Fatalf("got %d share emails, want 1", len(mails))
	}
	it := mails[0]
	if it.Recipient != bravoAdmin || it.Status != "queued" || !strings.EqualFold(it.CredentialID, ann.id.String()) {
		t.Errorf("got outbox item to %q (%s) for credential %q, want queued to %s for %s", it.Recipient, it.Status, it.CredentialID, bravoAdmin, ann.id)
	}
	msg, line := shareMessage(t, it)
	if len(msg.To) != 1 || msg.To[0] != bravoAdmin {
		t.Errorf("got To %q, want [%s]", msg.To, bravoAdmin)
	}
	text := strings.Join(strings.Fields(msg.Text), " ")
	fp := a.fingerprint(t)
	for _, want := range []string{"Ann Lee", "Issued by: " + alphaName, alphaURL, fp, "Add a credential"} {
		if !strings.Contains(text, want) {
			t.Errorf("the email text does not contain %q:\n%s", want, msg.Text)
		}
	}
	if !strings.Contains(msg.Subject, "Ann Lee") || !strings.Contains(msg.Subject, alphaName) {
		t.Errorf("got subject %q, want the holder and the issuing site in it", msg.Subject)
	}
	if !strings.Contains(msg.HTML, line) {
		t.Error("the HTML part does not carry the same token")
	}

	tok, err := protocol.DecodeToken(line, now)
	if err != nil {
		t.Fatalf("the emailed token does not decode: %v", err)
	}
	site, err := a.s.Site(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	sitePub, _ := protocol.MarshalPublicKey(&site.Key.PublicKey)
	if access.CredentialID(tok.CredentialID) != ann.id || !bytes.Equal(tok.TapKey, ann.tapPub) || !bytes.Equal(tok.UVKey, ann.uvPub) {
		t.Errorf("the token carries credential %s with other keys, want %s with the phone's keys", tok.CredentialID, ann.id)
	}
	if tok.FirstName != "Ann" || tok.LastName != "Lee" || tok.SiteName != alphaName || tok.SiteURL != alphaURL {
		t.Errorf("got token for %q %q from %q at %q, want Ann Lee from %s at %s", tok.FirstName, tok.LastName, tok.SiteName, tok.SiteURL, alphaName, alphaURL)
	}
	if protocol.SiteID(site.ID) != tok.SiteID || !bytes.Equal(tok.SiteKey, sitePub) || tok.SiteFingerprint() != fp {
		t.Errorf("the token names site %s with fingerprint %s, want A's %x with %s", tok.SiteID, tok.SiteFingerprint(), site.ID, fp)
	}
	if !tok.ExpiresAt.Equal(resp.ExpiresAt) {
		t.Errorf("token expires %s, the key was told %s", tok.ExpiresAt, resp.ExpiresAt)
	}
	if n := countEvents(t, a, "credential.shared"); n != 1 {
		t.Errorf("got %d credential.shared events, want 1", n)
	}

	// A refusal comes back with its stable code.
	stranger := newHolderKeys(t, "Sam", "Stone")
	stranger.id = access.NewCredentialID()
	if ke := wantKeyRefusal(t, a.share(stranger.signed(stranger.ask(bravoAdmin), now)), http.StatusNotFound, web.KeyErrUnknownCredential); ke.Message == "" {
		t.Error("sharing an unknown credential: the refusal has no message")
	}
	if n := len(a.shareMails(t)); n != 1 {
		t.Errorf("got %d share emails after a refusal, want still 1", n)
	}
}

// Every refusal answers with a stable code and queues nothing.
func TestShareRefusals(t *testing.T) {
	t.Parallel()
	a := newShareSite(t, alphaName, alphaURL)
	ctx := t.Context()
	ann := a.holder(t, "Ann", "Lee")

	revoked := a.holder(t, "Rex", "Gone")
	if err := a.s.RevokeCredential(ctx, "setup", revoked.id); err != nil {
		t.Fatal(err)
	}
	// A credential A imported from a third site is A's to use, not to share:
	// only its issuer vouches for it.
	imported := newHolderKeys(t, "Ida", "Visitor")
	imported.id = access.NewCredentialID()
	imported.userID = a.shareUser(t, "Ida", "Visitor", "")
	charlie := newHolderKeys(t, "", "") // stands in for the third site's key
	if err := a.s.ImportCredential(ctx, "setup", imported.userID, access.Credential{
		ID: imported.id, TapKey: imported.tapPub, UVKey: imported.uvPub, DeviceInfo: "added from Charlie Yard",
		Issuer: access.IssuerSite{ID: [16]byte{0xc}, Name: "Charlie Yard", URL: "https://charlie.example", Key: charlie.tapPub},
	}); err != nil {
		t.Fatal(err)
	}
	invited, _ := a.assigned(t, "Ivy", "Waiting")
	stranger := newHolderKeys(t, "Sam", "Stone")
	stranger.id = access.NewCredentialID()
	thief := newHolderKeys(t, "Tom", "Thief")
	thief.id = ann.id

	ask := ann.ask(bravoAdmin)
	withEmail := func(e string) web.KeyShareRequest { r := ask; r.AdminEmail = e; return r }
	withNames := func(f, l string) web.KeyShareRequest { r := ask; r.FirstName, r.LastName = f, l; return r }
	body, _ := json.Marshal(ask)
	otherBody, _ := json.Marshal(withEmail("someone@elsewhere.example"))

	tests := []struct {
		name       string
		req        func(now time.Time) shareRequest
		wantStatus int
		wantCode   string
	}{
		{"unknown credential", func(now time.Time) shareRequest { return stranger.signed(stranger.ask(bravoAdmin), now) }, 404, web.KeyErrUnknownCredential},
		{"revoked credential", func(now time.Time) shareRequest { return revoked.signed(revoked.ask(bravoAdmin), now) }, 409, web.KeyErrCredentialRevoked},
		{"credential imported from another site", func(now time.Time) shareRequest { return imported.signed(imported.ask(bravoAdmin), now) }, 409, web.KeyErrNotHomeSite},
		{"invited credential with no device", func(now time.Time) shareRequest { return invited.signed(invited.ask(bravoAdmin), now) }, 409, web.KeyErrCredentialRevoked},

		{"email not an address", func(now time.Time) shareRequest { return ann.signed(withEmail("bravo admin"), now) }, 422, web.KeyErrInvalidEmail},
		{"email empty", func(now time.Time) shareRequest { return ann.signed(withEmail(""), now) }, 422, web.KeyErrInvalidEmail},
		{"email with a display name", func(now time.Time) shareRequest { return ann.signed(withEmail("Bo <admin@bravo.example>"), now) }, 422, web.KeyErrInvalidEmail},
		{"email with CRLF and a header", func(now time.Time) shareRequest {
			return ann.signed(withEmail("admin@bravo.example\r\nBcc: list@evil.example"), now)
		}, 422, web.KeyErrInvalidEmail},
		{"email with LF", func(now time.Time) shareRequest { return ann.signed(withEmail("admin@bravo\n.example"), now) }, 422, web.KeyErrInvalidEmail},
		{"email with CR", func(now time.Time) shareRequest { return ann.signed(withEmail("admin@bravo.example\rx"), now) }, 422, web.KeyErrInvalidEmail},
		{"two addresses", func(now time.Time) shareRequest {
			return ann.signed(withEmail("admin@bravo.example, list@evil.example"), now)
		}, 422, web.KeyErrInvalidEmail},

		{"names empty", func(now time.Time) shareRequest { return ann.signed(withNames("", ""), now) }, 422, web.KeyErrBadRequest},
		{"names only spaces", func(now time.Time) shareRequest { return ann.signed(withNames("  ", "\t"), now) }, 422, web.KeyErrBadRequest},
		{"first name too long", func(now time.Time) shareRequest { return ann.signed(withNames(strings.Repeat("a", 65), "Lee"), now) }, 422, web.KeyErrBadRequest},
		{"name with a line break", func(now time.Time) shareRequest { return ann.signed(withNames("Ann\nBcc: x", "Lee"), now) }, 422, web.KeyErrBadRequest},
		{"name with a control character", func(now time.Time) shareRequest { return ann.signed(withNames("Ann\x00", "Lee"), now) }, 422, web.KeyErrBadRequest},

		{"signed by another key", func(now time.Time) shareRequest { return thief.signed(ask, now) }, 401, web.KeyErrBadSignature},
		{"signed with the UV key", func(now time.Time) shareRequest {
			uv := ann
			uv.keys.Tap = ann.keys.UV
			return uv.signed(ask, now)
		}, 401, web.KeyErrBadSignature},
		{"signature over a different body", func(now time.Time) shareRequest {
			r := ann.signedBody(otherBody, now, now)
			r.body = body
			return r
		}, 401, web.KeyErrBadSignature},
		{"signature at a different time", func(now time.Time) shareRequest {
			return ann.signedBody(body, now.Add(-time.Second), now)
		}, 401, web.KeyErrBadSignature},
		{"signature for another credential", func(now time.Time) shareRequest {
			other := ann
			other.id = revoked.id
			r := other.signedBody(body, now, now)
			return r
		}, 401, web.KeyErrBadSignature},
		{"no signature", func(now time.Time) shareRequest {
			r := ann.signed(ask, now)
			r.headers[web.HeaderShareSignature] = ""
			return r
		}, 400, web.KeyErrBadRequest},
		{"signature not base64", func(now time.Time) shareRequest {
			r := ann.signed(ask, now)
			r.headers[web.HeaderShareSignature] = "not base64!"
			return r
		}, 400, web.KeyErrBadRequest},
		{"no time", func(now time.Time) shareRequest {
			r := ann.signed(ask, now)
			r.headers[web.HeaderShareTime] = ""
			return r
		}, 400, web.KeyErrBadRequest},
		{"time not a number", func(now time.Time) shareRequest {
			r := ann.signed(ask, now)
			r.headers[web.HeaderShareTime] = now.Format(time.RFC3339)
			return r
		}, 400, web.KeyErrBadRequest},
		{"time too far behind the site's clock", func(now time.Time) shareRequest { return ann.signed(ask, now.Add(-6*time.Minute)) }, 400, web.KeyErrClockSkew},
		{"time too far ahead of the site's clock", func(now time.Time) shareRequest { return ann.signed(ask, now.Add(6*time.Minute)) }, 400, web.KeyErrClockSkew},
		{"credential id not hex", func(now time.Time) shareRequest {
			r := ask
			r.CredentialID = "ann"
			return ann.signed(r, now)
		}, 400, web.KeyErrBadRequest},
		{"unknown field", func(now time.Time) shareRequest {
			return ann.signedBody([]byte(`{"credential_id":"`+ann.id.String()+`","first_name":"Ann","admin_email":"admin@bravo.example","cc":"x@evil.example"}`), now, now)
		}, 400, web.KeyErrBadRequest},
		{"not JSON", func(now time.Time) shareRequest { return ann.signedBody([]byte("share please"), now, now) }, 400, web.KeyErrBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a.clock.Add(time.Second) // every request newer than the last
			w := a.share(tt.req(a.clock.Now()))
			wantKeyRefusal(t, w, tt.wantStatus, tt.wantCode)
			if n := len(a.shareMails(t)); n != 0 {
				t.Errorf("got %d share emails after a refusal, want 0", n)
			}
		})
	}
	if n := countEvents(t, a, "credential.shared"); n != 0 {
		t.Errorf("got %d credential.shared events, want 0", n)
	}

	// None of that used up Ann's day or her clock: her share still goes.
	a.clock.Add(time.Second)
	w := a.share(ann.signed(ask, a.clock.Now()))
	if w.Code != http.StatusAccepted {
		t.Fatalf("share after the refusals: got status %d, want 202\n%s", w.Code, w.Body)
	}
	var resp web.KeyShareResponse
	if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil || resp.Status != "queued" {
		t.Errorf("got %s (%v), want status queued", w.Body, err)
	}
	if n := len(a.shareMails(t)); n != 1 {
		t.Errorf("got %d share emails, want 1", n)
	}
}

// A request is accepted once: the same bytes again, or anything signed at
// or before the last accepted time, is a replay and sends nothing.
func TestShareReplay(t *testing.T) {
	t.Parallel()
	a := newShareSite(t, alphaName, alphaURL)
	ann := a.holder(t, "Ann", "Lee")
	t0 := a.clock.Now()

	first := ann.signed(ann.ask(bravoAdmin), t0)
	if w := a.share(first); w.Code != http.StatusAccepted {
		t.Fatalf("first share: got status %d, want 202\n%s", w.Code, w.Body)
	}
	wantKeyRefusal(t, a.share(first), http.StatusConflict, web.KeyErrReplayed)
	if n := len(a.shareMails(t)); n != 1 {
		t.Fatalf("got %d share emails after a replay, want 1", n)
	}

	a.clock.Add(3 * time.Second)
	if w := a.share(ann.signed(ann.ask(bravoAdmin), t0.Add(2*time.Second))); w.Code != http.StatusAccepted {
		t.Fatalf("newer share: got status %d, want 202\n%s", w.Code, w.Body)
	}
	older := ann.ask("other@charlie.example")
	wantKeyRefusal(t, a.share(ann.signed(older, t0.Add(time.Second))), http.StatusConflict, web.KeyErrReplayed)
	wantKeyRefusal(t, a.share(ann.signed(older, t0.Add(2*time.Second))), http.StatusConflict, web.KeyErrReplayed)
	if n := len(a.shareMails(t)); n != 2 {
		t.Fatalf("got %d share emails, want 2", n)
	}
	if w := a.share(ann.signed(older, t0.Add(2*time.Second+time.Millisecond))); w.Code != http.StatusAccepted {
		t.Fatalf("share a millisecond later: got status %d, want 202\n%s", w.Code, w.Body)
	}
}

// Five shares per credential in any 24 hours; the sixth waits until the
// oldest is a day old. Other credentials are not held back.
func TestShareDailyLimit(t *testing.T) {
	t.Parallel()
	a := newShareSite(t, alphaName, alphaURL)
	ann := a.holder(t, "Ann", "Lee")
	bob := a.holder(t, "Bob", "Ray")
	t0 := a.clock.Now()
	// send shares h's credential d after the previous request.
	send := func(h shareHolder, d time.Duration) *httptest.ResponseRecorder {
		a.clock.Add(d)
		return a.share(h.signed(h.ask(bravoAdmin), a.clock.Now()))
	}
	for i := range 5 {
		if w := send(ann, time.Minute); w.Code != http.StatusAccepted {
			t.Fatalf("share %d: got status %d, want 202\n%s", i+1, w.Code, w.Body)
		}
	}
	ke := wantKeyRefusal(t, send(ann, time.Minute), http.StatusTooManyRequests, web.KeyErrRateLimited)
	if !strings.Contains(ke.Message, "too often") {
		t.Errorf("got %q, want the per-credential limit explained", ke.Message)
	}
	if w := send(bob, time.Second); w.Code != http.StatusAccepted {
		t.Errorf("another credential: got status %d, want 202\n%s", w.Code, w.Body)
	}

	// 23 hours after the first, all five are still within the day.
	wantKeyRefusal(t, send(ann, t0.Add(23*time.Hour).Sub(a.clock.Now())), http.StatusTooManyRequests, web.KeyErrRateLimited)
	// Just after the first one is a day old, one more may go, and no more
	// until the second one is a day old too.
	if w := send(ann, t0.Add(24*time.Hour+time.Minute+time.Second).Sub(a.clock.Now())); w.Code != http.StatusAccepted {
		t.Fatalf("a day after the first share: got status %d, want 202\n%s", w.Code, w.Body)
	}
	wantKeyRefusal(t, send(ann, time.Second), http.StatusTooManyRequests, web.KeyErrRateLimited)
	if w := send(ann, time.Minute); w.Code != http.StatusAccepted {
		t.Fatalf("a day after the second share: got status %d, want 202\n%s", w.Code, w.Body)
	}

	var annMails int
	for _, it := range a.shareMails(t) {
		if strings.EqualFold(it.CredentialID, ann.id.String()) {
			annMails++
		}
	}
	if annMails != 7 {
		t.Errorf("got %d share emails for Ann, want 7 (5 on day one, 2 after)", annMails)
	}
}

// The site name goes into the token, whose fields are bounded; a long name
// allowed by Settings must not stop sharing.
func TestShareLongSiteName(t *testing.T) {
	t.Parallel()
	// 97 bytes; byte 64 falls inside an Å.
	long := strings.Repeat("Ålpha ", 13) + "Wörks"
	a := newShareSite(t, long, alphaURL)
	ann := a.holder(t, "Ann", "Lee")
	tok := a.shareToken(t, ann)
	got, err := protocol.DecodeToken(tok, a.clock.Now())
	if err != nil {
		t.Fatalf("token: %v", err)
	}
	if !strings.HasPrefix(long, got.SiteName) || got.SiteName == "" {
		t.Errorf("got site name %q in the token, want a prefix of %q", got.SiteName, long)
	}
}

// ---- the receiving site: POST /api/v1/users/{id}/credentials/import

func TestShareImportAPI(t *testing.T) {
	t.Parallel()
	a := newShareSite(t, alphaName, alphaURL)
	b := newShareSite(t, bravoName, bravoURL)
	ann := a.holder(t, "Ann", "Lee")
	tok := a.shareToken(t, ann)
	annB := b.shareUser(t, "Ann", "Lee (visitor)", "")
	other := b.shareUser(t, "Someone", "Else", "")
	// An email client wraps and indents; the paste keeps all of that.
	pasted := "\n   " + tok[:50] + "\r\n   " + tok[50:120] + "\n\t" + tok[120:] + "  \n"
	bare := strings.TrimPrefix(tok, protocol.TokenPrefix)

	b.runAPI(t, []scenario{
		{name: "unknown user", method: "POST", url: importURL(99999), body: importBody(tok), wantStatus: 404},
		{name: "empty token", method: "POST", url: importURL(annB), body: importBody(""), wantStatus: 422, wantContains: []string{protocol.TokenPrefix}},
		{name: "no token field", method: "POST", url: importURL(annB), body: `{}`, wantStatus: 422, wantContains: []string{protocol.TokenPrefix}},
		{name: "garbage", method: "POST", url: importURL(annB), body: importBody("hello, please add me"), wantStatus: 422, wantContains: []string{"not a complete credential token"}},
		{name: "prefix missing", method: "POST", url: importURL(annB), body: importBody(bare), wantStatus: 422, wantContains: []string{"whole line", protocol.TokenPrefix}},
		{name: "cut short", method: "POST", url: importURL(annB), body: importBody(tok[:len(tok)-20]), wantStatus: 422, wantContains: []string{"not a complete credential token"}},
		{name: "body not JSON", method: "POST", url: importURL(annB), body: tok, wantStatus: 400},
		{name: "unknown field", method: "POST", url: importURL(annB), body: `{"token":"x","user":1}`, wantStatus: 400},
		{name: "pasted from an email", method: "POST", url: importURL(annB), body: importBody(pasted), wantStatus: 201,
			wantContains: []string{`"id":"` + ann.id.String() + `"`, `"status":"active"`, `"issuer_site":{`, `"name":"` + alphaName + `"`, `"url":"` + alphaURL + `"`, `"user_id":` + itoa(annB)}},
		{name: "listed on the user", method: "GET", url: "/api/v1/users/" + itoa(annB) + "/credentials", wantStatus: 200,
			wantContains: []string{ann.id.String(), alphaName, `"status":"active"`}},
		{name: "same token again", method: "POST", url: importURL(annB), body: importBody(tok), wantStatus: 409, wantContains: []string{"already been added"}},
		{name: "same token to another user", method: "POST", url: importURL(other), body: importBody(tok), wantStatus: 409, wantContains: []string{"already been added"}},
	})
	if n := b.credentialCount(t); n != 1 {
		t.Errorf("B holds %d credentials, want 1", n)
	}
	if n := countEvents(t, b, "credential.imported"); n != 1 {
		t.Errorf("B logged %d credential.imported events, want 1", n)
	}
	got := b.credential(t, ann.id)
	if got.UserID != annB || got.Status != access.CredentialActive || got.Issuer.Name != alphaName || !bytes.Equal(got.TapKey, ann.tapPub) || !bytes.Equal(got.UVKey, ann.uvPub) {
		t.Errorf("B stored %+v, want Ann's active credential with her keys, issued by %s", got, alphaName)
	}

	// A token A issued is already A's own.
	annA2 := a.shareUser(t, "Ann", "Again", "")
	a.runAPI(t, []scenario{
		{name: "issued by this site", method: "POST", url: importURL(annA2), body: importBody(tok), wantStatus: 409, wantContains: []string{"issued by this site"}},
	})
	if n := a.credentialCount(t); n != 1 {
		t.Errorf("A holds %d credentials, want 1", n)
	}
}

// Any change to a token, in any of its fields or its signature, is refused
// and stores nothing.
func TestShareImportRefusesTamperedTokens(t *testing.T) {
	t.Parallel()
	a := newShareSite(t, alphaName, alphaURL)
	b := newShareSite(t, bravoName, bravoURL)
	ann := a.holder(t, "Ann", "Lee")
	tok := a.shareToken(t, ann)
	if _, err := protocol.DecodeToken(tok, b.clock.Now()); err != nil {
		t.Fatalf("the untouched token must be valid: %v", err)
	}
	annB := b.shareUser(t, "Ann", "Lee", "")
	before := b.credentialCount(t)

	// The payload's fields (docs/protocol.md) start at these bytes; one
	// flipped character in every position covers them all.
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	flip := func(c byte) byte {
		if i := strings.IndexByte(alphabet, c); i >= 0 {
			return alphabet[(i+1)%len(alphabet)]
		}
		return 'A'
	}
	failures := 0
	for i := range len(tok) {
		bad := tok[:i] + string(flip(tok[i])) + tok[i+1:]
		w := b.api(http.MethodPost, importURL(annB), importBody(bad))
		if w.Code != http.StatusUnprocessableEntity && w.Code != http.StatusBadRequest {
			failures++
			if failures <= 5 {
				t.Errorf("character %d flipped: got status %d, want 422 or 400\n%s", i, w.Code, w.Body)
			}
			continue
		}
		var e struct{ Error, Message string }
		if json.Unmarshal(w.Body.Bytes(), &e) != nil || !strings.Contains(e.Message, "token") {
			failures++
			if failures <= 5 {
				t.Errorf("character %d flipped: got %s, want a message about the token", i, w.Body)
			}
		}
	}
	if failures > 5 {
		t.Errorf("%d flipped tokens in all were not refused cleanly", failures)
	}
	if n := b.credentialCount(t); n != before {
		t.Errorf("B holds %d credentials after the tampered tokens, want %d", n, before)
	}
	if n := countEvents(t, b, "credential.imported"); n != 0 {
		t.Errorf("got %d credential.imported events, want 0", n)
	}

	// A changed signature says so in words an admin understands.
	dot := strings.LastIndexByte(tok, '.')
	b.runAPI(t, []scenario{
		{name: "signature changed", method: "POST", url: importURL(annB), body: importBody(tok[:dot+5] + string(flip(tok[dot+5])) + tok[dot+6:]),
			wantStatus: 422, wantContains: []string{"signature does not verify"}},
		{name: "untouched token", method: "POST", url: importURL(annB), body: importBody(tok), wantStatus: 201},
	})
}

func TestShareImportExpired(t *testing.T) {
	t.Parallel()
	a := newShareSite(t, alphaName, alphaURL)
	b := newShareSite(t, bravoName, bravoURL)
	ann := a.holder(t, "Ann", "Lee")
	tok := a.shareToken(t, ann)
	dec, err := protocol.DecodeToken(tok, a.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	annB := b.shareUser(t, "Ann", "Lee", "")
	b.clock.Add(dec.ExpiresAt.Sub(b.clock.Now()))
	b.runAPI(t, []scenario{
		{name: "at its expiry", method: "POST", url: importURL(annB), body: importBody(tok), wantStatus: 422, wantContains: []string{"expired"}},
	})
	b.clock.Add(24 * time.Hour)
	b.runAPI(t, []scenario{
		{name: "a day after", method: "POST", url: importURL(annB), body: importBody(tok), wantStatus: 422, wantContains: []string{"expired", "send it again"}},
	})
	if n := b.credentialCount(t); n != 0 {
		t.Errorf("B holds %d credentials, want 0", n)
	}
}

// ---- the receiving site's pages

func TestShareImportPages(t *testing.T) {
	t.Parallel()
	a := newShareSite(t, alphaName, alphaURL)
	b := newShareSite(t, bravoName, bravoURL)
	ann := a.holder(t, "Ann", "Lee")
	tok := a.shareToken(t, ann)
	fp := a.fingerprint(t)
	b.login(t)
	annB := b.shareUser(t, "Ann", "Lee (visitor)", "")
	user := "/users/" + itoa(annB)
	form := func(token string) string { return "token=" + url.QueryEscape(token) }

	b.runPages(t, []scenario{
		{name: "the user page offers it", method: "GET", url: user, wantStatus: 200,
			wantContains: []string{"Add a credential from another site"}, wantTestIDs: map[string]string{"import-form": "", "no-credentials": ""}},
		{name: "preview", method: "POST", url: user + "/credentials/import/preview", body: form("\n" + tok + "\n"), wantStatus: 200,
			wantTestIDs: map[string]string{"import-holder": "Ann Lee", "import-site": alphaName, "import-fingerprint": fp, "import-confirm": ""},
			wantFields:  map[string]string{"token": tok}},
		{name: "preview of a bad token", method: "POST", url: user + "/credentials/import/preview", body: form("postern-credential:nonsense"), wantStatus: 422,
			wantTestIDs: map[string]string{"import-error": "not a complete credential token"}, wantNotContains: []string{`data-testid="import-confirm"`}},
		{name: "preview of an empty paste", method: "POST", url: user + "/credentials/import/preview", body: form(""), wantStatus: 422,
			wantTestIDs: map[string]string{"import-error": protocol.TokenPrefix}},
		{name: "preview without CSRF", method: "POST", url: user + "/credentials/import/preview", body: form(tok) + "&_csrf=forged", wantStatus: 403,
			wantNotContains: []string{"import-fingerprint"}},
		{name: "confirm without CSRF", method: "POST", url: user + "/credentials/import", body: form(tok) + "&_csrf=forged", wantStatus: 403},
		{name: "confirm with an empty CSRF", method: "POST", url: user + "/credentials/import", body: form(tok) + "&_csrf=", wantStatus: 403},
	})
	if n := b.credentialCount(t); n != 0 {
		t.Fatalf("B holds %d credentials before the confirmation, want 0", n)
	}
	b.runPages(t, []scenario{
		{name: "confirm", method: "POST", url: user + "/credentials/import", body: form(tok), wantStatus: 303, wantLocation: user + "?flash=imported"},
		{name: "the credential is on the user", method: "GET", url: user, wantStatus: 200,
			wantTestIDs: map[string]string{"credential-row": "issued by " + alphaName, "credential-status": "active"}},
		{name: "confirm again", method: "POST", url: user + "/credentials/import", body: form(tok), wantStatus: 409, wantContains: []string{"already been added"}},
		{name: "preview of a token already added", method: "POST", url: user + "/credentials/import/preview", body: form(tok), wantStatus: 200,
			wantTestIDs: map[string]string{"import-holder": "Ann Lee"}},
	})
	doc := parse(t, b.get(user).Body.String())
	row := doc.Find(`[data-testid="credential-row"][data-credential="` + ann.id.String() + `"]`)
	if row.Length() != 1 {
		t.Fatalf("got %d rows for credential %s on the user page, want 1", row.Length(), ann.id)
	}
	if row.Find(`[data-testid="reissue"], [data-testid="resend"], [data-testid="print-code"]`).Length() != 0 {
		t.Error("B offers to reissue a credential only A can reissue")
	}
	if n := b.credentialCount(t); n != 1 {
		t.Errorf("B holds %d credentials, want 1", n)
	}
}

// ---- after the import, each site decides alone

func TestShareSitesDecideAlone(t *testing.T) {
	t.Parallel()
	a := newShareSite(t, alphaName, alphaURL)
	b := newShareSite(t, bravoName, bravoURL)
	ann := a.holder(t, "Ann", "Lee")
	bob := a.holder(t, "Bob", "Ray")
	annB := b.shareUser(t, "Ann", "Lee", "")
	bobB := b.shareUser(t, "Bob", "Ray", "")
	b.mustAPI(t, "POST", importURL(annB), importBody(a.shareToken(t, ann)), http.StatusCreated)
	a.clock.Add(time.Second)
	b.mustAPI(t, "POST", importURL(bobB), importBody(a.shareToken(t, bob)), http.StatusCreated)

	// B revokes Ann: A still lets her in.
	b.mustAPI(t, "POST", "/api/v1/credentials/"+ann.id.String()+"/revoke", "", http.StatusOK)
	if got := b.credential(t, ann.id).Status; got != access.CredentialRevoked {
		t.Errorf("at B after revoking there: got %s, want revoked", got)
	}
	if got := a.credential(t, ann.id).Status; got != access.CredentialActive {
		t.Errorf("at A after B revoked: got %s, want active", got)
	}
	// A revokes Bob: B still lets him in.
	a.mustAPI(t, "POST", "/api/v1/credentials/"+bob.id.String()+"/revoke", "", http.StatusOK)
	if got := a.credential(t, bob.id).Status; got != access.CredentialRevoked {
		t.Errorf("at A after revoking there: got %s, want revoked", got)
	}
	if got := b.credential(t, bob.id).Status; got != access.CredentialActive {
		t.Errorf("at B after A revoked: got %s, want active", got)
	}

	// B cannot send a new code for, nor pass on, a credential it imported.
	w := b.api("POST", "/api/v1/credentials/"+bob.id.String()+"/reissue", "")
	if w.Code != http.StatusConflict || !strings.Contains(w.Body.String(), alphaName) {
		t.Errorf("reissue at B: got %d %s, want 409 naming %s", w.Code, w.Body, alphaName)
	}
	b.clock.Add(time.Second)
	ke := wantKeyRefusal(t, b.share(bob.signed(bob.ask("admin@charlie.example"), b.clock.Now())), http.StatusConflict, web.KeyErrNotHomeSite)
	if strings.Contains(ke.Message, "revoked") {
		t.Errorf("got %q: the credential is not revoked at B", ke.Message)
	}
	if n := len(b.shareMails(t)); n != 0 {
		t.Errorf("B queued %d share emails, want 0", n)
	}
	// And A will not share the one it revoked.
	a.clock.Add(time.Second)
	wantKeyRefusal(t, a.share(bob.signed(bob.ask("admin@charlie.example"), a.clock.Now())), http.StatusConflict, web.KeyErrCredentialRevoked)
}
