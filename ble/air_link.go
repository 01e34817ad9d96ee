package ble

import (
	"context"
	"io"
	"sync"
	"time"
)

// inflight is a message crossing the air, due at its delivery time.
type inflight struct {
	msg []byte
	at  time.Time
	eof bool
}

// airLink is the reader's side of a link over the air. Each direction is a
// FIFO pumped by its own goroutine, so delays keep messages in order.
type airLink struct {
	k       *airKey
	a       *Air
	toKey   chan inflight
	fromKey chan inflight
	inbox   chan []byte
	eof     chan struct{} // closed once every message from the key is in inbox
	flushed chan struct{} // closed once messages to the key are written after Close
	closed  chan struct{}
	once    sync.Once
}

func newAirLink(k *airKey) (*airLink, error) {
	l := &airLink{
		k:       k,
		a:       k.a,
		toKey:   make(chan inflight, 256),
		fromKey: make(chan inflight, 256),
		inbox:   make(chan []byte, 64),
		eof:     make(chan struct{}),
		flushed: make(chan struct{}),
		closed:  make(chan struct{}),
	}
	// Add under the lock Close takes, so no pump starts once Close waits.
	l.a.mu.Lock()
	if l.a.closed {
		l.a.mu.Unlock()
		return nil, ErrAirClosed
	}
	l.a.wg.Add(2)
	l.a.mu.Unlock()
	go func() {
		defer l.a.wg.Done()
		l.pumpToKey()
	}()
	go func() {
		defer l.a.wg.Done()
		l.pumpFromKey()
	}()
	return l, nil
}

func (l *airLink) Send(ctx context.Context, msg []byte) error {
	if len(msg) > MaxMessage {
		return ErrMessageTooLong
	}
	select {
	case <-l.closed:
		return ErrLinkClosed
	case <-l.k.gone:
		return io.ErrClosedPipe
	default:
	}
	d, ok := l.a.delay()
	if !ok {
		return nil
	}
	it := inflight{msg: append([]byte(nil), msg...), at: time.Now().Add(d)}
	select {
	case l.toKey <- it:
		return nil
	case <-l.closed:
		return ErrLinkClosed
	case <-l.a.done:
		return ErrAirClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (l *airLink) Recv(ctx context.Context) ([]byte, error) {
	select {
	case m := <-l.inbox:
		return m, nil
	case <-l.eof:
		select {
		case m := <-l.inbox:
			return m, nil
		default:
			return nil, io.EOF
		}
	case <-l.closed:
		return nil, ErrLinkClosed
	case <-l.a.done:
		return nil, ErrAirClosed
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Close ends the link after the messages already sent reach the key.
func (l *airLink) Close() error {
	l.once.Do(func() { close(l.closed) })
	return nil
}

func (l *airLink) pumpToKey() {
	deliver := func(it inflight) bool {
		if !l.a.sleep(time.Until(it.at)) {
			return false
		}
		l.k.write(frameMsg, it.msg) // an error means the key is gone; readLoop notices
		return true
	}
	defer close(l.flushed)
	for {
		select {
		case it := <-l.toKey:
			if !deliver(it) {
				return
			}
		case <-l.closed:
			for {
				select {
				case it := <-l.toKey:
					if !deliver(it) {
						return
					}
				default:
					// The key sees the reader hang up, not a cut.
					l.k.write(frameHangup, nil)
					l.k.conn.Close()
					return
				}
			}
		case <-l.a.done:
			return
		}
	}
}

func (l *airLink) pumpFromKey() {
	for {
		select {
		case it := <-l.fromKey:
			if !l.a.sleep(time.Until(it.at)) {
				return
			}
			if it.eof {
				close(l.eof)
				return
			}
			select {
			case l.inbox <- it.msg:
			case <-l.closed:
				return
			case <-l.a.done:
				return
			}
		case <-l.closed:
			return
		case <-l.a.done:
			return
		}
	}
}

func (l *airLink) fromKeyPush(msg []byte) {
	d, ok := l.a.delay()
	if !ok {
		return
	}
	l.fromKeyEnqueue(inflight{msg: msg, at: time.Now().Add(d)})
}

func (l *airLink) fromKeyEOF() {
	l.fromKeyEnqueue(inflight{eof: true, at: time.Now()})
}

func (l *airLink) fromKeyEnqueue(it inflight) {
	select {
	case l.fromKey <- it:
	case <-l.closed:
	case <-l.a.done:
	}
}
