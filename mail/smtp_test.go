package mail

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/smtp"
	"net/textproto"
	"strings"
	"testing"
	"time"

	gosmtp "github.com/emersion/go-smtp"
)

// guard is how long a test waits before calling a hang a failure. It
// never decides a passing test.
const guard = 10 * time.Second

// sendOrHang runs s.Send and fails the test if it does not return.
func sendOrHang(t *testing.T, ctx context.Context, s Sender, m Message) error {
	t.Helper()
	done := make(chan error, 1)
	go func() { done <- s.Send(ctx, m) }()
	select {
	case err := <-done:
		return err
	case <-time.After(guard):
		t.Fatal("Send did not return")
		return nil
	}
}

func mustParseURL(t *testing.T, s string) Config {
	t.Helper()
	c, err := ParseURL(s)
	if err != nil {
		t.Fatalf("ParseURL(%q): %v", s, err)
	}
	return c
}

func testMessage() Message {
	return Test("Ada Lovelace <ada@example.com>", "postern@acme.example", "Acme Office")
}

func TestSendTransports(t *testing.T) {
	tests := []struct {
		name     string
		server   serverTLS
		user     string // also makes the server require AUTH
		mechs    []string
		query    string
		wantTLS  bool
		wantMech string
	}{
		{name: "plain", server: plainServer, query: "tls=none"},
		{name: "starttls", server: startTLSServer, query: "tls=starttls&insecure_skip_verify=1", wantTLS: true},
		{name: "starttls is the default", server: startTLSServer, query: "insecure_skip_verify=1", wantTLS: true},
		{name: "implicit tls", server: implicitServer, query: "tls=tls&insecure_skip_verify=1", wantTLS: true},
		{name: "starttls auth plain", server: startTLSServer, user: "postern@acme.example", mechs: []string{"PLAIN"}, query: "insecure_skip_verify=1", wantTLS: true, wantMech: "PLAIN"},
		{name: "starttls auth login", server: startTLSServer, user: "postern", mechs: []string{"LOGIN"}, query: "insecure_skip_verify=1", wantTLS: true, wantMech: "LOGIN"},
		{name: "implicit tls auth login", server: implicitServer, user: "postern", mechs: []string{"LOGIN"}, query: "tls=tls&insecure_skip_verify=1", wantTLS: true, wantMech: "LOGIN"},
		{name: "plain preferred over login", server: implicitServer, user: "postern", mechs: []string{"LOGIN", "PLAIN"}, query: "tls=tls&insecure_skip_verify=1", wantTLS: true, wantMech: "PLAIN"},
		{name: "auth over plain text when chosen", server: plainServer, user: "postern", mechs: []string{"PLAIN"}, query: "tls=none", wantMech: "PLAIN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			const pass = "s3cret:@/pass"
			be := &backend{user: tt.user, pass: pass, mechs: tt.mechs}
			port := startServer(t, be, tt.server)
			userinfo := ""
			if tt.user != "" {
				userinfo = strings.NewReplacer("@", "%40").Replace(tt.user) + ":" + "s3cret:%40%2Fpass" + "@"
			}
			cfg := mustParseURL(t, fmt.Sprintf("smtp://%s127.0.0.1:%d?%s", userinfo, port, tt.query))
			if cfg.Password != "" && cfg.Password != pass {
				t.Fatalf("password parsed as %q, want %q", cfg.Password, pass)
			}

			if err := sendOrHang(t, context.Background(), NewSMTP(cfg), testMessage()); err != nil {
				t.Fatalf("Send: %v", err)
			}
			got := be.messages()
			if len(got) != 1 {
				t.Fatalf("server got %d messages, want 1", len(got))
			}
			r := got[0]
			if r.tls != tt.wantTLS {
				t.Errorf("TLS: got %v, want %v", r.tls, tt.wantTLS)
			}
			if r.authUser != tt.user {
				t.Errorf("authenticated as %q, want %q", r.authUser, tt.user)
			}
			if r.mech != tt.wantMech {
				t.Errorf("mechanism: got %q, want %q", r.mech, tt.wantMech)
			}
			if r.from != "postern@acme.example" || len(r.to) != 1 || r.to[0] != "ada@example.com" {
				t.Errorf("envelope: got %q -> %q, want postern@acme.example -> [ada@example.com]", r.from, r.to)
			}
			msg, err := mail.ReadMessage(bytes.NewReader(r.data))
			if err != nil {
				t.Fatalf("received message does not parse: %v", err)
			}
			if got, want := msg.Header.Get("Subject"), "Postern test email from Acme Office"; got != want {
				t.Errorf("Subject: got %q, want %q", got, want)
			}
			for _, h := range []string{"Message-ID", "Date"} {
				if msg.Header.Get(h) == "" {
					t.Errorf("no %s header", h)
				}
			}
		})
	}
}

