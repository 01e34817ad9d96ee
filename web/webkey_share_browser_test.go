package web_test

import (
	"context"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"postern/access"
	"postern/access/protocol"
	"postern/mail/mailtest"
)

// registerFrom opens an invitation's link in the phone's browser and
// registers the web key there.
func (b *browser) registerFrom(link string) {
	b.t.Helper()
	b.do("open "+link, chromedp.Navigate(link))
	b.do("press Register this phone", chromedp.Click(chromedp.CSS(testid("register"))))
	b.poll("the registration to finish", `/Registered|failed|Error|could/.test(document.querySelector('[data-testid="status"]').textContent)`)
	b.wantText("status", "Registered")
}

// openKeyAt opens the key page of the site at base and waits for its doors.
func (b *browser) openKeyAt(base string) {
	b.t.Helper()
	b.do("open the key at "+base, chromedp.Navigate(base+"/key"))
	b.poll("the doors", `document.querySelector('main').dataset.ready === "true"`)
}

// invitationLink waits for site's invitation to to and returns its web
// key link.
func (s *webKeySite) invitationLink(ctx context.Context, t *testing.T, to string) string {
	t.Helper()
	msg, err := s.smtpd.Wait(ctx, mailtest.To(to))
	if err != nil {
		t.Fatal(err)
	}
	link := regexp.MustCompile(regexp.QuoteMeta(s.base) + `/key/register\?code=\d{32}\S*`).FindString(msg.Text)
	if link == "" {
		t.Fatalf("no web key link to %s in the invitation:\n%s", s.base, msg.Text)
	}
	return link
}

// TestBrowserWebKeyShare: a holder's web key asks its home site, from the
// key page, to add it to another site; that site's administrator receives
// the token by email (a real SMTP server) and adds it to a user there; the
// holder receives that site's invitation, registers a web key at its
// origin and opens its door, and the first site's key still opens its own.
func TestBrowserWebKeyShare(t *testing.T) {
	if testing.Short() {
		t.Skip("drives a real browser; skipped with -short")
	}
	chrome := findChromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 240*time.Second)
	t.Cleanup(cancel)
	home, other := startWebKeySite(ctx, t), startWebKeySite(ctx, t)

	var grace, front struct{ ID int64 }
	home.api(t, "POST", "/api/v1/users", `{"first_name":"Grace","last_name":"Hopper","email":"grace@example.com"}`, &grace)
	home.api(t, "POST", "/api/v1/access-points", `{"name":"Front door","reader":"sim:front","mode":"direct","phone_open":true}`, &front)
	home.api(t, "POST", "/api/v1/permissions", fmt.Sprintf(`{"user_id":%d,"access_point_id":%d}`, grace.ID, front.ID), nil)
	home.api(t, "POST", fmt.Sprintf("/api/v1/users/%d/credentials", grace.ID), `{}`, nil)

	shots := os.Getenv("POSTERN_SCREENSHOT_DIR")
	if shots == "" {
		shots = t.TempDir()
	}
	b := startBrowser(ctx, t, chrome, home.base)
	b.do("emulate a phone", chromedp.EmulateViewport(phoneWidth, 844, chromedp.EmulateMobile))
	virtualPhone(b)
	b.registerFrom(home.invitationLink(ctx, t, "grace@example.com"))

	// From the key page: the other site's administrator and where its
	// invitation is to go. The passkey confirms it.
	b.openKeyAt(home.base)
	b.do("open Add this key to another site", chromedp.Click(chromedp.Search(`//summary[normalize-space()="Add this key to another site"]`)))
	if got := b.eval(`document.querySelector('#share-first').value + " " + document.querySelector('#share-last').value`); got != "Grace Hopper" {
		t.Errorf("the form's name reads %q, want the holder's, Grace Hopper", got)
	}
	b.fill("share-form", "holder_email", "grace@navy.example")
	b.fill("share-form", "admin_email", "admin@example.com")
	b.wantLabelled("key, adding it to another site", 7)
	b.screenshot(shots, "webkey-share")
	b.do("press Send", chromedp.Click(chromedp.CSS(testid("share-send"))))
	b.poll("the share's answer", `/Sent|not|Try|could/.test(document.querySelector('[data-testid="share-status"]').textContent)`)
	if got := b.texts("share-status")[0]; !strings.HasPrefix(got, "Sent to admin@example.com") || !strings.Contains(got, "grace@navy.example") {
		t.Fatalf("after sending, the page says %q", got)
	}

	// The other site's administrator receives the token by email.
	msg, err := home.smtpd.Wait(ctx, mailtest.To("admin@example.com"))
	if err != nil {
		t.Fatal(err)
	}
	token := regexp.MustCompile(`(?m)^postern-credential:[A-Za-z0-9_.-]+$`).FindString(msg.Text)
	if token == "" || !strings.Contains(msg.Text, "Grace Hopper") || !strings.Contains(msg.Text, "grace@navy.example") {
		t.Fatalf("the email to the other site's administrator:\n%s", msg.Text)
	}
	if v, err := protocol.TokenVersionOf(token); err != nil || v != protocol.TokenVersionWebKey {
		t.Fatalf("the token is version %d (%v), want a web key token", v, err)
	}

	// There, the administrator adds it to Grace's record, which has no
	// address of its own: the invitation goes where the token says.
	var there, lab struct{ ID int64 }
	other.api(t, "POST", "/api/v1/users", `{"first_name":"Grace","last_name":"Hopper (visiting)"}`, &there)
	other.api(t, "POST", "/api/v1/access-points", `{"name":"Lab door","reader":"sim:lab","mode":"direct","phone_open":true}`, &lab)
	other.api(t, "POST", "/api/v1/permissions", fmt.Sprintf(`{"user_id":%d,"access_point_id":%d}`, there.ID, lab.ID), nil)
	var added struct{ ID, Status, DeviceInfo string }
	other.api(t, "POST", fmt.Sprintf("/api/v1/users/%d/credentials/import", there.ID), fmt.Sprintf(`{"token":%q}`, token), &added)
	if added.Status != "invited" {
		t.Fatalf("the other site added %+v, want an invited credential of its own", added)
	}
	b.registerFrom(other.invitationLink(ctx, t, "grace@navy.example"))
	// No install prompt from this browser: the page says how instead.
	if got := b.texts("install-help"); len(got) != 1 || !strings.Contains(got[0], "Add to Home screen") {
		t.Errorf("after registering with no install prompt, the help reads %q, want the steps", got)
	}

	// Both keys work, each at its own site.
	b.openKeyAt(other.base)
	b.wantRows("door", "Open Lab door")
	if got := b.openDoor("Lab door"); got != "Access granted" {
		t.Fatalf("Lab door at the other site: the page says %q, want Access granted", got)
	}
	wantPulse(t, other.door.pulses, "Lab door")
	wantEvent(t, other.st, "access.phone.granted", "v2", lab.ID)
	b.openKeyAt(home.base)
	if got := b.openDoor("Front door"); got != "Access granted" {
		t.Fatalf("Front door at home after the other site: the page says %q, want Access granted", got)
	}
	wantPulse(t, home.door.pulses, "Front door")
	c, err := other.st.CredentialByID(ctx, mustCredentialID(t, added.ID))
	if err != nil || c.Status != access.CredentialActive || !strings.HasPrefix(c.DeviceInfo, "Web key") {
		t.Errorf("the other site's credential: %+v %v, want an active web key", c, err)
	}
	if errs := b.console.take(); len(errs) > 0 {
		t.Errorf("the key pages logged errors:\n%s", strings.Join(errs, "\n"))
	}
}
