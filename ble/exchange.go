package ble

import (
	"context"
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
// access point as it is now, everything a decision reads, and a durable
// write of the decision.
type SiteStore interface {
	Site(ctx context.Context) (access.Site, error)
	AccessPointByID(ctx context.Context, id int64) (access.AccessPoint, error)
	PresentationInputs(ctx context.Context, id access.CredentialID, ap access.AccessPoint) (access.Request, error)
	ReplacedDevices(ctx context.Context, id access.CredentialID) ([]access.DeviceKeys, error)
	RecordDecision(ctx context.Context, e *access.Event, cred *access.CredentialID, at time.Time) error
	AppendEvent(ctx context.Context, e *access.Event) error
	SiteLocation(ctx context.Context) *time.Location
}

// SiteExchange is the reader's half of the credential protocol: it
// challenges a connected key, opens and checks its response, decides with
// access.Decide, records the decision, tells the key, and opens the door.
type SiteExchange struct {
	Store   SiteStore
	Door    Door
	Pending *protocol.Pending // nonces issued and not yet answered
	Now     func() time.Time
	Log     *slog.Logger

	siteOnce sync.Mutex
	cached   *access.Site
}

// site is the site's identity, read once: its id and signing key never
// change, and parsing the key on every presentation is wasted work.
func (x *SiteExchange) site(ctx context.Context) (access.Site, error) {
	x.siteOnce.Lock()
	defer x.siteOnce.Unlock()
	if x.cached != nil {
		return *x.cached, nil
	}
	s, err := x.Store.Site(ctx)
	if err != nil {
		return s, err
	}
	x.cached = &s
	return s, nil
}

var _ Exchanger = (*SiteExchange)(nil)

// NewSiteExchange returns an exchange with a response deadline (0: the
// protocol's default, well under a second).
func NewSiteExchange(st SiteStore, door Door, deadline time.Duration, log *slog.Logger) *SiteExchange {
	if log == nil {
		log = slog.Default()
	}
	return &SiteExchange{Store: st, Door: door, Pending: protocol.NewPending(time.Now, deadline), Now: time.Now, Log: log}
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
	site, err := x.site(ctx)
	if err != nil {
		return err
	}
	var req protocol.Requirements
	if ap.RequireUnlock {
		req |= protocol.RequireUnlock
	}
	ch, eph, err := protocol.NewChallenge(rand.Reader, site.Key, protocol.SiteID(site.ID), ReaderID(site.ID, ap.Reader), req, x.Now())
	if err != nil {
		return err
	}
	if err := x.Pending.Issue(ch, eph); err != nil {
		return x.reject(ctx, ap, c, start, "", err)
	}
	if err := link.Send(ctx, ch.Marshal()); err != nil {
		return fmt.Errorf("send challenge: %w", err)
	}
	// A key that has not answered by the deadline cannot be accepted, so
	// stop waiting then and free the reader's slot for the next key.
	rctx, cancel := context.WithTimeout(ctx, x.Pending.Deadline()+100*time.Millisecond)
	raw, err := link.Recv(rctx)
	cancel()
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
			// Connected but silent past the deadline: a slow link, a
			// relay, or a key stalling the reader. Logged as late.
			return x.reject(ctx, ap, c, start, "", fmt.Errorf("%w: no answer within %v of the challenge", protocol.ErrLate, x.Pending.Deadline()))
		}
		// The key went away: not a decision.
		return fmt.Errorf("waiting for the response: %w", err)
	}
	opened, err := x.Pending.Open(ch.Nonce, raw)
	if err != nil {
		return x.reject(ctx, ap, c, start, "", err)
	}
	credID := access.CredentialID(opened.CredentialID)
	in, err := x.Store.PresentationInputs(ctx, credID, ap)
	if err != nil {
		return err
	}
	if in.Credential != nil {
		pub := in.Credential.TapKey
		if opened.UserVerified {
			pub = in.Credential.UVKey
		}
		key, perr := protocol.ParsePublicKey(pub)
		if perr != nil {
			// Invited but never registered: no key to check against, so
			// nothing proves the key is the holder. Decide and log it as a
			// stranger: no user on the event, no use of the credential.
			in.Credential, in.User, in.Grants = nil, nil, nil
		} else if err := opened.Verify(key); err != nil {
			replaced, rerr := x.replacedDevice(ctx, credID, opened)
			if rerr != nil {
				return rerr
			}
			if !replaced {
				// Someone else's credential id, or UV claimed with the tap key.
				x.sendResult(ctx, link, opened, protocol.Result{Reason: protocol.ReasonNotProcessed, Message: "not accepted"})
				return x.reject(ctx, ap, c, start, credID.String(), err)
			}
			in.Replaced = true
		}
	}
	in.UserVerified = opened.UserVerified
	in.Now = x.Now()
	in.Location = x.Store.SiteLocation(ctx)
	d := access.Decide(in)

	e := &access.Event{At: in.Now, Kind: "access.denied", Reason: d.Reason.String(), Actor: "reader:" + ap.Reader,
		AccessPointID: ap.ID, CredentialID: credID.String(), RSSI: c.RSSI, Latency: x.Now().Sub(start)}
	if d.Granted {
		e.Kind = "access.granted"
	}
	var touched *access.CredentialID
	if in.User != nil {
		e.UserID = in.User.ID
		e.Detail = in.User.Name()
		if !in.Replaced {
			touched = &credID // the old phone is not a use of the credential
		}
	}
	if opened.UserVerified {
		e.Detail = strings.TrimSpace(e.Detail + " (unlocked)")
	}
	// Persist before telling anyone: a decision the key or the door acted on
	// is always in the log.
	if err := x.Store.RecordDecision(ctx, e, touched, in.Now); err != nil {
		return fmt.Errorf("record decision: %w", err)
	}
	x.sendResult(ctx, link, opened, protocol.Result{Granted: d.Granted, Reason: resultReason(d.Reason), Message: resultMessage(d, ap)})
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

