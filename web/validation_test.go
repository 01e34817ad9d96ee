package web_test

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// shownErrors reads every field error a page shows: the field (from its
// data-testid, error-FIELD) and the message.
func shownErrors(doc *goquery.Document) map[string]string {
	got := map[string]string{}
	doc.Find(`[data-testid^="error-"]`).Each(func(_ int, s *goquery.Selection) {
		id, _ := s.Attr("data-testid")
		if field, ok := strings.CutPrefix(id, "error-"); ok && field != "message" {
			got[field] = strings.TrimSpace(s.Text())
		}
	})
	return got
}

// TestFormsShowEveryFieldError submits each admin form with several wrong
// fields at once: every field's message must show, each next to its field,
// with what was typed kept.
func TestFormsShowEveryFieldError(t *testing.T) {
	t.Parallel()
	env := newLoggedInEnv(t)
	ann := env.create(t, "users", `{"first_name":"Ann","email":"ann.lee@example.com"}`)
	front := env.create(t, "access-points", `{"name":"Front","reader":"sim:front"}`)
	night := env.create(t, "time-profiles", `{"name":"Night","windows":[{"days":["mon"],"start":"22:00","end":"06:00"}]}`)
	staff := env.create(t, "groups", `{"name":"Staff"}`)

	tests := []struct {
		name       string
		url        string
		form       url.Values
		wantErrors map[string]string // field → part of its message
		wantFields map[string]string // field → the value kept
	}{
		{"new user", "/users",
			url.Values{"first_name": {" "}, "email": {"ann-at-example"}, "valid_from": {"31/12/2026"}, "valid_until": {"2026-02-30"}},
			map[string]string{"first_name": "first or last name is required", "email": "not a valid email", "valid_from": "not a date", "valid_until": "not a date"},
			map[string]string{"email": "ann-at-example", "valid_from": "31/12/2026", "valid_until": "2026-02-30"}},
		{"user's page", "/users/" + itoa(ann),
			url.Values{"last_name": {strings.Repeat("x", 101)}, "email": {"bad"}, "valid_from": {"2026-05-01"}, "valid_until": {"2026-04-01"}},
			map[string]string{"last_name": "at most 100", "email": "not a valid email", "valid_until": "after valid from"},
			map[string]string{"email": "bad", "valid_from": "2026-05-01", "valid_until": "2026-04-01"}},
		{"new access point", "/access-points",
			url.Values{"name": {""}, "reader": {"usb0"}, "mode": {"teleport"}, "rssi_threshold": {"loud"}, "rssi_offset": {"+6dB"}, "unlock_seconds": {"0"}, "state": {"open"}},
			map[string]string{"name": "required", "reader": "sim:NAME", "mode": "direct, touch or long-range", "rssi_threshold": "whole number of dBm",
				"rssi_offset": "whole number of dB", "unlock_seconds": "whole number of seconds", "state": "normal, lockdown or unlocked"},
			map[string]string{"reader": "usb0", "rssi_threshold": "loud", "rssi_offset": "+6dB", "unlock_seconds": "0"}},
		{"access point's page", "/access-points/" + itoa(front),
			url.Values{"name": {"Front"}, "reader": {"sim:Front Door"}, "mode": {"direct"}, "rssi_threshold": {"-10"}, "unlock_seconds": {"7200"}},
			map[string]string{"reader": "sim:NAME", "rssi_threshold": "between -120 and -20", "unlock_seconds": "between 1 and 3600"},
			map[string]string{"name": "Front", "reader": "sim:Front Door", "rssi_threshold": "-10", "unlock_seconds": "7200"}},
		{"new time profile", "/time-profiles",
			url.Values{"name": {""}, "windows": {"Mon-Fri 08:00-18:00\nFunday 09:00-10:00"}, "holidays": {"2026-13-45"}},
			map[string]string{"name": "required", "windows": "Funday", "holidays": "2026-13-45"},
			map[string]string{"windows": "Mon-Fri 08:00-18:00\nFunday 09:00-10:00", "holidays": "2026-13-45"}},
		{"time profile's page", "/time-profiles/" + itoa(night),
			url.Values{"name": {strings.Repeat("n", 101)}, "windows": {""}, "holidays": {"Christmas"}},
			map[string]string{"name": "at most 100", "windows": "at least one weekly window", "holidays": "Christmas"},
			map[string]string{"holidays": "Christmas"}},
		{"new group", "/groups",
			url.Values{"name": {" "}, "description": {strings.Repeat("d", 1001)}},
			map[string]string{"name": "required", "description": "at most 1000"},
			map[string]string{"description": strings.Repeat("d", 1001)}},
		{"group's page", "/groups/" + itoa(staff),
			url.Values{"name": {strings.Repeat("g", 101)}, "description": {strings.Repeat("d", 1001)}},
			map[string]string{"name": "at most 100", "description": "at most 1000"},
			map[string]string{"name": strings.Repeat("g", 101)}},
		{"new permission", "/permissions",
			url.Values{"group_id": {itoa(staff)}, "user_id": {itoa(ann)}, "access_point_id": {""}, "return_to": {"/permissions"}},
			map[string]string{"user_id": "either a user or a group", "access_point_id": "required"},
			map[string]string{"group_id": itoa(staff), "user_id": itoa(ann)}},
		{"permission with neither user nor group", "/permissions",
			url.Values{"time_profile_id": {itoa(night)}, "return_to": {"/permissions"}},
			map[string]string{"user_id": "either a user or a group", "access_point_id": "required"},
			map[string]string{"time_profile_id": itoa(night)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := env.post(tt.url, tt.form)
			if w.Code != http.StatusUnprocessableEntity {
				t.Fatalf("got status %d, want 422\n%s", w.Code, w.Body)
			}
			doc := parse(t, w.Body.String())
			got := shownErrors(doc)
			if !slices.Equal(slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(tt.wantErrors))) {
				t.Errorf("got errors on %v, want on %v: %v", slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(tt.wantErrors)), got)
			}
			for field, want := range tt.wantErrors {
				if !strings.Contains(got[field], want) {
					t.Errorf("error-%s: got %q, want it to contain %q", field, got[field], want)
				}
				// Next to its field: the message follows the field's label.
				if input := doc.Find(`[name="` + field + `"]`); field != "user_id" && input.Length() > 0 {
					next := input.Closest("label").Next()
					if id, _ := next.Attr("data-testid"); id != "error-"+field {
						t.Errorf("error-%s is not right after its field's label (found %q there)", field, id)
					}
				}
			}
			for name, want := range tt.wantFields {
				if got, ok := formField(doc, name); !ok || got != want {
					t.Errorf("field %q: got %q (present %v), want %q kept", name, got, ok, want)
				}
			}
		})
	}
}

