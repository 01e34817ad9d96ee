package web_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"unicode/utf8"
)

// badNames are names no page should show: control characters, a
// direction override that makes a name read backwards, and bytes that are
// not UTF-8 (which only a form can carry; JSON turns them into U+FFFD).
var badNames = []struct{ name, text string }{
	{"NUL", "Front\x00door"},
	{"BEL", "Front door\a"},
	{"escape sequence", "\x1b[2JFront"},
	{"right-to-left override", "Front\u202Erood"},
	{"line break", "Front\ndoor"},
}

// TestNamesRefuseControlCharacters: the API and the forms check names the
// same way, for users, groups, access points, time profiles and the site.
func TestNamesRefuseControlCharacters(t *testing.T) {
	t.Parallel()
	env := newLoggedInEnv(t)
	resources := []struct {
		collection, field, apiBody, form string // %s: the name
	}{
		{"users", "first_name", `{"first_name":%s}`, "first_name=%s"},
		{"users", "last_name", `{"first_name":"Ann","last_name":%s}`, "first_name=Ann&last_name=%s"},
		{"groups", "name", `{"name":%s}`, "name=%s"},
		{"groups", "description", `{"name":"Staff","description":%s}`, "name=Staff&description=%s"},
		{"access-points", "name", `{"name":%s,"reader":"sim:front","mode":"direct"}`, "name=%s&reader=sim:front&mode=direct"},
		{"time-profiles", "name", `{"name":%s,"windows":` + officeHoursJSON + `}`, "name=%s&windows=Mon+08:00-18:00"},
	}
	for _, r := range resources {
		for _, bad := range badNames {
			if r.field == "description" && bad.name == "line break" {
				continue // a description may have lines
			}
			t.Run(r.collection+"/"+r.field+"/"+bad.name, func(t *testing.T) {
				js, _ := json.Marshal(bad.text)
				w := env.api("POST", "/api/v1/"+r.collection, strings.Replace(r.apiBody, "%s", string(js), 1))
				if w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), `"`+r.field+`"`) {
					t.Errorf("API: got status %d %s, want 422 naming %s", w.Code, w.Body, r.field)
				}
				w = env.post("/"+r.collection, formOf(strings.Replace(r.form, "%s", url.QueryEscape(bad.text), 1)))
				if w.Code != http.StatusUnprocessableEntity {
					t.Fatalf("form: got status %d, want 422\n%s", w.Code, w.Body)
				}
				if got := shownErrors(parse(t, w.Body.String()))[r.field]; got == "" {
					t.Errorf("form: no error shown next to %s; shown: %v", r.field, shownErrors(parse(t, w.Body.String())))
				}
			})
		}
		t.Run(r.collection+"/"+r.field+"/invalid UTF-8 from a form", func(t *testing.T) {
			w := env.post("/"+r.collection, formOf(strings.Replace(r.form, "%s", "Front%FF%FEdoor", 1)))
			if w.Code != http.StatusUnprocessableEntity {
				t.Errorf("got status %d, want 422", w.Code)
			}
		})
	}
	t.Run("an update through the API", func(t *testing.T) {
		id := env.create(t, "groups", `{"name":"Cleaners"}`)
		if w := env.api("PATCH", "/api/v1/groups/"+itoa(id), `{"name":"Clean\u202Eers"}`); w.Code != http.StatusUnprocessableEntity {
			t.Errorf("got status %d, want 422", w.Code)
		}
	})
	t.Run("the site's name", func(t *testing.T) {
		w := env.post("/settings", url.Values{"site_name": {"Office\u202E"}, "time_zone": {"UTC"}, "code_days": {"7"}})
		if w.Code != http.StatusUnprocessableEntity || shownErrors(parse(t, w.Body.String()))["site_name"] == "" {
			t.Errorf("got status %d, want 422 with an error next to the site name\n%s", w.Code, w.Body)
		}
	})
	t.Run("nothing was stored", func(t *testing.T) {
		for _, ev := range env.events(t) {
			if strings.ContainsAny(ev.Detail, "\x00\a\x1b\u202E") || !utf8.ValidString(ev.Detail) {
				t.Errorf("an event holds a refused name: %+v", ev)
			}
		}
		if n, _ := env.s.CountUsers(t.Context()); n != 0 {
			t.Errorf("got %d users, want 0", n)
		}
	})
	t.Run("names that are fine", func(t *testing.T) {
		env.create(t, "users", `{"first_name":"Zoë","last_name":"می\u200cخواهم"}`)
		if w := env.post("/groups", url.Values{"name": {"Équipe 👩\u200d💻"}, "description": {"Two lines\nof text"}}); w.Code != http.StatusSeeOther {
			t.Errorf("a group with accents, an emoji and a description on two lines: got status %d, want 303\n%s", w.Code, w.Body)
		}
	})
}

// formOf parses an encoded form, keeping bytes that are not UTF-8.
func formOf(encoded string) url.Values {
	v, err := url.ParseQuery(encoded)
	if err != nil {
		panic(err)
	}
	return v
}
