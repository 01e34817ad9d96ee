package ble

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"postern/access"
	"postern/access/protocol"
)

// SiteStore is what the site-side exchange needs from the database: the
// site and the access point as they are now, everything a decision reads,
// the introductions of imported version 2 shares, and a durable write of
// the decision.
type SiteStore interface {
	Site(ctx context.Context) (access.Site, error)
	AccessPointByID(ctx context.Context, id int64) (access.AccessPoint, error)
	PresentationInputs(ctx context.Context, id access.CredentialID, ap access.AccessPoint) (access.Request, error)
	ReplacedDevices(ctx context.Context, id access.CredentialID) ([]access.DeviceKeys, error)
	RecordDecision(ctx context.Context, e *access.Event, cred *access.CredentialID, at time.Time) error
	AppendEvent(ctx context.Context, e *access.Event) error
	SiteLocation(ctx context.Context) *time.Location
	Introductions(ctx context.Context) ([]access.Introduction, error)
	CompleteIntroduction(ctx context.Context, id access.CredentialID) error
}

// Defaults of a SiteExchange.
const (
	// DefaultHelloWait is how long a reader waits for a version 2 key's
	// hello before it challenges as version 1, whose key waits to be
	// challenged: a version 2 key writes its hello as soon as the link is
	// up, within a connection event or two.
	DefaultHelloWait = 250 * time.Millisecond
	// siteTTL is how long the site's identity is used before it is read
	// again, so a key rollover or the version 1 setting reaches the
	// readers within a second.
	siteTTL = time.Second
)

// SiteExchange is the reader's half of the credential protocol: it reads
// the key's first message to tell version 2 (the key speaks first) from
// version 1 (the key waits for a challenge), runs that version's exchange,
// decides with access.Decide, records the decision, tells the key, and
// opens the door.
type SiteExchange struct {
	Store   SiteStore
	Door    Door
	Pending *protocol.Pending // version 1 nonces issued and not yet answered
	Tickets *protocol.Tickets // version 2 expedited-path tickets; nil: made on first use
	Now     func() time.Time
	Log     *slog.Logger
	// Deadline is the response deadline of access points that set none;
	// zero means the Pending's.
	Deadline time.Duration
	// HelloWait is how long to wait for a version 2 hello; zero means
	// DefaultHelloWait.
	HelloWait time.Duration
	// RelyingParty returns who web keys' passkeys were made for (the
	// public URL's host and origin); without it a passkey's assertion is
	// refused. It is asked at every passkey's assertion, so it must not
	// query: a remote reader's follows the hub's from its copy in memory.
	RelyingParty func() protocol.RelyingParty

	mu       sync.Mutex
	cached   *access.Site
	cachedAt time.Time
	tix      *protocol.Tickets
}

// site is the site's identity, read at most once a second: parsing the key
// on every presentation is wasted work, but a rollover must reach the
// readers.
func (x *SiteExchange) site(ctx context.Context) (access.Site, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.cached != nil && time.Since(x.cachedAt) < siteTTL {
		return *x.cached, nil
	}
	s, err := x.Store.Site(ctx)
	if err != nil {
		return s, err
	}
	x.cached, x.cachedAt = &s, time.Now()
	return s, nil
}

// tickets returns the exchange's ticket store, made on first use.
func (x *SiteExchange) tickets() *protocol.Tickets {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.Tickets != nil {
		return x.Tickets
	}
	if x.tix == nil {
		x.tix = protocol.NewTickets(time.Now, 0)
	}
	return x.tix
}

// defaultDeadline is the deadline of an access point that sets none.
func (x *SiteExchange) defaultDeadline() time.Duration {
	switch {
	case x.Deadline > 0:
		return x.Deadline
	case x.Pending != nil:
		return x.Pending.Deadline()
	}
	return protocol.DefaultDeadline
}

var _ Exchanger = (*SiteExchange)(nil)

