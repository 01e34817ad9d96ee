package mail

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// memSettings is the settings table as the store keeps it.
type memSettings struct {
	mu  sync.Mutex
	m   map[string]string
	err error
}

func (s *memSettings) Setting(_ context.Context, key, def string) (string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return "", s.err
	}
	if v, ok := s.m[key]; ok {
		return v, nil
	}
	return def, nil
}

func (s *memSettings) set(key, value string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]string{}
	}
	s.m[key] = value
}

var _ Settings = (*memSettings)(nil)

func TestMailerSettingsOverFlags(t *testing.T) {
	const (
		flagURL = "smtp://127.0.0.1:2525?tls=none"
		pageURL = "smtp://mail.example.com:587"
	)
	tests := []struct {
		name                string
		saved               map[string]string
		broken              bool // the settings cannot be read
		cfg                 MailerConfig
		publicURL           string
		wantURL, wantSource string
		wantFrom            string
		wantConfigured      bool
	}{
		{name: "nothing set", publicURL: "https://doors.acme.example/x",
			wantFrom: "postern@doors.acme.example"},
		{name: "public URL without a dotted host", publicURL: "http://doors:8080",
			wantFrom: "postern@localhost"},
		{name: "flags", cfg: MailerConfig{SMTP: flagURL, From: "flag@acme.example"},
			wantURL: flagURL, wantSource: "--smtp", wantFrom: "flag@acme.example", wantConfigured: true},
		{name: "settings page over flags", saved: map[string]string{SettingSMTP: pageURL, SettingFrom: "page@acme.example"},
			cfg:     MailerConfig{SMTP: flagURL, From: "flag@acme.example"},
			wantURL: pageURL, wantSource: "settings", wantFrom: "page@acme.example", wantConfigured: true},
		{name: "empty settings fall back to flags", saved: map[string]string{SettingSMTP: "", SettingFrom: ""},
			cfg:     MailerConfig{SMTP: flagURL, From: "flag@acme.example"},
			wantURL: flagURL, wantSource: "--smtp", wantFrom: "flag@acme.example", wantConfigured: true},
		{name: "unreadable settings fall back to flags", broken: true,
			cfg:     MailerConfig{SMTP: flagURL, From: "flag@acme.example"},
			wantURL: flagURL, wantSource: "--smtp", wantFrom: "flag@acme.example", wantConfigured: true},
		{name: "override counts as configured", cfg: MailerConfig{Override: &Fake{}}, publicURL: "https://acme.example",
			wantFrom: "postern@acme.example", wantConfigured: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			st := &memSettings{m: tt.saved}
			if tt.broken {
				st.err = errors.New("database is locked")
			}
			tt.cfg.Log = quietLogger()
			m, err := NewMailer(newMemOutbox(), st, tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			ctx := t.Context()
			if u, src := m.SMTPURL(ctx); u != tt.wantURL || src != tt.wantSource {
				t.Errorf("SMTPURL: got %q from %q, want %q from %q", u, src, tt.wantURL, tt.wantSource)
			}
			if got := m.From(ctx, tt.publicURL); got != tt.wantFrom {
				t.Errorf("From: got %q, want %q", got, tt.wantFrom)
			}
			if got := m.Configured(ctx); got != tt.wantConfigured {
				t.Errorf("Configured: got %v, want %v", got, tt.wantConfigured)
			}
		})
	}
}

func TestNewMailerRejectsBadFlag(t *testing.T) {
	_, err := NewMailer(newMemOutbox(), &memSettings{}, MailerConfig{SMTP: "http://mail.example.com", Log: quietLogger()})
	if err == nil {
		t.Fatal("got no error for an http:// --smtp, want one")
	}
}

// TestMailerSendsOnceSMTPIsSaved follows a queued mail to a real SMTP
// server: it waits while nothing is set, and goes out once the settings
// page saves a server, without a restart.
func TestMailerSendsOnceSMTPIsSaved(t *testing.T) {
	ob := newMemOutbox()
	id := ob.add(testMessage(), 0)
	st := &memSettings{}
	m, err := NewMailer(ob, st, MailerConfig{Log: quietLogger()})
	if err != nil {
		t.Fatal(err)
	}
	m.worker.drain(t.Context())
	if due, marks := ob.counts(); due != 0 || marks != 0 {
		t.Fatalf("without SMTP: got %d reads and %d marks of the outbox, want none", due, marks)
	}

	be := &backend{}
	st.set(SettingSMTP, fmt.Sprintf("smtp://127.0.0.1:%d?tls=none", startServer(t, be, plainServer)))
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	done := make(chan struct{})
	go func() { m.Run(ctx); close(done) }()
	for ob.get(id).sentAt.IsZero() && ctx.Err() == nil {
		m.Wake()
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	if got := ob.get(id); got.sentAt.IsZero() || got.Attempts != 1 {
		t.Fatalf("after saving SMTP: got sent at %v, attempts %d; want sent, 1", got.sentAt, got.Attempts)
	}
	if n := len(be.messages()); n != 1 {
		t.Errorf("server got %d messages, want 1", n)
	}
}
