package mail

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"
)

// Setting keys for email. The settings page saves under them and Mailer
// reads them, so they are named once, here.
const (
	// SettingSMTP holds the SMTP URL set on the settings page.
	SettingSMTP = "smtp_url"
	// SettingFrom holds the sending address set on the settings page.
	SettingFrom = "mail_from"
)

// Settings looks up what the admin saved on the settings page. The store
// implements it.
type Settings interface {
	// Setting returns the value saved under key, or def when there is none.
	Setting(ctx context.Context, key, def string) (string, error)
}

// Mailer owns the outbox worker and knows the SMTP settings in force: the
// settings page's when set, else the --smtp and --mail-from flags.
type Mailer struct {
	settings Settings
	flagSMTP string
	flagFrom string
	log      *slog.Logger
	worker   *Worker
	// sender, when set, replaces SMTP (tests of other packages).
	sender Sender
}

// MailerConfig configures NewMailer.
type MailerConfig struct {
	SMTP     string // smtp://… from the command line; may be empty
	From     string
	Log      *slog.Logger
	Options  []Option // worker options (tests shorten the backoff)
	Override Sender   // send through this instead of SMTP
}

// NewMailer checks the flags and builds the worker that drains ob,
// sending through the SMTP server that settings or the flags name; Run
// starts it.
func NewMailer(ob Outbox, settings Settings, cfg MailerConfig) (*Mailer, error) {
	if cfg.SMTP != "" {
		if _, err := ParseURL(cfg.SMTP); err != nil {
			return nil, fmt.Errorf("--smtp: %w", err)
		}
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	m := &Mailer{settings: settings, flagSMTP: cfg.SMTP, flagFrom: cfg.From, log: cfg.Log, sender: cfg.Override}
	opts := append([]Option{WithLogger(cfg.Log)}, cfg.Options...)
	m.worker = NewWorker(ob, m.currentSender, opts...)
	return m, nil
}

// Run sends queued emails until ctx ends.
func (m *Mailer) Run(ctx context.Context) { m.worker.Run(ctx) }

// Wake makes the worker look at the outbox now.
func (m *Mailer) Wake() { m.worker.Wake() }

// SMTPURL returns the SMTP URL in force and where it came from:
// "settings", "--smtp", or "" when none is set.
func (m *Mailer) SMTPURL(ctx context.Context) (u, source string) {
	if v, err := m.settings.Setting(ctx, SettingSMTP, ""); err == nil && v != "" {
		return v, "settings"
	}
	if m.flagSMTP != "" {
		return m.flagSMTP, "--smtp"
	}
	return "", ""
}

// From returns the sending address in force, defaulting to postern@ the
// public URL's host.
func (m *Mailer) From(ctx context.Context, publicURL string) string {
	return FromAddress(ctx, m.settings, m.flagFrom, publicURL)
}

// FromAddress returns the sending address in force: the settings page's,
// else flagFrom (serve's --mail-from), else postern@ the public URL's
// host. The command line, which has no Mailer, asks it too.
func FromAddress(ctx context.Context, settings Settings, flagFrom, publicURL string) string {
	if v, err := settings.Setting(ctx, SettingFrom, ""); err == nil && v != "" {
		return v
	}
	if flagFrom != "" {
		return flagFrom
	}
	host := "localhost"
	if u, err := url.Parse(publicURL); err == nil && u.Hostname() != "" && strings.Contains(u.Hostname(), ".") {
		host = u.Hostname()
	}
	return "postern@" + host
}

// Configured reports whether emails can go out.
func (m *Mailer) Configured(ctx context.Context) bool {
	u, _ := m.SMTPURL(ctx)
	return u != "" || m.sender != nil
}

// currentSender is asked before each round of the worker, so a change on
// the settings page applies to the next mail.
func (m *Mailer) currentSender() Sender {
	if m.sender != nil {
		return m.sender
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	u, _ := m.SMTPURL(ctx)
	if u == "" {
		return nil
	}
	cfg, err := ParseURL(u)
	if err != nil {
		m.log.Error("the SMTP settings do not parse; emails wait in the outbox", "err", err)
		return nil
	}
	return NewSMTP(cfg)
}
