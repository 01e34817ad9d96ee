package fleet

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"time"
)

// The hub's leaf-node listener has a certificate of its own, made on first
// use and kept in the data folder. Readers do not trust it through a CA:
// each pins the fingerprint of its key, which the enrolment token carries,
// so a reader talks only to the hub its admin enrolled it with.

// hubCertificate loads the hub's leaf certificate from dir, creating it
// the first time.
func hubCertificate(dir string) (tls.Certificate, error) {
	certFile, keyFile := filepath.Join(dir, "hub-cert.pem"), filepath.Join(dir, "hub-key.pem")
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err == nil {
		return cert, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return cert, fmt.Errorf("fleet: the hub's certificate: %w", err)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return cert, fmt.Errorf("fleet: the hub's certificate: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return cert, err
	}
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "postern hub"},
		NotBefore:    time.Now().Add(-time.Hour),
		// Pinned by its key, not checked against a CA: it need not expire
		// for the pin to be safe, and a board must not stop at a date.
		NotAfter:    time.Now().AddDate(30, 0, 0),
		KeyUsage:    x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:    []string{"postern-hub"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return cert, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return cert, err
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		return cert, err
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		return cert, err
	}
	return tls.LoadX509KeyPair(certFile, keyFile)
}

// keyFingerprint is the hex SHA-256 of a certificate's public key.
func keyFingerprint(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.RawSubjectPublicKeyInfo)
	return hex.EncodeToString(sum[:])
}

// certFingerprint is keyFingerprint of a loaded certificate.
func certFingerprint(c tls.Certificate) (string, error) {
	leaf, err := x509.ParseCertificate(c.Certificate[0])
	if err != nil {
		return "", err
	}
	return keyFingerprint(leaf), nil
}

// pinnedTLS is a client configuration that accepts exactly the hub whose
// key has the fingerprint, and nothing else.
func pinnedTLS(fingerprint string) *tls.Config {
	return &tls.Config{
		MinVersion: tls.VersionTLS13,
		ServerName: "postern-hub",
		// The chain is not checked against a CA; VerifyPeerCertificate
		// checks the key itself, which is stronger for one known hub.
		InsecureSkipVerify: true,
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) == 0 {
				return errors.New("fleet: the hub sent no certificate")
			}
			c, err := x509.ParseCertificate(raw[0])
			if err != nil {
				return err
			}
			if subtle.ConstantTimeCompare([]byte(keyFingerprint(c)), []byte(fingerprint)) != 1 {
				return fmt.Errorf("fleet: the hub's key is not the one this reader was enrolled with (got %s)", keyFingerprint(c))
			}
			return nil
		},
	}
}
