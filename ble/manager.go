package ble

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"postern/access"
)

// Binding is where an access point's reader is: a reader on the simulated
// air ("sim:front") or a local BLE adapter ("hci0").
type Binding struct {
	// Radio names the radio: "sim", or the adapter ("hci0").
	Radio string
	// Reader is the reader's name on that radio: the part after "sim:", or
	// the adapter itself.
	Reader string
}

// RadioSim is the Binding.Radio of readers on the simulated air.
const RadioSim = "sim"

// bindingPattern matches what access.AccessPoint.Validate accepts for a
// reader on this gateway's own radios; a remote reader's bindings
// ("back-door/hci0") are not this gateway's to run.
var bindingPattern = regexp.MustCompile(`^(sim:[a-z0-9][a-z0-9._-]{0,62}|hci[0-9]{1,2})$`)

// ParseBinding parses an access point's reader binding.
func ParseBinding(s string) (Binding, error) {
	if !bindingPattern.MatchString(s) {
		return Binding{}, fmt.Errorf("ble: reader binding %q: want sim:NAME or hciN", s)
	}
	if name, ok := strings.CutPrefix(s, RadioSim+":"); ok {
		return Binding{Radio: RadioSim, Reader: name}, nil
	}
	return Binding{Radio: s, Reader: s}, nil
}

// String returns the binding as access points store it.
func (b Binding) String() string {
	if b.Radio == RadioSim {
		return RadioSim + ":" + b.Reader
	}
	return b.Radio
}

// ManagerOptions are a Manager's collaborators.
type ManagerOptions struct {
	// Radios are the radios on this gateway by Binding.Radio: "sim" for the
	// simulated air, "hci0" for an adapter.
	Radios    map[string]Radio
	Exchanger Exchanger
	Hooks     ReaderHooks
	Logger    *slog.Logger
	// Stopped is told of a reader whose radio failed: it hears nothing
	// until the next Sync restarts it. Optional; it must not block.
	Stopped func(cfg ReaderConfig, err error)
}

// Manager runs one Reader per bound access point and reconciles them when
// access points are added, edited or removed.
type Manager struct {
	opts   ManagerOptions
	log    *slog.Logger
	ctx    context.Context // readers' lifetime, ended by Close
	cancel context.CancelFunc

	// The Follow loop's lifetime: Close ends it, and waits for it, before
	// it stops the readers, so no poll lands on a closed manager.
	followCtx  context.Context
	stopFollow context.CancelFunc
	following  sync.WaitGroup
	// refreshing makes Follow's polls and Refresh take turns; configs is
	// what Follow was given.
	refreshing sync.Mutex
	configs    func(context.Context) ([]ReaderConfig, error)

	mu      sync.Mutex
	readers map[int64]*managedReader
	closed  bool
}

type managedReader struct {
	r      *Reader
	cancel context.CancelFunc
	done   chan struct{}
}

func (m *managedReader) running() bool {
	select {
	case <-m.done:
		return false
	default:
		return true
	}
}

func (m *managedReader) stop() {
	m.cancel()
	<-m.done
}

// NewManager returns a manager with no readers; Sync starts them.
func NewManager(opts ManagerOptions) *Manager {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ctx, cancel := context.WithCancel(context.Background())
	followCtx, stopFollow := context.WithCancel(context.Background())
	return &Manager{
		opts: opts, log: log, ctx: ctx, cancel: cancel,
		followCtx: followCtx, stopFollow: stopFollow,
		readers: make(map[int64]*managedReader),
	}
}

// Follow syncs the readers to what configs returns, once before it
// returns, whenever Refresh is called, and every interval until Close: the
// poll restarts readers whose radio failed. An error from configs is logged
// and leaves the readers as they are; so are the configs Sync cannot run.
// configs gets a context that Close ends, and is never called twice at
// once. Call Follow at most once, before Close.
func (m *Manager) Follow(every time.Duration, configs func(context.Context) ([]ReaderConfig, error)) {
	m.refreshing.Lock()
	m.configs = configs
	m.refreshing.Unlock()
	m.Refresh()
	m.following.Go(func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-m.followCtx.Done():
				return
			case <-t.C:
				m.Refresh()
			}
		}
	})
}

// Refresh syncs the readers to Follow's configs now, without waiting for
// the next poll: call it when an access point has changed. When it returns,
// the reader of a new access point has started and a removed one's has
// stopped. Before Follow, or once Close has begun, it does nothing.
func (m *Manager) Refresh() {
	m.refreshing.Lock()
	defer m.refreshing.Unlock()
	if m.configs == nil || m.followCtx.Err() != nil {
		return
	}
	cfgs, err := m.configs(m.followCtx)
	if m.followCtx.Err() != nil {
		return
	}
	if err != nil {
		m.log.Error("reading access points", "err", err)
		return
	}
	if err := m.Sync(cfgs); err != nil {
		m.log.Error("starting readers", "err", err)
	}
}

