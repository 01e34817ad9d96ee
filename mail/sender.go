package mail

import (
	"context"
	"sync"
	"time"
)

// Sender delivers one message. Implementations must honour ctx and report
// failures so that IsPermanent tells a retry from a lost cause.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

var (
	_ Sender = (*SMTP)(nil)
	_ Sender = (*Fake)(nil)
)

// Fake is a Sender that records messages instead of sending them, for
// other packages' tests. Like the real sender it stamps Message-ID and Date
// and refuses a message that Bytes would refuse, so a test cannot pass with
// a mail that would never leave. It is safe for concurrent use.
type Fake struct {
	mu   sync.Mutex
	sent []Message
	err  error
}

// Send records m, or returns the error set by SetErr without recording.
func (f *Fake) Send(ctx context.Context, m Message) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m = m.stamped(time.Now())
	if _, err := m.Bytes(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return f.err
	}
	f.sent = append(f.sent, m)
	return nil
}

// SetErr makes every later Send fail with err; nil makes them succeed.
func (f *Fake) SetErr(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}

// Sent returns a copy of the messages recorded so far, oldest first.
func (f *Fake) Sent() []Message {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Message(nil), f.sent...)
}

// Reset forgets the recorded messages.
func (f *Fake) Reset() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = nil
}
