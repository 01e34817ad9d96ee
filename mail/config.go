package mail

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"
)

// TLSMode says how the connection to the SMTP server is protected.
type TLSMode int

// The zero TLSMode is StartTLS, so a Config built by hand never sends a
// password in clear text by accident.
const (
	// StartTLS connects in clear text and upgrades with STARTTLS before
	// anything else; a server that does not offer it is refused.
	StartTLS TLSMode = iota
	// ImplicitTLS speaks TLS from the first byte ("SMTPS", port 465).
	ImplicitTLS
	// NoTLS never encrypts. It must be chosen explicitly (tls=none) and is
	// the only mode that lets AUTH go over an unencrypted link.
	NoTLS
)

// String returns the mode as written in the URL: starttls, tls or none.
func (m TLSMode) String() string {
	switch m {
	case StartTLS:
		return "starttls"
	case ImplicitTLS:
		return "tls"
	case NoTLS:
		return "none"
	}
	return "TLSMode(" + strconv.Itoa(int(m)) + ")"
}

// DefaultPort is the port used when the URL names none: 587 (submission)
// for starttls, 465 for tls, 25 for none.
func (m TLSMode) DefaultPort() int {
	switch m {
	case ImplicitTLS:
		return 465
	case NoTLS:
		return 25
	}
	return 587
}

// Config is where and how to deliver mail. Parse one from a URL with
// ParseURL. Its String method hides the password, so a Config can be
// logged or shown.
type Config struct {
	// Host is the server's name or IP address; TLS certificates are
	// checked against it.
	Host string
	// Port is the TCP port; 0 means TLS.DefaultPort().
	Port int
	// Username and Password are for AUTH; an empty Username skips AUTH.
	Username string
	Password string
	// TLS selects plain, STARTTLS or implicit TLS.
	TLS TLSMode
	// InsecureSkipVerify accepts any server certificate. It exists for
	// test servers with self-signed certificates and is set in the URL
	// with insecure_skip_verify=1; on a real link it lets anyone in the
	// path read the password and the mail.
	InsecureSkipVerify bool
	// RootCAs, when set, replaces the system roots for checking the
	// server's certificate (a private CA). It has no URL form.
	RootCAs *x509.CertPool
	// LocalName is the name sent with EHLO; empty means this machine's
	// host name. Set in the URL with helo=NAME.
	LocalName string
	// DialTimeout bounds connecting (and the TLS handshake for implicit
	// TLS); 0 means 10 seconds.
	DialTimeout time.Duration
	// Timeout bounds a whole send when the caller's context has no
	// deadline; 0 means 60 seconds.
	Timeout time.Duration
}

// ParseURL parses smtp://user:pass@host:port?tls=starttls|tls|none.
//
// The user and password are optional and URL-encoded ("%40" for "@").
// The tls parameter defaults to starttls; the port defaults by mode (587
// starttls, 465 tls, 25 none). insecure_skip_verify=1 accepts a self-signed
// server certificate (for test servers only), and helo=NAME sets the EHLO
// name. Unknown parameters are errors, so a typo such as "tsl=none" cannot
// silently fall back to a default. Errors never quote the password.
func ParseURL(s string) (Config, error) {
	u, err := url.Parse(s)
	if err != nil {
		// url.Error quotes the whole URL, password included.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return Config{}, fmt.Errorf("mail: SMTP URL: %v", err)
	}
	if u.Scheme != "smtp" {
		return Config{}, fmt.Errorf("mail: SMTP URL: scheme %q, want smtp (use ?tls=tls for implicit TLS)", u.Scheme)
	}
	if u.Opaque != "" || u.Hostname() == "" {
		return Config{}, errors.New("mail: SMTP URL: no host; want smtp://user:pass@host:port")
	}
	if u.Path != "" && u.Path != "/" {
		return Config{}, fmt.Errorf("mail: SMTP URL: unexpected path %q", u.Path)
	}
	if u.Fragment != "" {
		return Config{}, errors.New("mail: SMTP URL: unexpected fragment")
	}
	c := Config{Host: u.Hostname()}
	if u.User != nil {
		c.Username = u.User.Username()
		c.Password, _ = u.User.Password()
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return Config{}, fmt.Errorf("mail: SMTP URL: query: %v", err)
	}
	for k, vs := range q {
		if len(vs) != 1 {
			return Config{}, fmt.Errorf("mail: SMTP URL: parameter %q given %d times", k, len(vs))
		}
		v := vs[0]
		switch k {
		case "tls":
			switch v {
			case "starttls":
				c.TLS = StartTLS
			case "tls":
				c.TLS = ImplicitTLS
			case "none":
				c.TLS = NoTLS
			default:
				return Config{}, fmt.Errorf("mail: SMTP URL: tls=%q, want starttls, tls or none", v)
			}
		case "insecure_skip_verify":
			switch v {
			case "1", "true":
				c.InsecureSkipVerify = true
			case "0", "false":
			default:
				return Config{}, fmt.Errorf("mail: SMTP URL: insecure_skip_verify=%q, want 1 or 0", v)
			}
		case "helo":
			if !validHostName(v) {
				return Config{}, fmt.Errorf("mail: SMTP URL: helo=%q is not a host name", v)
			}
			c.LocalName = v
		default:
			return Config{}, fmt.Errorf("mail: SMTP URL: unknown parameter %q", k)
		}
	}
	c.Port = c.TLS.DefaultPort()
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return Config{}, fmt.Errorf("mail: SMTP URL: port %q", p)
		}
		c.Port = n
	}
	return c, nil
}

// Redacted returns c as a URL with the password replaced by "xxxxx".
func (c Config) Redacted() string {
	q := url.Values{"tls": {c.TLS.String()}}
	if c.InsecureSkipVerify {
		q.Set("insecure_skip_verify", "1")
	}
	if c.LocalName != "" {
		q.Set("helo", c.LocalName)
	}
	u := url.URL{Scheme: "smtp", Host: c.addr(), RawQuery: q.Encode()}
	switch {
	case c.Username != "" && c.Password != "":
		u.User = url.UserPassword(c.Username, "xxxxx")
	case c.Username != "":
		u.User = url.User(c.Username)
	}
	return u.String()
}

// String returns Redacted, so printing a Config never shows the password.
func (c Config) String() string { return c.Redacted() }

// GoString keeps %#v from printing the password field.
func (c Config) GoString() string { return "mail.Config(" + c.Redacted() + ")" }

func (c Config) addr() string {
	port := c.Port
	if port == 0 {
		port = c.TLS.DefaultPort()
	}
	return net.JoinHostPort(c.Host, strconv.Itoa(port))
}

func (c Config) dialTimeout() time.Duration {
	if c.DialTimeout > 0 {
		return c.DialTimeout
	}
	return 10 * time.Second
}

func (c Config) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return 60 * time.Second
}

func (c Config) localName() string {
	if c.LocalName != "" {
		return c.LocalName
	}
	if h, err := os.Hostname(); err == nil && validHostName(h) {
		return h
	}
	return "localhost"
}

// validHostName accepts letters, digits, dots and hyphens: enough for
// EHLO, and nothing that could break the command line.
func validHostName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	return strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '-')
	}) < 0
}
