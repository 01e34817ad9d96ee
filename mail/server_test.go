package mail

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// This file runs a real SMTP server (emersion/go-smtp) in-process on
// 127.0.0.1 for the sender and worker tests.

// serverTLS is how the test server offers TLS.
type serverTLS int

const (
	plainServer    serverTLS = iota // no TLS at all
	startTLSServer                  // STARTTLS offered
	implicitServer                  // TLS from the first byte
)

// received is one message the test server accepted.
type received struct {
	from     string
	to       []string
	data     []byte
	tls      bool   // the session ran over TLS
	authUser string // who authenticated, if anyone
	mech     string // with which mechanism
}

// backend records messages and can be told to authenticate or to refuse.
type backend struct {
	user, pass string   // when user is set, AUTH is required and checked
	mechs      []string // mechanisms offered; default PLAIN
	rcptErr    error    // returned at RCPT TO
	dataErr    error    // returned at the end of DATA

	mu    sync.Mutex
	got   []received
	auths int // AUTH exchanges started
}

func (b *backend) messages() []received {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]received(nil), b.got...)
}

func (b *backend) authAttempts() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.auths
}

func (b *backend) NewSession(c *smtp.Conn) (smtp.Session, error) {
	_, isTLS := c.TLSConnectionState()
	return &session{b: b, msg: received{tls: isTLS}}, nil
}

type session struct {
	b   *backend
	msg received
}

var _ smtp.AuthSession = (*session)(nil)

func (s *session) AuthMechanisms() []string {
	if s.b.user == "" {
		return nil
	}
	if len(s.b.mechs) == 0 {
		return []string{sasl.Plain}
	}
	return s.b.mechs
}

func (s *session) Auth(mech string) (sasl.Server, error) {
	s.b.mu.Lock()
	s.b.auths++
	s.b.mu.Unlock()
	s.msg.mech = mech
	check := func(user, pass string) error {
		if user != s.b.user || pass != s.b.pass {
			return smtp.ErrAuthFailed
		}
		s.msg.authUser = user
		return nil
	}
	switch mech {
	case sasl.Plain:
		return sasl.NewPlainServer(func(_, user, pass string) error { return check(user, pass) }), nil
	case sasl.Login:
		return &loginServer{check: check}, nil
	}
	return nil, smtp.ErrAuthUnknownMechanism
}

func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.b.user != "" && s.msg.authUser == "" {
		return smtp.ErrAuthRequired
	}
	s.msg.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if s.b.rcptErr != nil {
		return s.b.rcptErr
	}
	s.msg.to = append(s.msg.to, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if s.b.dataErr != nil {
		return s.b.dataErr
	}
	msg := s.msg
	msg.data = data
	s.b.mu.Lock()
	s.b.got = append(s.b.got, msg)
	s.b.mu.Unlock()
	return nil
}

func (s *session) Reset() {
	s.msg = received{tls: s.msg.tls, authUser: s.msg.authUser, mech: s.msg.mech}
}
func (s *session) Logout() error { return nil }

// loginServer is the server side of AUTH LOGIN, which go-sasl lacks.
type loginServer struct {
	step  int
	user  string
	check func(user, pass string) error
}

func (l *loginServer) Next(resp []byte) ([]byte, bool, error) {
	l.step++
	switch l.step {
	case 1:
		if len(resp) > 0 { // the user name came with the command
			l.user = string(resp)
			l.step++
			return []byte("Password:"), false, nil
		}
		return []byte("Username:"), false, nil
	case 2:
		l.user = string(resp)
		return []byte("Password:"), false, nil
	case 3:
		return nil, true, l.check(l.user, string(resp))
	}
	return nil, false, errors.New("unexpected AUTH LOGIN response")
}

// startServer serves be on 127.0.0.1 and returns its port. The server
// stops when the test ends.
func startServer(t *testing.T, be *backend, mode serverTLS) int {
	t.Helper()
	s := smtp.NewServer(be)
	s.Domain = "localhost"
	s.ErrorLog = log.New(io.Discard, "", 0)
	s.AllowInsecureAuth = mode == plainServer
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	switch mode {
	case startTLSServer:
		s.TLSConfig = serverTLSConfig(t)
	case implicitServer:
		l = tls.NewListener(l, serverTLSConfig(t))
	}
	go s.Serve(l)
	t.Cleanup(func() { s.Close() })
	return l.Addr().(*net.TCPAddr).Port
}

// freePort returns a port on 127.0.0.1 that nothing listens on, for a
// server that is down.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	return port
}

var testCert struct {
	once sync.Once
	cert tls.Certificate
	pool *x509.CertPool
	err  error
}

// selfSigned returns a certificate for 127.0.0.1 and localhost, made once
// per test binary, and a pool that trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	testCert.once.Do(func() {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			testCert.err = err
			return
		}
		tmpl := &x509.Certificate{
			SerialNumber:          big.NewInt(1),
			Subject:               pkix.Name{CommonName: "postern test SMTP"},
			NotBefore:             time.Now().Add(-time.Hour),
			NotAfter:              time.Now().Add(24 * time.Hour),
			KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
			ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
			BasicConstraintsValid: true,
			IsCA:                  true,
			DNSNames:              []string{"localhost"},
			IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			testCert.err = err
			return
		}
		leaf, err := x509.ParseCertificate(der)
		if err != nil {
			testCert.err = err
			return
		}
		testCert.cert = tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
		testCert.pool = x509.NewCertPool()
		testCert.pool.AddCert(leaf)
	})
	if testCert.err != nil {
		t.Fatal(testCert.err)
	}
	return testCert.cert, testCert.pool
}

func serverTLSConfig(t *testing.T) *tls.Config {
	cert, _ := selfSigned(t)
	return &tls.Config{Certificates: []tls.Certificate{cert}}
}
