package tlsconf

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"time"
)

const (
	// selfSignedValidity stays under the 825 days Apple's platforms accept
	// for any TLS server certificate, trusted by hand or not.
	selfSignedValidity = 800 * 24 * time.Hour
	// selfSignedRenew is how close to its end a kept certificate is
	// replaced, so it never expires while the appliance runs.
	selfSignedRenew = 30 * 24 * time.Hour

	selfSignedCertFile = "self-signed.pem"
	selfSignedKeyFile  = "self-signed-key.pem"
)

// SelfSigned keeps a self-signed certificate in Dir. The same certificate
// is served across restarts, so the fingerprint an admin once checked stays
// true; a new one is made only when there is none, it nears its end, or it
// does not cover one of Names.
type SelfSigned struct {
	Dir string
	// Names are the DNS names and IP addresses the certificate must cover
	// (the public URL's host, the listen address).
	Names []string
	// Also are names added when a certificate is made but not asked of a
	// kept one: the machine's other addresses, which come and go.
	Also []string
	Now  func() time.Time // nil: time.Now
}

// Load returns the kept certificate, or makes, keeps and returns a new one;
// made reports which.
func (s SelfSigned) Load() (cert tls.Certificate, made bool, err error) {
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	certPath, keyPath := filepath.Join(s.Dir, selfSignedCertFile), filepath.Join(s.Dir, selfSignedKeyFile)
	cert, err = tls.LoadX509KeyPair(certPath, keyPath)
	switch {
	case err == nil && s.fits(cert.Leaf, now()):
		return cert, false, nil
	case err != nil && !errors.Is(err, os.ErrNotExist):
		return tls.Certificate{}, false, fmt.Errorf("self-signed certificate in %s: %w (remove both files to make a new one)", s.Dir, err)
	}
	certPEM, keyPEM, err := s.make(now())
	if err != nil {
		return tls.Certificate{}, false, err
	}
	if err := os.MkdirAll(s.Dir, 0o700); err != nil {
		return tls.Certificate{}, false, err
	}
	// The key first: a certificate on disk without its key would be
	// refused at the next start rather than replaced.
	if err := writeFileAtomic(keyPath, keyPEM, 0o600); err != nil {
		return tls.Certificate{}, false, err
	}
	if err := writeFileAtomic(certPath, certPEM, 0o644); err != nil {
		return tls.Certificate{}, false, err
	}
	cert, err = tls.X509KeyPair(certPEM, keyPEM)
	return cert, true, err
}

// fits reports whether a kept certificate may be served on: valid for a
// while yet and naming everything it must.
func (s SelfSigned) fits(leaf *x509.Certificate, now time.Time) bool {
	if leaf == nil || now.Before(leaf.NotBefore) || now.Add(selfSignedRenew).After(leaf.NotAfter) {
		return false
	}
	for _, n := range s.Names {
		if leaf.VerifyHostname(n) != nil {
			return false
		}
	}
	return true
}

func (s SelfSigned) make(now time.Time) (certPEM, keyPEM []byte, err error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "Postern", Organization: []string{"Postern appliance (self-signed)"}},
		NotBefore:    now.Add(-time.Hour), // a phone whose clock is a little behind
		NotAfter:     now.Add(selfSignedValidity),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	for _, n := range slices.Concat(s.Names, s.Also) {
		if ip := net.ParseIP(n); ip != nil {
			if !slices.ContainsFunc(tmpl.IPAddresses, ip.Equal) {
				tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
			}
		} else if n != "" && !slices.Contains(tmpl.DNSNames, n) {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	if len(tmpl.DNSNames) > 0 {
		tmpl.Subject.CommonName = tmpl.DNSNames[0]
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), nil
}

// writeFileAtomic replaces path with data in one rename, so a crash leaves
// the old file or the new one, never half of one.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
