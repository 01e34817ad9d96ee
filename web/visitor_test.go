package web_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"postern/access"
	"postern/web"
)

// TestVisitorRegisteredAndHostTold: reception registers a visitor on the
// page; the visitor is a user valid only in the visit's window, in the
// profile's group, with a Smart credential invitation queued; the host is
// emailed once, when the visitor is first let in.
func TestVisitorRegisteredAndHostTold(t *testing.T) {
	owner := newLoggedInEnv(t)
	ctx := t.Context()
	host := owner.create(t, "users", `{"first_name":"Hana","last_name":"Host","email":"hana@example.com"}`)
	profile := owner.create(t, "groups", `{"name":"Visitors"}`)
	desk := signInAs(t, owner, "rita@example.com", access.RoleReception)

	// Empty and backwards: every problem shown at once.
	w := desk.post("/visitors", url.Values{"first_name": {""}, "email": {"x"}, "from": {"2026-03-11T12:00"}, "until": {"2026-03-11T09:00"}})
	if w.Code != http.StatusUnprocessableEntity {
		t.Fatalf("bad visitor: got %d, want 422", w.Code)
	}
	doc := parse(t, w.Body.String())
	for _, f := range []string{"first_name", "email", "host_id", "group_id"} {
		if doc.Find(`[data-testid="error-`+f+`"]`).Length() != 1 {
			t.Errorf("no error shown for %s", f)
		}
	}

	w = desk.post("/visitors", url.Values{"first_name": {"Vic"}, "last_name": {"Guest"}, "email": {"vic@guest.example"},
		"host_id": {strconv.FormatInt(host, 10)}, "group_id": {strconv.FormatInt(profile, 10)},
		"from": {"2026-03-11T09:00"}, "until": {"2026-03-11T17:00"}})
	if w.Code != http.StatusSeeOther {
		t.Fatalf("register visitor: got %d\n%s", w.Code, w.Body)
	}
	page := parse(t, desk.get("/visitors").Body.String())
	if got := page.Find(`[data-testid="visitor-row"]`).Text(); !strings.Contains(got, "Vic Guest") || !strings.Contains(got, "Hana Host") {
		t.Errorf("visitor list: got %q", got)
	}
	found, err := owner.s.UsersByEmail(ctx, "vic@guest.example")
	if err != nil || len(found) != 1 {
		t.Fatalf("visitor's user: got %v, %v", found, err)
	}
	vic := found[0]
	if want := time.Date(2026, 3, 11, 17, 0, 0, 0, time.UTC); !vic.ValidUntil.Equal(want) {
		t.Errorf("visitor valid until %v, want %v", vic.ValidUntil, want)
	}
	groups, err := owner.s.UserGroups(ctx, vic.ID)
	if err != nil || len(groups) != 1 || groups[0].ID != profile {
		t.Errorf("visitor's groups: got %v, %v, want only the profile", groups, err)
	}
	creds, err := owner.s.UserCredentials(ctx, vic.ID)
	if err != nil || len(creds) != 1 || creds[0].Status != access.CredentialInvited {
		t.Fatalf("visitor's credentials: got %+v, %v, want one invited Smart credential", creds, err)
	}

	mailsTo := func(to string) int {
		t.Helper()
		items, _, err := owner.s.Outbox(ctx, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, it := range items {
			if strings.Contains(it.Recipient, to) {
				n++
			}
		}
		return n
	}
	if mailsTo("vic@guest.example") != 1 {
		t.Error("no invitation queued to the visitor")
	}
	alarms := web.NewAlarms(web.AlarmsConfig{Store: owner.s, Now: owner.clock.Now, PublicURL: "https://doors.example.com"})
	if err := alarms.Round(ctx); err != nil { // starts the log cursor
		t.Fatal(err)
	}
	if err := alarms.Round(ctx); err != nil {
		t.Fatal(err)
	}
	if n := mailsTo("hana@example.com"); n != 0 {
		t.Fatalf("host told before the visitor got in: %d emails", n)
	}
	for range 2 {
		if err := owner.s.AppendEvent(ctx, &access.Event{Kind: "access.granted", UserID: vic.ID, Reason: "granted"}); err != nil {
			t.Fatal(err)
		}
		if err := alarms.Round(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := mailsTo("hana@example.com"); n != 1 {
		t.Errorf("host emails after two entries: got %d, want 1", n)
	}
	if got := parse(t, desk.get("/visitors").Body.String()).Find(`[data-testid="visitor-in"]`).Text(); got == "not yet" {
		t.Error("the list still says the visitor is not in")
	}
}
