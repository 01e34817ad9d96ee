package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"postern/access"
	"postern/access/protocol"
	"postern/ble"
	"postern/mail"
	"postern/mail/mailtest"
	"postern/store"
	"postern/web"
)

// pulseDoor records the doors the exchange released.
type pulseDoor struct{ pulses chan ble.DoorInfo }

func (d pulseDoor) Pulse(_ context.Context, ap ble.DoorInfo, _ time.Duration) error {
	d.pulses <- ap
	return nil
}

// webKeySite is an appliance for the web key's browser tests: a real
// store, SMTP server and reader exchange, served at http://localhost (a
// secure context, and a valid WebAuthn relying party).
type webKeySite struct {
	st    *store.Store
	base  string
	token string
	smtpd *mailtest.Server
	door  pulseDoor
	x     *ble.SiteExchange
	srv   *httptest.Server
}

func startWebKeySite(ctx context.Context, t *testing.T) *webKeySite {
	t.Helper()
	st, err := store.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	s := &webKeySite{st: st, base: "http://localhost:" + port, door: pulseDoor{pulses: make(chan ble.DoorInfo, 16)}}
	s.smtpd, err = mailtest.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.smtpd.Close() })
	logger := slog.New(slog.NewTextHandler(t.Output(), nil))
	mailer, err := mail.NewMailer(web.MailOutbox(st), st, mail.MailerConfig{SMTP: s.smtpd.URL(), From: "doors@example.com", Log: logger})
	if err != nil {
		t.Fatal(err)
	}
	go mailer.Run(ctx)
	x := ble.NewSiteExchange(st, s.door, 0, logger)
	rp, _ := web.RelyingParty(s.base)
	x.RelyingParty = func() protocol.RelyingParty { return rp }
	s.x = x
	srv := httptest.NewUnstartedServer(web.New(web.Config{Store: st, Log: logger, PublicURL: s.base, Mailer: mailer,
		PhoneExchange: func(ctx context.Context, id int64, from string, link web.Link) error {
			return x.Exchange(ctx, ble.ReaderConfig{ID: id}, ble.Candidate{Addr: from, Phone: true}, link)
		}}))
	srv.Listener.Close()
	srv.Listener = ln
	srv.Start()
	t.Cleanup(srv.Close)
	s.srv = srv

	admin, err := st.CreateAdmin(ctx, "test", "admin@example.com", "x", false)
	if err != nil {
		t.Fatal(err)
	}
	s.token = web.NewAPIToken()
	if err := st.CreateAPIToken(ctx, "test", admin.ID, "tests", s.token); err != nil {
		t.Fatal(err)
	}
	return s
}

// api calls the admin API and decodes its answer into out.
func (s *webKeySite) api(t *testing.T, method, path, body string, out any) {
	t.Helper()
	r, err := http.NewRequest(method, s.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("Authorization", "Bearer "+s.token)
	r.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(r)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	if resp.StatusCode >= 300 {
		t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, b.String())
	}
	if out != nil {
		if err := json.Unmarshal(b.Bytes(), out); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
	}
}

// virtualPhone gives the tab a platform authenticator, as a phone's
// secure hardware behind its fingerprint or passcode.
func virtualPhone(b *browser) webauthn.AuthenticatorID {
	b.t.Helper()
	if _, err := chromedp.Call(b.ctx, webauthn.Enable, webauthn.EnableParams{}); err != nil {
		b.t.Fatalf("WebAuthn.enable: %v", err)
	}
	r, err := chromedp.Call(b.ctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{Options: &webauthn.VirtualAuthenticatorOptions{
		Protocol: webauthn.AuthenticatorProtocolCtap2, Transport: webauthn.AuthenticatorTransportInternal,
		HasResidentKey: true, HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true,
	}})
	if err != nil {
		b.t.Fatalf("WebAuthn.addVirtualAuthenticator: %v", err)
	}
	return r.AuthenticatorID
}

func (b *browser) screenshot(dir, name string) {
	b.t.Helper()
	b.wantFits(name)
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(90))
	if err != nil {
		b.t.Fatalf("screenshot of %s: %v", name, err)
	}
	file := filepath.Join(dir, "phone-"+name+".png")
	if err := os.WriteFile(file, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	b.t.Logf("phone-sized screenshot of the %s page: %s", name, file)
}

// openDoor presses a door's Open button and returns what the page says.
func (b *browser) openDoor(name string) string {
	b.t.Helper()
	sel := fmt.Sprintf(`//ul[@data-testid="doors"]//button[normalize-space()=%q]`, "Open "+name)
	b.run(`document.querySelector('[data-testid="answer"]').textContent = ""`)
	b.do("press Open "+name, chromedp.Click(chromedp.Search(sel)))
	b.poll("the door's answer", `/^Access /.test(document.querySelector('[data-testid="answer"]').textContent)`)
	return b.texts("answer")[0]
}