// NewSiteExchange returns an exchange with a default response deadline (0:
// the protocol's default, well under a second), which access points may
// override one by one.
func NewSiteExchange(st SiteStore, door Door, deadline time.Duration, log *slog.Logger) *SiteExchange {
	if log == nil {
		log = slog.Default()
	}
	return &SiteExchange{Store: st, Door: door, Pending: protocol.NewPending(time.Now, deadline), Tickets: protocol.NewTickets(time.Now, 0),
		Now: time.Now, Log: log, Deadline: deadline}
}

// ReaderID derives a reader's protocol id from its binding, so it is stable
// across restarts without being stored.
func ReaderID(siteID [16]byte, binding string) protocol.ReaderID {
	h := sha256.Sum256(append(siteID[:], []byte("reader:"+binding)...))
	var id protocol.ReaderID
	copy(id[:], h[:16])
	return id
}

// Exchange runs one presentation. It returns an error only for what went
// wrong with the link or the store; a refusal is a decision, logged as an
// event, and the exchange still returns nil.
func (x *SiteExchange) Exchange(ctx context.Context, rc ReaderConfig, c Candidate, link Link) error {
	start := x.Now()
	ap, err := x.Store.AccessPointByID(ctx, rc.ID)
	if err != nil {
		return fmt.Errorf("access point %d: %w", rc.ID, err)
	}
	if c.Phone {
		ap = ap.ForPhone(x.defaultDeadline())
	}
	site, err := x.site(ctx)
	if err != nil {
		return err
	}
	wait := x.HelloWait
	if wait <= 0 {
		wait = DefaultHelloWait
	}
	wctx, cancel := context.WithTimeout(ctx, wait)
	first, err := link.Recv(wctx)
	cancel()
	switch {
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil:
		// Silence: a version 1 key, waiting to be challenged.
		return x.exchangeV1(ctx, ap, site, c, link, start)
	case err != nil:
		return fmt.Errorf("waiting for the key's first message: %w", err)
	case protocol.KindOf(first) == protocol.KindHello:
		return x.exchangeV2(ctx, ap, site, c, link, start, first)
	}
	return x.reject(ctx, ap, c, start, "", "", fmt.Errorf("%w: the key's first message (type 0x%02x, %d bytes) is not a hello", protocol.ErrMalformed, first[0], len(first)))
}

// exchangeV1 is the version 1 exchange: the reader challenges first.
func (x *SiteExchange) exchangeV1(ctx context.Context, ap access.AccessPoint, site access.Site, c Candidate, link Link, start time.Time) error {
	var req protocol.Requirements
	if ap.RequireUnlock {
		req |= protocol.RequireUnlock
	}
	ch, eph, err := protocol.NewChallenge(rand.Reader, site.Key, protocol.SiteID(site.ID), ReaderID(site.ID, ap.Reader), req, x.Now())
	if err != nil {
		return err
	}
	// Version 1 keys answer at once (they prompt for an unlock only after a
	// refusal), so the unlock window does not stretch their deadline.
	deadline := ap.ResponseDeadline
	if deadline <= 0 {
		deadline = x.defaultDeadline()
	}
	if err := x.Pending.IssueWithin(ch, eph, deadline); err != nil {
		return x.reject(ctx, ap, c, start, "", "v1", err)
	}
	if err := link.Send(ctx, ch.Marshal()); err != nil {
		return fmt.Errorf("send challenge: %w", err)
	}
	raw, err := x.await(ctx, link, deadline)
	if err != nil {
		return x.awaitFailed(ctx, ap, c, start, "v1", deadline, err)
	}
	if protocol.KindOf(raw) == protocol.KindHello {
		// A version 2 key whose hello came after the wait (a slow link, a
		// relay): it ignores the version 1 challenge, so answer its hello.
		return x.exchangeV2(ctx, ap, site, c, link, start, raw)
	}
	opened, err := x.Pending.Open(ch.Nonce, raw)
	if err != nil {
		return x.reject(ctx, ap, c, start, "", "v1", err)
	}
	credID := access.CredentialID(opened.CredentialID)
	in, err := x.Store.PresentationInputs(ctx, credID, ap)
	if err != nil {
		return err
	}
	answer := func(r protocol.Result) {
		msg, err := protocol.SealResult(opened.Session, r)
		x.send(ctx, link, msg, err)
	}
	if err := x.checkHolder(ctx, &in, credID, opened.UserVerified, opened.Verify); err != nil {
		if !errors.Is(err, protocol.ErrBadSignature) {
			return err
		}
		// Someone else's credential id, or UV claimed with the tap key.
		answer(protocol.Result{Reason: protocol.ReasonNotProcessed, Message: "not accepted"})
		return x.reject(ctx, ap, c, start, credID.String(), "v1", err)
	}
	in.UserVerified, in.Protocol, in.AcceptV1 = opened.UserVerified, 1, site.AcceptV1
	return x.conclude(ctx, ap, c, start, in, credID, "v1", func(r protocol.Result, _ bool) { answer(r) })
}

