package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"postern/web"
)

// TestPagesTakeTurns: with one page slot, a second API call waits while
// the first is still being worked on, and goes ahead once it is done; the
// doors' decisions keep the rest of the machine.
func TestPagesTakeTurns(t *testing.T) {
	t.Parallel()
	inside, release := make(chan struct{}), make(chan struct{})
	env := newAdminEnv(t, func(c *web.Config) {
		c.PageSlots = 1
		c.Touch = func(int64) bool {
			close(inside)
			<-release
			return true
		}
	})
	ap := env.create(t, "access-points", `{"name":"Lab","reader":"sim:lab","mode":"touch"}`)

	first := make(chan int, 1)
	go func() { first <- env.api("POST", "/api/v1/access-points/"+itoa(ap)+"/touch", "").Code }()
	<-inside
	second := make(chan int, 1)
	go func() { second <- env.api("GET", "/api/v1/users", "").Code }()
	select {
	case code := <-second:
		t.Fatalf("the second call was answered (%d) while the first held the only slot", code)
	case <-time.After(100 * time.Millisecond):
	}
	close(release)
	if code := <-first; code != http.StatusOK {
		t.Errorf("the first call: got %d, want 200", code)
	}
	if code := <-second; code != http.StatusOK {
		t.Errorf("the second call: got %d, want 200", code)
	}
}

// TestStreamsHoldNoSlot: with one page slot, a browser watching an
// import's progress does not keep every other page waiting.
func TestStreamsHoldNoSlot(t *testing.T) {
	t.Parallel()
	env := newLoggedInEnv(t, func(c *web.Config) { c.PageSlots = 1 })
	page := env.upload(t, "one.csv", "first_name,last_name\nAnn,Lee\n", false)

	// Not run: the progress stream stays open until it is cancelled.
	ctx, cancel := context.WithCancel(t.Context())
	w := &streamWriter{header: http.Header{}, first: make(chan struct{})}
	streamed := make(chan struct{})
	go func() {
		defer close(streamed)
		r := httptest.NewRequestWithContext(ctx, http.MethodGet, page+"/progress", nil)
		r.AddCookie(env.session)
		env.e.ServeHTTP(w, r)
	}()
	<-w.first
	answered := make(chan int, 1)
	go func() { answered <- env.get("/users").Code }()
	select {
	case code := <-answered:
		if code != http.StatusOK {
			t.Errorf("users list: got %d, want 200", code)
		}
	case <-time.After(time.Minute):
		t.Error("the users list waited for the progress stream to end")
	}
	cancel()
	<-streamed
}

// streamWriter is a ResponseWriter that says when the first bytes came.
type streamWriter struct {
	header http.Header
	once   sync.Once
	first  chan struct{}
}

func (w *streamWriter) Header() http.Header { return w.header }
func (w *streamWriter) WriteHeader(int)     {}
func (w *streamWriter) Flush()              {}
func (w *streamWriter) Write(p []byte) (int, error) {
	w.once.Do(func() { close(w.first) })
	return len(p), nil
}
