package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"net/textproto"
	"slices"
	"strings"
	"time"
)

// SMTP sends messages to one SMTP server described by a Config. Each Send
// opens its own connection, so an SMTP is safe for concurrent use and picks
// up no stale state between mails.
type SMTP struct {
	cfg Config
	now func() time.Time
}

// NewSMTP returns a sender for cfg.
func NewSMTP(cfg Config) *SMTP {
	return &SMTP{cfg: cfg, now: time.Now}
}

// Send delivers m. ctx bounds the whole exchange, from dialling to the
// server's reply to the message; without a deadline, Config.Timeout does.
// A failure is reported with the step it happened at; IsPermanent tells
// whether trying again could help.
func (s *SMTP) Send(ctx context.Context, m Message) error {
	m = m.stamped(s.now())
	raw, err := m.Bytes()
	if err != nil {
		return err
	}
	from, to, err := m.envelope()
	if err != nil {
		return err
	}
	return s.deliver(ctx, from, to, raw)
}

// errNoStartTLS and errNeedsTLS are configuration problems, not replies:
// they are not permanent, because the admin can fix the settings and the
// queued mail should then go out.
var (
	errNoStartTLS = errors.New("server does not offer STARTTLS; set tls=tls if it speaks TLS from the start, or tls=none to send unencrypted")
	errNeedsTLS   = errors.New("refusing to send the password over an unencrypted connection; set tls=none to allow it")
)

// pastDeadline unblocks every pending read and write on a connection.
var pastDeadline = time.Unix(1, 0)

