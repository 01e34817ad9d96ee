package web_test

import (
	"net/http"

	"github.com/PuerkitoBio/goquery"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// The permission form's access points are rendered once and kept, but
// an access point added, renamed or removed shows on the next form, and
// a refused form keeps the one chosen.
func TestPermissionFormAccessPoints(t *testing.T) {
	t.Parallel()
	env := newLoggedInEnv(t)
	front := env.create(t, "access-points", `{"name":"Front","reader":"sim:front","mode":"direct"}`)
	options := func(page string) string {
		t.Helper()
		doc := parse(t, page)
		var names []string
		doc.Find(`[data-testid="permission-form"] select[name="access_point_id"] option`).Each(func(_ int, s *goquery.Selection) {
			if v, _ := s.Attr("value"); v != "" {
				names = append(names, s.Text())
			}
		})
		return strings.Join(names, ",")
	}
	for _, step := range []struct {
		name   string
		change func()
		want   string
	}{
		{"one", func() {}, "Front"},
		{"added", func() { env.create(t, "access-points", `{"name":"Back","reader":"sim:back","mode":"direct"}`) }, "Back,Front"},
		{"renamed", func() {
			env.mustAPI(t, http.MethodPatch, "/api/v1/access-points/"+strconv.FormatInt(front, 10), `{"name":"Main entrance"}`, http.StatusOK)
		}, "Back,Main entrance"},
		{"removed", func() {
			env.mustAPI(t, http.MethodDelete, "/api/v1/access-points/"+strconv.FormatInt(front, 10), "", http.StatusNoContent)
		}, "Back"},
	} {
		step.change()
		if got := options(env.get("/permissions").Body.String()); got != step.want {
			t.Errorf("%s: the form offers %q, want %q", step.name, got, step.want)
		}
	}
	back := env.create(t, "access-points", `{"name":"Yard","reader":"sim:yard","mode":"direct"}`)
	// No user nor group chosen: refused, with Yard still chosen.
	w := env.post("/permissions", url.Values{"access_point_id": {strconv.FormatInt(back, 10)}})
	if got, _ := formField(parse(t, w.Body.String()), "access_point_id"); got != strconv.FormatInt(back, 10) {
		t.Errorf("the refused form chose access point %q, want %d\n%s", got, back, w.Body)
	}
}
