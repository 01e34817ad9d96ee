package tlsconf

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"
)

// ACMEConfig is what getting a certificate from an ACME CA needs.
type ACMEConfig struct {
	Host      string // the public name; the only one a certificate is asked for
	Email     string // the CA's contact for expiry and problem notices; may be empty
	Directory string // the CA's directory URL; empty: Let's Encrypt
	// CAFile is a PEM file of roots to trust for the directory's own
	// HTTPS, for a private CA whose root the system does not hold.
	CAFile   string
	CacheDir string // account key and certificates, kept across restarts
	Log      *slog.Logger
}

// ACME gets and renews the certificate for one public name from an ACME CA.
// It answers the TLS-ALPN-01 challenge in the TLS handshake and the HTTP-01
// challenge through HTTPHandler; renewal runs in the background a third of
// the certificate's lifetime before it ends.
type ACME struct {
	host string
	m    *autocert.Manager
	log  *slog.Logger
}

// NewACME prepares the manager; nothing is asked of the CA until Prefetch
// or the first handshake.
func NewACME(cfg ACMEConfig) (*ACME, error) {
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	client := &acme.Client{DirectoryURL: cfg.Directory, UserAgent: "postern"}
	if cfg.Directory == "" {
		client.DirectoryURL = autocert.DefaultACMEDirectory
	}
	if cfg.CAFile != "" {
		pem, err := os.ReadFile(cfg.CAFile)
		if err != nil {
			return nil, fmt.Errorf("--acme-ca: %w", err)
		}
		roots := x509.NewCertPool()
		if !roots.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--acme-ca %s: no PEM certificate in it", cfg.CAFile)
		}
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
		client.HTTPClient = &http.Client{Transport: tr, Timeout: time.Minute}
	}
	if err := os.MkdirAll(cfg.CacheDir, 0o700); err != nil {
		return nil, err
	}
	m := &autocert.Manager{
		// Using --tls acme is agreeing to the CA's terms; the docs say so.
		Prompt:     autocert.AcceptTOS,
		Cache:      autocert.DirCache(cfg.CacheDir),
		HostPolicy: autocert.HostWhitelist(cfg.Host),
		Email:      cfg.Email,
		Client:     client,
	}
	return &ACME{host: cfg.Host, m: m, log: cfg.Log}, nil
}

// GetCertificate is the tls.Config hook: the certificate for Host, or a
// challenge certificate while the CA validates.
func (a *ACME) GetCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	return a.m.GetCertificate(hello)
}

// HTTPHandler answers the CA's HTTP-01 challenges and hands every other
// request to fallback.
func (a *ACME) HTTPHandler(fallback http.Handler) http.Handler {
	h := a.m.HTTPHandler(fallback)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// autocert checks the Host header against the host policy as it
		// is, port included: a CA validating on a port other than 80
		// (Pebble configured for a test, or a relay) would be refused.
		if host, _, err := net.SplitHostPort(r.Host); err == nil && strings.HasPrefix(r.URL.Path, "/.well-known/acme-challenge/") {
			r = r.Clone(r.Context())
			r.Host = host
		}
		h.ServeHTTP(w, r)
	})
}

// NextProto is the ALPN protocol a listener must offer besides HTTP for
// the TLS-ALPN-01 challenge.
func (a *ACME) NextProto() string { return acme.ALPNProto }

// Prefetch gets the certificate now, as a browser's first visit would, so
// that visit does not wait for the CA and a problem shows in the log at
// start. Call it once the listeners are up: the CA connects back to them.
func (a *ACME) Prefetch(ctx context.Context) {
	hello := &tls.ClientHelloInfo{
		ServerName: a.host,
		// What every current browser offers, so the ECDSA certificate they
		// will be served is the one fetched.
		CipherSuites:     []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256},
		SignatureSchemes: []tls.SignatureScheme{tls.ECDSAWithP256AndSHA256},
		SupportedCurves:  []tls.CurveID{tls.CurveP256},
	}
	done := make(chan struct{})
	var cert *tls.Certificate
	var err error
	go func() {
		defer close(done)
		cert, err = a.m.GetCertificate(hello)
	}()
	select {
	case <-ctx.Done():
		return
	case <-done:
	}
	if err != nil {
		a.log.Error("could not get a certificate from the ACME CA; browsers will be refused until it works", "host", a.host, "err", err)
		return
	}
	a.log.Info("TLS certificate ready", "host", a.host, "not_after", cert.Leaf.NotAfter.Format(time.RFC3339), "sha256", Fingerprint(cert.Leaf.Raw))
}
