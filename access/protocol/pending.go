package protocol

import (
	"crypto/ecdh"
	"errors"
	"fmt"
	"sync"
	"time"
)

// DefaultDeadline is how long after issuing a challenge the reader accepts
// its response. A phone answers in well under this; a relay has to fit its
// round trips inside it too. It narrows relays but does not stop them (see
// docs/protocol.md, Threat model).
const DefaultDeadline = 800 * time.Millisecond

// MaxPending bounds the challenges a Pending holds, so a flood of
// connections cannot grow the reader's memory: at the default deadline it
// allows over a thousand challenges a second.
const MaxPending = 1024

// Pending is the reader's record of challenges in flight. It accepts one
// response per challenge, within the deadline from the challenge's IssuedAt,
// and forgets challenges once their deadline has passed. It is safe for
// concurrent use.
type Pending struct {
	now      func() time.Time
	deadline time.Duration

	mu sync.Mutex
	m  map[Nonce]*pendingChallenge
}

type pendingChallenge struct {
	ch  *Challenge
	eph *ecdh.PrivateKey
	// issued is the reader's clock when it issued the challenge: with
	// time.Now it carries the monotonic reading, so a wall-clock jump
	// cannot stretch or shrink the deadline (the challenge's IssuedAt is
	// wall time, for the wire).
	issued   time.Time
	deadline time.Duration
	answered bool
}

// NewPending returns an empty Pending reading time from now (injected, so
// tests and the simulated air control it). deadline <= 0 means
// DefaultDeadline.
func NewPending(now func() time.Time, deadline time.Duration) *Pending {
	if deadline <= 0 {
		deadline = DefaultDeadline
	}
	return &Pending{now: now, deadline: deadline, m: make(map[Nonce]*pendingChallenge)}
}

// Deadline is how long a challenge stays answerable.
func (p *Pending) Deadline() time.Duration { return p.deadline }

// Issue records a challenge the reader is about to send, with the ephemeral
// key NewChallenge returned. The deadline runs from this call, on the
// Pending's clock: pass time.Now, whose readings are monotonic, so a jump
// of the wall clock cannot stretch it. It fails with ErrTooManyPending when
// MaxPending challenges are still live.
func (p *Pending) Issue(ch *Challenge, eph *ecdh.PrivateKey) error {
	return p.IssueWithin(ch, eph, p.deadline)
}

// IssueWithin is Issue with the access point's own deadline (<= 0 means
// the Pending's).
func (p *Pending) IssueWithin(ch *Challenge, eph *ecdh.PrivateKey, deadline time.Duration) error {
	if deadline <= 0 {
		deadline = p.deadline
	}
	if ch == nil || eph == nil {
		return errors.New("protocol: issue: challenge and ephemeral key are both required")
	}
	now := p.now()
	p.mu.Lock()
	defer p.mu.Unlock()
	p.forget(now)
	if _, ok := p.m[ch.Nonce]; ok {
		// Two fresh 16-byte nonces collide only if the randomness is
		// broken; refusing is safer than overwriting.
		return fmt.Errorf("protocol: issue: nonce %s is already pending", ch.Nonce)
	}
	if len(p.m) >= MaxPending {
		return refuse(ErrTooManyPending, "%d challenges are waiting for an answer", len(p.m))
	}
	p.m[ch.Nonce] = &pendingChallenge{ch: ch, eph: eph, issued: now, deadline: deadline}
	return nil
}

// forget drops challenges whose deadline has passed. Answered ones are kept
// until then so a replay inside the window is named ErrReplayed; after it,
// a replay is refused as ErrLate.
func (p *Pending) forget(now time.Time) {
	for n, e := range p.m {
		if now.Sub(e.issued) > e.deadline {
			delete(p.m, n)
		}
	}
}

// Len reports how many challenges are held (live or answered, not yet
// forgotten).
func (p *Pending) Len() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.m)
}

// Open is the reader's first step with freshness: it refuses a response to
// a challenge that was already answered (ErrReplayed), that is past its
// deadline or unknown (ErrLate), and otherwise runs OpenResponse. nonce is
// the challenge this connection was sent. A challenge counts as answered
// once a response decrypts under it; garbage that does not decrypt does not
// use it up, so a stray write cannot lock the holder out.
func (p *Pending) Open(nonce Nonce, raw []byte) (*Opened, error) {
	now := p.now()
	p.mu.Lock()
	e := p.m[nonce]
	switch {
	case e == nil:
		p.mu.Unlock()
		return nil, refuse(ErrLate, "challenge %s is not pending: its deadline passed or it was never issued", nonce)
	case e.answered:
		p.mu.Unlock()
		return nil, refuse(ErrReplayed, "challenge %s was already answered", nonce)
	}
	if age := now.Sub(e.issued); age > e.deadline {
		p.mu.Unlock()
		return nil, refuse(ErrLate, "answer to challenge %s came %v after it was issued, the deadline is %v", nonce, age, e.deadline)
	}
	p.mu.Unlock()

	o, err := OpenResponse(e.ch, e.eph, raw)
	if err != nil {
		return nil, err
	}

	p.mu.Lock()
	defer p.mu.Unlock()
	if e.answered {
		return nil, refuse(ErrReplayed, "challenge %s was already answered", nonce)
	}
	e.answered = true
	return o, nil
}
