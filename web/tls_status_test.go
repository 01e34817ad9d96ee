package web_test

import (
	"net/http"
	"testing"

	"postern/web"
)

func withTLS(st web.TLSStatus) func(*web.Config) {
	return func(c *web.Config) { c.TLS = st }
}

// TestPlainHTTPWarning: the dashboard warns whoever reached it over plain
// HTTP on the network, and nobody else.
func TestPlainHTTPWarning(t *testing.T) {
	t.Parallel()
	const warning = "plain-http-warning"
	t.Run("plain HTTP on the network", func(t *testing.T) {
		t.Parallel()
		env := newLoggedInEnv(t, withTLS(web.TLSStatus{Mode: "off", PlainOnNetwork: true}))
		env.runPages(t, []scenario{
			{name: "dashboard", method: "GET", url: "/", wantStatus: 200, wantTestIDs: map[string]string{warning: "plain HTTP"}},
		})
	})
	t.Run("the same, reached through a TLS proxy", func(t *testing.T) {
		t.Parallel()
		env := newLoggedInEnv(t, withTLS(web.TLSStatus{Mode: "off", PlainOnNetwork: true}), withTrustedProxy("192.0.2.0/24"))
		// What a browser that signed in through the proxy holds.
		env.session = &http.Cookie{Name: "__Host-postern_session", Value: env.session.Value}
		env.runPages(t, []scenario{
			// httptest's requests come from 192.0.2.1.
			{name: "dashboard", method: "GET", url: "/", headers: map[string]string{"X-Forwarded-Proto": "https"}, wantStatus: 200,
				wantNotContains: []string{warning}},
		})
	})
	t.Run("loopback", func(t *testing.T) {
		t.Parallel()
		env := newLoggedInEnv(t, withTLS(web.TLSStatus{Mode: "off"}))
		env.runPages(t, []scenario{
			{name: "dashboard", method: "GET", url: "/", wantStatus: 200, wantNotContains: []string{warning}},
		})
	})
}

// TestSettingsShowTLS: the settings page says how the appliance serves
// HTTPS and shows a self-signed certificate's fingerprint for the first
// admin to compare with the browser's.
func TestSettingsShowTLS(t *testing.T) {
	t.Parallel()
	const fp = "AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89"
	tests := []struct {
		name    string
		status  web.TLSStatus
		want    map[string]string
		wantNot []string
	}{
		{name: "self-signed", status: web.TLSStatus{Mode: "self-signed", Fingerprint: fp},
			want: map[string]string{"tls-mode": "Self-signed", "tls-fingerprint": fp}},
		{name: "acme", status: web.TLSStatus{Mode: "acme"}, want: map[string]string{"tls-mode": "renewed automatically"}, wantNot: []string{"tls-fingerprint"}},
		{name: "off", status: web.TLSStatus{Mode: "off"}, want: map[string]string{"tls-mode": "Plain HTTP"}, wantNot: []string{"tls-fingerprint"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := newLoggedInEnv(t, withTLS(tt.status))
			env.runPages(t, []scenario{
				{name: "settings", method: "GET", url: "/settings", wantStatus: 200, wantTestIDs: tt.want, wantNotContains: tt.wantNot},
			})
		})
	}
}