// Sync makes the running readers match cfgs, one per access point with a
// binding: new ones start, removed or rebound ones stop, edited ones are
// updated in place, and a reader whose radio failed is restarted. A config
// that cannot run (bad binding, radio absent, binding taken by another
// access point) is skipped and reported in the joined error; the rest still
// run.
func (m *Manager) Sync(cfgs []ReaderConfig) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return errors.New("ble: manager closed")
	}
	cfgs = slices.SortedFunc(slices.Values(cfgs), func(a, b ReaderConfig) int { return cmp.Compare(a.ID, b.ID) })
	var errs []error
	want := make(map[int64]ReaderConfig)
	owner := make(map[string]ReaderConfig)
	for _, cfg := range cfgs {
		if cfg.Binding == "" {
			continue // an access point with no reader yet
		}
		cfg = cfg.WithDefaults()
		if err := cfg.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("access point %q: %w", cfg.Name, err))
			continue
		}
		b, _ := ParseBinding(cfg.Binding)
		if o, taken := owner[b.String()]; taken {
			errs = append(errs, fmt.Errorf("access point %q: reader %s is already bound to %q", cfg.Name, b, o.Name))
			continue
		}
		if m.opts.Radios[b.Radio] == nil {
			errs = append(errs, fmt.Errorf("access point %q: no radio %s on this gateway", cfg.Name, b.Radio))
			continue
		}
		owner[b.String()] = cfg
		want[cfg.ID] = cfg
	}

	// Stop before starting, so a binding that moved between access points
	// is free on its radio when the new reader listens.
	for id, mr := range m.readers {
		cfg, keep := want[id]
		if keep && mr.running() && mr.r.Config().Binding == cfg.Binding {
			continue
		}
		mr.stop()
		delete(m.readers, id)
	}
	for _, cfg := range cfgs {
		cfg, ok := want[cfg.ID]
		if !ok {
			continue
		}
		if mr, ok := m.readers[cfg.ID]; ok {
			if err := mr.r.Update(cfg); err != nil {
				errs = append(errs, fmt.Errorf("access point %q: %w", cfg.Name, err))
			}
			continue
		}
		if err := m.startLocked(cfg); err != nil {
			errs = append(errs, fmt.Errorf("access point %q: %w", cfg.Name, err))
		}
	}
	return errors.Join(errs...)
}

func (m *Manager) startLocked(cfg ReaderConfig) error {
	b, _ := ParseBinding(cfg.Binding)
	r, err := NewReader(m.opts.Radios[b.Radio], cfg, ReaderOptions{
		Exchanger: m.opts.Exchanger,
		Hooks:     m.opts.Hooks,
		Logger:    m.log,
	})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(m.ctx)
	mr := &managedReader{r: r, cancel: cancel, done: make(chan struct{})}
	m.readers[cfg.ID] = mr
	go func() {
		defer close(mr.done)
		if err := r.Run(ctx); err != nil {
			// Left stopped until the next Sync restarts it.
			m.log.Error("reader stopped", "access_point", cfg.Name, "reader", cfg.Binding, "err", err)
			if m.opts.Stopped != nil {
				m.opts.Stopped(cfg, err)
			}
		}
	}()
	return nil
}

// Reader returns the running reader of an access point, or nil.
func (m *Manager) Reader(accessPointID int64) *Reader {
	m.mu.Lock()
	defer m.mu.Unlock()
	if mr := m.readers[accessPointID]; mr != nil && mr.running() {
		return mr.r
	}
	return nil
}

// Running lists the configs of the readers running now, by access point ID.
func (m *Manager) Running() []ReaderConfig {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []ReaderConfig
	for _, mr := range m.readers {
		if mr.running() {
			out = append(out, mr.r.Config())
		}
	}
	slices.SortFunc(out, func(a, b ReaderConfig) int { return cmp.Compare(a.ID, b.ID) })
	return out
}

// Close stops following (and waits for a poll or Refresh in flight), then
// stops every reader and waits for their exchanges to end.
func (m *Manager) Close() error {
	m.stopFollow()
	m.following.Wait()
	// A Refresh in flight finishes first; later ones find nothing to do.
	m.refreshing.Lock()
	m.configs = nil
	m.refreshing.Unlock()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	m.cancel()
	for id, mr := range m.readers {
		<-mr.done
		delete(m.readers, id)
	}
	return nil
}

// ReaderState says how the reader of an access point is doing: listening,
// bound to a radio this gateway does not have, or stopped.
func (m *Manager) ReaderState(ap access.AccessPoint) access.ReaderState {
	b, err := ParseBinding(ap.Reader)
	if err != nil {
		return access.ReaderStopped
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.opts.Radios[b.Radio] == nil {
		return access.ReaderNoRadio
	}
	if mr := m.readers[ap.ID]; mr != nil && mr.running() && mr.r.Config().Binding == ap.Reader {
		return access.ReaderListening
	}
	return access.ReaderStopped
}