// TestBrowserWebKey: a phone's browser registers the web key from the
// emailed link (a WebCrypto tap key and a passkey on a virtual platform
// authenticator), opens a door from the phone, opens an unlock-required
// door with the passkey, is refused there when the authenticator does not
// verify the user, and is refused after revocation; the used link is
// refused.
func TestBrowserWebKey(t *testing.T) {
	if testing.Short() {
		t.Skip("drives a real browser; skipped with -short")
	}
	chrome := findChromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 240*time.Second)
	t.Cleanup(cancel)
	s := startWebKeySite(ctx, t)

	var grace, front, server struct{ ID int64 }
	s.api(t, "POST", "/api/v1/users", `{"first_name":"Grace","last_name":"Hopper","email":"grace@example.com"}`, &grace)
	s.api(t, "POST", "/api/v1/access-points", `{"name":"Front door","reader":"sim:front","mode":"direct","phone_open":true}`, &front)
	s.api(t, "POST", "/api/v1/access-points", `{"name":"Server room","reader":"sim:server","mode":"direct","phone_open":true,"phone_passkey":true}`, &server)
	for _, ap := range []int64{front.ID, server.ID} {
		s.api(t, "POST", "/api/v1/permissions", fmt.Sprintf(`{"user_id":%d,"access_point_id":%d}`, grace.ID, ap), nil)
	}
	var cred struct{ ID string }
	s.api(t, "POST", fmt.Sprintf("/api/v1/users/%d/credentials", grace.ID), `{}`, &cred)
	invite, err := s.smtpd.Wait(ctx, mailtest.To("grace@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	link := regexp.MustCompile(`http://localhost:\d+/key/register\?code=\d{32}\S*`).FindString(invite.Text)
	if link == "" {
		t.Fatalf("no web key link in the invitation:\n%s", invite.Text)
	}
	registerPath := strings.TrimPrefix(link, s.base)

	shots := os.Getenv("POSTERN_SCREENSHOT_DIR")
	if shots == "" {
		shots = t.TempDir()
	}
	b := startBrowser(ctx, t, chrome, s.base)
	b.do("emulate a phone", chromedp.EmulateViewport(phoneWidth, 844, chromedp.EmulateMobile))
	phone := virtualPhone(b)

	// Registration, from the emailed link.
	b.open(registerPath)
	b.wantText("holder", "Phone key for Grace Hopper")
	if got := b.texts("code-state")[0]; !strings.Contains(got, "works until") {
		t.Errorf("code status %q, want the code's validity", got)
	}
	b.screenshot(shots, "webkey-register")
	b.wantLabelled("registration", 1)
	// A browser that can install the page fires beforeinstallprompt; this
	// stand-in records the page's call to prompt().
	b.run(`(() => { const e = new Event("beforeinstallprompt", {cancelable: true}); e.prompt = () => { window.installPrompted = true };
		e.userChoice = Promise.resolve({outcome: "accepted", platform: "web"}); window.dispatchEvent(e) })()`)
	b.do("press Register this phone", chromedp.Click(chromedp.CSS(testid("register"))))
	b.poll("the registration to finish", `/Registered|failed|Error|could/.test(document.querySelector('[data-testid="status"]').textContent)`)
	b.wantText("status", "Registered")
	b.screenshot(shots, "webkey-registered")
	b.wantLabelled("registered", 2)
	if got := b.texts("install"); len(got) != 1 || got[0] != "Add to home screen" {
		t.Fatalf("after registering where the browser can install the page, the install button reads %q", got)
	}
	b.do("press Add to home screen", chromedp.Click(chromedp.CSS(testid("install"))))
	b.poll("the browser's install prompt", `window.installPrompted === true && document.querySelector('[data-testid="install"]').hidden`)
	c, err := s.st.CredentialByID(ctx, mustCredentialID(t, cred.ID))
	if err != nil || c.Status != access.CredentialActive || !strings.HasPrefix(c.DeviceInfo, "Web key") || c.Protocol != 2 {
		t.Fatalf("credential after registering: %+v, %v; want an active version 2 web key", c, err)
	}

	// The key page lists both doors, and opens them.
	b.open("/key")
	b.poll("the doors", `document.querySelector('main').dataset.ready === "true"`)
	b.wantText("holder", "Grace Hopper · Postern")
	b.wantRows("door", "Open Front door", "Open Server room")
	b.screenshot(shots, "webkey-key")
	b.wantLabelled("key", 4)
	if got := b.openDoor("Front door"); got != "Access granted" {
		t.Fatalf("Front door: the page says %q, want Access granted", got)
	}
	wantPulse(t, s.door.pulses, "Front door")
	wantEvent(t, s.st, "access.phone.granted", "v2", front.ID)

	// Passkey every time: the virtual authenticator verifies the user.
	if got := b.openDoor("Server room"); got != "Access granted" {
		t.Fatalf("Server room with the passkey: the page says %q, want Access granted", got)
	}
	wantPulse(t, s.door.pulses, "Server room")
	wantEvent(t, s.st, "access.phone.granted", "v2 passkey", server.ID)
	b.screenshot(shots, "webkey-granted")

	// The phone does not verify the user: refused, and the door stays shut.
	if _, err := chromedp.Call(b.ctx, webauthn.SetUserVerified, webauthn.SetUserVerifiedParams{AuthenticatorID: phone, IsUserVerified: false}); err != nil {
		t.Fatal(err)
	}
	if got := b.openDoor("Server room"); !strings.HasPrefix(got, "Access denied: ") || !strings.Contains(got, "fingerprint, face or passcode") {
		t.Errorf("Server room without user verification: the page says %q, want Access denied asking for the unlock", got)
	}
	wantEvent(t, s.st, "access.phone.denied", "", server.ID)
	if _, err := chromedp.Call(b.ctx, webauthn.SetUserVerified, webauthn.SetUserVerifiedParams{AuthenticatorID: phone, IsUserVerified: true}); err != nil {
		t.Fatal(err)
	}
	if errs := b.console.take(); len(errs) > 0 {
		t.Errorf("the key pages logged errors:\n%s", strings.Join(errs, "\n"))
	}

	// The link was used: the registration page refuses it.
	b.open(registerPath)
	if got := b.texts("code-state")[0]; !strings.HasPrefix(got, "Registration Error") {
		t.Errorf("the used link: the page says %q, want Registration Error", got)
	}
	if n := len(b.texts("register")); n != 0 {
		t.Errorf("the used link still offers %d Register buttons", n)
	}

	// Revoked: the door's own link still shows the door, and it refuses.
	s.api(t, "POST", "/api/v1/credentials/"+cred.ID+"/revoke", `{}`, nil)
	b.open(fmt.Sprintf("/key?door=%d", front.ID))
	b.poll("the door from its link", `document.querySelector('main').dataset.ready === "true"`)
	if got := b.texts("door"); len(got) != 1 || got[0] != "Open Front door" {
		t.Fatalf("after revoking, the door's link shows doors %q, want Front door; the page says %s", got, b.eval(`document.querySelector("main").innerText`))
	}
	if got := b.openDoor("Front door"); got != "Access denied: this key is no longer active" {
		t.Errorf("after revoking: the page says %q, want Access denied: this key is no longer active", got)
	}
	wantEvent(t, s.st, "access.phone.denied", "v2", front.ID)
	select {
	case d := <-s.door.pulses:
		t.Errorf("door %s opened after a refusal", d.Name)
	default:
	}

	// The phone loses the site: the service worker shows the key page from
	// its cache, which says it cannot reach the site, and any other page
	// of the key says there is no connection.
	s.srv.Close()
	b.open("/key")
	b.poll("the key page offline", `document.querySelector('main').dataset.ready === "true"`)
	if got := b.texts("answer")[0]; !strings.HasPrefix(got, "No connection to the site.") {
		t.Errorf("the key page offline says %q, want No connection to the site", got)
	}
	b.open(registerPath)
	if got := b.eval(`document.querySelector("h1").innerText + ": " + document.querySelector("main p").innerText`); !strings.HasPrefix(got, "No connection: This phone cannot reach the site.") {
		t.Errorf("the registration page offline says %q, want No connection", got)
	}
}

func mustCredentialID(t *testing.T, s string) access.CredentialID {
	t.Helper()
	id, err := access.ParseCredentialID(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func wantPulse(t *testing.T, pulses chan ble.DoorInfo, name string) {
	t.Helper()
	select {
	case d := <-pulses:
		if d.Name != name {
			t.Errorf("door %q opened, want %q", d.Name, name)
		}
	case <-time.After(10 * time.Second):
		t.Errorf("door %q did not open", name)
	}
}

// wantEvent checks the newest event: its kind, its protocol (unless
// empty) and its access point.
func wantEvent(t *testing.T, st *store.Store, kind, proto string, ap int64) {
	t.Helper()
	evs, _, err := st.Events(context.Background(), access.EventFilter{Kind: "access.", Limit: 1})
	if err != nil || len(evs) == 0 {
		t.Fatalf("events: %v %v", evs, err)
	}
	e := evs[0]
	if e.Kind != kind || (proto != "" && e.Protocol != proto) || e.AccessPointID != ap || !strings.HasPrefix(e.Actor, "phone:") {
		t.Errorf("newest event %s %q at %d by %s (%s), want %s %q at %d by the phone", e.Kind, e.Protocol, e.AccessPointID, e.Actor, e.Reason, kind, proto, ap)
	}
}
