package ble

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"postern/access"
)

// queueSize bounds candidates accepted but not yet exchanged. A key that
// does not fit is skipped as busy and retried on its next advert.
const queueSize = 256

// Reader is the loop at one access point: it hears keys on a Radio, gates
// them by the mode, and runs the Exchanger on each key it takes up, several
// at a time, each within its hard limit.
type Reader struct {
	radio Radio
	name  string // the reader's name on the radio
	ex    Exchanger
	hooks ReaderHooks
	log   *slog.Logger
	queue chan job
	wake  chan struct{} // nudges the dispatcher when MaxConcurrent grows

	mu      sync.Mutex
	cfg     ReaderConfig
	seen    map[string]*sighting
	armed   bool
	window  map[string]Candidate
	timer   *time.Timer
	armGen  uint64 // tells a stale window timer from the current one
	started bool
	stopped bool
}

// sighting is what the reader remembers of one key's stay in range.
type sighting struct {
	last      time.Time
	rssi      rssiWindow
	inflight  bool
	processed bool
	reported  uint32 // bit per SkipReason already reported in this stay
}

func (s *sighting) report(why SkipReason) SkipReason {
	bit := uint32(1) << uint(why)
	if s.reported&bit != 0 {
		return 0
	}
	s.reported |= bit
	return why
}

type job struct {
	c Candidate
	s *sighting
}

// NewReader returns a reader for cfg on radio; Run starts it.
func NewReader(radio Radio, cfg ReaderConfig, opts ReaderOptions) (*Reader, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if opts.Exchanger == nil {
		return nil, errors.New("ble: reader needs an Exchanger")
	}
	b, _ := ParseBinding(cfg.Binding)
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Reader{
		radio: radio,
		name:  b.Reader,
		ex:    opts.Exchanger,
		hooks: opts.Hooks,
		log:   log.With("access_point", cfg.Name, "access_point_id", cfg.ID, "reader", cfg.Binding),
		queue: make(chan job, queueSize),
		wake:  make(chan struct{}, 1),
		cfg:   cfg,
		seen:  make(map[string]*sighting),
	}, nil
}

// Config returns the reader's current config, defaults filled.
func (r *Reader) Config() ReaderConfig {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.cfg
}

// Update applies an edited access point to the running reader. Moving it to
// another binding needs a new Reader (Manager.Sync does that).
func (r *Reader) Update(cfg ReaderConfig) error {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return err
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if cfg.Binding != r.cfg.Binding {
		return fmt.Errorf("ble: reader %s cannot move to %s while running", r.cfg.Binding, cfg.Binding)
	}
	if cfg.Mode != access.ModeTouch {
		r.disarmLocked()
	}
	r.cfg = cfg
	select {
	case r.wake <- struct{}{}:
	default:
	}
	return nil
}

// Touch arms a touch-mode reader, as a touch on its input line does. It
// reports false when the reader is not in touch mode.
func (r *Reader) Touch() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cfg.Mode != access.ModeTouch || r.stopped {
		return false
	}
	r.armLocked()
	return true
}

// Run hears keys until ctx ends (then it returns nil) or the radio fails.
// Exchanges in flight are cut off and waited for. A Reader runs once.
func (r *Reader) Run(ctx context.Context) error {
	r.mu.Lock()
	if r.started {
		r.mu.Unlock()
		return errors.New("ble: reader already ran")
	}
	r.started = true
	r.mu.Unlock()

	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() { r.dispatch(ctx) })
	wg.Go(func() { r.prune(ctx) })
	r.log.Info("reader listening")
	err := r.radio.Listen(ctx, r.name, r.found)

	r.mu.Lock()
	r.stopped = true
	r.disarmLocked()
	r.mu.Unlock()
	cancel()
	wg.Wait()
	if parent.Err() != nil {
		r.log.Info("reader stopped")
		return nil
	}
	if err == nil {
		err = errors.New("radio stopped listening")
	}
	return fmt.Errorf("reader %s: %w", r.cfg.Binding, err)
}