// TestAPIAnswersEveryFieldError sends each resource a body with several
// wrong fields: the 422 names every one under "fields", and its message
// says them all.
func TestAPIAnswersEveryFieldError(t *testing.T) {
	t.Parallel()
	env := newAdminEnv(t)
	ann := env.create(t, "users", `{"first_name":"Ann"}`)
	night := env.create(t, "time-profiles", `{"name":"Night","windows":[{"days":["mon"],"start":"22:00","end":"06:00"}]}`)

	tests := []struct {
		name   string
		method string
		url    string
		body   string
		want   map[string]string
	}{
		{"user", "POST", "/api/v1/users", `{"first_name":" ","email":"ann-at-example","group_ids":[999999]}`, map[string]string{
			"first_name": "a first or last name is required", "email": "is not a valid email address", "group_ids": "there is no group 999999"}},
		{"user update", "PATCH", "/api/v1/users/" + itoa(ann), `{"first_name":"","last_name":"","valid_from":"2026-05-01T00:00:00Z","valid_until":"2026-04-01T00:00:00Z"}`, map[string]string{
			"first_name": "a first or last name is required", "valid_until": "must be after valid from"}},
		{"group", "POST", "/api/v1/groups", `{"name":"","description":"` + strings.Repeat("d", 1001) + `"}`, map[string]string{
			"name": "is required", "description": "must be at most 1000 characters"}},
		{"access point", "POST", "/api/v1/access-points", `{"reader":"usb0","mode":"teleport","rssi_threshold":-5,"rssi_offset":-41,"unlock_seconds":0,"state":"open"}`, map[string]string{
			"name": "is required", "reader": "must be sim:NAME (lower-case letters, digits, . _ -) or hciN, after READER/ for a remote reader", "mode": "must be direct, touch or long-range",
			"rssi_threshold": "must be between -120 and -20 dBm", "rssi_offset": "must be between -40 and 40 dB", "unlock_seconds": "must be between 1 and 3600 seconds",
			"state": "must be normal, lockdown or unlocked"}},
		{"time profile", "POST", "/api/v1/time-profiles", `{"name":"","windows":[{"days":["funday"],"start":"08:00","end":"18:00"}],"holidays":["2026-13-45"]}`, map[string]string{
			"name": "is required", "windows": `window 1: "funday" is not a day (mon, tue, …)`, "holidays": `"2026-13-45" is not a date (YYYY-MM-DD)`}},
		{"time profile update", "PATCH", "/api/v1/time-profiles/" + itoa(night), `{"name":"","windows":[]}`, map[string]string{
			"name": "is required", "windows": "add at least one weekly window"}},
		{"permission", "POST", "/api/v1/permissions", `{"time_profile_id":` + itoa(night) + `}`, map[string]string{
			"user_id": "give either a user or a group", "access_point_id": "is required"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := env.api(tt.method, tt.url, tt.body)
			if w.Code != http.StatusUnprocessableEntity {
				t.Fatalf("got status %d, want 422\n%s", w.Code, w.Body)
			}
			checkAPIError(t, w.Code, w.Body.Bytes())
			var got struct {
				Error   string            `json:"error"`
				Message string            `json:"message"`
				Fields  map[string]string `json:"fields"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
				t.Fatalf("decode %s: %v", w.Body, err)
			}
			if got.Error != "invalid" {
				t.Errorf("got error %q, want invalid", got.Error)
			}
			if !maps.Equal(got.Fields, tt.want) {
				t.Errorf("got fields %v, want %v", got.Fields, tt.want)
			}
			for field, msg := range tt.want {
				if !strings.Contains(got.Message, field+": "+msg) {
					t.Errorf("message %q does not say %s: %s", got.Message, field, msg)
				}
			}
		})
	}

	t.Run("nothing stored", func(t *testing.T) {
		m := env.mustAPI(t, "GET", "/api/v1/users/"+itoa(ann), "", http.StatusOK)
		if m["first_name"] != "Ann" {
			t.Errorf("got first_name %v after a refused update, want Ann", m["first_name"])
		}
		if n, _ := env.s.CountUsers(t.Context()); n != 1 {
			t.Errorf("got %d users, want 1", n)
		}
	})
}
