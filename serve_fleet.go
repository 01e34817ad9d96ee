package main

import (
	"context"
	"log/slog"
	"net"
	"net/url"
	"path/filepath"
	"sync"
	"time"

	"postern/fleet"
	"postern/store"
)

// fleetDir is where the hub keeps its JetStream files and leaf key.
func fleetDir(data string) string { return filepath.Join(data, "fleet") }

// runFleetHub starts the remote-reader hub once the site has a remote
// reader, and stops it when ctx ends. An appliance without remote readers
// runs no NATS server and opens no port: it stays as simple as it was.
func runFleetHub(ctx context.Context, cfg serveConfig, st *store.Store, log *slog.Logger) (wait func()) {
	var wg sync.WaitGroup
	wg.Go(func() {
		var hub *fleet.Hub
		defer func() {
			if hub != nil {
				hub.Close()
			}
		}()
		t := time.NewTicker(2 * time.Second)
		defer t.Stop()
		for hub == nil {
			if n, err := st.CountFleetReaders(ctx); err == nil && n > 0 {
				h, err := fleet.StartHub(ctx, fleet.HubConfig{Store: st, Dir: fleetDir(cfg.data), Listen: cfg.fleetListen, Log: log})
				if err != nil {
					log.Error("remote readers: the hub did not start", "err", err)
				} else {
					hub = h
					break
				}
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
		<-ctx.Done()
	})
	return wg.Wait
}

// keepPublicURL keeps the public URL in the settings, when it changed,
// for the remote readers: web keys' passkeys are made for it, and a
// remote reader checks them against the copy it follows. The write is
// the process's configuration, not an administrator's act: no event.
func keepPublicURL(ctx context.Context, st *store.Store, publicURL string) error {
	have, err := st.Setting(ctx, store.SettingPublicURL, "")
	if err != nil || have == publicURL {
		return err
	}
	return st.SetSetting(ctx, "", store.SettingPublicURL, publicURL)
}

// fleetToken composes enrolment tokens with the hub's key fingerprint,
// making the key the first time a reader is added.
func fleetToken(data string) func(int64, string) (string, error) {
	return func(id int64, secret string) (string, error) {
		fp, err := fleet.HubFingerprint(fleetDir(data))
		if err != nil {
			return "", err
		}
		return fleet.FormatToken(id, secret, fp), nil
	}
}

// fleetAddress is what readers dial: the public URL's host with the
// reader listener's port.
func fleetAddress(publicURL, listen string) string {
	_, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	host := "localhost"
	if u, err := url.Parse(publicURL); err == nil && u.Hostname() != "" {
		host = u.Hostname()
	}
	return net.JoinHostPort(host, port)
}
