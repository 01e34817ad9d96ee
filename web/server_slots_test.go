package web_test

import (
	"net/http"
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
