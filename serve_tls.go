package main

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"postern/web"
	"postern/web/tlsconf"
)

// The ways serve can answer HTTPS (--tls).
const (
	tlsAuto       = "auto"
	tlsOff        = "off"
	tlsACME       = "acme"
	tlsFiles      = "files"
	tlsSelfSigned = "self-signed"
)

// tlsFlags are serve's HTTPS flags.
type tlsFlags struct {
	mode          string
	certFile      string
	keyFile       string
	acmeEmail     string
	acmeDirectory string
	acmeCA        string
	httpListen    string
}

func (f *tlsFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.mode, "tls", tlsAuto, "auto, off, acme, self-signed or files (auto: files if --tls-cert is set, off on loopback, acme for an https --public-url with a public name, else self-signed)")
	fs.StringVar(&f.certFile, "tls-cert", "", "certificate file (PEM, with its chain), reloaded when it changes")
	fs.StringVar(&f.keyFile, "tls-key", "", "private key file (PEM) of --tls-cert")
	fs.StringVar(&f.acmeEmail, "acme-email", "", "address the ACME CA writes to about the certificate (expiry, problems)")
	fs.StringVar(&f.acmeDirectory, "acme-directory", "", "ACME directory URL, for a private CA or a staging directory (default Let's Encrypt)")
	fs.StringVar(&f.acmeCA, "acme-ca", "", "PEM file of root certificates to trust for --acme-directory (a private CA)")
	fs.StringVar(&f.httpListen, "http-listen", "", `plain-HTTP address that redirects to HTTPS and answers ACME HTTP-01 challenges; "off" for none (default ":80" with --tls acme or when --listen is port 443)`)
}

// chooseMode settles --tls auto. The order says what each setup means:
// certificate files are the operator's explicit choice; loopback needs no
// TLS; behind a trusted proxy the proxy has it; an https public URL with a
// public name can get a real certificate; anything else on a network gets
// a self-signed one rather than plain HTTP.
func (f *tlsFlags) chooseMode(listen net.Addr, publicURL string, behindProxy bool) (string, error) {
	if (f.certFile == "") != (f.keyFile == "") {
		return "", errors.New("--tls-cert and --tls-key go together")
	}
	mode := f.mode
	if mode == tlsAuto {
		switch {
		case f.certFile != "":
			mode = tlsFiles
		case isLoopback(listen):
			mode = tlsOff
		case behindProxy:
			mode = tlsOff
		case publicName(publicURL) != "":
			mode = tlsACME
		default:
			mode = tlsSelfSigned
		}
	}
	switch mode {
	case tlsOff, tlsSelfSigned:
	case tlsFiles:
		if f.certFile == "" {
			return "", errors.New("--tls files needs --tls-cert and --tls-key")
		}
	case tlsACME:
		if u, err := url.Parse(publicURL); err != nil || u.Scheme != "https" || net.ParseIP(u.Hostname()) != nil || !strings.Contains(u.Hostname(), ".") {
			return "", fmt.Errorf("--tls acme needs --public-url https://NAME, the public name the certificate is for (got %q)", publicURL)
		}
	default:
		return "", fmt.Errorf("--tls %q: want auto, off, acme, self-signed or files", f.mode)
	}
	if f.certFile != "" && mode != tlsFiles {
		return "", fmt.Errorf("--tls-cert is set but --tls is %s", mode)
	}
	return mode, nil
}

// tlsSetup is serve's HTTPS once chosen.
type tlsSetup struct {
	mode        string
	config      *tls.Config // nil: plain HTTP
	fingerprint string      // of a self-signed certificate
	acme        *tlsconf.ACME
	// redirect serves --http-listen: HTTPS redirects, and ACME's HTTP-01.
	redirect       http.Handler
	httpListen     string
	httpListenAuto bool // chosen by default: failing to bind it is a warning, not an error
}

// setup makes the certificates for mode. publicURL is already settled.
func (f *tlsFlags) setup(mode, data, publicURL string, listen net.Addr, log *slog.Logger) (*tlsSetup, error) {
	s := &tlsSetup{mode: mode}
	switch mode {
	case tlsOff:
		return s, nil
	case tlsFiles:
		files, err := tlsconf.LoadFiles(f.certFile, f.keyFile, log)
		if err != nil {
			return nil, err
		}
		s.config = tlsconf.ServerConfig(files.GetCertificate)
	case tlsSelfSigned:
		names, also := selfSignedNames(publicURL, listen)
		cert, made, err := tlsconf.SelfSigned{Dir: filepath.Join(data, "tls"), Names: names, Also: also}.Load()
		if err != nil {
			return nil, err
		}
		s.fingerprint = tlsconf.Fingerprint(cert.Leaf.Raw)
		if made {
			log.Info("made a new self-signed certificate", "names", strings.Join(append(cert.Leaf.DNSNames, ipStrings(cert.Leaf.IPAddresses)...), ","), "sha256", s.fingerprint)
		}
		s.config = tlsconf.ServerConfig(func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return &cert, nil })
	case tlsACME:
		u, _ := url.Parse(publicURL)
		a, err := tlsconf.NewACME(tlsconf.ACMEConfig{Host: u.Hostname(), Email: f.acmeEmail, Directory: f.acmeDirectory,
			CAFile: f.acmeCA, CacheDir: filepath.Join(data, "acme"), Log: log})
		if err != nil {
			return nil, err
		}
		s.acme = a
		s.config = tlsconf.ServerConfig(a.GetCertificate, a.NextProto())
	}
	s.redirect = tlsconf.Redirect(publicURL)
	if s.acme != nil {
		s.redirect = s.acme.HTTPHandler(s.redirect)
	}
	s.httpListen = f.httpListen
	if s.httpListen == "" {
		_, port, _ := net.SplitHostPort(listen.String())
		if mode == tlsACME || port == "443" {
			s.httpListen, s.httpListenAuto = ":80", true
		}
	}
	if s.httpListen == "off" {
		s.httpListen = ""
	}
	return s, nil
}