func (x *SiteExchange) sendResult(ctx context.Context, link Link, opened *protocol.Opened, r protocol.Result) {
	msg, err := protocol.SealResult(opened.Session, r)
	if err != nil {
		x.Log.Warn("sealing result", "err", err)
		return
	}
	if err := link.Send(ctx, msg); err != nil {
		x.Log.Debug("the key left before the result", "err", err)
	}
}

// reject logs a response that failed the protocol (late, replayed,
// tampered, wrongly signed …). It is recorded as an event, since an attack
// is what an admin wants to see, but it is not a decision about a person.
func (x *SiteExchange) reject(ctx context.Context, ap access.AccessPoint, c Candidate, start time.Time, cred string, why error) error {
	code := protocol.RefusalCode(why)
	x.Log.Warn("refused a key's response", "access_point", ap.Name, "reason", code, "err", why)
	e := &access.Event{Kind: "access.rejected", Reason: code, Actor: "reader:" + ap.Reader, AccessPointID: ap.ID,
		CredentialID: cred, RSSI: c.RSSI, Latency: x.Now().Sub(start), Detail: why.Error()}
	if err := x.Store.AppendEvent(ctx, e); err != nil {
		return errors.Join(why, err)
	}
	return nil
}

// resultReason is a decision's reason as the wire has it: the same numbers
// up to ReasonReplaced; a reason the protocol has no code for (a remote
// reader offline too long) is sent as not processed, with resultMessage
// saying why.
func resultReason(r access.Reason) protocol.Reason {
	if r > access.ReasonReplaced {
		return protocol.ReasonNotProcessed
	}
	return protocol.Reason(r)
}

// resultMessage is the short text the key shows.
func resultMessage(d access.Decision, ap access.AccessPoint) string {
	switch {
	case d.Granted:
		return "Welcome"
	case d.Reason == access.ReasonUnlockRequired:
		return "Unlock your phone and present it again"
	case d.Reason == access.ReasonNoPermission:
		return "No permission for " + truncate(ap.Name, 60)
	case d.Reason == access.ReasonReplaced:
		return "Use your new phone, or ask your administrator"
	case d.Reason == access.ReasonOfflineTooLong:
		return "This door has been offline too long: ask for help"
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
