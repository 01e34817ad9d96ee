package mail

import (
	"fmt"
	"strings"
	"testing"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		url  string
		want Config
	}{
		{"smtp://mail.example.com", Config{Host: "mail.example.com", Port: 587, TLS: StartTLS}},
		{"smtp://u:p@mail.example.com?tls=starttls", Config{Host: "mail.example.com", Port: 587, Username: "u", Password: "p", TLS: StartTLS}},
		{"smtp://u:p@mail.example.com?tls=tls", Config{Host: "mail.example.com", Port: 465, Username: "u", Password: "p", TLS: ImplicitTLS}},
		{"smtp://mail.example.com?tls=none", Config{Host: "mail.example.com", Port: 25, TLS: NoTLS}},
		{"smtp://mail.example.com:2525?tls=none", Config{Host: "mail.example.com", Port: 2525, TLS: NoTLS}},
		{"smtp://postern%40acme.example:p%3Ass%40w0rd@[::1]:1025/", Config{Host: "::1", Port: 1025, Username: "postern@acme.example", Password: "p:ss@w0rd"}},
		{"smtp://127.0.0.1:1465?tls=tls&insecure_skip_verify=1", Config{Host: "127.0.0.1", Port: 1465, TLS: ImplicitTLS, InsecureSkipVerify: true}},
		{"smtp://h?insecure_skip_verify=false&helo=gate.acme.example", Config{Host: "h", Port: 587, LocalName: "gate.acme.example"}},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			got, err := ParseURL(tt.url)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %#v (password %q), want %#v (password %q)", got, got.Password, tt.want, tt.want.Password)
			}
		})
	}
}

func TestParseURLErrors(t *testing.T) {
	for _, u := range []string{
		"",
		"mail.example.com",
		"smtps://mail.example.com",
		"http://mail.example.com",
		"smtp:mail.example.com",
		"smtp:///?tls=none",
		"smtp://mail.example.com/inbox",
		"smtp://mail.example.com#x",
		"smtp://mail.example.com?tls=ssl",
		"smtp://mail.example.com?tsl=none",
		"smtp://mail.example.com?tls=none&tls=tls",
		"smtp://mail.example.com?insecure_skip_verify=yes",
		"smtp://mail.example.com?helo=a%20b",
		"smtp://mail.example.com:0",
		"smtp://mail.example.com:70000",
		"smtp://mail.example.com:smtp",
	} {
		if c, err := ParseURL(u); err == nil {
			t.Errorf("ParseURL(%q): got %v, want an error", u, c)
		}
	}
}

func TestConfigNeverShowsPassword(t *testing.T) {
	const secret = "hunter2-very-secret"
	c, err := ParseURL("smtp://postern:" + secret + "@mail.example.com:2525?tls=tls&insecure_skip_verify=1")
	if err != nil {
		t.Fatal(err)
	}
	for name, s := range map[string]string{
		"String":   c.String(),
		"Redacted": c.Redacted(),
		"%v":       fmt.Sprintf("%v", c),
		"%+v":      fmt.Sprintf("%+v", c),
		"%#v":      fmt.Sprintf("%#v", c),
	} {
		if strings.Contains(s, secret) {
			t.Errorf("%s shows the password: %s", name, s)
		}
	}
	if got, want := c.Redacted(), "smtp://postern:xxxxx@mail.example.com:2525?insecure_skip_verify=1&tls=tls"; got != want {
		t.Errorf("Redacted: got %q, want %q", got, want)
	}
	// Redacted parses back to the same settings, bar the password.
	back, err := ParseURL(c.Redacted())
	if err != nil {
		t.Fatal(err)
	}
	back.Password = c.Password
	if back != c {
		t.Errorf("round trip: got %v, want %v", back, c)
	}

	for _, bad := range []string{
		"smtp://postern:" + secret + "@mail example.com",
		"smtp://postern:" + secret + "@mail.example.com:99999",
		"smtp://postern:" + secret + "@mail.example.com?tls=bogus",
		"smtp://postern:" + secret + "@mail.example.com:port",
	} {
		_, err := ParseURL(bad)
		if err == nil {
			t.Errorf("ParseURL(%q) succeeded", bad)
			continue
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error shows the password: %v", err)
		}
	}
}

func TestTLSModeString(t *testing.T) {
	tests := []struct {
		m    TLSMode
		want string
		port int
	}{
		{StartTLS, "starttls", 587},
		{ImplicitTLS, "tls", 465},
		{NoTLS, "none", 25},
	}
	for _, tt := range tests {
		if got := tt.m.String(); got != tt.want {
			t.Errorf("String: got %q, want %q", got, tt.want)
		}
		if got := tt.m.DefaultPort(); got != tt.port {
			t.Errorf("%v DefaultPort: got %d, want %d", tt.m, got, tt.port)
		}
	}
}
