package web_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/emersion/go-smtp"

	"postern/access"
	"postern/access/protocol"
	"postern/access/softkey"
	"postern/mail"
	"postern/mail/mailtest"
	"postern/web"
)

// smartURL is the public URL of the site under test: emailed links and the
// site identity a key learns carry it.
const smartURL = "https://doors.example.com"

func withSmartURL(c *web.Config) { c.PublicURL = smartURL }

// codeRun finds a registration code as one unbroken run of 32 digits.
var codeRun = regexp.MustCompile(`(?:^|\D)(\d{32})(?:\D|$)`)

// smartUser creates a user through the API; email may be empty.
func (env *env) smartUser(t *testing.T, first, email string) int64 {
	t.Helper()
	body, _ := json.Marshal(map[string]string{"first_name": first, "last_name": "Tester", "email": email})
	return env.create(t, "users", string(body))
}

// smartAssign assigns a Smart credential through the API and returns its
// id and, asked for with show_code=1, its registration code.
func (env *env) smartAssign(t *testing.T, userID int64) (id, code string) {
	t.Helper()
	m := env.mustAPI(t, http.MethodPost, "/api/v1/users/"+itoa(userID)+"/credentials?show_code=1", `{"kind":"smart"}`, http.StatusCreated)
	id, _ = m["id"].(string)
	code, _ = m["code"].(string)
	if _, err := access.ParseCredentialID(id); err != nil {
		t.Fatalf("got credential id %q, want 32 hex digits", id)
	}
	if !isCode(code) {
		t.Fatalf("got code %q, want 32 digits", code)
	}
	return id, code
}

// smartReissue gives a credential a new code through the API.
func (env *env) smartReissue(t *testing.T, id string) string {
	t.Helper()
	m := env.mustAPI(t, http.MethodPost, "/api/v1/credentials/"+id+"/reissue?show_code=1", "", http.StatusOK)
	code, _ := m["code"].(string)
	if !isCode(code) {
		t.Fatalf("reissue: got code %q, want 32 digits", code)
	}
	return code
}

func isCode(s string) bool {
	n, ok := access.NormalizeCode(s)
	return ok && n == s
}

// smartCredential reads a credential from the store.
func (env *env) smartCredential(t *testing.T, id string) access.Credential {
	t.Helper()
	cid, err := access.ParseCredentialID(id)
	if err != nil {
		t.Fatal(err)
	}
	c, err := env.s.CredentialByID(t.Context(), cid)
	if err != nil {
		t.Fatalf("credential %s: %v", id, err)
	}
	return c
}

// smartDevice is a phone's pair of key pairs, made on the device.
type smartDevice struct {
	tap, uv       *ecdsa.PrivateKey
	tapPub, uvPub []byte
}

func newSmartDevice(t testing.TB) smartDevice {
	t.Helper()
	k, err := softkey.NewKeys()
	if err != nil {
		t.Fatal(err)
	}
	d := smartDevice{tap: k.Tap, uv: k.UV}
	if d.tapPub, err = protocol.MarshalPublicKey(&k.Tap.PublicKey); err != nil {
		t.Fatal(err)
	}
	if d.uvPub, err = protocol.MarshalPublicKey(&k.UV.PublicKey); err != nil {
		t.Fatal(err)
	}
	return d
}

// request is what the key app sends to register with code, signed as
// `postern key register` signs it.
func (d smartDevice) request(t testing.TB, code string) web.KeyRegisterRequest {
	t.Helper()
	tapSig, uvSig, err := protocol.SignRegistration(code, d.tap, d.uv)
	if err != nil {
		t.Fatal(err)
	}
	return web.KeyRegisterRequest{Code: code, TapKey: d.tapPub, UVKey: d.uvPub, TapSig: tapSig, UVSig: uvSig, Device: "test phone"}
}

var remoteN atomic.Int64

// smartRemote is a client address no earlier request used, so the key
// API's per-address limit only bites where a test means it to.
func smartRemote() string {
	n := remoteN.Add(1)
	return fmt.Sprintf("10.%d.%d.%d:40000", n>>16&255, n>>8&255, n&255)
}

// smartRegister posts to the key API's register from remote ("" for a
// fresh address). body is sent as it is when a string, else as JSON.
func (env *env) smartRegister(body any, remote string) *httptest.ResponseRecorder {
	return env.smartPost("/api/key/v1/register", body, remote)
}

