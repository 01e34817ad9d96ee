package web_test

import (
	"context"
	"errors"
	"testing"

	"postern/web"
)

// TestAPIDoors: unlock now and lock, the doors' states, the site's
// lockdown and evacuation, and the simulated door inputs, over the API.
func TestAPIDoors(t *testing.T) {
	t.Parallel()
	var inputs []string
	env := newAdminEnv(t, func(c *web.Config) {
		c.DoorInput = func(ctx context.Context, id int64, in string) error {
			if id == 99 {
				return errors.New("no such door")
			}
			inputs = append(inputs, in)
			return nil
		}
	})
	front := env.create(t, "access-points", `{"name":"Front door","reader":"sim:front","unlock_seconds":7}`)
	exit := env.create(t, "access-points", `{"name":"Fire exit","reader":"sim:fire","exit":true,"held_open_seconds":60,"door_io":{"relay_line":"gpiochip0:17","fail_safe":true,"contact_line":"GPIO22"}}`)
	ff, fx := "/api/v1/access-points/"+itoa(front), "/api/v1/access-points/"+itoa(exit)
	env.runAPI(t, []scenario{
		{name: "the exit's settings", method: "GET", url: fx, wantStatus: 200,
			wantContains: []string{`"exit":true`, `"held_open_seconds":60`, `"relay_line":"gpiochip0:17"`, `"fail_safe":true`, `"contact_line":"GPIO22"`, `"debounce_ms":50`}},
		{name: "a line used twice", method: "PATCH", url: fx, body: `{"door_io":{"relay_line":"GPIO22","contact_line":"GPIO22"}}`, wantStatus: 422, wantContains: []string{"contact_line"}},
		{name: "a door locked at first", method: "GET", url: "/api/v1/doors", wantStatus: 200,
			wantContains: []string{`"name":"Front door","state":"locked","unlocked":false`}},
		{name: "unlock now for its unlock time", method: "POST", url: ff + "/unlock", wantStatus: 200,
			wantContains: []string{`"unlocked_until":"2026-03-11T10:00:07Z"`}},
		{name: "unlock now for an hour", method: "POST", url: ff + "/unlock", body: `{"seconds":3600}`, wantStatus: 200,
			wantContains: []string{`"unlocked_until":"2026-03-11T11:00:00Z"`}},
		{name: "unlocked by hand", method: "GET", url: "/api/v1/doors", wantStatus: 200,
			wantContains: []string{`"name":"Front door","state":"unlocked by hand","unlocked":true,"until":"2026-03-11T11:00:00Z"`}},
		{name: "longer than a week", method: "POST", url: ff + "/unlock", body: `{"seconds":700000}`, wantStatus: 422, wantContains: []string{"seconds"}},
		{name: "lock again", method: "POST", url: ff + "/lock", wantStatus: 200, wantContains: []string{`"unlocked_until":null`}},
		{name: "no emergency", method: "GET", url: "/api/v1/site/mode", wantStatus: 200, wantContains: []string{`{"mode":"normal"}`}},
		{name: "start an evacuation", method: "POST", url: "/api/v1/site/mode", body: `{"mode":"evacuation"}`, wantStatus: 200,
			wantContains: []string{`"mode":"evacuation"`, `"started_by":"api:ann@example.com"`}},
		{name: "the exit is unlocked for it", method: "GET", url: "/api/v1/doors", wantStatus: 200,
			wantContains: []string{`"name":"Fire exit","state":"evacuation","unlocked":true`, `"name":"Front door","state":"locked"`}},
		{name: "a lockdown takes over", method: "POST", url: "/api/v1/site/mode", body: `{"mode":"lockdown"}`, wantStatus: 200, wantContains: []string{`"mode":"lockdown"`}},
		{name: "every door locked down", method: "GET", url: "/api/v1/doors", wantStatus: 200,
			wantContains: []string{`"name":"Fire exit","state":"locked down","unlocked":false,"by_site":true`}},
		{name: "an unknown mode", method: "POST", url: "/api/v1/site/mode", body: `{"mode":"party"}`, wantStatus: 422},
		{name: "back to normal", method: "POST", url: "/api/v1/site/mode", body: `{"mode":"normal"}`, wantStatus: 200, wantContains: []string{`{"mode":"normal"}`}},
		{name: "normal twice is no error", method: "POST", url: "/api/v1/site/mode", body: `{"mode":"normal"}`, wantStatus: 200},
		{name: "a simulated opening", method: "POST", url: ff + "/door", body: `{"input":"open"}`, wantStatus: 200},
		{name: "an unknown input", method: "POST", url: ff + "/door", body: `{"input":"kick"}`, wantStatus: 422},
		{name: "a door that does not take it", method: "POST", url: "/api/v1/access-points/99/door", body: `{"input":"open"}`, wantStatus: 404},
		{name: "the guard is allowed in a lockdown", method: "POST", url: "/api/v1/users", body: `{"first_name":"Gus","lockdown_exempt":true}`, wantStatus: 201,
			wantContains: []string{`"lockdown_exempt":true`}},
	})
	if len(inputs) != 1 || inputs[0] != "open" {
		t.Errorf("door inputs: got %v, want one open", inputs)
	}
}

