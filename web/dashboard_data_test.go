package web_test

import (
	"context"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"postern/access"
)

// liveAttr finds the dashboard's stream URL in a page.
var liveAttr = regexp.MustCompile(`sse-connect="([^"]+)"`)

func streamURLOf(t *testing.T, page string) *url.URL {
	t.Helper()
	m := liveAttr.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no stream on the page:\n%s", page)
	}
	u, err := url.Parse(html.UnescapeString(m[1]))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// The dashboard's reads are shared for a moment by every admin who opens
// it, but nothing is lost: a change made through the pages, the API or
// the store shows at once, and an event written meanwhile reaches the
// page by its stream, which starts after the newest event the page had.
func TestDashboardCopyMissesNothing(t *testing.T) {
	t.Parallel()
	env := newLoggedInEnv(t)
	ctx := t.Context()
	ap := env.create(t, "access-points", `{"name":"Front","reader":"sim:front","mode":"direct"}`)
	page := env.get("/")
	if got := testIDText(t, page.Body.String(), "user-count"); got != "0" {
		t.Fatalf("user count %q, want 0", got)
	}

	// Through the API: the next page counts the user.
	env.create(t, "users", `{"first_name":"Ann"}`)
	if got := testIDText(t, env.get("/").Body.String(), "user-count"); got != "1" {
		t.Errorf("after adding a user through the API the dashboard counts %q, want 1", got)
	}
	// Through the store, as another part of the appliance would.
	if err := env.s.CreateUser(ctx, "test", &access.User{FirstName: "Bob", Enabled: true}); err != nil {
		t.Fatal(err)
	}
	page = env.get("/")
	if got := testIDText(t, page.Body.String(), "user-count"); got != "2" {
		t.Errorf("after adding a user in the store the dashboard counts %q, want 2", got)
	}

	// A decision is no change to the site: the page a moment later is the
	// same copy, and its stream brings the decision.
	if err := env.s.AppendEvent(ctx, &access.Event{Kind: "access.granted", Reason: "granted", AccessPointID: ap, Detail: "Ann"}); err != nil {
		t.Fatal(err)
	}
	env.clock.Add(dashboardFreshForTests / 2)
	again := env.get("/").Body.String()
	if strings.Contains(again, `data-kind="access.granted"`) {
		t.Fatalf("the dashboard read again within its moment; the copy is not shared")
	}
	u := streamURLOf(t, again)
	srv := httptest.NewServer(env.e)
	defer srv.Close()
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second) // failure guard
	defer cancel()
	lines := streamLinesAt(t, sctx, srv.URL+u.String(), env.session, "")
	waitForLine(t, sctx, lines, `data-kind="access.granted"`)

	// After its moment the dashboard reads afresh.
	env.clock.Add(dashboardFreshForTests)
	if got := env.get("/").Body.String(); !strings.Contains(got, `data-kind="access.granted"`) {
		t.Errorf("a second later the dashboard still lacks the decision")
	}
}

// dashboardFreshForTests is web.dashboardFresh, which the tests cannot see.
const dashboardFreshForTests = time.Second