// smartPost posts body to a key API path, as smartRegister does.
func (env *env) smartPost(path string, body any, remote string) *httptest.ResponseRecorder {
	var b []byte
	if s, ok := body.(string); ok {
		b = []byte(s)
	} else {
		b, _ = json.Marshal(body)
	}
	r := httptest.NewRequest(http.MethodPost, path, bytes.NewReader(b))
	r.Header.Set("Content-Type", "application/json")
	if remote == "" {
		remote = smartRemote()
	}
	r.RemoteAddr = remote
	return env.serve(r)
}

// mustRegister registers d with code and returns the site's answer.
func (env *env) mustRegister(t *testing.T, d smartDevice, code string) web.KeyRegisterResponse {
	t.Helper()
	w := env.smartRegister(d.request(t, code), "")
	if w.Code != http.StatusOK {
		t.Fatalf("register: got status %d, want 200\n%s", w.Code, w.Body)
	}
	var resp web.KeyRegisterResponse
	if err := json.Unmarshal(w.Body.Bytes(), &resp); err != nil {
		t.Fatalf("register answer: %v\n%s", err, w.Body)
	}
	return resp
}

// keyError checks the shape of a key API failure and returns it.
func keyError(t *testing.T, w *httptest.ResponseRecorder) web.KeyError {
	t.Helper()
	checkAPIError(t, w.Code, w.Body.Bytes())
	var ke web.KeyError
	json.Unmarshal(w.Body.Bytes(), &ke)
	return ke
}

// wantRegistrationError checks the one answer a code that cannot register
// gets.
func wantRegistrationError(t *testing.T, w *httptest.ResponseRecorder) {
	t.Helper()
	if w.Code != http.StatusConflict {
		t.Fatalf("got status %d, want 409\n%s", w.Code, w.Body)
	}
	ke := keyError(t, w)
	if ke.Error != web.KeyErrRegistration {
		t.Errorf("got error %q, want %q", ke.Error, web.KeyErrRegistration)
	}
	const want = "This registration code has already been used or is not valid. Ask your administrator for a new Smart credential."
	if ke.Message != want {
		t.Errorf("got message %q, want %q", ke.Message, want)
	}
}

// outboxAnswer is GET /api/v1/outbox.
type outboxAnswer struct {
	Outbox []struct {
		ID           int64      `json:"id"`
		Kind         string     `json:"kind"`
		To           string     `json:"to"`
		Subject      string     `json:"subject"`
		Status       string     `json:"status"`
		Attempts     int        `json:"attempts"`
		NextAttempt  *time.Time `json:"next_attempt"`
		LastError    string     `json:"last_error"`
		SentAt       *time.Time `json:"sent_at"`
		CredentialID string     `json:"credential_id"`
	} `json:"outbox"`
	SMTPConfigured bool `json:"smtp_configured"`
}

func (env *env) smartOutbox(t *testing.T) outboxAnswer {
	t.Helper()
	w := env.api(http.MethodGet, "/api/v1/outbox", "")
	if w.Code != http.StatusOK {
		t.Fatalf("outbox: got status %d, want 200\n%s", w.Code, w.Body)
	}
	var out outboxAnswer
	if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
		t.Fatalf("outbox: %v\n%s", err, w.Body)
	}
	return out
}

// outboxStatuses lists the statuses of a credential's emails, oldest first.
func (o outboxAnswer) statuses(credID string) []string {
	var out []string
	for i := len(o.Outbox) - 1; i >= 0; i-- {
		if o.Outbox[i].CredentialID == credID {
			out = append(out, o.Outbox[i].Status)
		}
	}
	return out
}