// found is the radio's callback for every sighting. It only decides and
// queues, under a short lock: it never blocks the radio.
func (r *Reader) found(c Candidate) {
	now := time.Now()
	var skip SkipReason
	r.mu.Lock()
	if r.stopped {
		r.mu.Unlock()
		return
	}
	cfg := r.cfg
	s := r.seen[c.Addr]
	if s == nil || (!s.inflight && now.Sub(s.last) > cfg.Debounce) {
		s = &sighting{} // a new stay in range
		r.seen[c.Addr] = s
	}
	s.last = now
	s.rssi.add(now, c.RSSI)
	samples := s.rssi.since(now.Add(-cfg.RSSIWindow))
	heard := len(samples) >= cfg.RSSISamples
	if heard {
		// What the gate, the touch window and the exchange's event see.
		c.RSSI = median(samples) + cfg.RSSIOffset
	}
	switch {
	case s.inflight:
		// Being exchanged: its repeated adverts mean nothing new.
	case !heard:
		// Not heard enough yet to judge its signal; a touch still arms.
		if cfg.Mode == access.ModeTouch && c.Touch {
			r.armLocked()
		}
	case c.RSSI < cfg.RSSIThreshold:
		skip = s.report(SkipWeakSignal)
	case cfg.Mode == access.ModeTouch:
		if c.Touch {
			r.armLocked()
		}
		if r.armed {
			r.window[c.Addr] = c
		} else {
			skip = s.report(SkipNotArmed)
		}
	case s.processed:
		// Debounced: still the same stay in range.
	default:
		skip = r.enqueueLocked(c, s)
	}
	r.mu.Unlock()
	if skip != 0 {
		r.skipped(cfg, c, skip)
	}
}

func (r *Reader) enqueueLocked(c Candidate, s *sighting) SkipReason {
	select {
	case r.queue <- job{c: c, s: s}:
		s.inflight = true
		s.processed = true
		return 0
	default:
		return s.report(SkipBusy)
	}
}

func (r *Reader) armLocked() {
	if r.armed {
		return
	}
	r.armed = true
	r.armGen++
	gen := r.armGen
	r.window = make(map[string]Candidate)
	r.timer = time.AfterFunc(r.cfg.TouchWindow, func() { r.closeWindow(gen) })
}

func (r *Reader) disarmLocked() {
	if r.timer != nil {
		r.timer.Stop()
		r.timer = nil
	}
	r.armed = false
	r.window = nil
}

// closeWindow ends a touch window and takes up the nearest key heard in it.
// Each touch is the holder's own act, so the pick is not debounced: touching
// again with the phone still in range opens again.
func (r *Reader) closeWindow(gen uint64) {
	r.mu.Lock()
	if r.stopped || !r.armed || gen != r.armGen {
		r.mu.Unlock()
		return
	}
	cfg := r.cfg
	var best Candidate
	picked := false
	for _, c := range r.window {
		if s := r.seen[c.Addr]; s != nil && s.inflight {
			continue
		}
		if !picked || c.RSSI > best.RSSI || (c.RSSI == best.RSSI && c.Addr < best.Addr) {
			best, picked = c, true
		}
	}
	type skipped struct {
		c   Candidate
		why SkipReason
	}
	var skips []skipped
	for _, c := range r.window {
		if picked && c.Addr == best.Addr {
			continue
		}
		skips = append(skips, skipped{c, SkipNotNearest})
	}
	r.disarmLocked()
	if picked {
		s := r.seen[best.Addr]
		if s == nil {
			s = &sighting{last: time.Now()}
			r.seen[best.Addr] = s
		}
		if why := r.enqueueLocked(best, s); why != 0 {
			skips = append(skips, skipped{best, why})
		}
	}
	r.mu.Unlock()
	for _, sk := range skips {
		r.skipped(cfg, sk.c, sk.why)
	}
}

