package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/netip"

	"postern/ble"
	"postern/mail"
	"postern/web"
)

// observeFlags are serve's logging and metrics flags.
type observeFlags struct {
	logLevel     string
	logFormat    string
	metricsAllow string
}

func (f *observeFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&f.logFormat, "log-format", "text", "text (key=value) or json (one object a line, for a log pipeline)")
	fs.StringVar(&f.metricsAllow, "metrics-allow", "", "addresses (CIDRs, comma-separated) that may read /metrics without an API token")
}

// logger is the process log on w in the chosen format.
func (f *observeFlags) logger(w io.Writer) (*slog.Logger, error) {
	var level slog.Level
	if err := level.UnmarshalText([]byte(f.logLevel)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: level}
	switch f.logFormat {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	default:
		return nil, fmt.Errorf("--log-format %q: want text or json", f.logFormat)
	}
}

// serverLog carries net/http's own complaints (a failed TLS handshake, a
// client gone mid-request) into the process log, in its format, at debug:
// on a public name the internet's scanners would fill the log otherwise.
func serverLog(l *slog.Logger) *log.Logger {
	return slog.NewLogLogger(l.Handler(), slog.LevelDebug)
}

// allowed parses --metrics-allow. A range that takes in every address is
// refused: metrics are never public.
func (f *observeFlags) allowed() ([]netip.Prefix, error) {
	ps, err := web.ParsePrefixes(f.metricsAllow)
	if err != nil {
		return nil, fmt.Errorf("--metrics-allow: %w", err)
	}
	for _, p := range ps {
		if p.Bits() == 0 {
			return nil, fmt.Errorf("--metrics-allow %s: that is every address, and metrics are never public; name the scraper's network", p)
		}
	}
	return ps, nil
}

// mailMetrics counts the outbox's failed attempts.
func mailMetrics(m *web.Metrics) mail.Option {
	return mail.WithNotify(func(o mail.Outgoing, err error) {
		m.MailAttempt(err, err != nil && o.NextAttempt.IsZero())
	})
}

// readerMetrics tells the metrics which readers run.
func readerMetrics(m *web.Metrics, readers *ble.Manager) {
	m.WatchReaders(func() []int64 {
		var ids []int64
		for _, rc := range readers.Running() {
			ids = append(ids, rc.ID)
		}
		return ids
	})
}
