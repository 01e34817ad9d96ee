package web_test

import (
	"net/url"
	"strings"
	"testing"
)

func TestAccessPointPages(t *testing.T) {
	t.Parallel()
	env := newLoggedInEnv(t)
	env.create(t, "access-points", `{"name":"Car park","reader":"sim:car-park","mode":"long-range"}`)
	env.runPages(t, []scenario{
		{name: "new form", method: "GET", url: "/access-points/new", wantStatus: 200, wantTestIDs: map[string]string{"access-point-form": ""},
			wantFields: map[string]string{"mode": "direct", "state": "normal", "rssi_threshold": "", "require_unlock": "false",
				"phone_open": "false", "phone_networks": "", "phone_passkey": "false"}},
	})
	w := env.post("/access-points", url.Values{"name": {"Front door"}, "reader": {"sim:front"}, "mode": {"touch"}, "rssi_threshold": {"-70"},
		"require_unlock": {"on"}, "unlock_seconds": {""}, "state": {"normal"}})
	if w.Code != 303 {
		t.Fatalf("create: got status %d, want 303\n%s", w.Code, w.Body)
	}
	front := redirectID(t, w, "/access-points/")
	aa := "/access-points/" + itoa(front)
	form := func(name, reader, mode, rssi, unlock, state string) string {
		return url.Values{"name": {name}, "reader": {reader}, "mode": {mode}, "rssi_threshold": {rssi}, "unlock_seconds": {unlock}, "state": {state}}.Encode()
	}

	env.runPages(t, []scenario{
		{name: "the new access point", method: "GET", url: w.Header().Get("Location"), wantStatus: 200,
			wantTestIDs: map[string]string{"access-point-name": "Front door", "flash": "Saved."},
			wantFields: map[string]string{"name": "Front door", "reader": "sim:front", "mode": "touch", "rssi_threshold": "-70",
				"require_unlock": "true", "unlock_seconds": "5", "state": "normal"}},
		{name: "list", method: "GET", url: "/access-points", wantStatus: 200,
			wantTestIDs:  map[string]string{"access-point-row": "Front door", "new-access-point": ""},
			wantContains: []string{"sim:front", "-70 dBm", "Car park", "-90 dBm"}},
		{name: "create on a reader in use", method: "POST", url: "/access-points", body: form("Back door", "sim:front", "direct", "", "", "normal"),
			wantStatus: 422, wantTestIDs: map[string]string{"error-reader": "is already the reader of access point Front door", "error-link-reader": "Open it"},
			wantContains: []string{`href="` + aa + `"`}, wantFields: map[string]string{"name": "Back door", "reader": "sim:front"}},
		{name: "create with a bad reader", method: "POST", url: "/access-points", body: form("Back door", "usb:0", "direct", "", "", "normal"),
			wantStatus: 422, wantTestIDs: map[string]string{"error-reader": "sim:NAME"}, wantFields: map[string]string{"name": "Back door", "reader": "usb:0"}},
		{name: "create with a bad mode", method: "POST", url: "/access-points", body: form("Back door", "sim:back", "warp", "", "", "normal"),
			wantStatus: 422, wantTestIDs: map[string]string{"error-mode": "direct, touch or long-range"}, wantFields: map[string]string{"reader": "sim:back"}},
		{name: "create with a threshold that is not a number", method: "POST", url: "/access-points", body: form("Back door", "sim:back", "direct", "loud", "", "normal"),
			wantStatus: 422, wantTestIDs: map[string]string{"error-rssi_threshold": "whole number"}, wantFields: map[string]string{"rssi_threshold": "loud", "mode": "direct"}},
		{name: "create with a threshold out of range", method: "POST", url: "/access-points", body: form("Back door", "sim:back", "direct", "-5", "", "normal"),
			wantStatus: 422, wantTestIDs: map[string]string{"error-rssi_threshold": "between"}, wantFields: map[string]string{"rssi_threshold": "-5"}},
		{name: "create with no unlock time", method: "POST", url: "/access-points", body: form("Back door", "sim:back", "direct", "", "0", "normal"),
			wantStatus: 422, wantTestIDs: map[string]string{"error-unlock_seconds": "seconds"}, wantFields: map[string]string{"unlock_seconds": "0"}},
		{name: "create with a bad state", method: "POST", url: "/access-points", body: form("Back door", "sim:back", "direct", "", "", "ajar"),
			wantStatus: 422, wantTestIDs: map[string]string{"error-state": "normal, lockdown or unlocked"}},
		{name: "create without a name", method: "POST", url: "/access-points", body: form("", "sim:back", "long-range", "", "", "normal"),
			wantStatus: 422, wantTestIDs: map[string]string{"error-name": "required"}, wantFields: map[string]string{"reader": "sim:back", "mode": "long-range"}},

		{name: "update", method: "POST", url: aa, body: form("Main entrance", "sim:front", "long-range", "", "8", "lockdown"),
			wantStatus: 303, wantLocation: aa + "?flash=saved"},
		{name: "the update shows, with the new mode's threshold", method: "GET", url: aa, wantStatus: 200,
			wantTestIDs: map[string]string{"access-point-name": "Main entrance"},
			wantFields: map[string]string{"name": "Main entrance", "mode": "long-range", "rssi_threshold": "-90", "unlock_seconds": "8",
				"state": "lockdown", "require_unlock": "false"}},
		{name: "update onto a reader in use", method: "POST", url: aa, body: form("Main entrance", "sim:car-park", "direct", "", "", "normal"),
			wantStatus: 422, wantTestIDs: map[string]string{"error-reader": "is already the reader of access point Car park"}, wantFields: map[string]string{"reader": "sim:car-park"}},
		{name: "update onto a name in use", method: "POST", url: aa, body: form("car park", "sim:front", "direct", "", "", "normal"),
			wantStatus: 422, wantTestIDs: map[string]string{"error-name": "is already the name of access point Car park"}, wantFields: map[string]string{"name": "car park"}},
		{name: "update with a bad threshold", method: "POST", url: aa, body: form("Renamed", "sim:front", "direct", "-200", "", "normal"),
			wantStatus: 422, wantTestIDs: map[string]string{"error-rssi_threshold": "between"}, wantFields: map[string]string{"name": "Renamed", "rssi_threshold": "-200"}},
		{name: "the bad updates stored nothing", method: "GET", url: aa, wantStatus: 200,
			wantFields: map[string]string{"name": "Main entrance", "reader": "sim:front", "mode": "long-range", "state": "lockdown"}},
		{name: "turn open from the phone on", method: "POST", url: aa, body: url.Values{"name": {"Main entrance"}, "reader": {"sim:front"}, "mode": {"direct"},
			"state": {"normal"}, "phone_open": {"on"}, "phone_networks": {"192.168.10.7/24, 10.0.0.1"}, "phone_passkey": {"on"}}.Encode(),
			wantStatus: 303, wantLocation: aa + "?flash=saved"},
		{name: "it shows, networks in canonical form", method: "GET", url: aa, wantStatus: 200, wantTestIDs: map[string]string{"phone-open": "Open from the phone"},
			wantFields: map[string]string{"phone_open": "true", "phone_networks": "192.168.10.0/24, 10.0.0.1/32", "phone_passkey": "true"}},
		{name: "a network that is not one", method: "POST", url: aa, body: url.Values{"name": {"Main entrance"}, "reader": {"sim:front"}, "mode": {"direct"},
			"state": {"normal"}, "phone_open": {"on"}, "phone_networks": {"guest wifi"}}.Encode(),
			wantStatus: 422, wantTestIDs: map[string]string{"error-phone_networks": "is not a network"}, wantFields: map[string]string{"phone_networks": "guest wifi"}},
		{name: "update a missing one", method: "POST", url: "/access-points/999999", body: form("X", "sim:x", "direct", "", "", "normal"), wantStatus: 404},

		{name: "delete", method: "POST", url: aa + "/delete", wantStatus: 303, wantLocation: "/access-points?flash=deleted"},
		{name: "gone from the list", method: "GET", url: "/access-points?flash=deleted", wantStatus: 200,
			wantTestIDs: map[string]string{"flash": "Deleted."}, wantNotContains: []string{"Main entrance"}},
		{name: "gone", method: "GET", url: aa, wantStatus: 404},
		{name: "delete again", method: "POST", url: aa + "/delete", wantStatus: 404},
		{name: "the reader is free again", method: "POST", url: "/access-points", body: form("Front door", "sim:front", "direct", "", "", "normal"), wantStatus: 303},
	})
}

func TestAccessPointDoorLink(t *testing.T) {
	t.Parallel()
	env := newLoggedInEnv(t, withSmartURL)
	id := env.create(t, "access-points", `{"name":"Front door","reader":"sim:front","mode":"direct","phone_open":true}`)
	w := env.get("/access-points/" + itoa(id))
	doc := parse(t, w.Body.String())
	if got, want := byTestID(doc, "door-url").Text(), smartURL+"/key?door="+itoa(id); got != want {
		t.Errorf("door link %q, want %q", got, want)
	}
	if src, _ := byTestID(doc, "door-qr").Attr("src"); !strings.HasPrefix(src, "data:image/png;base64,") {
		t.Errorf("door QR src %.40q, want an inline PNG", src)
	}
	// Without a public URL there is no link to print.
	off := newLoggedInEnv(t)
	id = off.create(t, "access-points", `{"name":"Front door","reader":"sim:front","mode":"direct"}`)
	if n := byTestID(parse(t, off.get("/access-points/"+itoa(id)).Body.String()), "door-link").Length(); n != 0 {
		t.Errorf("without a public URL the page shows %d door links", n)
	}
}
