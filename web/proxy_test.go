package web_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"postern/access"
	"postern/web"
)

func TestParsePrefixes(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{in: "", want: nil},
		{in: "10.0.0.0/8", want: []string{"10.0.0.0/8"}},
		{in: " 192.168.1.5 , fd00::/8", want: []string{"192.168.1.5/32", "fd00::/8"}},
		{in: "10.1.2.3/8", want: []string{"10.0.0.0/8"}},
		{in: "::1", want: []string{"::1/128"}},
		{in: "proxy.lan", wantErr: true},
		{in: "10.0.0.0/33", wantErr: true},
	}
	for _, tt := range tests {
		got, err := web.ParsePrefixes(tt.in)
		if (err != nil) != tt.wantErr {
			t.Errorf("%q: got error %v, want error %v", tt.in, err, tt.wantErr)
			continue
		}
		var s []string
		for _, p := range got {
			s = append(s, p.String())
		}
		if !slices.Equal(s, tt.want) {
			t.Errorf("%q: got %v, want %v", tt.in, s, tt.want)
		}
	}
}

func withTrustedProxy(cidrs ...string) func(*web.Config) {
	return func(c *web.Config) {
		ps, err := web.ParsePrefixes(strings.Join(cidrs, ","))
		if err != nil {
			panic(err)
		}
		c.TrustedProxies = ps
	}
}

// TestForwardedHeaders: X-Forwarded-For and X-Forwarded-Proto count only
// when the peer is a trusted proxy; otherwise anyone could pick the address
// their rate limit counts against, or claim TLS they do not have.
func TestForwardedHeaders(t *testing.T) {
	t.Parallel()
	const proxy, stranger, client = "10.0.0.2", "203.0.113.50", "198.51.100.7"
	tests := []struct {
		name       string
		trusted    []string
		peer       string
		xff, proto string
		wantIP     string
		wantSecure bool
	}{
		{name: "no proxy configured", peer: proxy, xff: client, proto: "https", wantIP: proxy},
		{name: "trusted proxy", trusted: []string{"10.0.0.0/24"}, peer: proxy, xff: client, proto: "https", wantIP: client, wantSecure: true},
		{name: "trusted proxy over plain HTTP", trusted: []string{"10.0.0.0/24"}, peer: proxy, xff: client, proto: "http", wantIP: client},
		{name: "a stranger's headers", trusted: []string{"10.0.0.0/24"}, peer: stranger, xff: client, proto: "https", wantIP: stranger},
		{name: "a forged entry before the proxy's", trusted: []string{"10.0.0.0/24"}, peer: proxy, xff: "192.0.2.1, " + client, wantIP: client},
		{name: "a chain of trusted proxies", trusted: []string{"10.0.0.0/24", "172.16.0.9"}, peer: proxy, xff: client + ", 172.16.0.9", proto: "https", wantIP: client, wantSecure: true},
		{name: "loopback is not trusted unless named", trusted: []string{"10.0.0.0/24"}, peer: "127.0.0.1", xff: client, proto: "https", wantIP: "127.0.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := newAdminEnv(t, withTrustedProxy(tt.trusted...))
			send := func(r *http.Request) *httptest.ResponseRecorder {
				r.RemoteAddr = tt.peer + ":40000"
				r.Header.Set("X-Forwarded-For", tt.xff)
				if tt.proto != "" {
					r.Header.Set("X-Forwarded-Proto", tt.proto)
				}
				return env.serve(r)
			}
			w := send(httptest.NewRequest(http.MethodGet, "/login", nil))
			secureCookie := cookie(w, "__Host-postern_csrf")
			hsts := w.Header().Get("Strict-Transport-Security")
			if got := secureCookie != nil && secureCookie.Secure; got != tt.wantSecure {
				t.Errorf("got __Host- Secure form cookie %v (cookies %v), want %v", got, w.Result().Cookies(), tt.wantSecure)
			}
			if got := hsts != ""; got != tt.wantSecure {
				t.Errorf("got HSTS %q, want it sent: %v", hsts, tt.wantSecure)
			}

			ck := secureCookie
			if ck == nil {
				ck = cookie(w, "postern_csrf")
			}
			r := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(loginForm(ck.Value, adminEmail, "wrong password!", "")))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.Header.Set("Origin", origin)
			r.AddCookie(ck)
			if w := send(r); w.Code != http.StatusUnauthorized {
				t.Fatalf("failed login: got status %d, want 401\n%s", w.Code, w.Body)
			}
			evs, _, err := env.s.Events(t.Context(), access.EventFilter{Kind: "admin.login_failed"})
			if err != nil || len(evs) != 1 {
				t.Fatalf("got %d login_failed events, %v; want 1", len(evs), err)
			}
			if got := strings.TrimPrefix(evs[0].Actor, "ip:"); got != tt.wantIP {
				t.Errorf("the failure was logged from %s, want %s", got, tt.wantIP)
			}
		})
	}
}

// TestRateLimitPerClientBehindProxy: behind a trusted proxy every client
// has its own login limit; without one, everyone behind the proxy shares
// the proxy's, and a stranger cannot escape its own by inventing addresses.
func TestRateLimitPerClientBehindProxy(t *testing.T) {
	t.Parallel()
	const proxy = "10.0.0.2"
	tests := []struct {
		name         string
		trusted      []string
		peer         string
		firstXFF     func(i int) string
		otherXFF     string
		wantOtherHit int // status of the other client's first try after the first client is limited
	}{
		{name: "trusted proxy: one limit per client", trusted: []string{"10.0.0.0/24"}, peer: proxy,
			firstXFF: func(int) string { return "198.51.100.7" }, otherXFF: "198.51.100.8", wantOtherHit: http.StatusUnauthorized},
		{name: "untrusted proxy: one limit for all behind it", peer: proxy,
			firstXFF: func(int) string { return "198.51.100.7" }, otherXFF: "198.51.100.8", wantOtherHit: http.StatusTooManyRequests},
		{name: "a stranger inventing addresses", trusted: []string{"10.0.0.0/24"}, peer: "203.0.113.50",
			firstXFF: func(i int) string { return "192.0.2." + itoa(int64(i+1)) }, otherXFF: "192.0.2.200", wantOtherHit: http.StatusTooManyRequests},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := newAdminEnv(t, withTrustedProxy(tt.trusted...))
			ck, csrf := env.preForm(t, "/login")
			post := func(xff, email string) int {
				r := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(loginForm(csrf, email, "wrong password!", "")))
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				r.Header.Set("Origin", origin)
				r.Header.Set("X-Forwarded-For", xff)
				r.RemoteAddr = tt.peer + ":40000"
				r.AddCookie(ck)
				return env.serve(r).Code
			}
			// Other emails each time, so only the address limit can bite.
			for i := range 10 {
				if got := post(tt.firstXFF(i), "guess"+itoa(int64(i))+"@example.com"); got != http.StatusUnauthorized {
					t.Fatalf("failure %d: got status %d, want 401", i+1, got)
				}
			}
			if got := post(tt.firstXFF(10), "guess-last@example.com"); got != http.StatusTooManyRequests {
				t.Errorf("11th try from the first client: got status %d, want 429", got)
			}
			if got := post(tt.otherXFF, "other@example.com"); got != tt.wantOtherHit {
				t.Errorf("the other client's first try: got status %d, want %d", got, tt.wantOtherHit)
			}
		})
	}
}