// await waits for the key's answer, no longer than the deadline: a key
// that has not answered by then cannot be accepted, so the reader stops
// waiting and frees its slot for the next key.
func (x *SiteExchange) await(ctx context.Context, link Link, deadline time.Duration) ([]byte, error) {
	rctx, cancel := context.WithTimeout(ctx, deadline+100*time.Millisecond)
	defer cancel()
	return link.Recv(rctx)
}

// awaitFailed logs a key silent past the deadline as late (a slow link, a
// relay, or a key stalling the reader); a key that went away is no
// decision.
func (x *SiteExchange) awaitFailed(ctx context.Context, ap access.AccessPoint, c Candidate, start time.Time, proto string, deadline time.Duration, err error) error {
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		return x.reject(ctx, ap, c, start, "", proto, fmt.Errorf("%w: no answer within %v of the challenge", protocol.ErrLate, deadline))
	}
	return fmt.Errorf("waiting for the response: %w", err)
}

// checkHolder verifies a response's signature with the credential's key
// the user-verified flag names. A credential invited but never registered
// has no key to check against, so nothing proves the key is the holder: it
// is decided and logged as a stranger, with no user on the event. A
// signature of a device a reissue replaced marks the request Replaced. A
// signature that fails is an error wrapping protocol.ErrBadSignature; any
// other error is the store's.
func (x *SiteExchange) checkHolder(ctx context.Context, in *access.Request, id access.CredentialID, uv bool, verify func(*ecdsa.PublicKey) error) error {
	if in.Credential == nil {
		return nil
	}
	pub := in.Credential.TapKey
	if uv {
		pub = in.Credential.UVKey
	}
	key, err := protocol.ParsePublicKey(pub)
	if err != nil {
		in.Credential, in.User, in.Grants = nil, nil, nil
		return nil
	}
	verr := verify(key)
	if verr == nil {
		return nil
	}
	replaced, err := x.replacedDevice(ctx, id, uv, verify)
	if err != nil {
		return err
	}
	if !replaced {
		return verr
	}
	in.Replaced = true
	return nil
}

// conclude decides a presentation whose holder is proved (or a stranger),
// records the decision before anyone acts on it, answers the key and opens
// the door. answer is told whether the credential is one to hand an
// expedited-path ticket to: known, active, and on a version still let in.
func (x *SiteExchange) conclude(ctx context.Context, ap access.AccessPoint, c Candidate, start time.Time, in access.Request, credID access.CredentialID, proto string, answer func(protocol.Result, bool)) error {
	in.Now = x.Now()
	in.Location = x.Store.SiteLocation(ctx)
	d := access.Decide(in)

	e := &access.Event{At: in.Now, Kind: eventKind(c, "denied"), Reason: d.Reason.String(), Actor: eventActor(c, ap), Protocol: proto,
		AccessPointID: ap.ID, CredentialID: credID.String(), RSSI: c.RSSI, Latency: x.Now().Sub(start)}
	if d.Granted {
		e.Kind = eventKind(c, "granted")
	}
	var touched *access.CredentialID
	if in.User != nil {
		e.UserID = in.User.ID
		e.Detail = in.User.Name()
		if !in.Replaced {
			touched = &credID // the old phone is not a use of the credential
		}
	}
	if in.UserVerified {
		e.Detail = strings.TrimSpace(e.Detail + " (unlocked)")
	}
	// Persist before telling anyone: a decision the key or the door acted on
	// is always in the log.
	if err := x.Store.RecordDecision(ctx, e, touched, in.Now); err != nil {
		return fmt.Errorf("record decision: %w", err)
	}
	// A replaced phone gets no ticket: one would name the new phone's keys.
	active := in.Credential != nil && in.Credential.Status == access.CredentialActive && !in.Replaced && d.Reason != access.ReasonUpdateRequired
	answer(protocol.Result{Granted: d.Granted, Reason: resultReason(d.Reason), Message: resultMessage(d, ap)}, active)
	if d.Granted {
		// The door's own deadline, not the exchange's: the key may hang up
		// while the strike is still held.
		go func() {
			dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ap.UnlockDuration+10*time.Second)
			defer cancel()
			if err := x.Door.Pulse(dctx, DoorInfo{ID: ap.ID, Name: ap.Name}, ap.UnlockDuration); err != nil {
				x.Log.Error("door did not open", "access_point", ap.Name, "err", err)
			}
		}()
	}
	return nil
}

