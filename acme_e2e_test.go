package main

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/letsencrypt/challtestsrv"
	"github.com/letsencrypt/pebble/v2/ca"
	"github.com/letsencrypt/pebble/v2/db"
	"github.com/letsencrypt/pebble/v2/va"
	"github.com/letsencrypt/pebble/v2/wfe"
)

// pebble is Let's Encrypt's test ACME server, run in this process from its
// own packages: the same web front end, CA and validation authority as its
// binary, with a DNS server that says every name is 127.0.0.1.
type pebble struct {
	directory string         // the ACME directory URL
	caFile    string         // PEM of the directory's own HTTPS certificate
	roots     *x509.CertPool // the CA's root, which issued certificates chain to

	mu   sync.Mutex
	logs bytes.Buffer
}

func (p *pebble) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.Write(b)
}

func (p *pebble) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.logs.String()
}

// startPebble runs Pebble with its validation authority knocking on
// httpPort (HTTP-01) and tlsPort (TLS-ALPN-01) of 127.0.0.1, issuing
// certificates valid for validity.
func startPebble(t *testing.T, httpPort, tlsPort int, validity time.Duration) *pebble {
	t.Helper()
	// No random delays before validation, no nonces refused for practice,
	// and every order validated afresh, renewals included.
	t.Setenv("PEBBLE_VA_NOSLEEP", "1")
	t.Setenv("PEBBLE_WFE_NONCEREJECT", "0")
	t.Setenv("PEBBLE_AUTHZREUSE", "0")
	p := &pebble{}
	logger := log.New(p, "pebble ", log.Ltime)

	dnsAddr := freeAddr(t)
	dns, err := challtestsrv.New(challtestsrv.Config{DNSAddrs: []string{dnsAddr}, Log: logger})
	if err != nil {
		t.Fatal(err)
	}
	dns.SetDefaultDNSIPv6("") // the appliance listens on 127.0.0.1 only
	dns.Run()
	t.Cleanup(dns.Shutdown)
	waitListening(t, dnsAddr)

	store := db.NewMemoryStore()
	authority := ca.New(logger, store, "", "ecdsa", 0, 1, map[string]ca.Profile{
		"default": {Description: "short-lived, to see a renewal", ValidityPeriod: uint64(validity / time.Second)},
	})
	validator := va.New(logger, httpPort, tlsPort, false, dnsAddr, store)
	front := wfe.New(logger, store, validator, authority, []string{"pebble.letsencrypt.org"}, false, false, 0, 0)
	srv := httptest.NewUnstartedServer(front.Handler())
	srv.Config.ErrorLog = logger
	srv.StartTLS()
	t.Cleanup(srv.Close)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("pebble said:\n%s", p.output())
		}
	})

	p.directory = srv.URL + wfe.DirectoryPath
	p.caFile = filepath.Join(t.TempDir(), "pebble-wfe.pem")
	if err := os.WriteFile(p.caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	p.roots = x509.NewCertPool()
	p.roots.AddCert(authority.GetRootCert(0).Cert)
	return p
}

func waitListening(t *testing.T, addr string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); ; {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("nothing listens on %s: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func port(t *testing.T, addr string) int {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	n, _ := strconv.Atoi(p)
	return n
}

// TestACMECertificate: with --tls acme the appliance gets a certificate
// from a real ACME server, answering its challenge itself, serves the
// admin pages over it, redirects plain HTTP to HTTPS, and renews it
// before it ends.
func TestACMECertificate(t *testing.T) {
	const host = "doors.example.com"
	listen, httpListen := freeAddr(t), freeAddr(t)
	const validity = 30 * time.Second
	p := startPebble(t, port(t, httpListen), port(t, listen), validity)

	data := t.TempDir()
	public := "https://" + net.JoinHostPort(host, strconv.Itoa(port(t, listen)))
	a := launch(t, launchOpts{data: data, listen: listen, url: public, client: browser(p.roots, listen), args: []string{
		"--tls", "acme", "--acme-directory", p.directory, "--acme-ca", p.caFile, "--acme-email", "ops@example.com",
		"--http-listen", httpListen,
	}})

	// The launch reached /healthz over a certificate that verifies against
	// Pebble's root; the admin pages are served over it too.
	first := peerCert(t, listen, host, p.roots)
	if err := first.VerifyHostname(host); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(a.setupURL, public+"/setup?token=") {
		t.Errorf("setup link %q, want it under %s", a.setupURL, public)
	}
	resp := completeSetup(t, a)
	if resp.TLS == nil || resp.Header.Get("Strict-Transport-Security") == "" {
		t.Errorf("dashboard: TLS %v, HSTS %q; want both", resp.TLS != nil, resp.Header.Get("Strict-Transport-Security"))
	}
	if entries, err := os.ReadDir(filepath.Join(data, "acme")); err != nil || len(entries) < 2 {
		t.Errorf("the account key and certificate are not kept in the data folder: %v %v", entries, err)
	}

	// Plain HTTP is sent to HTTPS, path and all.
	plain := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	req, _ := http.NewRequest(http.MethodGet, "http://"+httpListen+"/users?q=ann", nil)
	req.Host = host
	rr, err := plain.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	rr.Body.Close()
	if loc := rr.Header.Get("Location"); rr.StatusCode != http.StatusMovedPermanently || loc != public+"/users?q=ann" {
		t.Errorf("plain HTTP: got %d to %q, want 301 to %s/users?q=ann", rr.StatusCode, loc, public)
	}

	// A third of the lifetime before the end, the certificate is renewed
	// and the new one served, with no restart.
	deadline := first.NotAfter.Add(5 * time.Second)
	for {
		cur := peerCert(t, listen, host, p.roots)
		if cur.SerialNumber.Cmp(first.SerialNumber) != 0 {
			if !cur.NotAfter.After(first.NotAfter) {
				t.Errorf("renewed certificate ends %v, not after the first's %v", cur.NotAfter, first.NotAfter)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no renewal before the certificate ended at %v\n%s", first.NotAfter, a.output())
		}
		time.Sleep(500 * time.Millisecond)
	}
	if r, _ := get(t, a.client, public+"/settings"); r.StatusCode != http.StatusOK {
		t.Errorf("settings over the renewed certificate: got %d", r.StatusCode)
	}
}

// TestACMEHTTP01: where the CA cannot reach the HTTPS port (a port
// forward of 80 only, say), the certificate comes through the HTTP-01
// challenge that the plain-HTTP listener answers.
func TestACMEHTTP01(t *testing.T) {
	const host = "doors.example.com"
	listen, httpListen, closed := freeAddr(t), freeAddr(t), freeAddr(t)
	p := startPebble(t, port(t, httpListen), port(t, closed), 0)
	public := "https://" + net.JoinHostPort(host, strconv.Itoa(port(t, listen)))
	a := launch(t, launchOpts{data: t.TempDir(), listen: listen, url: public, client: browser(p.roots, listen), args: []string{
		"--tls", "acme", "--acme-directory", p.directory, "--acme-ca", p.caFile, "--http-listen", httpListen,
	}})
	if r, _ := get(t, a.client, public+"/login"); r.StatusCode != http.StatusOK || r.TLS == nil {
		t.Errorf("login page: got %d, TLS %v", r.StatusCode, r.TLS != nil)
	}
	if !strings.Contains(p.output(), "/.well-known/acme-challenge/") {
		t.Errorf("the CA never fetched an HTTP-01 challenge:\n%s", p.output())
	}
}