func (r *Reader) skipped(cfg ReaderConfig, c Candidate, why SkipReason) {
	r.log.Debug("key not processed", "key", c.Addr, "rssi", c.RSSI, "threshold", cfg.RSSIThreshold, "why", why.String())
	if r.hooks.Skipped != nil {
		r.hooks.Skipped(cfg, c, why)
	}
}

// dispatch starts an exchange for each queued key, at most MaxConcurrent at
// once, and waits for them when ctx ends.
func (r *Reader) dispatch(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	done := make(chan struct{})
	active := 0
	for {
		for active >= r.Config().MaxConcurrent {
			select {
			case <-done:
				active--
			case <-r.wake:
			case <-ctx.Done():
				return
			}
		}
		select {
		case j := <-r.queue:
			active++
			wg.Go(func() {
				r.process(ctx, j)
				select {
				case done <- struct{}{}:
				case <-ctx.Done():
				}
			})
		case <-done:
			active--
		case <-r.wake:
		case <-ctx.Done():
			return
		}
	}
}

// process takes one key up: connect, exchange, close, all within the hard
// limit.
func (r *Reader) process(ctx context.Context, j job) {
	cfg := r.Config()
	ctx, cancel := context.WithTimeout(ctx, cfg.ExchangeTimeout)
	defer cancel()
	link, err := connectWithin(ctx, j.c)
	if err != nil {
		r.finish(cfg, j, fmt.Errorf("connect to key %s: %w", j.c.Addr, timeoutErr(ctx, err)), true)
		return
	}
	// Closing the link at the deadline unblocks an Exchanger stuck in Recv
	// on a key that never answers.
	stop := context.AfterFunc(ctx, func() { link.Close() })
	err = r.ex.Exchange(ctx, cfg, j.c, link)
	stop()
	link.Close()
	if err != nil {
		err = timeoutErr(ctx, err)
	}
	r.finish(cfg, j, err, false)
}

func timeoutErr(ctx context.Context, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) && !errors.Is(err, ErrExchangeTimeout) {
		return fmt.Errorf("%w: %w", ErrExchangeTimeout, err)
	}
	return err
}

// connectWithin calls c.Connect but gives up at ctx's end even if the radio
// does not; a link that turns up late is closed.
func connectWithin(ctx context.Context, c Candidate) (Link, error) {
	if c.Connect == nil {
		return nil, errors.New("candidate cannot connect")
	}
	type result struct {
		l   Link
		err error
	}
	ch := make(chan result, 1)
	go func() {
		l, err := c.Connect(ctx)
		ch <- result{l, err}
	}()
	select {
	case res := <-ch:
		if res.err == nil && res.l == nil {
			return nil, errors.New("radio returned no link")
		}
		return res.l, res.err
	case <-ctx.Done():
		go func() {
			if res := <-ch; res.l != nil {
				res.l.Close()
			}
		}()
		return nil, ctx.Err()
	}
}

func (r *Reader) finish(cfg ReaderConfig, j job, err error, connectFailed bool) {
	r.mu.Lock()
	if s := r.seen[j.c.Addr]; s == j.s {
		s.inflight = false
		s.last = time.Now()
		if connectFailed {
			// Not taken up after all: let the key's next advert retry.
			s.processed = false
		}
	}
	r.mu.Unlock()
	if err != nil {
		r.log.Warn("exchange failed", "key", j.c.Addr, "rssi", j.c.RSSI, "err", err)
	} else {
		r.log.Debug("exchange done", "key", j.c.Addr, "rssi", j.c.RSSI)
	}
	if r.hooks.Finished != nil {
		r.hooks.Finished(cfg, j.c, err)
	}
}

// prune forgets keys not heard for longer than the debounce, so the table
// stays as small as the crowd in range.
func (r *Reader) prune(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			r.mu.Lock()
			for addr, s := range r.seen {
				if !s.inflight && now.Sub(s.last) > r.cfg.Debounce {
					delete(r.seen, addr)
				}
			}
			r.mu.Unlock()
		}
	}
}
