package tlsconf

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"log/slog"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestFingerprint(t *testing.T) {
	der := []byte("not really a certificate, but bytes all the same")
	sum := sha256.Sum256(der)
	got := Fingerprint(der)
	if want := strings.ToUpper(hex.EncodeToString(sum[:])); strings.ReplaceAll(got, ":", "") != want {
		t.Errorf("got %s, want the SHA-256 %s", got, want)
	}
	if len(got) != 32*3-1 || strings.Count(got, ":") != 31 {
		t.Errorf("got %q, want 32 colon-separated pairs", got)
	}
}

func TestSelfSignedIsKept(t *testing.T) {
	dir := t.TempDir()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s := SelfSigned{Dir: dir, Names: []string{"doors.lan", "192.168.1.20"}, Also: []string{"10.0.0.7"}, Now: func() time.Time { return now }}

	first, made, err := s.Load()
	if err != nil || !made {
		t.Fatalf("first load: got made=%v, %v; want a new certificate", made, err)
	}
	leaf := first.Leaf
	for _, n := range []string{"doors.lan", "192.168.1.20", "10.0.0.7"} {
		if err := leaf.VerifyHostname(n); err != nil {
			t.Errorf("certificate does not name %s: %v", n, err)
		}
	}
	if len(leaf.ExtKeyUsage) != 1 || leaf.ExtKeyUsage[0] != x509.ExtKeyUsageServerAuth {
		t.Errorf("ext key usage %v, want server auth only (phones refuse others)", leaf.ExtKeyUsage)
	}
	if d := leaf.NotAfter.Sub(leaf.NotBefore); d > 825*24*time.Hour {
		t.Errorf("validity %v, want at most 825 days", d)
	}
	if fi, err := os.Stat(filepath.Join(dir, selfSignedKeyFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("key file: %v, %v; want mode 0600", fi.Mode(), err)
	}

	tests := []struct {
		name     string
		change   func(s *SelfSigned)
		wantMade bool
	}{
		{"restart", func(*SelfSigned) {}, false},
		{"an address it had only by chance is gone", func(s *SelfSigned) { s.Also = nil }, false},
		{"a new public name", func(s *SelfSigned) { s.Names = []string{"doors.example.net"} }, true},
		{"close to its end", func(s *SelfSigned) {
			later := leaf.NotAfter.Add(-10 * 24 * time.Hour)
			s.Now = func() time.Time { return later }
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s2 := s
			s2.Dir = t.TempDir()
			writePair(t, s2.Dir, selfSignedCertFile, selfSignedKeyFile, first)
			tt.change(&s2)
			got, made, err := s2.Load()
			if err != nil {
				t.Fatal(err)
			}
			same := bytes.Equal(got.Leaf.Raw, leaf.Raw)
			if made != tt.wantMade || same == tt.wantMade {
				t.Errorf("got made=%v same=%v, want made=%v", made, same, tt.wantMade)
			}
		})
	}
}

func TestSelfSignedRefusesABrokenPair(t *testing.T) {
	dir := t.TempDir()
	s := SelfSigned{Dir: dir, Names: []string{"localhost"}}
	if _, _, err := s.Load(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, selfSignedKeyFile), []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Load(); err == nil || !strings.Contains(err.Error(), "remove both files") {
		t.Errorf("got %v, want a refusal that says how to start over (never a silent new fingerprint)", err)
	}
}

func TestFilesReloadOnChange(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	a, b, c := newPair(t, "a.example"), newPair(t, "b.example"), newPair(t, "c.example")
	writePair(t, dir, "cert.pem", "key.pem", a)

	f, err := LoadFiles(certFile, keyFile, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	f.now = func() time.Time { return now }
	served := func() string { return f.Certificate().Leaf.DNSNames[0] }
	if got := served(); got != "a.example" {
		t.Fatalf("got %s, want a.example", got)
	}

	steps := []struct {
		name  string
		write func()
		want  string
	}{
		{"renewed pair", func() { writePair(t, dir, "cert.pem", "key.pem", b) }, "b.example"},
		{"new certificate, old key (renewal half done)", func() { writeFile(t, certFile, certPEM(c)) }, "b.example"},
		{"the key follows", func() { writeFile(t, keyFile, keyPEM(t, c)) }, "c.example"},
		{"a file goes missing", func() { os.Remove(keyFile) }, "c.example"},
	}
	for _, st := range steps {
		st.write()
		now = now.Add(filesRecheck)
		if got := served(); got != st.want {
			t.Errorf("%s: got %s, want %s", st.name, got, st.want)
		}
	}
}

func TestFilesRefusesAPairThatDoesNotLoad(t *testing.T) {
	dir := t.TempDir()
	a, b := newPair(t, "a.example"), newPair(t, "b.example")
	writeFile(t, filepath.Join(dir, "cert.pem"), certPEM(a))
	writeFile(t, filepath.Join(dir, "key.pem"), keyPEM(t, b))
	if _, err := LoadFiles(filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem"), nil); err == nil {
		t.Error("a certificate with another's key loaded; want an error at start")
	}
}

func TestRedirect(t *testing.T) {
	h := Redirect("https://doors.example.com:8443/")
	tests := []struct {
		method, target string
		wantStatus     int
		wantLocation   string
	}{
		{http.MethodGet, "/users?q=ann", http.StatusMovedPermanently, "https://doors.example.com:8443/users?q=ann"},
		{http.MethodHead, "/", http.StatusMovedPermanently, "https://doors.example.com:8443/"},
		{http.MethodPost, "/login", http.StatusBadRequest, ""},
	}
	for _, tt := range tests {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(tt.method, "http://doors.example.com"+tt.target, nil))
		if rec.Code != tt.wantStatus || rec.Header().Get("Location") != tt.wantLocation {
			t.Errorf("%s %s: got %d %q, want %d %q", tt.method, tt.target, rec.Code, rec.Header().Get("Location"), tt.wantStatus, tt.wantLocation)
		}
	}
}

func TestServerConfigOffersTheChallengeProtocol(t *testing.T) {
	cfg := ServerConfig(nil, "acme-tls/1", "h2")
	if got := strings.Join(cfg.NextProtos, ","); got != "h2,http/1.1,acme-tls/1" {
		t.Errorf("got %s, want h2,http/1.1,acme-tls/1", got)
	}
	if cfg.MinVersion != tls.VersionTLS12 {
		t.Errorf("min version %x, want TLS 1.2", cfg.MinVersion)
	}
}

func newPair(t *testing.T, name string) tls.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: name}, DNSNames: []string{name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
}

func certPEM(c tls.Certificate) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Certificate[0]})
}

func keyPEM(t *testing.T, c tls.Certificate) []byte {
	der, err := x509.MarshalPKCS8PrivateKey(c.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

func writePair(t *testing.T, dir, certName, keyName string, c tls.Certificate) {
	t.Helper()
	writeFile(t, filepath.Join(dir, keyName), keyPEM(t, c))
	writeFile(t, filepath.Join(dir, certName), certPEM(c))
}

// writeFile replaces a file the way certbot and most tools do: a new file
// renamed over the old, so the modification time moves even within a
// second of the last write (the size may not).
func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	if err := writeFileAtomic(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	// Filesystems with coarse timestamps: make every write visible.
	writes++
	at := time.Now().Add(time.Duration(writes) * time.Second)
	if err := os.Chtimes(path, at, at); err != nil {
		t.Fatal(err)
	}
}

var writes int
