package web_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"postern/access"
)

// eventKinds lists the data-kind of each event row on a page.
func eventKinds(t *testing.T, w *httptest.ResponseRecorder) []string {
	t.Helper()
	var kinds []string
	byTestID(parse(t, w.Body.String()), "event-row").Each(func(_ int, s *goquery.Selection) {
		kinds = append(kinds, s.AttrOr("data-kind", ""))
	})
	return kinds
}

func TestDashboard(t *testing.T) {
	t.Parallel()
	env := newLoggedInEnv(t)
	env.runPages(t, []scenario{
		{name: "empty", method: "GET", url: "/", wantStatus: 200,
			wantTestIDs:  map[string]string{"user-count": "0", "access-point-count": "0", "event-table": "", "nav-dashboard": "", "logout": ""},
			wantContains: []string{`href="/users/new"`}},
	})
	env.create(t, "users", `{"first_name":"Ann"}`)
	env.create(t, "users", `{"first_name":"Bob"}`)
	env.create(t, "access-points", `{"name":"Front","reader":"sim:front","mode":"direct"}`)
	env.runPages(t, []scenario{
		{name: "counts", method: "GET", url: "/", wantStatus: 200,
			wantTestIDs:  map[string]string{"user-count": "2", "access-point-count": "1", "event-row": "user.created"},
			wantContains: []string{"by api:" + adminEmail}},
	})
}

func TestEventPages(t *testing.T) {
	t.Parallel()
	env := newLoggedInEnv(t)
	ann := env.create(t, "users", `{"first_name":"Ann","last_name":"Lee"}`)
	bob := env.create(t, "users", `{"first_name":"Bob","last_name":"Ray"}`)
	front := env.create(t, "access-points", `{"name":"Front door","reader":"sim:front","mode":"direct"}`)
	back := env.create(t, "access-points", `{"name":"Back door","reader":"sim:back","mode":"direct"}`)
	for _, e := range []access.Event{
		{Kind: "access.granted", UserID: ann, AccessPointID: front, RSSI: -58},
		{Kind: "access.denied", Reason: "no_permission", UserID: bob, AccessPointID: front, RSSI: -71},
		{Kind: "access.granted", UserID: bob, AccessPointID: back},
		{Kind: "access.denied", Reason: "outside_schedule", UserID: ann, AccessPointID: back},
	} {
		if err := env.s.AppendEvent(t.Context(), &e); err != nil {
			t.Fatal(err)
		}
	}

	env.runPages(t, []scenario{
		{name: "all", method: "GET", url: "/events", wantStatus: 200,
			wantTestIDs:  map[string]string{"event-table": "", "event-row": "access.granted"},
			wantContains: []string{"no_permission", "outside_schedule", "Ann Lee", "Front door", "-71 dBm", "by api:" + adminEmail, "user.created"},
			wantFields:   map[string]string{"result": ""}},
		{name: "granted", method: "GET", url: "/events?result=granted", wantStatus: 200,
			wantFields: map[string]string{"result": "granted"}, wantNotContains: []string{"no_permission", "user.created"}},
		{name: "denied of one user", method: "GET", url: "/events?result=denied&user=" + itoa(bob), wantStatus: 200,
			wantContains: []string{"no_permission"}, wantNotContains: []string{"outside_schedule"},
			wantFields: map[string]string{"result": "denied", "user": itoa(bob)}},
		{name: "one access point", method: "GET", url: "/events?access_point=" + itoa(back), wantStatus: 200,
			wantContains: []string{"outside_schedule"}, wantNotContains: []string{"no_permission"},
			wantFields: map[string]string{"access_point": itoa(back)}},
		{name: "nothing matches", method: "GET", url: "/events?user=999999", wantStatus: 200, wantTestIDs: map[string]string{"empty": "No events"}},
		{name: "a bad result", method: "GET", url: "/events?result=maybe", wantStatus: 400, wantTestIDs: map[string]string{"error-message": "granted or denied"}},
		{name: "a bad user", method: "GET", url: "/events?user=ann", wantStatus: 400},
		{name: "a bad cursor", method: "GET", url: "/events?before=x", wantStatus: 400},
	})

	for _, tt := range []struct {
		url  string
		want []string
	}{
		{"/events?result=granted", []string{"access.granted", "access.granted"}},
		{"/events?result=denied", []string{"access.denied", "access.denied"}},
		{"/events?user=" + itoa(ann) + "&kind=access.", []string{"access.denied", "access.granted"}},
	} {
		if got := eventKinds(t, env.get(tt.url)); strings.Join(got, " ") != strings.Join(tt.want, " ") {
			t.Errorf("GET %s: got rows %v, want %v", tt.url, got, tt.want)
		}
	}

	// Page through the whole log two at a time with the "Older events" link.
	var all []string
	for _, e := range env.events(t) {
		all = append(all, e.Kind)
	}
	var got []string
	next := "/events?limit=2"
	for page := 1; next != ""; page++ {
		if page > 50 {
			t.Fatal("still an older page after 50 pages")
		}
		w := env.get(next)
		if w.Code != 200 {
			t.Fatalf("GET %s: got status %d, want 200", next, w.Code)
		}
		kinds := eventKinds(t, w)
		if len(kinds) > 2 {
			t.Fatalf("GET %s: got %d rows, want at most 2", next, len(kinds))
		}
		got = append(got, kinds...)
		next = byTestID(parse(t, w.Body.String()), "next-page").AttrOr("href", "")
		if next != "" && !strings.Contains(next, "limit=2") {
			t.Errorf("the older-events link %q dropped the page size", next)
		}
	}
	if strings.Join(got, " ") != strings.Join(all, " ") {
		t.Errorf("paging the events page: got %v, want %v", got, all)
	}
}
