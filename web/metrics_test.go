package web_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"postern/access"
	"postern/store"
	"postern/web"
	"postern/web/metricstest"
)

// withMetrics serves /metrics to the allow-listed ranges.
func withMetrics(m **web.Metrics, allow string) func(*web.Config) {
	return func(c *web.Config) {
		*m = web.NewMetrics(c.Store, "v1.2.3")
		c.Metrics = *m
		ps, err := web.ParsePrefixes(allow)
		if err != nil {
			panic(err)
		}
		c.MetricsAllow = ps
	}
}

// scrape fetches /metrics and parses it with Prometheus's own parser.
func scrape(t *testing.T, env *env, r *http.Request) metricstest.Families {
	t.Helper()
	w := env.serve(r)
	if w.Code != http.StatusOK {
		t.Fatalf("GET /metrics: got %d\n%s", w.Code, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain; version=0.0.4") {
		t.Errorf("Content-Type %q, want the Prometheus text format", ct)
	}
	fams, err := metricstest.Parse(w.Body)
	if err != nil {
		t.Fatalf("parse /metrics: %v", err)
	}
	return fams
}

// TestMetricsAccess: /metrics is never public: an allow-listed address or
// an API token, nothing else.
func TestMetricsAccess(t *testing.T) {
	t.Parallel()
	var m *web.Metrics
	env := newAdminEnv(t, withMetrics(&m, "10.9.0.0/16"), withTrustedProxy("10.0.0.2"))
	tests := []struct {
		name       string
		peer, xff  string
		auth       string
		wantStatus int
	}{
		{name: "a stranger", peer: "203.0.113.5", wantStatus: http.StatusUnauthorized},
		{name: "a stranger with a made-up token", peer: "203.0.113.5", auth: "Bearer not-a-token", wantStatus: http.StatusUnauthorized},
		{name: "an API token", peer: "203.0.113.5", auth: "Bearer " + env.token, wantStatus: http.StatusOK},
		{name: "an allow-listed scraper", peer: "10.9.3.4", wantStatus: http.StatusOK},
		{name: "an allow-listed scraper through the trusted proxy", peer: "10.0.0.2", xff: "10.9.3.4", wantStatus: http.StatusOK},
		{name: "an allow-listed address claimed by a stranger", peer: "203.0.113.5", xff: "10.9.3.4", wantStatus: http.StatusUnauthorized},
		{name: "loopback is not allowed unless listed", peer: "127.0.0.1", wantStatus: http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/metrics", nil)
			r.RemoteAddr = tt.peer + ":50000"
			if tt.xff != "" {
				r.Header.Set("X-Forwarded-For", tt.xff)
			}
			if tt.auth != "" {
				r.Header.Set("Authorization", tt.auth)
			}
			w := env.serve(r)
			if w.Code != tt.wantStatus {
				t.Errorf("got %d, want %d\n%s", w.Code, tt.wantStatus, w.Body)
			}
			if w.Code == http.StatusOK && !strings.Contains(w.Body.String(), "postern_build_info") {
				t.Error("200 without the metrics")
			}
		})
	}
	t.Run("without metrics there is no route", func(t *testing.T) {
		plain := newAdminEnv(t)
		r := httptest.NewRequest(http.MethodGet, "/metrics", nil)
		r.Header.Set("Authorization", "Bearer "+plain.token)
		if w := plain.serve(r); w.Code == http.StatusOK || strings.Contains(w.Body.String(), "postern_") {
			t.Errorf("got %d with %q, want no metrics", w.Code, w.Body)
		}
	})
}

