package web_test

import (
	"bufio"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"postern/access"
	"postern/web"
)

// The live stream sends each new event as a table row, and each decision
// to its access point's card; it ends when the server stops.
func TestEventStream(t *testing.T) {
	t.Parallel()
	stopping := make(chan struct{})
	env := newLoggedInEnv(t, func(c *web.Config) { c.Stopping = stopping })
	srv := httptest.NewServer(env.e)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second) // failure guard
	defer cancel()
	lines := streamLines(t, ctx, srv.URL, env.session)
	if err := env.s.AppendEvent(ctx, &access.Event{Kind: "access.granted", Reason: "granted", AccessPointID: 7, Detail: "Ann Lee"}); err != nil {
		t.Fatal(err)
	}
	want := []string{"event: access-row", "event: ap-7"}
	var seen []string
	for len(want) > 0 {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("the stream ended early; saw %q", seen)
			}
			seen = append(seen, l)
			if l == want[0] {
				want = want[1:]
			}
		case <-ctx.Done():
			t.Fatalf("never saw %q; saw %q", want, seen)
		}
	}
	if !strings.Contains(strings.Join(seen, "\n"), `data-kind="access.granted"`) {
		t.Errorf("the row does not carry the event: %q", seen)
	}
	close(stopping)
	for {
		select {
		case _, ok := <-lines:
			if !ok {
				return // the stream ended with the server's shutdown
			}
		case <-ctx.Done():
			t.Fatal("the stream did not end when the server began stopping")
		}
	}
}

// TestEventStreamOutlivesServerTimeouts: the server's read and write
// timeouts end requests that take too long; a live stream lifts them for
// itself, so it still delivers events long after they have passed.
func TestEventStreamOutlivesServerTimeouts(t *testing.T) {
	t.Parallel()
	env := newLoggedInEnv(t)
	srv := httptest.NewUnstartedServer(env.e)
	srv.Config.ReadTimeout, srv.Config.WriteTimeout = 200*time.Millisecond, 200*time.Millisecond
	srv.Start()
	defer srv.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second) // failure guard
	defer cancel()
	lines := streamLines(t, ctx, srv.URL, env.session)
	time.Sleep(time.Second) // five times both timeouts
	if err := env.s.AppendEvent(ctx, &access.Event{Kind: "access.granted", Reason: "granted", AccessPointID: 7}); err != nil {
		t.Fatal(err)
	}
	for {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("the stream ended with the server's timeouts")
			}
			if l == "event: access-row" {
				return
			}
		case <-ctx.Done():
			t.Fatal("the event never came")
		}
	}
}

// streamLines opens the live stream at base as the signed-in browser and
// sends its lines, closing the channel when the stream ends.
func streamLines(t *testing.T, ctx context.Context, base string, session *http.Cookie) <-chan string {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, "GET", base+"/events/stream", nil)
	return streamOf(t, req, session)
}

// streamOf sends req as the signed-in browser and sends the stream's
// lines, closing the channel when it ends.
func streamOf(t *testing.T, req *http.Request, session *http.Cookie) <-chan string {
	t.Helper()
	req.AddCookie(session)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	if got := resp.Header.Get("Content-Type"); got != "text/event-stream" {
		t.Fatalf("got Content-Type %q, want text/event-stream", got)
	}
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	return lines
}