// TestDoorPages: unlock now from the dashboard, the lockdown banner on
// every page until it is ended, and who started and ended it.
func TestDoorPages(t *testing.T) {
	t.Parallel()
	env := newAdminEnv(t)
	env.login(t)
	front := env.create(t, "access-points", `{"name":"Front door","reader":"sim:front"}`)
	fp := "/access-points/" + itoa(front)
	env.runPages(t, []scenario{
		{name: "the dashboard shows the door locked", method: "GET", url: "/", wantStatus: 200,
			wantTestIDs:     map[string]string{"door-state": "Locked", "unlock-now": "Unlock now", "start-lockdown": "Lockdown", "start-evacuation": "Evacuation"},
			wantNotContains: []string{`data-testid="emergency-banner"`}},
		{name: "unlock now from the dashboard", method: "POST", url: fp + "/unlock", body: "back=dashboard", wantStatus: 303, wantLocation: "/?flash=unlocked"},
		{name: "unlocked until", method: "GET", url: "/", wantStatus: 200, wantTestIDs: map[string]string{"door-state": "Unlocked until 2026-03-11 10:00:05", "lock-now": "Lock now"}},
		{name: "unlock for ten minutes from its page", method: "POST", url: fp + "/unlock", body: "minutes=10", wantStatus: 303, wantLocation: fp + "?flash=unlocked"},
		{name: "its page says so", method: "GET", url: fp, wantStatus: 200, wantTestIDs: map[string]string{"door-state": "Unlocked until 2026-03-11 10:10:00"}},
		{name: "lock now", method: "POST", url: fp + "/lock", wantStatus: 303, wantLocation: fp + "?flash=locked"},
		{name: "too long", method: "POST", url: fp + "/unlock", body: "minutes=99999", wantStatus: 400},
		{name: "start a lockdown", method: "POST", url: "/site/lockdown", wantStatus: 303, wantLocation: "/?flash=lockdown"},
		{name: "the banner on the dashboard", method: "GET", url: "/", wantStatus: 200,
			wantTestIDs: map[string]string{"emergency-banner": "Lockdown.", "door-state": "Locked down (site lockdown)", "emergency-end": "End lockdown"}},
		{name: "the banner on every page", method: "GET", url: "/users", wantStatus: 200,
			wantTestIDs: map[string]string{"emergency-banner": "by admin:ann@example.com"}},
		{name: "end it", method: "POST", url: "/site/normal", wantStatus: 303, wantLocation: "/?flash=normal"},
		{name: "no banner after", method: "GET", url: "/users", wantStatus: 200, wantNotContains: []string{`data-testid="emergency-banner"`}},
		{name: "the form saves the door's settings", method: "POST", url: fp,
			body:       "name=Front+door&reader=sim:front&mode=direct&state=normal&exit=on&held_open_seconds=45&relay_line=gpiochip0:5&lock=fail-safe&contact_line=GPIO6&exit_line=GPIO7&exit_unlocks=on&debounce_ms=20",
			wantStatus: 303},
		{name: "and shows them", method: "GET", url: fp, wantStatus: 200,
			wantFields: map[string]string{"held_open_seconds": "45", "relay_line": "gpiochip0:5", "contact_line": "GPIO6", "exit_line": "GPIO7", "debounce_ms": "20"}},
		{name: "a bad line is named", method: "POST", url: fp, body: "name=Front+door&reader=sim:front&mode=direct&relay_line=not+a+line", wantStatus: 422,
			wantTestIDs: map[string]string{"error-relay_line": "CHIP:OFFSET"}},
	})
	evs := env.events(t)
	kinds := map[string]string{}
	for _, e := range evs {
		kinds[e.Kind] = e.Actor
	}
	for _, k := range []string{"site.lockdown_started", "site.lockdown_ended", "access_point.unlocked", "access_point.relocked"} {
		if kinds[k] != "admin:ann@example.com" {
			t.Errorf("%s: by %q, want the admin", k, kinds[k])
		}
	}
}