// status is what the pages say about HTTPS.
func (s *tlsSetup) status(listen net.Addr) web.TLSStatus {
	return web.TLSStatus{Mode: s.mode, Fingerprint: s.fingerprint, PlainOnNetwork: s.config == nil && !isLoopback(listen)}
}

// listenHTTP binds --http-listen, or returns nil when there is none. A
// port chosen by default that cannot be bound (port 80 without the
// capability) is logged and skipped: TLS-ALPN-01 on 443 still works.
func (s *tlsSetup) listenHTTP(log *slog.Logger) (net.Listener, error) {
	if s.config == nil || s.httpListen == "" {
		return nil, nil
	}
	ln, err := net.Listen("tcp", s.httpListen)
	if err != nil && s.httpListenAuto {
		log.Warn("cannot listen for plain HTTP, so no redirect to HTTPS and no ACME HTTP-01 challenge (set --http-listen, or off)", "http_listen", s.httpListen, "err", err)
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("--http-listen: %w", err)
	}
	return ln, nil
}

// selfSignedNames are the names a self-signed certificate must have (the
// public URL's host, a specific listen address) and those it gets when
// made (this machine's name and addresses).
func selfSignedNames(publicURL string, listen net.Addr) (names, also []string) {
	if u, err := url.Parse(publicURL); err == nil && u.Hostname() != "" {
		names = append(names, u.Hostname())
	}
	host, _, _ := net.SplitHostPort(listen.String())
	ip := net.ParseIP(host)
	if ip != nil && !ip.IsUnspecified() {
		names = append(names, ip.String())
	}
	also = []string{"localhost", "127.0.0.1", "::1"}
	if h, err := os.Hostname(); err == nil && h != "" {
		also = append(also, h)
		if !strings.Contains(h, ".") {
			also = append(also, h+".local")
		}
	}
	if ip == nil || ip.IsUnspecified() {
		if addrs, err := net.InterfaceAddrs(); err == nil {
			for _, a := range addrs {
				if n, ok := a.(*net.IPNet); ok && n.IP.IsGlobalUnicast() {
					also = append(also, n.IP.String())
				}
			}
		}
	}
	return names, also
}

// publicName returns the host of an https URL when it is a name the
// public DNS can resolve and a public CA can certify, else "".
func publicName(publicURL string) string {
	u, err := url.Parse(publicURL)
	if err != nil || u.Scheme != "https" {
		return ""
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	if net.ParseIP(host) != nil || !strings.Contains(host, ".") {
		return ""
	}
	for _, private := range []string{".local", ".lan", ".home", ".internal", ".intranet", ".corp", ".localdomain", ".localhost", ".home.arpa", ".test", ".example", ".invalid"} {
		if strings.HasSuffix(host, private) {
			return ""
		}
	}
	return host
}

// isLoopback reports whether a bound address is reachable only from this
// machine.
func isLoopback(addr net.Addr) bool {
	host, _, err := net.SplitHostPort(addr.String())
	if err != nil {
		return false
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

func ipStrings(ips []net.IP) []string {
	out := make([]string, len(ips))
	for i, ip := range ips {
		out[i] = ip.String()
	}
	return out
}

// serve runs srv on ln, over TLS when there is a certificate.
func (s *tlsSetup) serve(srv *http.Server, ln net.Listener) error {
	if s.config == nil {
		return srv.Serve(ln)
	}
	return srv.ServeTLS(ln, "", "")
}

// announce says, once everything listens, what a browser will meet: a
// loud warning for plain HTTP on the network, the certificate to expect,
// and, with ACME, the certificate fetched now (the CA connects back to
// the listeners, so not before).
func (s *tlsSetup) announce(ctx context.Context, log *slog.Logger, listen net.Addr, httpLn net.Listener) {
	if s.status(listen).PlainOnNetwork {
		log.Warn("PLAIN HTTP ON THE NETWORK: admin passwords and session cookies cross it unencrypted, and phones refuse passkeys and Web Bluetooth. "+
			"Use --tls self-signed, --tls acme, or --tls-cert and --tls-key; or listen on 127.0.0.1 behind a TLS proxy (--trusted-proxy).", "listen", listen.String())
	}
	if s.fingerprint != "" {
		log.Info("serving HTTPS with a self-signed certificate; browsers warn, so compare this fingerprint with theirs", "sha256", s.fingerprint)
	}
	if httpLn != nil {
		log.Info("plain HTTP redirects to HTTPS", "http_listen", httpLn.Addr().String())
	}
	if s.acme != nil {
		go s.acme.Prefetch(ctx)
	}
}