func (s *SMTP) deliver(ctx context.Context, from string, to []string, raw []byte) error {
	cfg := s.cfg
	if cfg.Host == "" {
		return errors.New("mail: no SMTP host configured")
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.timeout())
		defer cancel()
	}
	addr := cfg.addr()
	tlsConfig := &tls.Config{
		ServerName:         cfg.Host,
		RootCAs:            cfg.RootCAs,
		InsecureSkipVerify: cfg.InsecureSkipVerify,
		MinVersion:         tls.VersionTLS12,
	}

	dialer := &net.Dialer{Timeout: cfg.dialTimeout()}
	var conn net.Conn
	var err error
	if cfg.TLS == ImplicitTLS {
		conn, err = (&tls.Dialer{NetDialer: dialer, Config: tlsConfig}).DialContext(ctx, "tcp", addr)
	} else {
		conn, err = dialer.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return &setupError{stepError(ctx, "connect to "+addr, err)}
	}
	defer conn.Close()
	// The deadline bounds a server that stops answering; AfterFunc ends
	// the exchange at once when the caller cancels. net/smtp knows neither.
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(pastDeadline) })
	defer stop()

	c, err := smtp.NewClient(conn, cfg.Host)
	if err != nil {
		return &setupError{stepError(ctx, "greeting from "+addr, err)}
	}
	defer c.Close()
	if err := c.Hello(cfg.localName()); err != nil {
		return &setupError{stepError(ctx, "EHLO", err)}
	}
	if cfg.TLS == StartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return &setupError{fmt.Errorf("mail: %s: %w", addr, errNoStartTLS)}
		}
		if err := c.StartTLS(tlsConfig); err != nil {
			return &setupError{stepError(ctx, "STARTTLS", err)}
		}
	}
	if cfg.Username != "" {
		a, err := pickAuth(c, cfg)
		if err != nil {
			return &setupError{fmt.Errorf("mail: %s: %w", addr, err)}
		}
		if err := c.Auth(a); err != nil {
			return &setupError{stepError(ctx, "AUTH", err)}
		}
	}
	if err := c.Mail(from); err != nil {
		return stepError(ctx, "MAIL FROM:<"+from+">", err)
	}
	for _, rcpt := range to {
		if err := c.Rcpt(rcpt); err != nil {
			return stepError(ctx, "RCPT TO:<"+rcpt+">", err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return stepError(ctx, "DATA", err)
	}
	if _, err := w.Write(raw); err != nil {
		return stepError(ctx, "DATA", err)
	}
	if err := w.Close(); err != nil {
		return stepError(ctx, "end of DATA", err)
	}
	// The server has taken the message; a failed QUIT changes nothing.
	c.Quit()
	return nil
}

// stepError names the step that failed and, when the context ended, wraps
// its error too so callers can test for context.DeadlineExceeded.
func stepError(ctx context.Context, step string, err error) error {
	cerr := ctx.Err()
	if dl, ok := ctx.Deadline(); ok && cerr == nil && !time.Now().Before(dl) {
		// The connection's deadline fired a moment before the context's.
		cerr = context.DeadlineExceeded
	}
	if cerr != nil && !errors.Is(err, cerr) {
		return fmt.Errorf("mail: %s: %w (%w)", step, cerr, err)
	}
	return fmt.Errorf("mail: %s: %w", step, err)
}

// pickAuth chooses PLAIN when the server offers it, else LOGIN; both send
// the password as it is, which is why they need TLS.
func pickAuth(c *smtp.Client, cfg Config) (smtp.Auth, error) {
	ok, params := c.Extension("AUTH")
	if !ok {
		return nil, errors.New("server offers no AUTH; remove the user name from the SMTP URL if it needs none")
	}
	mechs := strings.Fields(strings.ToUpper(params))
	insecure := cfg.TLS == NoTLS
	switch {
	case slices.Contains(mechs, "PLAIN"):
		return &plainAuth{user: cfg.Username, pass: cfg.Password, insecure: insecure}, nil
	case slices.Contains(mechs, "LOGIN"):
		return &loginAuth{user: cfg.Username, pass: cfg.Password, insecure: insecure}, nil
	}
	return nil, fmt.Errorf("server offers AUTH %s; Postern speaks PLAIN and LOGIN", params)
}

// plainAuth is AUTH PLAIN (RFC 4616). net/smtp's own PlainAuth cannot be
// told that the admin chose an unencrypted link on purpose.
type plainAuth struct {
	user, pass string
	insecure   bool
}

func (a *plainAuth) Start(si *smtp.ServerInfo) (string, []byte, error) {
	if !si.TLS && !a.insecure {
		return "", nil, errNeedsTLS
	}
	return "PLAIN", []byte("\x00" + a.user + "\x00" + a.pass), nil
}

func (a *plainAuth) Next(fromServer []byte, more bool) ([]byte, error) {
	if more {
		return nil, fmt.Errorf("unexpected AUTH PLAIN challenge %q", fromServer)
	}
	return nil, nil
}

// loginAuth is the older AUTH LOGIN that some servers still require: the
// user name, then the password, each in answer to a prompt. The prompts'
// wording varies between servers, so only their order counts.
type loginAuth struct {
	user, pass string
	insecure   bool
	step       int
}

func (a *loginAuth) Start(si *smtp.ServerInfo) (string, []byte, error) {
	if !si.TLS && !a.insecure {
		return "", nil, errNeedsTLS
	}
	a.step = 0
	return "LOGIN", nil, nil
}

func (a *loginAuth) Next(fromServer []byte, more bool) ([]byte, error) {
	if !more {
		return nil, nil
	}
	a.step++
	switch a.step {
	case 1:
		return []byte(a.user), nil
	case 2:
		return []byte(a.pass), nil
	}
	return nil, fmt.Errorf("unexpected AUTH LOGIN challenge %q", fromServer)
}

// setupError marks a failure before the server saw anything of the
// message: reaching it, TLS, AUTH. It is about the server or the settings,
// not the mail, which is why the worker stops its round on one and never
// gives a mail up over it.
type setupError struct{ err error }

func (e *setupError) Error() string { return e.err.Error() }
func (e *setupError) Unwrap() error { return e.err }

// retryError overrides a permanent cause: the worker wraps a 5xx reply
// during setup (a wrong password) in it, because fixing the settings will
// let the mail go out.
type retryError struct{ err error }

func (e *retryError) Error() string { return e.err.Error() }
func (e *retryError) Unwrap() error { return e.err }

// permanentError marks a failure that retrying cannot fix.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// IsPermanent reports whether err means the message will never go out as
// it is: a 5xx reply from the server (unknown recipient, rejected content,
// wrong password), an invalid message, or a mail the worker gave up on.
// 4xx replies, network errors, timeouts and configuration problems are
// not permanent: they are worth another try later.
func IsPermanent(err error) bool {
	if err == nil {
		return false
	}
	var re *retryError
	if errors.As(err, &re) {
		return false
	}
	var pe *permanentError
	if errors.As(err, &pe) || errors.Is(err, ErrInvalidMessage) {
		return true
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var te *textproto.Error
	if errors.As(err, &te) {
		return te.Code >= 500 && te.Code <= 599
	}
	return false
}
