package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"
)

// Outgoing is one queued email.
type Outgoing struct {
	ID          int64
	Message     Message
	Attempts    int
	NextAttempt time.Time
}

// Outbox is the durable queue the worker drains. The store implements it;
// because attempts and the next try live there, retries and backoff carry
// on across restarts.
type Outbox interface {
	// DueOutbox returns up to limit mails that are neither sent nor
	// permanently failed and whose NextAttempt is not after now, oldest
	// first.
	DueOutbox(ctx context.Context, now time.Time, limit int) ([]Outgoing, error)
	// StillQueued reports whether a mail DueOutbox returned still waits
	// to be sent: one cancelled since (its code replaced or used) must
	// not go out.
	StillQueued(ctx context.Context, id int64) (bool, error)
	// MarkOutboxSent records that the mail went out at at.
	MarkOutboxSent(ctx context.Context, id int64, at time.Time) error
	// MarkOutboxFailed records one failed attempt at at: it adds one to
	// Attempts, keeps errText as the last error, and either schedules the
	// next try at next or, when permanent, stops trying (next is then
	// zero).
	MarkOutboxFailed(ctx context.Context, id int64, at time.Time, errText string, next time.Time, permanent bool) error
}

// Worker sends queued emails, retrying failures with exponential backoff.
// Start it with Run; call Wake after queueing a mail so it goes out now
// rather than at the next poll.
//
// A mail is given up at once when the server refuses the mail itself with
// a 5xx reply (to MAIL FROM, RCPT TO or DATA), or when the message is
// invalid. A failure before that (server down, TLS, a refused login, even
// with a 5xx) is a problem of the server or the settings: the mail stays
// queued with backoff, the rest of the round waits for the next one, and
// once the admin fixes the settings the queue goes out. Every failure
// counts towards the maximum number of attempts.
type Worker struct {
	ob          Outbox
	sender      func() Sender
	now         func() time.Time
	poll        time.Duration
	batch       int
	maxAttempts int
	backoffBase time.Duration
	backoffMax  time.Duration
	sendTimeout time.Duration
	notify      func(Outgoing, error)
	log         *slog.Logger
	jitter      func(n time.Duration) time.Duration // in [0, n)
	wake        chan struct{}
}

// Option changes a Worker's defaults.
type Option func(*Worker)

// WithClock sets the clock used for due times and timestamps (default
// time.Now).
func WithClock(now func() time.Time) Option { return func(w *Worker) { w.now = now } }

// WithPollInterval sets how long the worker sleeps between looks at the
// outbox when nobody calls Wake (default 5s).
func WithPollInterval(d time.Duration) Option { return func(w *Worker) { w.poll = d } }

// WithBatchSize sets how many due mails are fetched at a time (default 10).
func WithBatchSize(n int) Option { return func(w *Worker) { w.batch = n } }

// WithMaxAttempts sets after how many failed attempts a mail is given up
// as permanently failed (default 20: with the default backoff, about 17
// hours of trying).
func WithMaxAttempts(n int) Option { return func(w *Worker) { w.maxAttempts = n } }

// WithBackoff sets the wait after the first failure and its ceiling; the
// wait doubles with each further failure (default 30s up to 1h). Up to a
// fifth of each wait is taken off at random, so mails that failed together
// do not all retry together.
func WithBackoff(first, max time.Duration) Option {
	return func(w *Worker) { w.backoffBase, w.backoffMax = first, max }
}

// WithSendTimeout bounds one message's SMTP exchange (default 2m).
func WithSendTimeout(d time.Duration) Option { return func(w *Worker) { w.sendTimeout = d } }

// WithNotify sets a hook called after every attempt with the mail (its
// Attempts and NextAttempt updated) and the error, nil when it was sent.
// IsPermanent on that error tells whether the mail was given up. The hook
// runs on the worker's goroutine and should return quickly.
func WithNotify(f func(Outgoing, error)) Option { return func(w *Worker) { w.notify = f } }

// WithLogger sets where outbox (store) errors are logged (default
// slog.Default()).
func WithLogger(l *slog.Logger) Option { return func(w *Worker) { w.log = l } }