func TestAPICredentialAssign(t *testing.T) {
	t.Parallel()
	env := newAdminEnv(t, withSmartURL)
	withEmail := env.smartUser(t, "Bea", "bea@example.com")
	noEmail := env.smartUser(t, "Cal", "")
	creds := func(id int64) string { return "/api/v1/users/" + itoa(id) + "/credentials" }
	env.runAPI(t, []scenario{
		{name: "assign", method: "POST", url: creds(withEmail), body: `{"kind":"smart"}`, wantStatus: http.StatusCreated,
			wantContains: []string{`"status":"invited"`, `"kind":"smart"`, `"user_id":` + itoa(withEmail)}, wantNotContains: []string{`"code"`}},
		{name: "kind left out means smart", method: "POST", url: creds(withEmail), body: `{}`, wantStatus: http.StatusCreated,
			wantContains: []string{`"status":"invited"`}, wantNotContains: []string{`"code"`}},
		{name: "show_code=0 shows no code", method: "POST", url: creds(withEmail) + "?show_code=0", body: `{"kind":"smart"}`, wantStatus: http.StatusCreated,
			wantNotContains: []string{`"code"`}},
		{name: "user without email", method: "POST", url: creds(noEmail), body: `{"kind":"smart"}`, wantStatus: http.StatusUnprocessableEntity,
			wantContains: []string{`"error":"invalid"`, "email"}},
		{name: "unknown user", method: "POST", url: creds(999999), body: `{"kind":"smart"}`, wantStatus: http.StatusNotFound},
		{name: "user id not a number", method: "POST", url: "/api/v1/users/bea/credentials", body: `{"kind":"smart"}`, wantStatus: http.StatusBadRequest},
		{name: "bad kind", method: "POST", url: creds(withEmail), body: `{"kind":"card"}`, wantStatus: http.StatusUnprocessableEntity,
			wantContains: []string{"kind"}},
		{name: "kind of the wrong type", method: "POST", url: creds(withEmail), body: `{"kind":1}`, wantStatus: http.StatusBadRequest},
		{name: "unknown field", method: "POST", url: creds(withEmail), body: `{"kind":"smart","code":"1"}`, wantStatus: http.StatusBadRequest},
		{name: "list", method: "GET", url: creds(withEmail), wantStatus: http.StatusOK, wantContains: []string{`"credentials":[`}, wantNotContains: []string{`"code"`}},
		{name: "list of an unknown user", method: "GET", url: creds(999999), wantStatus: http.StatusNotFound},
	})

	list := env.mustAPI(t, http.MethodGet, creds(withEmail), "", http.StatusOK)["credentials"].([]any)
	if len(list) != 3 {
		t.Errorf("got %d credentials, want 3", len(list))
	}
	if got, _ := env.s.UserCredentials(t.Context(), noEmail); len(got) != 0 {
		t.Errorf("got %d credentials for the user without email, want 0", len(got))
	}

	id, code := env.smartAssign(t, withEmail)
	got := env.mustAPI(t, http.MethodGet, "/api/v1/credentials/"+id, "", http.StatusOK)
	if got["status"] != "invited" || got["code"] != nil {
		t.Errorf("got %v, want an invited credential without its code", got)
	}

	out := env.smartOutbox(t)
	if out.SMTPConfigured {
		t.Errorf("got smtp_configured %v, want false", out.SMTPConfigured)
	}
	if len(out.Outbox) != 4 {
		t.Fatalf("got %d emails in the outbox, want 4 invitations", len(out.Outbox))
	}
	inv := out.Outbox[0]
	if inv.CredentialID != id || inv.Kind != "invitation" || inv.Status != "queued" || inv.Attempts != 0 || !strings.Contains(inv.To, "bea@example.com") {
		t.Errorf("got outbox row %+v, want a queued invitation to bea@example.com for %s", inv, id)
	}
	w := env.api(http.MethodGet, "/api/v1/outbox", "")
	if strings.Contains(w.Body.String(), code) {
		t.Errorf("the outbox API shows the registration code:\n%s", w.Body)
	}
	var assigned int
	for _, e := range env.events(t) {
		if e.Kind == "credential.assigned" {
			assigned++
		}
		if strings.Contains(e.Detail+e.Reason, code) {
			t.Errorf("event %s holds the registration code: %q", e.Kind, e.Detail)
		}
	}
	if assigned != 4 {
		t.Errorf("got %d credential.assigned events, want 4", assigned)
	}
}