// TestMetricsContent: every metric the issue names, scraped and parsed as
// Prometheus would.
func TestMetricsContent(t *testing.T) {
	t.Parallel()
	var m *web.Metrics
	env := newAdminEnv(t, withMetrics(&m, "192.0.2.0/24"))
	ctx := t.Context()
	front := &access.AccessPoint{Name: "Front door", Reader: "sim:front", Mode: access.ModeDirect}
	if err := env.s.CreateAccessPoint(ctx, "test", front); err != nil {
		t.Fatal(err)
	}
	if err := env.s.CreateAccessPoint(ctx, "test", &access.AccessPoint{Name: "Car park", Reader: "hci1", Mode: access.ModeLongRange}); err != nil {
		t.Fatal(err)
	}
	m.WatchReaders(func() []int64 { return []int64{front.ID} })
	if _, err := env.s.QueueMail(ctx, "test", store.Mail{Kind: "test", Recipient: "ann@example.com", Subject: "hello", Message: "{}"}); err != nil {
		t.Fatal(err)
	}

	m.Event(access.Event{Kind: "access.granted", Reason: "granted", Latency: 120 * time.Millisecond})
	m.Event(access.Event{Kind: "access.granted", Reason: "granted", Latency: 90 * time.Millisecond})
	m.Event(access.Event{Kind: "access.denied", Reason: "no permission", Latency: 80 * time.Millisecond})
	m.Event(access.Event{Kind: "access.rejected", Reason: "late"})
	m.Event(access.Event{Kind: "user.created"})
	m.MailAttempt(errors.New("connection refused"), false)
	m.MailAttempt(errors.New("550 no such user"), true)
	m.MailAttempt(nil, false)
	env.serve(httptest.NewRequest(http.MethodGet, "/login", nil))
	env.serve(httptest.NewRequest(http.MethodGet, "/users/42", nil)) // not signed in: 303
	env.serve(httptest.NewRequest(http.MethodGet, "/no/such/page", nil))
	env.serve(httptest.NewRequest(http.MethodGet, "/other/missing", nil))

	fams := scrape(t, env, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	tests := []struct {
		name   string
		labels map[string]string
		want   float64
	}{
		{"postern_presentations_total", map[string]string{"result": "granted", "reason": "granted"}, 2},
		{"postern_presentations_total", map[string]string{"result": "denied", "reason": "no permission"}, 1},
		{"postern_presentations_total", map[string]string{"result": "rejected", "reason": "late"}, 1},
		{"postern_decision_latency_seconds", nil, 3}, // decisions only, not the refused response
		{"postern_reader_up", map[string]string{"access_point": "Front door"}, 1},
		{"postern_reader_up", map[string]string{"access_point": "Car park"}, 0},
		{"postern_outbox_queued", nil, 1},
		{"postern_outbox_failures_total", map[string]string{"outcome": "retry"}, 1},
		{"postern_outbox_failures_total", map[string]string{"outcome": "gave_up"}, 1},
		{"postern_http_requests_total", map[string]string{"route": "/login", "method": "GET", "code": "200"}, 1},
		{"postern_http_requests_total", map[string]string{"route": "/users/:id", "method": "GET", "code": "303"}, 1},
		// Unknown paths share one series, the catch-all's (signed out:
		// sent to the login page), not one each.
		{"postern_http_requests_total", map[string]string{"route": "/*", "method": "GET", "code": "303"}, 2},
		{"postern_build_info", map[string]string{"version": "v1.2.3"}, 1},
	}
	for _, tt := range tests {
		if got, ok := fams.Value(tt.name, tt.labels); !ok || got != tt.want {
			t.Errorf("%s%v: got %v (present %v), want %v", tt.name, tt.labels, got, ok, tt.want)
		}
	}
	if size, ok := fams.Value("postern_database_size_bytes", nil); !ok || size < 4096 {
		t.Errorf("postern_database_size_bytes: got %v (present %v), want the file's size", size, ok)
	}
	h := fams["postern_decision_latency_seconds"].GetMetric()[0].GetHistogram()
	if got := h.GetSampleSum(); got < 0.289 || got > 0.291 {
		t.Errorf("latency sum %v s, want 0.29", got)
	}
	for _, f := range []string{"go_goroutines", "process_start_time_seconds"} {
		if fams[f] == nil {
			t.Errorf("no %s: the runtime and process collectors are missing", f)
		}
	}
}