// NewWorker returns a worker draining ob. sender is asked for the current
// Sender before each round, so settings changed on the settings page apply
// to the next mail; it returns nil while SMTP is not configured, and then
// nothing is sent and nothing is marked: the mails wait in the outbox.
func NewWorker(ob Outbox, sender func() Sender, opts ...Option) *Worker {
	w := &Worker{
		ob:          ob,
		sender:      sender,
		now:         time.Now,
		poll:        5 * time.Second,
		batch:       10,
		maxAttempts: 20,
		backoffBase: 30 * time.Second,
		backoffMax:  time.Hour,
		sendTimeout: 2 * time.Minute,
		log:         slog.Default(),
		jitter: func(n time.Duration) time.Duration {
			if n <= 0 {
				return 0
			}
			return rand.N(n)
		},
		wake: make(chan struct{}, 1),
	}
	for _, o := range opts {
		o(w)
	}
	return w
}

// Wake asks the worker to look at the outbox now. It never blocks, and
// calls made while the worker is busy fold into one more round.
func (w *Worker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run sends due mails until ctx ends, looking at the outbox every poll
// interval and whenever Wake is called. A mail being sent when ctx ends is
// left as it was, to be sent again after the restart.
func (w *Worker) Run(ctx context.Context) {
	t := time.NewTimer(w.poll)
	defer t.Stop()
	for {
		w.drain(ctx)
		t.Reset(w.poll)
		select {
		case <-ctx.Done():
			return
		case <-w.wake:
		case <-t.C:
		}
	}
}

// maxRounds bounds one drain, in case a store keeps returning mails it
// was told about.
const maxRounds = 100

// drain sends every mail that is due now, a batch at a time.
func (w *Worker) drain(ctx context.Context) {
	if w.sender == nil {
		return
	}
	s := w.sender()
	if s == nil {
		return
	}
	for range maxRounds {
		due, err := w.ob.DueOutbox(ctx, w.now(), w.batch)
		if err != nil {
			if ctx.Err() == nil {
				w.log.Error("outbox: reading due mails", "err", err)
			}
			return
		}
		for _, o := range due {
			if ctx.Err() != nil || !w.deliver(ctx, s, o) {
				return
			}
		}
		if len(due) < w.batch {
			return
		}
	}
}

// deliver sends o and records the outcome. It returns false when the
// drain should stop: ctx ended or the outbox could not be updated, and
// going on would send mails the store cannot mark.
func (w *Worker) deliver(ctx context.Context, s Sender, o Outgoing) bool {
	// A batch is read at once and sent one by one, over seconds: look
	// again just before sending.
	if queued, err := w.ob.StillQueued(ctx, o.ID); err != nil {
		if ctx.Err() == nil {
			w.log.Error("outbox: reading a mail's status", "id", o.ID, "err", err)
		}
		return false
	} else if !queued {
		return true
	}
	sctx, cancel := context.WithTimeout(ctx, w.sendTimeout)
	err := s.Send(sctx, o.Message)
	cancel()
	if err != nil && ctx.Err() != nil {
		// Shutting down: the attempt was cut short, not failed.
		return false
	}
	now := w.now()
	o.Attempts++
	if err == nil {
		o.NextAttempt = time.Time{}
		if merr := w.ob.MarkOutboxSent(ctx, o.ID, now); merr != nil {
			w.log.Error("outbox: marking a mail sent", "id", o.ID, "err", merr)
			return false
		}
		w.notifyf(o, nil)
		return true
	}
	var setup *setupError
	isSetup := errors.As(err, &setup)
	permanent := IsPermanent(err)
	if permanent && isSetup {
		err, permanent = &retryError{err}, false
	}
	if !permanent && o.Attempts >= w.maxAttempts {
		err = &permanentError{fmt.Errorf("gave up after %d attempts: %w", o.Attempts, err)}
		permanent = true
	}
	o.NextAttempt = time.Time{}
	if !permanent {
		o.NextAttempt = now.Add(w.backoff(o.Attempts))
	}
	if merr := w.ob.MarkOutboxFailed(ctx, o.ID, now, err.Error(), o.NextAttempt, permanent); merr != nil {
		w.log.Error("outbox: marking a mail failed", "id", o.ID, "err", merr)
		return false
	}
	w.notifyf(o, err)
	// When the server cannot be reached or refuses the login, the other
	// due mails would fail the same way: leave them for the next round
	// rather than spend an attempt (and a dial timeout) on each.
	return !isSetup
}

func (w *Worker) notifyf(o Outgoing, err error) {
	if w.notify != nil {
		w.notify(o, err)
	}
}

// backoff is the wait after the attempts-th failure: backoffBase doubled
// attempts-1 times, capped at backoffMax, less up to a fifth at random.
func (w *Worker) backoff(attempts int) time.Duration {
	d := w.backoffBase
	for i := 1; i < attempts && d < w.backoffMax; i++ {
		d *= 2
	}
	d = min(d, w.backoffMax)
	return d - w.jitter(d/5)
}