// TestAlarmPages: the alarm rules and webhooks, on the page and the API,
// with every mistake named.
func TestAlarmPages(t *testing.T) {
	t.Parallel()
	env := newAdminEnv(t)
	env.login(t)
	env.runPages(t, []scenario{
		{name: "the alarms page", method: "GET", url: "/alarms", wantStatus: 200,
			wantTestIDs: map[string]string{"alarm-rules-form": "A door forced open", "webhook-form": "Door forced open"}},
		{name: "save who is told", method: "POST", url: "/alarms/rules", body: "door.forced=ops%40example.com%2C+guard%40example.com&digest_seconds=120", wantStatus: 303, wantLocation: "/alarms?flash=saved"},
		{name: "shown back", method: "GET", url: "/alarms", wantStatus: 200,
			wantFields: map[string]string{"door.forced": "ops@example.com, guard@example.com", "digest_seconds": "120"}},
		{name: "a bad address and a bad gap are both named", method: "POST", url: "/alarms/rules", body: "door.held_open=not-an-address&digest_seconds=lots", wantStatus: 422,
			wantTestIDs: map[string]string{"error-door.held_open": "not a valid email address", "error-digest_seconds": "whole number"},
			wantFields:  map[string]string{"door.held_open": "not-an-address"}},
		{name: "add a webhook", method: "POST", url: "/webhooks", body: "url=https%3A%2F%2Fhooks.example.com%2Fpostern&kinds=door.forced&kinds=door.held_open", wantStatus: 303, wantLocation: "/alarms?flash=created"},
		{name: "it is listed with its secret", method: "GET", url: "/alarms", wantStatus: 200,
			wantTestIDs: map[string]string{"webhook-row": "https://hooks.example.com/postern"}},
		{name: "a webhook without kinds", method: "POST", url: "/webhooks", body: "url=ftp%3A%2F%2Fx", wantStatus: 422,
			wantTestIDs: map[string]string{"error-url": "http or https", "error-kinds": "at least one"}},
	})
	env.runAPI(t, []scenario{
		{name: "the rules", method: "GET", url: "/api/v1/alarm-rules", wantStatus: 200,
			wantContains: []string{`"kind":"door.forced"`, `"recipients":["ops@example.com","guard@example.com"]`, `"digest_seconds":120`}},
		{name: "an unknown alarm", method: "PUT", url: "/api/v1/alarm-rules", body: `{"rules":[{"kind":"door.kicked","recipients":[]}]}`, wantStatus: 422},
		{name: "the webhooks", method: "GET", url: "/api/v1/webhooks", wantStatus: 200,
			wantContains: []string{`"url":"https://hooks.example.com/postern"`, `"kinds":["door.forced","door.held_open"]`, `"secret":"`, `"last_error":""`}},
		{name: "an unknown kind", method: "POST", url: "/api/v1/webhooks", body: `{"url":"https://x.example","kinds":["door.kicked"]}`, wantStatus: 422},
		{name: "delete it", method: "DELETE", url: "/api/v1/webhooks/1", wantStatus: 204},
		{name: "gone", method: "DELETE", url: "/api/v1/webhooks/1", wantStatus: 404},
	})
}