func TestSendVerifiesCertificate(t *testing.T) {
	_, pool := selfSigned(t)
	tests := []struct {
		name    string
		cfg     func(port int) Config
		wantErr bool
	}{
		{"trusted by RootCAs", func(port int) Config {
			return Config{Host: "127.0.0.1", Port: port, RootCAs: pool}
		}, false},
		{"self-signed, not trusted", func(port int) Config {
			return Config{Host: "127.0.0.1", Port: port}
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			be := &backend{}
			port := startServer(t, be, startTLSServer)
			cfg := tt.cfg(port)
			cfg.TLS = StartTLS
			err := sendOrHang(t, context.Background(), NewSMTP(cfg), testMessage())
			if (err != nil) != tt.wantErr {
				t.Fatalf("Send: got %v, want error %v", err, tt.wantErr)
			}
			if IsPermanent(err) {
				t.Errorf("IsPermanent(%v) = true, want false: the admin can fix the certificate", err)
			}
			if n := len(be.messages()); (n == 1) == tt.wantErr {
				t.Errorf("server got %d messages", n)
			}
		})
	}
}

func TestSendRefusesAuthWithoutTLS(t *testing.T) {
	// The server would take AUTH in clear text; Postern must not offer it
	// unless the admin chose tls=none.
	be := &backend{user: "postern", pass: "pw"}
	port := startServer(t, be, plainServer)
	for _, query := range []string{"", "?tls=starttls"} {
		cfg := mustParseURL(t, fmt.Sprintf("smtp://postern:pw@127.0.0.1:%d%s", port, query))
		err := sendOrHang(t, context.Background(), NewSMTP(cfg), testMessage())
		if !errors.Is(err, errNoStartTLS) {
			t.Errorf("query %q: got %v, want %v", query, err, errNoStartTLS)
		}
		if IsPermanent(err) {
			t.Errorf("query %q: IsPermanent(%v) = true, want false", query, err)
		}
	}
	if n := be.authAttempts(); n != 0 {
		t.Errorf("server saw %d AUTH attempts, want 0", n)
	}
	if n := len(be.messages()); n != 0 {
		t.Errorf("server got %d messages, want 0", n)
	}
}

func TestAuthMechanismsNeedTLS(t *testing.T) {
	tests := []struct {
		name     string
		auth     smtp.Auth
		tls      bool
		wantErr  bool
		wantMech string
	}{
		{"plain over TLS", &plainAuth{user: "u", pass: "p"}, true, false, "PLAIN"},
		{"plain in clear", &plainAuth{user: "u", pass: "p"}, false, true, ""},
		{"plain in clear, chosen", &plainAuth{user: "u", pass: "p", insecure: true}, false, false, "PLAIN"},
		{"login over TLS", &loginAuth{user: "u", pass: "p"}, true, false, "LOGIN"},
		{"login in clear", &loginAuth{user: "u", pass: "p"}, false, true, ""},
		{"login in clear, chosen", &loginAuth{user: "u", pass: "p", insecure: true}, false, false, "LOGIN"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mech, _, err := tt.auth.Start(&smtp.ServerInfo{Name: "mail.example.com", TLS: tt.tls})
			if (err != nil) != tt.wantErr {
				t.Fatalf("Start: got %v, want error %v", err, tt.wantErr)
			}
			if mech != tt.wantMech {
				t.Errorf("mechanism: got %q, want %q", mech, tt.wantMech)
			}
		})
	}
}

func TestSendWrongPassword(t *testing.T) {
	for _, mech := range []string{"PLAIN", "LOGIN"} {
		t.Run(mech, func(t *testing.T) {
			be := &backend{user: "postern", pass: "right", mechs: []string{mech}}
			port := startServer(t, be, implicitServer)
			cfg := mustParseURL(t, fmt.Sprintf("smtp://postern:wrong@127.0.0.1:%d?tls=tls&insecure_skip_verify=1", port))
			err := sendOrHang(t, context.Background(), NewSMTP(cfg), testMessage())
			if err == nil || !IsPermanent(err) {
				t.Fatalf("got %v, want a permanent error", err)
			}
			if strings.Contains(err.Error(), "wrong") {
				t.Errorf("error %q shows the password", err)
			}
			if n := len(be.messages()); n != 0 {
				t.Errorf("server got %d messages, want 0", n)
			}
		})
	}
}

func TestSendNoCommonAuthMechanism(t *testing.T) {
	be := &backend{user: "postern", pass: "pw", mechs: []string{"CRAM-MD5"}}
	port := startServer(t, be, implicitServer)
	cfg := Config{Host: "127.0.0.1", Port: port, TLS: ImplicitTLS, InsecureSkipVerify: true, Username: "postern", Password: "pw"}
	err := sendOrHang(t, context.Background(), NewSMTP(cfg), testMessage())
	if err == nil || IsPermanent(err) {
		t.Fatalf("got %v, want a retryable error", err)
	}
	if n := be.authAttempts(); n != 0 {
		t.Errorf("server saw %d AUTH attempts, want 0", n)
	}
}

