package webhook

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestSignAndVerify(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	body := []byte(`{"kind":"door.forced"}`)
	sig := Sign("s3cret", now, body)
	tests := []struct {
		name      string
		secret    string
		ts        string
		sig       string
		body      string
		wantError error
	}{
		{"as sent", "s3cret", "1800000000", sig, string(body), nil},
		{"another secret", "other", "1800000000", sig, string(body), ErrBadSignature},
		{"a changed body", "s3cret", "1800000000", sig, `{"kind":"door.opened"}`, ErrBadSignature},
		{"a changed timestamp", "s3cret", "1800000001", sig, string(body), ErrBadSignature},
		{"an old post replayed", "s3cret", "1799999000", Sign("s3cret", time.Unix(1799999000, 0), body), string(body), ErrStale},
		{"no timestamp", "s3cret", "", sig, string(body), ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := Verify(tt.secret, tt.ts, tt.sig, []byte(tt.body), now, 5*time.Minute); err != tt.wantError {
				t.Errorf("got %v, want %v", err, tt.wantError)
			}
		})
	}
	if !strings.HasPrefix(sig, "sha256=") || len(sig) != len("sha256=")+64 {
		t.Errorf("signature %q is not sha256= and a hex HMAC-SHA256", sig)
	}
}

// memQueue is a Queue in memory, recording what the worker marks.
type memQueue struct {
	mu    sync.Mutex
	items map[int64]*memItem
}

type memItem struct {
	d         Delivery
	next      time.Time
	status    string
	lastError string
}

func (q *memQueue) DueDeliveries(ctx context.Context, now time.Time, limit int) ([]Delivery, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []Delivery
	for _, it := range q.items {
		if it.status == "queued" && !it.next.After(now) {
			out = append(out, it.d)
		}
	}
	return out, nil
}

func (q *memQueue) MarkDelivered(ctx context.Context, id int64, at time.Time) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.items[id].status = "sent"
	return nil
}

func (q *memQueue) MarkFailed(ctx context.Context, id int64, at time.Time, errText string, next time.Time, permanent bool) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	it := q.items[id]
	it.d.Attempts++
	it.lastError, it.next = errText, next
	if permanent {
		it.status = "failed"
	}
	return nil
}

// TestWorker: a receiver that checks signatures takes a delivery after a
// failure and a backoff; a refusal is given up at once.
func TestWorker(t *testing.T) {
	const secret = "hook-secret"
	var mu sync.Mutex
	calls := map[string]int{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		calls[r.URL.Path]++
		n := calls[r.URL.Path]
		mu.Unlock()
		if err := Verify(secret, r.Header.Get(HeaderTimestamp), r.Header.Get(HeaderSignature), body, time.Now(), time.Minute); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		switch {
		case r.URL.Path == "/flaky" && n == 1:
			http.Error(w, "busy", http.StatusServiceUnavailable)
		case r.URL.Path == "/gone":
			http.Error(w, "no such hook", http.StatusNotFound)
		}
	}))
	defer srv.Close()
	now := time.Now()
	clock := func() time.Time { return now }
	q := &memQueue{items: map[int64]*memItem{
		1: {d: Delivery{ID: 1, URL: srv.URL + "/flaky", Secret: secret, Kind: "door.forced", Payload: []byte(`{"id":1}`)}, status: "queued"},
		2: {d: Delivery{ID: 2, URL: srv.URL + "/gone", Secret: secret, Kind: "door.forced", Payload: []byte(`{"id":2}`)}, status: "queued"},
		3: {d: Delivery{ID: 3, URL: srv.URL + "/wrong-secret", Secret: "not the receiver's", Kind: "door.forced", Payload: []byte(`{"id":3}`)}, status: "queued"},
	}}
	w := NewWorker(q, Options{Now: clock, BackoffBase: time.Minute})
	w.Drain(t.Context())
	want := map[int64]string{1: "queued", 2: "failed", 3: "failed"}
	for id, st := range want {
		if got := q.items[id].status; got != st {
			t.Errorf("delivery %d after one round: %s (%s), want %s", id, got, q.items[id].lastError, st)
		}
	}
	if e := q.items[1].lastError; !strings.Contains(e, "503") || !strings.Contains(e, "busy") {
		t.Errorf("the last error %q does not say what the receiver answered", e)
	}
	if !q.items[1].next.After(now) || q.items[1].next.After(now.Add(time.Minute)) {
		t.Errorf("retry at %v, want within the first backoff after %v", q.items[1].next, now)
	}
	// Not due yet: nothing is sent.
	w.Drain(t.Context())
	if calls["/flaky"] != 1 {
		t.Fatalf("the flaky receiver was called %d times before its retry was due", calls["/flaky"])
	}
	now = now.Add(time.Minute)
	w.Drain(t.Context())
	if got := q.items[1].status; got != "sent" {
		t.Errorf("after the backoff: %s (%s), want sent", got, q.items[1].lastError)
	}
}

func TestBackoff(t *testing.T) {
	w := NewWorker(&memQueue{}, Options{BackoffBase: 10 * time.Second, BackoffMax: time.Minute})
	for _, tt := range []struct {
		attempts int
		max      time.Duration
	}{{1, 10 * time.Second}, {2, 20 * time.Second}, {3, 40 * time.Second}, {4, time.Minute}, {9, time.Minute}} {
		if got := w.backoff(tt.attempts); got > tt.max || got < tt.max*4/5-time.Second {
			t.Errorf("after %d failures: %v, want about %v", tt.attempts, got, tt.max)
		}
	}
}
