package web_test

import (
	"fmt"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"postern/access"
	"postern/web"
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
	if err := env.s.AppendEvent(t.Context(), &access.Event{Kind: "door.forced", AccessPointID: 1}); err != nil {
		t.Fatal(err)
	}
	env.runPages(t, []scenario{
		{name: "a door's own event shows", method: "GET", url: "/", wantStatus: 200,
			wantTestIDs: map[string]string{"event-row": "Door forced open"}},
		{name: "door events only", method: "GET", url: "/", wantStatus: 200,
			wantTestIDs:     map[string]string{"user-count": "2", "access-point-count": "1"},
			wantNotContains: []string{"by api:" + adminEmail, "User added", `data-kind="user.created"`}},
		{name: "every event when asked", method: "GET", url: "/?show=all", wantStatus: 200,
			wantTestIDs:     map[string]string{"event-row": "User added"},
			wantContains:    []string{"by api:" + adminEmail, `sse-connect="/events/stream?after=`, `&amp;show=all"`},
			wantNotContains: []string{">user.created<"}},
	})
}

// readerStates reports a fixed state per access point name.
type readerStates map[string]access.ReaderState

func (f readerStates) ReaderState(ap access.AccessPoint) access.ReaderState { return f[ap.Name] }

// Each access point's tile says its door's state and its reader's in the
// words the rest of the pages use, and its last decision as people say it.
func TestDashboardTiles(t *testing.T) {
	t.Parallel()
	env := newLoggedInEnv(t, func(c *web.Config) {
		c.Readers = readerStates{"Front": access.ReaderListening, "Gate": access.ReaderNoRadio, "Back": access.ReaderStopped}
	})
	front := env.create(t, "access-points", `{"name":"Front","reader":"sim:front","state":"unlocked"}`)
	gate := env.create(t, "access-points", `{"name":"Gate","reader":"hci1","mode":"long-range","state":"lockdown"}`)
	back := env.create(t, "access-points", `{"name":"Back","reader":"sim:back"}`)
	ann := env.create(t, "users", `{"first_name":"Ann","last_name":"Lee"}`)
	for _, e := range []access.Event{
		{Kind: "access.denied", Reason: "outside schedule", UserID: ann, AccessPointID: front},
		{Kind: "access.granted", Reason: "granted", UserID: ann, AccessPointID: back},
		{Kind: "access.rejected", Reason: "late", AccessPointID: gate},
	} {
		if err := env.s.AppendEvent(t.Context(), &e); err != nil {
			t.Fatal(err)
		}
	}
	doc := parse(t, env.get("/").Body.String())
	var got []string
	byTestID(doc, "ap-card").Each(func(_ int, s *goquery.Selection) {
		got = append(got, words(s))
	})
	// The most recently used door first.
	want := []string{
		"Gate Locked down Reader: no radio Refused: answered too late at 2026-03-11 10:00:00",
		"Back Locked Unlock now Reader: stopped Granted Ann Lee at 2026-03-11 10:00:00",
		"Front Held open Unlock now Reader: listening Denied: outside schedule Ann Lee at 2026-03-11 10:00:00",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("tiles:\ngot  %q\nwant %q", got, want)
	}
	if kinds := eventKinds(t, env.get("/")); strings.Join(kinds, " ") != "access.rejected access.granted access.denied" {
		t.Errorf("the dashboard's rows are %v, want the three door events", kinds)
	}
	// The access points' list says "held open" too, not the API's word.
	env.runPages(t, []scenario{{name: "list", method: "GET", url: "/access-points", wantStatus: 200,
		wantContains: []string{">held open<", ">locked down<"}, wantNotContains: []string{">unlocked<", ">lockdown<"}}})
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
			wantTestIDs:     map[string]string{"event-table": "", "event-row": "Access denied"},
			wantContains:    []string{"no permission", "outside schedule", "Ann Lee", "Front door", "-71 dBm", "by api:" + adminEmail, "User added"},
			wantNotContains: []string{"no_permission", ">access.granted<", ">user.created<"},
			wantFields:      map[string]string{"result": ""}},
		{name: "door events", method: "GET", url: "/events?result=doors", wantStatus: 200,
			wantFields: map[string]string{"result": "doors"}, wantContains: []string{"no permission", "Access granted"}, wantNotContains: []string{"User added"}},
		{name: "granted", method: "GET", url: "/events?result=granted", wantStatus: 200,
			wantFields: map[string]string{"result": "granted"}, wantNotContains: []string{"no permission", "User added"}},
		{name: "denied of one user", method: "GET", url: "/events?result=denied&user=" + itoa(bob), wantStatus: 200,
			wantContains: []string{"no permission"}, wantNotContains: []string{"outside schedule"},
			wantFields: map[string]string{"result": "denied", "user": itoa(bob)}},
		{name: "one access point", method: "GET", url: "/events?access_point=" + itoa(back), wantStatus: 200,
			wantContains: []string{"outside schedule"}, wantNotContains: []string{"no permission"},
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
		{"/events?result=doors", []string{"access.denied", "access.granted", "access.denied", "access.granted"}},
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

// words is the text of a selection as a reader sees it: every text node,
// one space between them, so blocks that touch in the markup stay apart.
func words(s *goquery.Selection) string {
	var texts []string
	var walk func(*goquery.Selection)
	walk = func(sel *goquery.Selection) {
		sel.Contents().Each(func(_ int, c *goquery.Selection) {
			if goquery.NodeName(c) == "#text" {
				texts = append(texts, c.Text())
			} else {
				walk(c)
			}
		})
	}
	walk(s)
	return strings.Join(strings.Fields(strings.Join(texts, " ")), " ")
}

// TestDashboardBoundsItsDoors: at a site with more doors than the dashboard
// shows, it shows the most recently used ones first, each with its last
// result, and links to them all.
func TestDashboardBoundsItsDoors(t *testing.T) {
	t.Parallel()
	env := newLoggedInEnv(t)
	var ids []int64
	for i := range 30 {
		ids = append(ids, env.create(t, "access-points", fmt.Sprintf(`{"name":"Door %02d","reader":"sim:door%d"}`, i, i)))
	}
	// Door 20 was used before door 07, which was used last.
	for _, ap := range []int64{ids[20], ids[7]} {
		if err := env.s.AppendEvent(t.Context(), &access.Event{Kind: "access.granted", AccessPointID: ap}); err != nil {
			t.Fatal(err)
		}
	}
	w := env.get("/")
	doc := parse(t, w.Body.String())
	cards := byTestID(doc, "ap-card")
	if cards.Length() != 24 {
		t.Fatalf("%d access points shown, want 24", cards.Length())
	}
	var first []string
	cards.Slice(0, 3).Each(func(_ int, s *goquery.Selection) { first = append(first, s.Find("a").First().Text()) })
	if got, want := strings.Join(first, ", "), "Door 07, Door 20, Door 00"; got != want {
		t.Errorf("first doors shown: %s; want %s (the most recently used, then by name)", got, want)
	}
	if got := byTestID(doc, "ap-last-"+itoa(ids[7])).Find(`[data-testid="last-result"]`).Text(); got != "Granted" {
		t.Errorf("door 07's last result %q, want Granted", got)
	}
	if got := byTestID(doc, "all-access-points").Text(); got != "All 30 access points" {
		t.Errorf("link to the rest %q, want All 30 access points", got)
	}
	if got := byTestID(doc, "access-point-count").Text(); got != "30" {
		t.Errorf("access point count %q, want 30", got)
	}
}

func TestEventFilters(t *testing.T) {
	t.Parallel()
	env := newLoggedInEnv(t)
	ann := env.create(t, "users", `{"first_name":"Ann","last_name":"Lee","email":"ann.lee@example.com"}`)
	bob := env.create(t, "users", `{"first_name":"Bob","last_name":"Ray"}`)
	front := env.create(t, "access-points", `{"name":"Front door","reader":"sim:front","mode":"direct"}`)
	back := env.create(t, "access-points", `{"name":"Back door","reader":"sim:back","mode":"direct"}`)
	day := func(d, h int) time.Time { return time.Date(2026, 3, d, h, 0, 0, 0, time.UTC) }
	for _, e := range []access.Event{
		{At: day(1, 9), Kind: "access.granted", Detail: "march-first", UserID: ann, AccessPointID: front},
		{At: day(2, 9), Kind: "access.denied", Detail: "march-second", UserID: bob, AccessPointID: back},
		{At: day(3, 9), Kind: "door.forced", Detail: "march-third", AccessPointID: back},
		{At: day(4, 9), Kind: "access.granted", Detail: "march-fourth", UserID: ann, AccessPointID: back},
	} {
		if err := env.s.AppendEvent(t.Context(), &e); err != nil {
			t.Fatal(err)
		}
	}
	all := []string{"march-first", "march-second", "march-third", "march-fourth"}
	tests := []struct {
		name   string
		query  string
		want   []string
		fields map[string]string
	}{
		{"a day range, both ends included", "from=2026-03-02&to=2026-03-03", []string{"march-second", "march-third"},
			map[string]string{"from": "2026-03-02", "to": "2026-03-03"}},
		{"from only", "from=2026-03-04", []string{"march-fourth"}, nil},
		{"to a time", "to=2026-03-02T00:00:00Z", []string{"march-first"}, nil},
		{"who by name", "who=ann", []string{"march-first", "march-fourth"}, map[string]string{"who": "ann"}},
		{"who by email", "who=ann.lee@example.com", []string{"march-first", "march-fourth"}, nil},
		{"who and where", "who=ann&access_point=" + itoa(back), []string{"march-fourth"}, map[string]string{"access_point": itoa(back)}},
		{"a kind family", "kind=door.", []string{"march-third"}, map[string]string{"kind": "door."}},
		{"result and range", "result=granted&from=2026-03-02", []string{"march-fourth"}, map[string]string{"result": "granted"}},
		{"one user by id", "user=" + itoa(bob), []string{"march-second"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := env.get("/events?" + tt.query)
			if w.Code != 200 {
				t.Fatalf("got status %d, want 200\n%s", w.Code, w.Body)
			}
			body := w.Body.String()
			for _, r := range all {
				if got, want := strings.Contains(body, r), slices.Contains(tt.want, r); got != want {
					t.Errorf("%s shown: got %v, want %v", r, got, want)
				}
			}
			doc := parse(t, body)
			for name, want := range tt.fields {
				if got, _ := formField(doc, name); got != want {
					t.Errorf("field %s: got %q, want %q", name, got, want)
				}
			}
		})
	}
	env.runPages(t, []scenario{
		{name: "a bad date", method: "GET", url: "/events?from=yesterday", wantStatus: 400},
		{name: "the API takes the range too", method: "GET", url: "/events?from=2026-03-04", wantStatus: 200,
			wantNotContains: []string{"march-first"}},
		{name: "a user's page shows their history", method: "GET", url: "/users/" + itoa(ann), wantStatus: 200,
			wantTestIDs:     map[string]string{"event-history": "march-fourth"},
			wantContains:    []string{`href="/events?user=` + itoa(ann) + `"`},
			wantNotContains: []string{"march-second"}},
		{name: "a door's page shows its history", method: "GET", url: "/access-points/" + itoa(back), wantStatus: 200,
			wantTestIDs:     map[string]string{"event-history": "march-third"},
			wantContains:    []string{`href="/events?access_point=` + itoa(back) + `"`},
			wantNotContains: []string{"march-first"}},
	})
	got := env.mustAPI(t, "GET", "/api/v1/events?from=2026-03-02&to=2026-03-02&who=bob", "", 200)
	if evs := got["events"].([]any); len(evs) != 1 {
		t.Errorf("API with range and who: got %d events, want 1", len(evs))
	}
}

// TestEventKindFilterOffersEveryFamily: the kind filter offers each family
// of logged events, those added since the filter was written too.
func TestEventKindFilterOffersEveryFamily(t *testing.T) {
	t.Parallel()
	env := newLoggedInEnv(t)
	doc := parse(t, env.get("/events").Body.String())
	offered := map[string]bool{}
	doc.Find(`select[name="kind"] option`).Each(func(_ int, s *goquery.Selection) { offered[s.AttrOr("value", "")] = true })
	for _, k := range access.EventKinds {
		if f := k[:strings.IndexByte(k, '.')+1]; !offered[f] {
			t.Errorf("kind filter does not offer %s (for %s)", f, k)
		}
	}
}