func TestAPICredentialRevokeReissue(t *testing.T) {
	t.Parallel()
	env := newAdminEnv(t, withSmartURL)
	uid := env.smartUser(t, "Dee", "dee@example.com")
	id, codeA := env.smartAssign(t, uid)

	// Reissue of an invitation: a new code, the old one dead.
	codeB := env.smartReissue(t, id)
	if codeB == codeA {
		t.Fatal("reissue gave the same code")
	}
	wantRegistrationError(t, env.smartRegister(newSmartDevice(t).request(t, codeA), ""))
	first := newSmartDevice(t)
	env.mustRegister(t, first, codeB)

	// Reissue of an active credential: status stays active (the old phone
	// works until the new one registers), the code only when asked.
	m := env.mustAPI(t, http.MethodPost, "/api/v1/credentials/"+id+"/reissue?show_code=1", "", http.StatusOK)
	codeC, _ := m["code"].(string)
	if m["status"] != "active" || !isCode(codeC) {
		t.Fatalf("got %v, want an active credential with a new 32-digit code", m)
	}
	m = env.mustAPI(t, http.MethodPost, "/api/v1/credentials/"+id+"/reissue", "", http.StatusOK)
	if _, ok := m["code"]; ok {
		t.Errorf("reissue without show_code returned a code: %v", m)
	}
	wantRegistrationError(t, env.smartRegister(newSmartDevice(t).request(t, codeC), ""))
	if got := env.smartCredential(t, id); !bytes.Equal(got.TapKey, first.tapPub) || got.Status != access.CredentialActive {
		t.Errorf("got %s with tap key %x, want the first device still active until a new one registers", got.Status, got.TapKey)
	}

	tests := []struct {
		name, method, url string
		wantStatus        int
		wantContains      string
	}{
		{"revoke", "POST", "/api/v1/credentials/" + id + "/revoke", http.StatusOK, `"status":"revoked"`},
		{"revoke again", "POST", "/api/v1/credentials/" + id + "/revoke", http.StatusOK, `"status":"revoked"`},
		{"get", "GET", "/api/v1/credentials/" + id, http.StatusOK, `"status":"revoked"`},
		{"reissue revoked", "POST", "/api/v1/credentials/" + id + "/reissue?show_code=1", http.StatusConflict, `"error":"conflict"`},
		{"revoke unknown", "POST", "/api/v1/credentials/" + access.NewCredentialID().String() + "/revoke", http.StatusNotFound, `"error":"not_found"`},
		{"reissue unknown", "POST", "/api/v1/credentials/" + access.NewCredentialID().String() + "/reissue", http.StatusNotFound, `"error":"not_found"`},
		{"malformed id", "POST", "/api/v1/credentials/xyz/revoke", http.StatusBadRequest, `"error":"bad_request"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := env.api(tt.method, tt.url, "")
			if w.Code != tt.wantStatus {
				t.Fatalf("got status %d, want %d\n%s", w.Code, tt.wantStatus, w.Body)
			}
			if !strings.Contains(w.Body.String(), tt.wantContains) {
				t.Errorf("got %s, want it to contain %s", w.Body, tt.wantContains)
			}
			if w.Code >= 400 {
				checkAPIError(t, w.Code, w.Body.Bytes())
				if strings.Contains(w.Body.String(), `"code"`) {
					t.Errorf("a refusal carries a code: %s", w.Body)
				}
			}
		})
	}

	// Every invitation was replaced or cancelled by the revocation: none
	// is left to deliver a code for a revoked credential.
	got := env.smartOutbox(t).statuses(id)
	want := []string{"cancelled", "cancelled", "cancelled", "cancelled"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("got invitation statuses %v, want %v", got, want)
	}
	var revoked int
	for _, e := range env.events(t) {
		if e.Kind == "credential.revoked" && e.CredentialID == id {
			revoked++
		}
	}
	if revoked != 1 {
		t.Errorf("got %d credential.revoked events, want 1 (revoking twice is one change)", revoked)
	}
}

// ---- admin pages

// credentialRow finds a credential's row on a user page.
func credentialRow(doc *goquery.Document, id string) *goquery.Selection {
	return doc.Find(fmt.Sprintf(`[data-testid="credential-row"][data-credential=%q]`, id))
}

// shownCode reads the registration code a page shows once.
func shownCode(t *testing.T, body string) string {
	t.Helper()
	doc := parse(t, body)
	text := byTestID(doc, "registration-code").Text()
	code, ok := access.NormalizeCode(strings.TrimSpace(text))
	if !ok {
		t.Fatalf("got registration code %q on the page, want 32 digits\n%s", text, body)
	}
	// The link carries the code and the site key's fingerprint, which the
	// key checks the site's signed answer against.
	want := smartURL + "/key/register?code=" + code + "&fp="
	if link := byTestID(doc, "registration-link").Text(); !strings.HasPrefix(link, want) || len(link) != len(want)+len("0000%3A")*7+4 {
		t.Errorf("got link %q, want %s and a fingerprint", link, want)
	}
	return code
}

func TestCredentialPages(t *testing.T) {
	t.Parallel()
	env := newLoggedInEnv(t, withSmartURL)
	uid := env.smartUser(t, "Eve", "eve@example.com")
	noEmail := env.smartUser(t, "Fay", "")
	userPage := "/users/" + itoa(uid)

	env.runPages(t, []scenario{
		{name: "user without email", method: "GET", url: "/users/" + itoa(noEmail), wantStatus: http.StatusOK,
			wantTestIDs: map[string]string{"needs-email": "no email address", "assign-print": "to print"}, wantNotContains: []string{`data-testid="assign-credential"`}},
		{name: "user with email", method: "GET", url: userPage, wantStatus: http.StatusOK,
			wantTestIDs: map[string]string{"assign-credential": "Add Smart credential", "no-credentials": ""}},
		{name: "assign", method: "POST", url: userPage + "/credentials", wantStatus: http.StatusSeeOther, wantLocation: userPage + "?flash=invited"},
		{name: "assigned", method: "GET", url: userPage + "?flash=invited", wantStatus: http.StatusOK,
			wantTestIDs: map[string]string{"flash": "invitation is in the outbox", "credential-status": "invited"}},
		{name: "assign without CSRF", method: "POST", url: userPage + "/credentials", body: "_csrf=wrong", wantStatus: http.StatusForbidden},
		{name: "assign to a user without email", method: "POST", url: "/users/" + itoa(noEmail) + "/credentials", wantStatus: http.StatusUnprocessableEntity,
			wantTestIDs: map[string]string{"error-message": "email"}},
		{name: "assign to an unknown user", method: "POST", url: "/users/999999/credentials", wantStatus: http.StatusNotFound},
	})
	creds, err := env.s.UserCredentials(t.Context(), uid)
	if err != nil || len(creds) != 1 {
		t.Fatalf("got %d credentials (%v), want 1", len(creds), err)
	}
	invited := creds[0].ID.String()

	// With show_code the code's one view shows it once, and it registers.
	code := shownCode(t, env.followCode(t, env.post(userPage+"/credentials", url.Values{"show_code": {"1"}})))
	phone := newSmartDevice(t)
	resp := env.mustRegister(t, phone, code)
	active := resp.CredentialID
	page := env.get(userPage)
	if strings.Contains(page.Body.String(), code) {
		t.Error("the user page shows the registration code again")
	}
	doc := parse(t, page.Body.String())
	row := credentialRow(doc, active)
	if got := row.AttrOr("data-status", ""); got != "active" {
		t.Errorf("got status %q, want active", got)
	}
	if got := row.Find(`[data-testid="credential-status"]`).Text(); got != "active" {
		t.Errorf("got status text %q, want active", got)
	}
	if !strings.Contains(row.Text(), "test phone") {
		t.Errorf("the row does not show the device: %q", row.Text())
	}
	if row.Find(`[data-testid="reissue"]`).Length() != 1 || credentialRow(doc, invited).Find(`[data-testid="resend"]`).Length() != 1 {
		t.Error("want a reissue button on the active credential and a resend button on the invited one")
	}

	// Resend an invitation: a new email, the old one cancelled.
	env.runPages(t, []scenario{
		{name: "resend", method: "POST", url: "/credentials/" + invited + "/resend", wantStatus: http.StatusSeeOther, wantLocation: userPage + "?flash=resent"},
		{name: "resent", method: "GET", url: userPage + "?flash=resent", wantStatus: http.StatusOK, wantTestIDs: map[string]string{"flash": "queued again"}},
		{name: "unknown credential", method: "POST", url: "/credentials/" + access.NewCredentialID().String() + "/resend", wantStatus: http.StatusNotFound},
		{name: "malformed credential id", method: "POST", url: "/credentials/nope/revoke", wantStatus: http.StatusBadRequest},
	})
	if got := env.smartOutbox(t).statuses(invited); strings.Join(got, ",") != "cancelled,queued" {
		t.Errorf("got invitation statuses %v, want [cancelled queued]", got)
	}

	// Reissue for a new phone, with the code to print: the new phone
	// replaces the old one.
	newCode := shownCode(t, env.followCode(t, env.post("/credentials/"+active+"/reissue", url.Values{"show_code": {"1"}})))
	wantRegistrationError(t, env.smartRegister(newSmartDevice(t).request(t, code), ""))
	newPhone := newSmartDevice(t)
	if got := env.mustRegister(t, newPhone, newCode); got.CredentialID != active {
		t.Errorf("got credential %s, want the reissued %s", got.CredentialID, active)
	}
	if got := env.smartCredential(t, active); !bytes.Equal(got.TapKey, newPhone.tapPub) || !bytes.Equal(got.UVKey, newPhone.uvPub) {
		t.Error("after the new phone registered, the credential still holds the old phone's keys")
	}

	// Revoke: the status changes and the buttons go.
	env.runPages(t, []scenario{
		{name: "revoke", method: "POST", url: "/credentials/" + active + "/revoke", wantStatus: http.StatusSeeOther, wantLocation: userPage + "?flash=revoked"},
		{name: "reissue revoked", method: "POST", url: "/credentials/" + active + "/reissue", wantStatus: http.StatusConflict},
	})
	doc = parse(t, env.get(userPage).Body.String())
	row = credentialRow(doc, active)
	if got := row.AttrOr("data-status", ""); got != "revoked" {
		t.Errorf("got status %q, want revoked", got)
	}
	if row.Find("button").Length() != 0 {
		t.Errorf("a revoked credential still has buttons: %q", row.Text())
	}

	// An invitation nobody used runs out.
	env.clock.Add(access.DefaultCodeLifetime + time.Minute)
	env.login(t) // the session ran out too
	doc = parse(t, env.get(userPage).Body.String())
	row = credentialRow(doc, invited)
	if got, text := row.AttrOr("data-status", ""), row.Find(`[data-testid="credential-status"]`).Text(); got != "expired" || !strings.Contains(text, "expired") {
		t.Errorf("got status %q (%q), want expired", got, text)
	}
}

// ---- email delivery through a real SMTP server

// mailAttempt is one delivery attempt the outbox worker reports.
type mailAttempt struct {
	id       int64
	attempts int
	err      error
}

// mailEnv is an appliance whose outbox worker runs, on the test's clock.
type mailEnv struct {
	*env
	mailer *mail.Mailer
	tries  chan mailAttempt
}

// newMailEnv starts an appliance, signed in, whose mailer sends through
// smtpURL ("" for none) and reports each attempt.
func newMailEnv(t *testing.T, smtpURL string) *mailEnv {
	t.Helper()
	m := &mailEnv{tries: make(chan mailAttempt, 64)}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	m.env = newLoggedInEnv(t, withSmartURL, func(cfg *web.Config) {
		// Registered after newEnv's cleanup that closes the store, so it
		// runs before it: the worker stops first.
		t.Cleanup(func() { cancel(); wg.Wait() })
		mailer, err := mail.NewMailer(web.MailOutbox(cfg.Store), cfg.Store, mail.MailerConfig{SMTP: smtpURL, Log: cfg.Log, Options: []mail.Option{
			mail.WithClock(cfg.Now),
			mail.WithPollInterval(200 * time.Millisecond),
			mail.WithBackoff(time.Minute, time.Minute),
			mail.WithSendTimeout(20 * time.Second),
			mail.WithNotify(func(o mail.Outgoing, err error) {
				select {
				case m.tries <- mailAttempt{o.ID, o.Attempts, err}:
				case <-ctx.Done():
				}
			}),
		}})
		if err != nil {
			t.Fatalf("mailer: %v", err)
		}
		cfg.Mailer, m.mailer = mailer, mailer
		wg.Go(func() { mailer.Run(ctx) })
	})
	return m
}

// nextTry waits for the worker's next attempt.
func (m *mailEnv) nextTry(t *testing.T) mailAttempt {
	t.Helper()
	select {
	case a := <-m.tries:
		return a
	case <-time.After(30 * time.Second):
		t.Fatal("the outbox worker made no attempt")
	}
	return mailAttempt{}
}

// noTry checks that the worker has nothing more to report right now: it
// is woken and given the time of a round to act.
func (m *mailEnv) noTry(t *testing.T) {
	t.Helper()
	m.mailer.Wake()
	select {
	case a := <-m.tries:
		t.Errorf("got an attempt %+v, want none", a)
	case <-time.After(300 * time.Millisecond):
	}
}

// closedPortURL is an SMTP URL where nothing listens.
func closedPortURL(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return "smtp://" + addr + "?tls=none"
}

func startSMTP(t *testing.T) *mailtest.Server {
	t.Helper()
	srv, err := mailtest.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// waitMail waits for an email to addr.
func waitMail(t *testing.T, srv *mailtest.Server, addr string) mailtest.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	msg, err := srv.Wait(ctx, mailtest.To(addr))
	if err != nil {
		t.Fatal(err)
	}
	return msg
}

// settingsForm is the settings form with valid values and smtp set.
func settingsForm(smtpURL string) url.Values {
	return url.Values{"site_name": {"Postern"}, "time_zone": {"UTC"}, "code_days": {"7"}, "smtp": {smtpURL}}
}

// TestInvitationWaitsForSMTP is not parallel: the port closedPortURL frees
// could be taken by another test's SMTP server meanwhile.
func TestInvitationWaitsForSMTP(t *testing.T) {
	env := newMailEnv(t, closedPortURL(t))
	uid := env.smartUser(t, "Gus", "gus@example.com")
	env.mustAPI(t, http.MethodPost, "/api/v1/users/"+itoa(uid)+"/credentials", `{"kind":"smart"}`, http.StatusCreated)

	try := env.nextTry(t)
	if try.err == nil || mail.IsPermanent(try.err) || try.attempts != 1 {
		t.Fatalf("got attempt %+v, want a first failure worth retrying", try)
	}
	out := env.smartOutbox(t)
	if !out.SMTPConfigured || len(out.Outbox) != 1 {
		t.Fatalf("got %+v, want one email and smtp_configured", out)
	}
	row := out.Outbox[0]
	if row.Status != "queued" || row.Attempts != 1 || !strings.Contains(row.LastError, "connect") || row.NextAttempt == nil {
		t.Errorf("got %+v, want a queued email with 1 attempt, a connection error and a next attempt", row)
	}
	page := env.get("/outbox").Body.String()
	if !strings.Contains(page, row.LastError) {
		t.Errorf("the outbox page does not show the last error %q", row.LastError)
	}

	// The admin points the settings at a working server; once the retry is
	// due, the invitation goes out.
	srv := startSMTP(t)
	if w := env.post("/settings", settingsForm(srv.URL())); w.Code != http.StatusSeeOther {
		t.Fatalf("save settings: got status %d, want 303\n%s", w.Code, w.Body)
	}
	env.clock.Add(2 * time.Minute)
	env.mailer.Wake()
	if try := env.nextTry(t); try.err != nil || try.id != row.ID {
		t.Fatalf("got attempt %+v, want mail %d sent", try, row.ID)
	}
	msg := waitMail(t, srv, "gus@example.com")

	m := codeRun.FindStringSubmatch(msg.Text)
	if m == nil {
		t.Fatalf("the text has no 32-digit code as one run:\n%s", msg.Text)
	}
	code := m[1]
	if link := smartURL + "/key/register?code=" + code; !strings.Contains(msg.Text, link) {
		t.Errorf("the text has no link %s:\n%s", link, msg.Text)
	}
	cid := regexp.MustCompile(`src="cid:([^"]+)"`).FindStringSubmatch(msg.HTML)
	if cid == nil {
		t.Errorf("the HTML has no inline image:\n%s", msg.HTML)
	} else if !bytes.Contains(msg.Raw, []byte("Content-ID: <"+cid[1]+">")) || !bytes.Contains(msg.Raw, []byte("image/png")) {
		t.Errorf("the message carries no image part for cid:%s", cid[1])
	}
	if msg.Subject == "" || !strings.Contains(msg.Subject, "Postern") {
		t.Errorf("got subject %q, want it to name the site", msg.Subject)
	}

	out = env.smartOutbox(t)
	if row := out.Outbox[0]; row.Status != "sent" || row.Attempts != 2 || row.LastError != "" || row.SentAt == nil {
		t.Errorf("got %+v, want sent after 2 attempts", row)
	}
	items, _, err := env.s.Outbox(t.Context(), 0, 10)
	if err != nil || len(items) != 1 || items[0].Message != "" {
		t.Errorf("got %d items (%v), want the sent email's body forgotten", len(items), err)
	}
	// The emailed code is the one that registers.
	env.mustRegister(t, newSmartDevice(t), code)
	env.noTry(t)
	if n := len(srv.Messages()); n != 1 {
		t.Errorf("got %d emails, want 1", n)
	}
}

