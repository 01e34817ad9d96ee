package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// Delivery is one post to make.
type Delivery struct {
	ID       int64
	URL      string
	Secret   string
	Kind     string
	Payload  []byte
	Attempts int // failed attempts so far
}

// Queue is the durable queue the worker drains. The store implements it;
// because attempts and the next try live there, retries carry on across
// restarts.
type Queue interface {
	// DueDeliveries returns up to limit queued deliveries due by now.
	DueDeliveries(ctx context.Context, now time.Time, limit int) ([]Delivery, error)
	// MarkDelivered records a delivery the receiver accepted at at.
	MarkDelivered(ctx context.Context, id int64, at time.Time) error
	// MarkFailed records a failed attempt: retried at next, or given up
	// when permanent.
	MarkFailed(ctx context.Context, id int64, at time.Time, errText string, next time.Time, permanent bool) error
}

// Worker posts queued deliveries, retrying failures with exponential
// backoff: a receiver that is down, slow or answers 5xx (or 408, 429) is
// tried again; another 4xx means the receiver refuses it for good, and it
// is given up. Every failure counts towards the maximum attempts.
type Worker struct {
	q           Queue
	client      *http.Client
	now         func() time.Time
	poll        time.Duration
	batch       int
	maxAttempts int
	backoffBase time.Duration
	backoffMax  time.Duration
	log         *slog.Logger
	wake        chan struct{}
}

// Options change a Worker's defaults; zero fields keep them.
type Options struct {
	Client      *http.Client     // default: a 10 s timeout
	Now         func() time.Time // default: time.Now
	Poll        time.Duration    // how often the queue is looked at without Wake (default 2 s)
	MaxAttempts int              // default 15: with the default backoff, about 8 hours
	BackoffBase time.Duration    // the wait after the first failure, doubled after each (default 10 s)
	BackoffMax  time.Duration    // default 1 h
	Logger      *slog.Logger
}

// NewWorker returns a worker draining q; Run starts it.
func NewWorker(q Queue, o Options) *Worker {
	w := &Worker{q: q, client: o.Client, now: o.Now, poll: o.Poll, batch: 20, maxAttempts: o.MaxAttempts,
		backoffBase: o.BackoffBase, backoffMax: o.BackoffMax, log: o.Logger, wake: make(chan struct{}, 1)}
	if w.client == nil {
		w.client = &http.Client{Timeout: 10 * time.Second}
	}
	if w.now == nil {
		w.now = time.Now
	}
	if w.poll <= 0 {
		w.poll = 2 * time.Second
	}
	if w.maxAttempts <= 0 {
		w.maxAttempts = 15
	}
	if w.backoffBase <= 0 {
		w.backoffBase = 10 * time.Second
	}
	if w.backoffMax <= 0 {
		w.backoffMax = time.Hour
	}
	if w.log == nil {
		w.log = slog.Default()
	}
	return w
}

// Wake asks the worker to look at the queue now; it never blocks.
func (w *Worker) Wake() {
	select {
	case w.wake <- struct{}{}:
	default:
	}
}

// Run posts due deliveries until ctx ends.
func (w *Worker) Run(ctx context.Context) {
	t := time.NewTimer(w.poll)
	defer t.Stop()
	for {
		w.Drain(ctx)
		t.Reset(w.poll)
		select {
		case <-ctx.Done():
			return
		case <-w.wake:
		case <-t.C:
		}
	}
}

// Drain posts every delivery due now, once each.
func (w *Worker) Drain(ctx context.Context) {
	due, err := w.q.DueDeliveries(ctx, w.now(), w.batch)
	if err != nil {
		if ctx.Err() == nil {
			w.log.Error("webhooks: reading due deliveries", "err", err)
		}
		return
	}
	for _, d := range due {
		if ctx.Err() != nil {
			return
		}
		w.deliver(ctx, d)
	}
}

// deliver posts d once and records the outcome.
func (w *Worker) deliver(ctx context.Context, d Delivery) {
	err := w.post(ctx, d)
	if err != nil && ctx.Err() != nil {
		return // shutting down: cut short, not failed
	}
	now := w.now()
	if err == nil {
		if merr := w.q.MarkDelivered(ctx, d.ID, now); merr != nil {
			w.log.Error("webhooks: marking a delivery sent", "id", d.ID, "err", merr)
		}
		return
	}
	var pe *permanentError
	permanent := errors.As(err, &pe)
	attempts := d.Attempts + 1
	if !permanent && attempts >= w.maxAttempts {
		err, permanent = fmt.Errorf("gave up after %d attempts: %w", attempts, err), true
	}
	var next time.Time
	if !permanent {
		next = now.Add(w.backoff(attempts))
	}
	w.log.Warn("webhook delivery failed", "url", d.URL, "kind", d.Kind, "attempt", attempts, "permanent", permanent, "err", err)
	if merr := w.q.MarkFailed(ctx, d.ID, now, err.Error(), next, permanent); merr != nil {
		w.log.Error("webhooks: marking a delivery failed", "id", d.ID, "err", merr)
	}
}

// permanentError is a refusal that sending again cannot change.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// maxAnswer bounds what is read of a receiver's answer: only its first
// words go into the error an admin reads.
const maxAnswer = 512

func (w *Worker) post(ctx context.Context, d Delivery) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, d.URL, bytes.NewReader(d.Payload))
	if err != nil {
		return &permanentError{fmt.Errorf("the URL cannot be posted to: %w", err)}
	}
	now := w.now()
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Postern-Webhook/1")
	req.Header.Set(HeaderTimestamp, strconv.FormatInt(now.Unix(), 10))
	req.Header.Set(HeaderSignature, Sign(d.Secret, now, d.Payload))
	req.Header.Set(HeaderEvent, d.Kind)
	req.Header.Set(HeaderDelivery, strconv.FormatInt(d.ID, 10))
	resp, err := w.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return nil
	}
	err = fmt.Errorf("the receiver answered %s: %s", resp.Status, bytes.TrimSpace(answer))
	if resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusRequestTimeout && resp.StatusCode != http.StatusTooManyRequests {
		return &permanentError{err}
	}
	return err
}

// backoff is the wait after the attempts-th failure: doubled each time up
// to the ceiling, less up to a fifth at random so hooks that failed
// together do not retry together.
func (w *Worker) backoff(attempts int) time.Duration {
	d := w.backoffBase
	for i := 1; i < attempts && d < w.backoffMax; i++ {
		d *= 2
	}
	d = min(d, w.backoffMax)
	return d - rand.N(d/5+1)
}