// send tells the key a sealed result, if sealing worked.
func (x *SiteExchange) send(ctx context.Context, link Link, msg []byte, err error) {
	if err != nil {
		x.Log.Warn("sealing result", "err", err)
		return
	}
	if err := link.Send(ctx, msg); err != nil {
		x.Log.Debug("the key left before the result", "err", err)
	}
}

// reject logs a message that failed the protocol (late, replayed,
// tampered, wrongly signed …). It is recorded as an event, since an attack
// is what an admin wants to see, but it is not a decision about a person.
func (x *SiteExchange) reject(ctx context.Context, ap access.AccessPoint, c Candidate, start time.Time, cred, proto string, why error) error {
	code := protocol.RefusalCode(why)
	x.Log.Warn("refused a key's message", "access_point", ap.Name, "reason", code, "protocol", proto, "err", why)
	e := &access.Event{Kind: eventKind(c, "rejected"), Reason: code, Actor: eventActor(c, ap), AccessPointID: ap.ID, Protocol: proto,
		CredentialID: cred, RSSI: c.RSSI, Latency: x.Now().Sub(start), Detail: why.Error()}
	if err := x.Store.AppendEvent(ctx, e); err != nil {
		return errors.Join(why, err)
	}
	return nil
}

// resultReason is a decision's reason as the wire has it: the same numbers
// up to ReasonUpdateRequired; a reason the protocol has no code for (a
// remote reader offline too long) is sent as not processed, with
// resultMessage saying why.
func resultReason(r access.Reason) protocol.Reason {
	if r > access.ReasonUpdateRequired {
		return protocol.ReasonNotProcessed
	}
	return protocol.Reason(r)
}

// eventKind is "access.granted", "access.denied" or "access.rejected" at
// the reader, and "access.phone.…" for an open from the phone over the
// network, so an admin tells the two apart and counts them apart.
func eventKind(c Candidate, outcome string) string {
	if c.Phone {
		return "access.phone." + outcome
	}
	return "access." + outcome
}

// eventActor is the reader that decided, or the address a phone opened
// from.
func eventActor(c Candidate, ap access.AccessPoint) string {
	if c.Phone {
		return "phone:" + c.Addr
	}
	return "reader:" + ap.Reader
}

// resultMessage is the short text the key shows; version 2 pads it to 64
// bytes, so it stays under that.
func resultMessage(d access.Decision, ap access.AccessPoint) string {
	switch {
	case d.Granted:
		return "Welcome"
	case d.Reason == access.ReasonUnlockRequired:
		return "Unlock your phone and present it again"
	case d.Reason == access.ReasonNoPermission:
		return "No permission for " + truncate(ap.Name, 40)
	case d.Reason == access.ReasonReplaced:
		return "Use your new phone, or ask your administrator"
	case d.Reason == access.ReasonOfflineTooLong:
		return "This door has been offline too long: ask for help"
	case d.Reason == access.ReasonUpdateRequired:
		return "Update your key"
	}
	return ""
}

// truncate cuts s to at most n bytes, on a rune boundary.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
