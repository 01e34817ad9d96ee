package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"postern/mail/mailtest"
)

// chromium returns a Chromium binary, or skips (fails under
// POSTERN_REQUIRE_BROWSER) when there is none.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("POSTERN_REQUIRE_BROWSER") != "" {
		t.Fatal("no Chromium found and POSTERN_REQUIRE_BROWSER is set")
	}
	t.Skip("no Chromium found; set POSTERN_REQUIRE_BROWSER=1 to make this a failure")
	return ""
}

// phoneBrowser is a headless Chromium with a virtual platform
// authenticator that verifies its user, as a phone's secure hardware does.
func phoneBrowser(ctx context.Context, t *testing.T, chrome string) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(chrome), chromedp.Headless, chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.Flag("no-proxy-server", true), chromedp.UserDataDir(t.TempDir()))
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	tctx, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
	})
	if _, err := chromedp.Call(tctx, webauthn.Enable, webauthn.EnableParams{}); err != nil {
		t.Fatalf("WebAuthn.enable: %v", err)
	}
	if _, err := chromedp.Call(tctx, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{Options: &webauthn.VirtualAuthenticatorOptions{
		Protocol: webauthn.AuthenticatorProtocolCtap2, Transport: webauthn.AuthenticatorTransportInternal,
		HasResidentKey: true, HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true,
	}}); err != nil {
		t.Fatalf("WebAuthn.addVirtualAuthenticator: %v", err)
	}
	return tctx
}

// TestWebKeyAndSoftKeyEndToEnd runs the binary with the simulated air: a
// soft key presents at the Front door's reader, and a web key registered
// in a browser from its emailed link opens the same door from the phone.
// Both are granted, and the events show which way each came in.
func TestWebKeyAndSoftKeyEndToEnd(t *testing.T) {
	chrome := chromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	smtpd, err := mailtest.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer smtpd.Close()
	data := t.TempDir()
	listen := freeAddr(t)
	_, port, _ := net.SplitHostPort(listen)
	// localhost: a secure context, and a host name a passkey can belong to.
	a := launch(t, launchOpts{data: data, listen: listen, url: "http://localhost:" + port,
		args: []string{"--smtp", smtpd.URL(), "--mail-from", "doors@office.example"}})
	token := adminToken(t, data, "admin@office.example")

	var front struct{ ID int64 }
	if code := api(t, a.url, token, "POST", "/api/v1/access-points", map[string]any{"name": "Front door", "reader": "sim:front", "mode": "direct", "phone_open": true}, &front); code != 201 {
		t.Fatalf("create access point: %d", code)
	}
	invite := func(first, email string) string {
		t.Helper()
		var u struct{ ID int64 }
		if code := api(t, a.url, token, "POST", "/api/v1/users", map[string]string{"first_name": first, "last_name": "Lee", "email": email}, &u); code != 201 {
			t.Fatalf("create user: %d", code)
		}
		if code := api(t, a.url, token, "POST", "/api/v1/permissions", map[string]int64{"user_id": u.ID, "access_point_id": front.ID}, nil); code != 201 {
			t.Fatalf("permission: %d", code)
		}
		if code := api(t, a.url, token, "POST", fmt.Sprintf("/api/v1/users/%d/credentials", u.ID), map[string]string{"kind": "smart"}, nil); code != 201 {
			t.Fatalf("assign: %d", code)
		}
		msg, err := smtpd.Wait(ctx, mailtest.To(email))
		if err != nil {
			t.Fatalf("%v\n%s", err, a.output())
		}
		link := registrationLink.FindString(msg.Text)
		if link == "" {
			t.Fatalf("no link in the invitation:\n%s", msg.Text)
		}
		return link
	}

	// Ann's soft key, at the reader.
	pin := filepath.Join(t.TempDir(), "pin")
	os.WriteFile(pin, []byte("correct horse 4321\n"), 0o600)
	state := filepath.Join(t.TempDir(), "ann.json")
	if out, errs, rc := postern(t, "", "key", "--state", state, "register", invite("Ann", "ann@office.example"), "--pin-file", pin); rc != 0 {
		t.Fatalf("register the soft key: exit %d\n%s%s", rc, out, errs)
	}
	if out, errs, rc := presentAt(t, state, pin, a.air, "front"); rc != 0 || !strings.Contains(out, "Access granted") {
		t.Fatalf("the soft key at the Front door: exit %d %q %q", rc, out, errs)
	}

	// Ben's web key, from his phone's browser.
	b := phoneBrowser(ctx, t, chrome)
	link := invite("Ben", "ben@office.example")
	status := `document.querySelector('[data-testid="status"]')?.textContent ?? ""`
	answer := `document.querySelector('[data-testid="answer"]')?.textContent ?? ""`
	var said string
	err = chromedp.Do(b, chromedp.Navigate(link), chromedp.Click(chromedp.CSS(`[data-testid="register"]`)))
	if err == nil {
		_, err = chromedp.Run(b, chromedp.Poll[bool](`/Registered|fail|Error|could/.test(`+status+`)`, chromedp.WithPollingTimeout(0)))
	}
	if err == nil {
		said, err = chromedp.Run(b, chromedp.Evaluate[string](status))
	}
	if err != nil || said != "Registered" {
		t.Fatalf("registering the web key: %q, %v\n%s", said, err, a.output())
	}
	err = chromedp.Do(b, chromedp.Navigate(a.url+"/key"), chromedp.Click(chromedp.Search(`//button[normalize-space()="Open Front door"]`)))
	if err == nil {
		_, err = chromedp.Run(b, chromedp.Poll[bool](`/^Access /.test(`+answer+`)`, chromedp.WithPollingTimeout(0)))
	}
	if err == nil {
		said, err = chromedp.Run(b, chromedp.Evaluate[string](answer))
	}
	if err != nil || said != "Access granted" {
		t.Fatalf("the web key at the Front door: %q, %v\n%s", said, err, a.output())
	}

	var events struct {
		Events []struct {
			Kind, Actor, Protocol string
			AccessPointID         int64 `json:"access_point_id"`
		}
	}
	api(t, a.url, token, "GET", "/api/v1/events?kind=access.&limit=10", nil, &events)
	ways := map[string]string{}
	for _, e := range events.Events {
		if e.AccessPointID == front.ID {
			ways[e.Kind] = e.Actor + " " + e.Protocol
		}
	}
	if got := ways["access.granted"]; got != "reader:sim:front v2" {
		t.Errorf("the soft key's grant: %q, want at the reader sim:front over v2 (events %+v)", got, events.Events)
	}
	if got := ways["access.phone.granted"]; !strings.HasPrefix(got, "phone:") || !strings.HasSuffix(got, " v2") {
		t.Errorf("the web key's grant: %q, want from the phone over v2 (events %+v)", got, events.Events)
	}
}