func TestSendServerDown(t *testing.T) {
	cfg := Config{Host: "127.0.0.1", Port: freePort(t), TLS: NoTLS}
	err := sendOrHang(t, context.Background(), NewSMTP(cfg), testMessage())
	if err == nil {
		t.Fatal("Send to a closed port succeeded")
	}
	if IsPermanent(err) {
		t.Errorf("IsPermanent(%v) = true, want false", err)
	}
}

func TestSendReplies(t *testing.T) {
	reply := func(code int) error {
		return &gosmtp.SMTPError{Code: code, EnhancedCode: gosmtp.EnhancedCode{code / 100, 0, 0}, Message: "test says no"}
	}
	tests := []struct {
		name          string
		rcptErr       error
		dataErr       error
		wantPermanent bool
	}{
		{"4xx at RCPT", reply(451), nil, false},
		{"5xx at RCPT", reply(550), nil, true},
		{"4xx at DATA", nil, reply(452), false},
		{"5xx at DATA", nil, reply(554), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			be := &backend{rcptErr: tt.rcptErr, dataErr: tt.dataErr}
			port := startServer(t, be, plainServer)
			cfg := Config{Host: "127.0.0.1", Port: port, TLS: NoTLS}
			err := sendOrHang(t, context.Background(), NewSMTP(cfg), testMessage())
			if err == nil {
				t.Fatal("Send succeeded")
			}
			if got := IsPermanent(err); got != tt.wantPermanent {
				t.Errorf("IsPermanent(%v): got %v, want %v", err, got, tt.wantPermanent)
			}
			if !strings.Contains(err.Error(), "test says no") {
				t.Errorf("error %q lacks the server's reply", err)
			}
		})
	}
}

// silentServer accepts connections, writes greeting (if any) and then
// never says another word. Each accepted connection is reported on the
// returned channel.
func silentServer(t *testing.T, greeting string) (int, <-chan struct{}) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	accepted := make(chan struct{}, 10)
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
			c.Write([]byte(greeting))
			accepted <- struct{}{}
		}
	}()
	t.Cleanup(func() {
		l.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	})
	return l.Addr().(*net.TCPAddr).Port, accepted
}

func TestSendHonoursContext(t *testing.T) {
	tests := []struct {
		name     string
		greeting string
		cancel   bool // cancel once connected instead of a deadline
		want     error
	}{
		{"deadline, no greeting", "", false, context.DeadlineExceeded},
		{"deadline, silent after greeting", "220 localhost ESMTP\r\n", false, context.DeadlineExceeded},
		{"cancel, no greeting", "", true, context.Canceled},
		{"cancel, silent after greeting", "220 localhost ESMTP\r\n", true, context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			port, accepted := silentServer(t, tt.greeting)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if !tt.cancel {
				ctx, cancel = context.WithTimeout(ctx, 50*time.Millisecond)
				defer cancel()
			} else {
				go func() {
					<-accepted
					cancel()
				}()
			}
			// No Timeout in the Config: only ctx can end the exchange.
			cfg := Config{Host: "127.0.0.1", Port: port, TLS: NoTLS, Timeout: time.Hour}
			err := sendOrHang(t, ctx, NewSMTP(cfg), testMessage())
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			if IsPermanent(err) {
				t.Errorf("IsPermanent(%v) = true, want false", err)
			}
		})
	}
}

func TestSendInvalidMessage(t *testing.T) {
	// The port is closed: an invalid message must fail before dialling.
	cfg := Config{Host: "127.0.0.1", Port: freePort(t), TLS: NoTLS}
	m := testMessage()
	m.To = []string{"ada@example.com\r\nBcc: eve@example.com"}
	err := sendOrHang(t, context.Background(), NewSMTP(cfg), m)
	if !errors.Is(err, ErrInvalidMessage) {
		t.Fatalf("got %v, want %v", err, ErrInvalidMessage)
	}
	if !IsPermanent(err) {
		t.Errorf("IsPermanent(%v) = false, want true", err)
	}
}

func TestIsPermanent(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{nil, false},
		{errors.New("connection reset"), false},
		{context.DeadlineExceeded, false},
		{fmt.Errorf("mail: RCPT: %w", &textproto.Error{Code: 421, Msg: "try later"}), false},
		{fmt.Errorf("mail: RCPT: %w", &textproto.Error{Code: 550, Msg: "no such user"}), true},
		{fmt.Errorf("%w: bad", ErrInvalidMessage), true},
		{&permanentError{errors.New("gave up")}, true},
	}
	for _, tt := range tests {
		if got := IsPermanent(tt.err); got != tt.want {
			t.Errorf("IsPermanent(%v): got %v, want %v", tt.err, got, tt.want)
		}
	}
}
