package web

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	"postern/mail"
	"postern/store"
)

// Setting keys for email, set on the settings page.
const (
	settingSMTP     = "smtp_url"
	settingMailFrom = "mail_from"
)

// Mailer owns the outbox worker and knows the SMTP settings in force: the
// settings page's when set, else the --smtp and --mail-from flags.
type Mailer struct {
	store    *store.Store
	flagSMTP string
	flagFrom string
	log      *slog.Logger
	worker   *mail.Worker
	// Sender, when set, replaces SMTP (tests of other packages).
	sender mail.Sender
}

// MailerConfig configures NewMailer.
type MailerConfig struct {
	SMTP     string // smtp://… from the command line; may be empty
	From     string
	Log      *slog.Logger
	Options  []mail.Option // worker options (tests shorten the backoff)
	Override mail.Sender   // send through this instead of SMTP
}

// NewMailer checks the flags and builds the outbox worker; Run starts it.
func NewMailer(st *store.Store, cfg MailerConfig) (*Mailer, error) {
	if cfg.SMTP != "" {
		if _, err := mail.ParseURL(cfg.SMTP); err != nil {
			return nil, fmt.Errorf("--smtp: %w", err)
		}
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	m := &Mailer{store: st, flagSMTP: cfg.SMTP, flagFrom: cfg.From, log: cfg.Log, sender: cfg.Override}
	opts := append([]mail.Option{mail.WithLogger(cfg.Log)}, cfg.Options...)
	m.worker = mail.NewWorker(outboxAdapter{st}, m.currentSender, opts...)
	return m, nil
}

// Run sends queued emails until ctx ends.
func (m *Mailer) Run(ctx context.Context) { m.worker.Run(ctx) }

// Wake makes the worker look at the outbox now.
func (m *Mailer) Wake() { m.worker.Wake() }

// smtpURL returns the SMTP URL in force and where it came from.
func (m *Mailer) smtpURL(ctx context.Context) (string, string) {
	if v, err := m.store.Setting(ctx, settingSMTP, ""); err == nil && v != "" {
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
	if v, err := m.store.Setting(ctx, settingMailFrom, ""); err == nil && v != "" {
		return v
	}
	if m.flagFrom != "" {
		return m.flagFrom
	}
	host := "localhost"
	if u, err := url.Parse(publicURL); err == nil && u.Hostname() != "" && strings.Contains(u.Hostname(), ".") {
		host = u.Hostname()
	}
	return "postern@" + host
}

// Configured reports whether emails can go out.
func (m *Mailer) Configured(ctx context.Context) bool {
	u, _ := m.smtpURL(ctx)
	return u != "" || m.sender != nil
}

func (m *Mailer) currentSender() mail.Sender {
	if m.sender != nil {
		return m.sender
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	u, _ := m.smtpURL(ctx)
	if u == "" {
		return nil
	}
	cfg, err := mail.ParseURL(u)
	if err != nil {
		m.log.Error("the SMTP settings do not parse; emails wait in the outbox", "err", err)
		return nil
	}
	return mail.NewSMTP(cfg)
}

// encodeMail turns a message into an outbox row.
func encodeMail(kind string, msg mail.Message) (store.Mail, error) {
	b, err := json.Marshal(msg)
	if err != nil {
		return store.Mail{}, err
	}
	return store.Mail{Kind: kind, Recipient: strings.Join(msg.To, ", "), Subject: msg.Subject, Message: string(b)}, nil
}

// outboxAdapter lets the mail worker drain the store's outbox.
type outboxAdapter struct{ st *store.Store }

func (a outboxAdapter) DueOutbox(ctx context.Context, now time.Time, limit int) ([]mail.Outgoing, error) {
	items, err := a.st.DueOutbox(ctx, now, limit)
	if err != nil {
		return nil, err
	}
	out := make([]mail.Outgoing, 0, len(items))
	for _, it := range items {
		var msg mail.Message
		if err := json.Unmarshal([]byte(it.Message), &msg); err != nil {
			// A row that cannot be read can never be sent: say so once.
			if err := a.st.MarkOutboxFailed(ctx, it.ID, now, "the stored message is damaged: "+err.Error(), time.Time{}, true); err != nil {
				return nil, err
			}
			continue
		}
		out = append(out, mail.Outgoing{ID: it.ID, Message: msg, Attempts: it.Attempts, NextAttempt: it.NextAttempt})
	}
	return out, nil
}

func (a outboxAdapter) MarkOutboxSent(ctx context.Context, id int64, at time.Time) error {
	return a.st.MarkOutboxSent(ctx, id, at)
}

func (a outboxAdapter) MarkOutboxFailed(ctx context.Context, id int64, at time.Time, errText string, next time.Time, permanent bool) error {
	return a.st.MarkOutboxFailed(ctx, id, at, errText, next, permanent)
}
