package main

import (
	"log/slog"
	"net"
	"strings"
	"testing"
)

func TestChooseTLSMode(t *testing.T) {
	loopback := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}
	lan := &net.TCPAddr{IP: net.IPv4zero, Port: 8443}
	tests := []struct {
		name        string
		flags       tlsFlags
		listen      net.Addr
		publicURL   string
		behindProxy bool
		want        string
		wantErr     string
	}{
		{name: "first run on this machine", flags: tlsFlags{mode: tlsAuto}, listen: loopback, want: tlsOff},
		{name: "loopback behind a local proxy with a public name", flags: tlsFlags{mode: tlsAuto}, listen: loopback, publicURL: "https://doors.example.com", want: tlsOff},
		{name: "the network with a public name", flags: tlsFlags{mode: tlsAuto}, listen: lan, publicURL: "https://doors.example.com", want: tlsACME},
		{name: "the network, no public name", flags: tlsFlags{mode: tlsAuto}, listen: lan, want: tlsSelfSigned},
		{name: "the network, a LAN name", flags: tlsFlags{mode: tlsAuto}, listen: lan, publicURL: "https://doors.lan", want: tlsSelfSigned},
		{name: "the network behind a proxy", flags: tlsFlags{mode: tlsAuto}, listen: lan, publicURL: "https://doors.example.com", behindProxy: true, want: tlsOff},
		{name: "own files", flags: tlsFlags{mode: tlsAuto, certFile: "c.pem", keyFile: "k.pem"}, listen: loopback, want: tlsFiles},
		{name: "explicitly off on the network", flags: tlsFlags{mode: tlsOff}, listen: lan, want: tlsOff},
		{name: "a certificate without its key", flags: tlsFlags{mode: tlsAuto, certFile: "c.pem"}, listen: lan, wantErr: "go together"},
		{name: "files without files", flags: tlsFlags{mode: tlsFiles}, listen: lan, wantErr: "--tls-cert"},
		{name: "acme without a public URL", flags: tlsFlags{mode: tlsACME}, listen: lan, wantErr: "--public-url https://NAME"},
		{name: "acme for an address", flags: tlsFlags{mode: tlsACME}, listen: lan, publicURL: "https://192.168.1.20", wantErr: "--public-url https://NAME"},
		{name: "a certificate with another mode", flags: tlsFlags{mode: tlsSelfSigned, certFile: "c.pem", keyFile: "k.pem"}, listen: lan, wantErr: "--tls is self-signed"},
		{name: "unknown", flags: tlsFlags{mode: "yes"}, listen: lan, wantErr: "want auto, off"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.flags.chooseMode(tt.listen, tt.publicURL, tt.behindProxy)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("got %q, %v; want an error with %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestPublicName(t *testing.T) {
	tests := map[string]string{
		"https://doors.example.com":       "doors.example.com",
		"https://Doors.Example.com.:8443": "doors.example.com",
		"http://doors.example.com":        "",
		"https://192.168.1.20":            "",
		"https://gateway":                 "",
		"https://gateway.local":           "",
		"https://doors.home.arpa":         "",
		"https://doors.internal":          "",
		"":                                "",
	}
	for in, want := range tests {
		if got := publicName(in); got != want {
			t.Errorf("publicName(%q): got %q, want %q", in, got, want)
		}
	}
}

// TestPlainHTTPOnTheNetworkWarns: plain HTTP anywhere but loopback is
// said loudly at start and flagged for the dashboard; loopback is quiet.
func TestPlainHTTPOnTheNetworkWarns(t *testing.T) {
	tests := []struct {
		name     string
		listen   net.Addr
		wantWarn bool
	}{
		{"loopback", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}, false},
		{"IPv6 loopback", &net.TCPAddr{IP: net.IPv6loopback, Port: 8080}, false},
		{"every interface", &net.TCPAddr{IP: net.IPv4zero, Port: 8080}, true},
		{"a LAN address", &net.TCPAddr{IP: net.IPv4(192, 168, 1, 20), Port: 8080}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf strings.Builder
			s := &tlsSetup{mode: tlsOff}
			s.announce(t.Context(), slog.New(slog.NewTextHandler(&buf, nil)), tt.listen, nil)
			warned := strings.Contains(buf.String(), "level=WARN") && strings.Contains(buf.String(), "PLAIN HTTP ON THE NETWORK")
			if warned != tt.wantWarn || s.status(tt.listen).PlainOnNetwork != tt.wantWarn {
				t.Errorf("got warning %v, dashboard flag %v; want %v\n%s", warned, s.status(tt.listen).PlainOnNetwork, tt.wantWarn, buf.String())
			}
		})
	}
}

// TestServeEnvDefaults: the new serve flags come from POSTERN_<FLAG> too;
// each row's value is refused, which shows it was read.
func TestServeEnvDefaults(t *testing.T) {
	tests := []struct {
		env, value, wantErr string
	}{
		{"POSTERN_TLS", "sometimes", `--tls "sometimes"`},
		{"POSTERN_TLS_CERT", "cert.pem", "--tls-cert and --tls-key go together"},
		{"POSTERN_LOG_FORMAT", "xml", `--log-format "xml"`},
		{"POSTERN_METRICS_ALLOW", "0.0.0.0/0", "metrics are never public"},
		{"POSTERN_TRUSTED_PROXY", "the proxy", "--trusted-proxy"},
	}
	for _, tt := range tests {
		t.Run(tt.env, func(t *testing.T) {
			t.Setenv(tt.env, tt.value)
			var out, errb strings.Builder
			code := run([]string{"serve", "--data", t.TempDir(), "--listen", "127.0.0.1:0", "--radio", "sim", "--air", "127.0.0.1:0"},
				stdio{in: strings.NewReader(""), out: &out, err: &errb})
			if code != 1 || !strings.Contains(errb.String(), tt.wantErr) {
				t.Errorf("got exit %d, %q; want exit 1 with %q", code, errb.String(), tt.wantErr)
			}
		})
	}
}
