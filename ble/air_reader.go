package ble

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
)

// Radio returns the air as a Radio for in-process readers; the reader name
// is the part after "sim:" in an access point's binding.
func (a *Air) Radio() Radio { return airRadio{a} }

// Readers lists the readers listening on the air, sorted.
func (a *Air) Readers() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	names := make([]string, 0, len(a.readers))
	for n := range a.readers {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// WaitReader waits until a reader with the given name listens on the air, so
// a caller can present a key without racing the reader's start.
func (a *Air) WaitReader(ctx context.Context, name string) error {
	for {
		a.mu.Lock()
		_, ok := a.readers[name]
		changed := a.changed
		a.mu.Unlock()
		if ok {
			return nil
		}
		select {
		case <-changed:
		case <-a.done:
			return ErrAirClosed
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

type airRadio struct{ a *Air }

// Listen attaches a reader to the air under name until ctx ends.
func (r airRadio) Listen(ctx context.Context, name string, found func(Candidate)) error {
	a := r.a
	if name == "" {
		return errors.New("air: reader name is empty")
	}
	ar := &airReader{name: name, found: found, gone: make(chan struct{})}
	a.mu.Lock()
	if a.closed {
		a.mu.Unlock()
		return ErrAirClosed
	}
	if _, dup := a.readers[name]; dup {
		a.mu.Unlock()
		return fmt.Errorf("air: a reader named %q is already listening", name)
	}
	a.readers[name] = ar
	a.notifyChangedLocked()
	a.mu.Unlock()
	a.log.Info("air: reader listening", "reader", name)

	var err error
	select {
	case <-ctx.Done():
		err = ctx.Err()
	case <-a.done:
		err = ErrAirClosed
	}
	a.mu.Lock()
	delete(a.readers, name)
	a.notifyChangedLocked()
	a.mu.Unlock()
	ar.stop()
	a.log.Info("air: reader stopped", "reader", name)
	return err
}

func (a *Air) notifyChangedLocked() {
	close(a.changed)
	a.changed = make(chan struct{})
}

// airReader is one reader attached to the air. Its lock makes stop wait for
// offers in progress, so found is never called after Listen returns.
type airReader struct {
	name  string
	found func(Candidate)
	gone  chan struct{}

	mu      sync.RWMutex
	stopped bool
}

func (ar *airReader) offer(c Candidate) bool {
	ar.mu.RLock()
	defer ar.mu.RUnlock()
	if ar.stopped {
		return false
	}
	ar.found(c)
	return true
}

func (ar *airReader) stop() {
	ar.mu.Lock()
	ar.stopped = true
	close(ar.gone)
	ar.mu.Unlock()
}