// A stream replays what came after the page only for a page just served,
// and a browser reconnecting by itself gets what came after the last
// event it received (Last-Event-ID).
func TestEventStreamStart(t *testing.T) {
	t.Parallel()
	env := newLoggedInEnv(t)
	ctx := t.Context()
	srv := httptest.NewServer(env.e)
	defer srv.Close()
	appendEvent := func(detail string) int64 {
		t.Helper()
		e := &access.Event{Kind: "access.granted", Reason: "granted", AccessPointID: 3, Detail: detail}
		if err := env.s.AppendEvent(ctx, e); err != nil {
			t.Fatal(err)
		}
		return e.ID
	}
	first := appendEvent("first")
	appendEvent("second")
	now := env.clock.Now()
	for _, tc := range []struct {
		name, query, lastEventID string
		want                     string // the first row's detail
	}{
		{"a page just served", "?after=" + strconv.FormatInt(first-1, 10) + "&at=" + strconv.FormatInt(now.UnixMilli(), 10), "", "first"},
		{"a page a minute old", "?after=" + strconv.FormatInt(first-1, 10) + "&at=" + strconv.FormatInt(now.Add(-time.Minute).UnixMilli(), 10), "", "third"},
		{"no page", "", "", "third"},
		{"a browser reconnecting", "?after=0&at=0", strconv.FormatInt(first, 10), "second"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sctx, cancel := context.WithTimeout(ctx, 30*time.Second) // failure guard
			defer cancel()
			lines := streamLinesAt(t, sctx, srv.URL+"/events/stream"+tc.query, env.session, tc.lastEventID)
			// The stream has begun once its comment line is read.
			waitForLine(t, sctx, lines, ": postern live events")
			appendEvent("third")
			row := waitForLine(t, sctx, lines, "data-kind=")
			if !strings.Contains(row, `data-label="Detail">`+tc.want+" ") {
				t.Errorf("first row %q, want the %s event", row, tc.want)
			}
			id := waitForLine(t, sctx, lines, "id: ")
			if _, err := strconv.ParseInt(strings.TrimPrefix(id, "id: "), 10, 64); err != nil {
				t.Errorf("the stream's id line %q carries no event id", id)
			}
		})
	}
}

// streamLinesAt opens target as the signed-in browser, with Last-Event-ID
// when lastEventID is set.
func streamLinesAt(t *testing.T, ctx context.Context, target string, session *http.Cookie, lastEventID string) <-chan string {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, "GET", target, nil)
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	return streamOf(t, req, session)
}

// waitForLine returns the first line that contains want.
func waitForLine(t *testing.T, ctx context.Context, lines <-chan string, want string) string {
	t.Helper()
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("the stream ended before %q", want)
			}
			if strings.Contains(l, want) {
				return l
			}
		case <-ctx.Done():
			t.Fatalf("never saw %q", want)
		}
	}
}

// testIDText is the text of the element with data-testid id in page.
func testIDText(t *testing.T, page, id string) string {
	t.Helper()
	sel := byTestID(parse(t, page), id)
	if sel.Length() == 0 {
		t.Fatalf("no data-testid=%q in:\n%s", id, page)
	}
	return strings.TrimSpace(sel.First().Text())
}

// A door event sends that door's tile only; a site-wide one every door's.
func TestEventStreamPushesChangedDoors(t *testing.T) {
	t.Parallel()
	env := newLoggedInEnv(t)
	ctx := t.Context()
	front := env.create(t, "access-points", `{"name":"Front","reader":"sim:front","mode":"direct"}`)
	back := env.create(t, "access-points", `{"name":"Back","reader":"sim:back","mode":"direct"}`)
	srv := httptest.NewServer(env.e)
	defer srv.Close()
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second) // failure guard
	defer cancel()
	lines := streamLines(t, sctx, srv.URL, env.session)
	waitForLine(t, sctx, lines, ": postern live events")
	tiles := func(e access.Event) []string {
		t.Helper()
		if err := env.s.AppendEvent(ctx, &e); err != nil {
			t.Fatal(err)
		}
		var got []string
		for {
			l := waitForLine(t, sctx, lines, "")
			if strings.HasPrefix(l, "id: ") {
				return got
			}
			if name, ok := strings.CutPrefix(l, "event: door-"); ok {
				got = append(got, name)
			}
		}
	}
	if got := tiles(access.Event{Kind: "door.forced", AccessPointID: front}); strings.Join(got, ",") != strconv.FormatInt(front, 10) {
		t.Errorf("a door forced at Front sent the tiles of %q, want Front's only", got)
	}
	got := tiles(access.Event{Kind: "site.lockdown_started"})
	if len(got) != 2 || !slices.Contains(got, strconv.FormatInt(back, 10)) {
		t.Errorf("a lockdown sent the tiles of %q, want both doors'", got)
	}
}
