package fleet

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"

	"postern/store"
)

// An enrolment token is "pt1.ID.SECRET.FINGERPRINT": the reader's id on
// the hub, the one-time secret, and the fingerprint of the hub's key that
// the reader pins. The admin copies it from the Readers page to the board.

var tokenPattern = regexp.MustCompile(`^pt1\.([0-9]{1,12})\.([0-9a-f]{32})\.([0-9a-f]{64})$`)

// FormatToken is the enrolment token of reader id.
func FormatToken(id int64, secret, fingerprint string) string {
	return fmt.Sprintf("pt1.%d.%s.%s", id, secret, fingerprint)
}

// NewTokenSecret draws the secret part of an enrolment token.
func NewTokenSecret() string { return randomHex(16) }

// ErrBadToken is an enrolment token that is not one.
var ErrBadToken = errors.New("fleet: that is not an enrolment token: copy it whole from the hub's Readers page")

func parseToken(s string) (id int64, secret, fingerprint string, err error) {
	m := tokenPattern.FindStringSubmatch(s)
	if m == nil {
		return 0, "", "", ErrBadToken
	}
	id, _ = strconv.ParseInt(m[1], 10, 64)
	return id, m[2], m[3], nil
}

// HubFingerprint returns the fingerprint of the hub's key kept in dir,
// making the key the first time; the Readers page puts it in tokens
// before the hub has started.
func HubFingerprint(dir string) (string, error) {
	cert, err := hubCertificate(dir)
	if err != nil {
		return "", err
	}
	return certFingerprint(cert)
}

// credentials are what a reader keeps once enrolled.
type credentials struct {
	ID          int64
	Name        string
	Secret      string
	Fingerprint string
}

func loadCredentials(ctx context.Context, st *store.Store) (credentials, bool, error) {
	var c credentials
	id, err := st.FleetState(ctx, "reader_id")
	if err != nil || id == "" {
		return c, false, err
	}
	c.ID, _ = strconv.ParseInt(id, 10, 64)
	for key, dst := range map[string]*string{"reader_name": &c.Name, "reader_secret": &c.Secret, "hub_fingerprint": &c.Fingerprint} {
		if *dst, err = st.FleetState(ctx, key); err != nil {
			return c, false, err
		}
	}
	return c, true, nil
}

func saveCredentials(ctx context.Context, st *store.Store, c credentials) error {
	for key, v := range map[string]string{"reader_name": c.Name, "reader_secret": c.Secret, "hub_fingerprint": c.Fingerprint, "reader_id": strconv.FormatInt(c.ID, 10)} {
		if err := st.SetFleetState(ctx, key, v); err != nil {
			return err
		}
	}
	return nil
}

// enrol spends token at the hub and keeps the credentials it answers with.
// It dials the hub as a leaf node that may do nothing but ask to enrol.
func enrol(ctx context.Context, st *store.Store, hub, token string, wait time.Duration) (credentials, error) {
	id, secret, fp, err := parseToken(token)
	if err != nil {
		return credentials{}, err
	}
	u, err := hubURL(hub, fmt.Sprintf("enrol-r%d", id), secret)
	if err != nil {
		return credentials{}, err
	}
	opts := &server.Options{
		ServerName: fmt.Sprintf("postern-r%d-enrol", id),
		DontListen: true, NoSigs: true, NoLog: true,
		LeafNode: server.LeafNodeOpts{
			ReconnectInterval: 500 * time.Millisecond,
			Remotes:           []*server.RemoteLeafOpts{{URLs: []*url.URL{u}, TLS: true, TLSConfig: pinnedTLS(fp), TLSTimeout: 5}},
		},
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return credentials{}, err
	}
	go srv.Start()
	defer func() {
		srv.Shutdown()
		srv.WaitForShutdown()
	}()
	if !srv.ReadyForConnections(10 * time.Second) {
		return credentials{}, errors.New("fleet: the enrolment server did not start")
	}
	wctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	for srv.NumLeafNodes() == 0 {
		if wctx.Err() != nil {
			return credentials{}, fmt.Errorf("fleet: could not reach the hub at %s: check the address, that the hub has this reader, and that the token is this hub's and not spent", hub)
		}
		sleep(wctx, 50*time.Millisecond)
	}
	nc, err := nats.Connect("", nats.InProcessServer(srv))
	if err != nil {
		return credentials{}, err
	}
	defer nc.Close()
	body, _ := json.Marshal(enrolRequest{Token: secret})
	var msg *nats.Msg
	// The hub's answer needs the reader's inbox to be known across the
	// link, which can take a moment after the link is up.
	for {
		msg, err = nc.RequestWithContext(wctx, fmt.Sprintf("%s.r%d", enrolSubject, id), body)
		if err == nil || !errors.Is(err, nats.ErrNoResponders) || wctx.Err() != nil {
			break
		}
		sleep(wctx, 100*time.Millisecond)
	}
	if err != nil {
		return credentials{}, fmt.Errorf("fleet: enrolment: %w", err)
	}
	var r enrolReply
	if err := json.Unmarshal(msg.Data, &r); err != nil {
		return credentials{}, fmt.Errorf("fleet: enrolment: %w", err)
	}
	if r.Error != "" {
		return credentials{}, errors.New(r.Error)
	}
	c := credentials{ID: r.ID, Name: r.Name, Secret: r.Secret, Fingerprint: fp}
	return c, saveCredentials(ctx, st, c)
}

// hubURL is the hub's leaf address as a URL with the reader's user.
func hubURL(hub, user, pass string) (*url.URL, error) {
	u, err := url.Parse(hub)
	if err != nil || u.Host == "" {
		if u, err = url.Parse("tls://" + hub); err != nil {
			return nil, fmt.Errorf("fleet: hub address %q: %w", hub, err)
		}
	}
	if u.Scheme != "tls" && u.Scheme != "nats" {
		return nil, fmt.Errorf("fleet: hub address %q: want HOST:PORT or tls://HOST:PORT", hub)
	}
	u.Scheme = "tls"
	u.User = url.UserPassword(user, pass)
	return u, nil
}
