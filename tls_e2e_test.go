package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"postern/web/tlsconf"
)

// The tests in this file serve the admin pages over HTTPS in each of the
// three ways, with the real binary.

var fingerprintRE = regexp.MustCompile(`\b([0-9A-F]{2}:){31}[0-9A-F]{2}\b`)

// peerCert dials addr with serverName and returns the certificate served.
// roots nil: no verification, as a browser's "accept this certificate".
func peerCert(t *testing.T, addr, serverName string, roots *x509.CertPool) *x509.Certificate {
	t.Helper()
	conn, err := tls.Dial("tcp", addr, &tls.Config{ServerName: serverName, RootCAs: roots, InsecureSkipVerify: roots == nil})
	if err != nil {
		t.Fatalf("TLS handshake with %s: %v", addr, err)
	}
	defer conn.Close()
	return conn.ConnectionState().PeerCertificates[0]
}

// browser is an HTTPS client with a cookie jar that trusts roots (nil:
// anything) and reaches every host at addr.
func browser(roots *x509.CertPool, addr string) *http.Client {
	jar, _ := cookiejar.New(nil)
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots, InsecureSkipVerify: roots == nil}}
	if addr != "" {
		tr.DialContext = func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		}
	}
	return &http.Client{Transport: tr, Jar: jar, Timeout: 30 * time.Second}
}

var csrfField = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// completeSetup creates the first admin through the printed setup link, as
// the first admin's browser does, and returns the dashboard's response.
func completeSetup(t *testing.T, a *appliance) *http.Response {
	t.Helper()
	link := strings.Fields(a.setupURL)[0]
	resp, err := a.client.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := csrfField.FindSubmatch(body)
	if resp.StatusCode != http.StatusOK || m == nil {
		t.Fatalf("setup page: got %d and no form token\n%s", resp.StatusCode, body)
	}
	u, _ := url.Parse(link)
	form := url.Values{"_csrf": {string(m[1])}, "token": {u.Query().Get("token")}, "email": {"ann@example.com"},
		"password": {"correct horse battery"}, "confirm": {"correct horse battery"}}
	req, _ := http.NewRequest(http.MethodPost, a.url+"/setup", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", a.url)
	resp, err = a.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || resp.Request.URL.Path != "/" {
		t.Fatalf("setup: got %d at %s, want the dashboard", resp.StatusCode, resp.Request.URL)
	}
	return resp
}

func get(t *testing.T, c *http.Client, u string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp, string(body)
}

// TestSelfSignedFingerprint: the fingerprint printed next to the setup link
// is the certificate's the browser is shown, the settings page shows the
// same, it survives a restart, and under TLS every cookie is __Host- and
// Secure and HSTS is on.
func TestSelfSignedFingerprint(t *testing.T) {
	data := t.TempDir()
	listen := freeAddr(t)
	a := launch(t, launchOpts{data: data, listen: listen, url: "https://" + listen, client: browser(nil, ""), args: []string{"--tls", "self-signed"}})

	printed := fingerprintRE.FindString(a.output())
	if printed == "" || !strings.Contains(a.setupURL, "https://") {
		t.Fatalf("no fingerprint or no https setup link printed:\n%s", a.output())
	}
	served := peerCert(t, listen, "", nil)
	if got := tlsconf.Fingerprint(served.Raw); got != printed {
		t.Errorf("served certificate %s, printed %s", got, printed)
	}
	if err := served.VerifyHostname("127.0.0.1"); err != nil {
		t.Errorf("the certificate does not name the listen address: %v", err)
	}

	resp := completeSetup(t, a)
	if hsts := resp.Header.Get("Strict-Transport-Security"); !strings.Contains(hsts, "max-age=") {
		t.Errorf("got Strict-Transport-Security %q, want HSTS under TLS", hsts)
	}
	u, _ := url.Parse(a.url)
	for _, ck := range a.client.Jar.Cookies(u) {
		if !strings.HasPrefix(ck.Name, "__Host-") {
			t.Errorf("cookie %s over TLS, want every cookie __Host-", ck.Name)
		}
	}
	if _, body := get(t, a.client, a.url+"/settings"); !strings.Contains(body, printed) {
		t.Errorf("the settings page does not show the fingerprint %s", printed)
	}

	a.stop()
	b := launch(t, launchOpts{data: data, listen: listen, url: "https://" + listen, client: browser(nil, ""), args: []string{"--tls", "self-signed"}})
	if got := tlsconf.Fingerprint(peerCert(t, listen, "", nil).Raw); got != printed {
		t.Errorf("after a restart: served %s, want the kept %s", got, printed)
	}
	if !strings.Contains(b.output(), printed) {
		t.Errorf("after a restart the log does not give the fingerprint:\n%s", b.output())
	}
}

// TestOwnCertificateFiles: a renewal written over the files is served
// without a restart.
func TestOwnCertificateFiles(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	first, firstKey := ipCert(t, 1)
	second, secondKey := ipCert(t, 2)
	writeAtomic(t, keyFile, firstKey)
	writeAtomic(t, certFile, first)

	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(first)
	roots.AppendCertsFromPEM(second)
	listen := freeAddr(t)
	a := launch(t, launchOpts{data: t.TempDir(), listen: listen, url: "https://" + listen, client: browser(roots, ""),
		args: []string{"--tls-cert", certFile, "--tls-key", keyFile}})
	if got := peerCert(t, listen, "", roots).SerialNumber.Int64(); got != 1 {
		t.Fatalf("served serial %d, want 1", got)
	}
	pid := a.cmd.Process.Pid

	// What certbot does: the key, then the certificate.
	writeAtomic(t, keyFile, secondKey)
	writeAtomic(t, certFile, second)
	deadline := time.Now().Add(15 * time.Second)
	for peerCert(t, listen, "", roots).SerialNumber.Int64() != 2 {
		if time.Now().After(deadline) {
			t.Fatalf("the renewed certificate was not served within 15 s:\n%s", a.output())
		}
		time.Sleep(200 * time.Millisecond)
	}
	if a.cmd.ProcessState != nil || a.cmd.Process.Pid != pid {
		t.Error("the appliance restarted to pick up the certificate")
	}
	if resp, _ := get(t, a.client, a.url+"/login"); resp.StatusCode != http.StatusOK {
		t.Errorf("login page over the renewed certificate: got %d", resp.StatusCode)
	}
	if !strings.Contains(a.output(), "TLS certificate reloaded") {
		t.Errorf("the reload is not in the log:\n%s", a.output())
	}
}

// ipCert is a self-signed certificate for 127.0.0.1 with a serial number.
func ipCert(t *testing.T, serial int64) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(serial), Subject: pkix.Name{CommonName: "postern test"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder})
}

// writeAtomic replaces a file by renaming a new one over it.
func writeAtomic(t *testing.T, path string, data []byte) {
	t.Helper()
	tmp := path + ".new"
	if err := os.WriteFile(tmp, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}
