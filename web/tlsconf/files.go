package tlsconf

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"
)

// filesRecheck is how often a handshake looks at the files again: a stat
// of two files a second costs nothing, and a renewal shows within it.
const filesRecheck = time.Second

// Files serves a certificate and key that someone else keeps (certbot, a
// company CA) and picks up a renewal at the next handshake after the files
// change, without a restart. A half-done renewal (a new certificate beside
// the old key) keeps the old pair until both files match again.
type Files struct {
	certFile, keyFile string
	log               *slog.Logger
	now               func() time.Time

	mu      sync.Mutex
	cert    *tls.Certificate
	stamp   [2]fileStamp
	checked time.Time
	failing bool // a reload has failed and been logged; say so again only after a success
}

// fileStamp tells a changed file from the one loaded: certbot swaps a
// symlink, a CA tool rewrites in place, and both change one of these.
type fileStamp struct {
	mod  time.Time
	size int64
}

// LoadFiles reads the pair once, failing if it does not load: a
// certificate that never worked is a mistake to report at start.
func LoadFiles(certFile, keyFile string, log *slog.Logger) (*Files, error) {
	if log == nil {
		log = slog.Default()
	}
	f := &Files{certFile: certFile, keyFile: keyFile, log: log, now: time.Now}
	st, err := f.stamps()
	if err != nil {
		return nil, err
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("--tls-cert %s and --tls-key %s: %w", certFile, keyFile, err)
	}
	f.cert, f.stamp, f.checked = &cert, st, f.now()
	return f, nil
}

// Certificate returns the pair in use, reloading it first if the files
// have changed since it was loaded.
func (f *Files) Certificate() *tls.Certificate {
	f.mu.Lock()
	defer f.mu.Unlock()
	now := f.now()
	if now.Sub(f.checked) < filesRecheck {
		return f.cert
	}
	f.checked = now
	st, err := f.stamps()
	if err != nil || st == f.stamp {
		if err != nil {
			f.logFailure(err)
		}
		return f.cert
	}
	cert, err := tls.LoadX509KeyPair(f.certFile, f.keyFile)
	if err != nil {
		f.logFailure(err)
		return f.cert
	}
	f.cert, f.stamp, f.failing = &cert, st, false
	f.log.Info("TLS certificate reloaded", "cert", f.certFile, "not_after", cert.Leaf.NotAfter.Format(time.RFC3339), "sha256", Fingerprint(cert.Leaf.Raw))
	return f.cert
}

// GetCertificate is the tls.Config hook.
func (f *Files) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return f.Certificate(), nil
}

func (f *Files) logFailure(err error) {
	if f.failing {
		return
	}
	f.failing = true
	f.log.Warn("TLS certificate files changed but do not load; still serving the previous certificate", "cert", f.certFile, "key", f.keyFile, "err", err)
}

func (f *Files) stamps() ([2]fileStamp, error) {
	var st [2]fileStamp
	for i, p := range []string{f.certFile, f.keyFile} {
		fi, err := os.Stat(p)
		if err != nil {
			return st, err
		}
		st[i] = fileStamp{mod: fi.ModTime(), size: fi.Size()}
	}
	return st, nil
}