func TestInvitationRefusedForGood(t *testing.T) {
	t.Parallel()
	srv := startSMTP(t)
	env := newMailEnv(t, srv.URL())
	srv.Reject(&smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such mailbox here"})
	uid := env.smartUser(t, "Hal", "hal@example.com")
	env.mustAPI(t, http.MethodPost, "/api/v1/users/"+itoa(uid)+"/credentials", `{"kind":"smart"}`, http.StatusCreated)

	try := env.nextTry(t)
	if !mail.IsPermanent(try.err) {
		t.Fatalf("got attempt %+v, want a permanent failure", try)
	}
	row := env.smartOutbox(t).Outbox[0]
	if row.Status != "failed" || row.Attempts != 1 || !strings.Contains(row.LastError, "550") || row.NextAttempt != nil {
		t.Errorf("got %+v, want failed after 1 attempt with the 550 reply", row)
	}
	env.noTry(t)

	doc := parse(t, env.get("/outbox").Body.String())
	tr := doc.Find(`[data-testid="outbox-row"]`)
	retry := "/outbox/" + itoa(row.ID) + "/retry"
	if tr.AttrOr("data-status", "") != "failed" || !strings.Contains(tr.Text(), "no such mailbox here") || tr.Find(`form[action="`+retry+`"]`).Length() != 1 {
		t.Errorf("got outbox row %q, want failed with its error and a retry button", tr.Text())
	}
	if byTestID(doc, "smtp-missing").Length() != 0 {
		t.Error("the outbox says SMTP is missing while it is set")
	}

	// The admin fixes the address at the server and retries.
	srv.Reject(nil)
	env.runPages(t, []scenario{
		{name: "retry", method: "POST", url: retry, wantStatus: http.StatusSeeOther, wantLocation: "/outbox"},
	})
	if try := env.nextTry(t); try.err != nil {
		t.Fatalf("got attempt %+v, want sent", try)
	}
	waitMail(t, srv, "hal@example.com")
	if row := env.smartOutbox(t).Outbox[0]; row.Status != "sent" || row.Attempts != 2 {
		t.Errorf("got %+v, want sent after 2 attempts", row)
	}
	env.runPages(t, []scenario{
		{name: "retry a sent email", method: "POST", url: retry, wantStatus: http.StatusNotFound},
	})
}

func TestInvitationDeferred(t *testing.T) {
	t.Parallel()
	srv := startSMTP(t)
	env := newMailEnv(t, srv.URL())
	srv.Reject(&smtp.SMTPError{Code: 450, EnhancedCode: smtp.EnhancedCode{4, 2, 1}, Message: "mailbox busy, try later"})
	uid := env.smartUser(t, "Ida", "ida@example.com")
	env.mustAPI(t, http.MethodPost, "/api/v1/users/"+itoa(uid)+"/credentials", `{"kind":"smart"}`, http.StatusCreated)

	try := env.nextTry(t)
	if try.err == nil || mail.IsPermanent(try.err) {
		t.Fatalf("got attempt %+v, want a failure worth retrying", try)
	}
	row := env.smartOutbox(t).Outbox[0]
	if row.Status != "queued" || row.Attempts != 1 || !strings.Contains(row.LastError, "450") || row.NextAttempt == nil {
		t.Errorf("got %+v, want queued after 1 attempt with the 450 reply", row)
	}
	env.noTry(t) // not due before the backoff

	srv.Reject(nil)
	env.clock.Add(2 * time.Minute)
	env.mailer.Wake()
	if try := env.nextTry(t); try.err != nil {
		t.Fatalf("got attempt %+v, want sent", try)
	}
	waitMail(t, srv, "ida@example.com")
	if row := env.smartOutbox(t).Outbox[0]; row.Status != "sent" || row.Attempts != 2 {
		t.Errorf("got %+v, want sent after 2 attempts", row)
	}
}
