package ble

import (
	"sync"
	"time"
)

// inboundWatch hangs up on centrals that connect to the reader and do not
// subscribe to its service in time. A phone subscribes as soon as it has
// found the service; one that does not (a scanner probing every device, a
// broken or hostile app) would otherwise hold one of the controller's few
// connection slots for as long as it likes, since nothing in GATT tells
// the reader it is there.
type inboundWatch struct {
	timeout time.Duration

	mu      sync.Mutex
	pending map[uint16]*inboundConn // by connection handle
}

type inboundConn struct {
	addr  string
	timer *time.Timer
}

func newInboundWatch(timeout time.Duration) *inboundWatch {
	return &inboundWatch{timeout: timeout, pending: make(map[uint16]*inboundConn)}
}

// connected starts the clock on connection handle, which the central at
// addr opened to us; hangUp disconnects it. It runs on the radio's event
// loop, so it does not block.
func (w *inboundWatch) connected(handle uint16, addr string, hangUp func()) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.forgetLocked(handle)
	c := &inboundConn{addr: addr}
	c.timer = time.AfterFunc(w.timeout, func() {
		w.mu.Lock()
		mine := w.pending[handle] == c
		if mine {
			delete(w.pending, handle)
		}
		w.mu.Unlock()
		if mine {
			hangUp()
		}
	})
	w.pending[handle] = c
}

// subscribed stops the clock of the central at addr: it is a key at work.
func (w *inboundWatch) subscribed(addr string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for h, c := range w.pending {
		if c.addr == addr {
			w.forgetLocked(h)
		}
	}
}

// disconnected forgets a connection that ended, before its handle is
// given to another.
func (w *inboundWatch) disconnected(handle uint16) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.forgetLocked(handle)
}

// stop forgets every connection without hanging up.
func (w *inboundWatch) stop() {
	w.mu.Lock()
	defer w.mu.Unlock()
	for h := range w.pending {
		w.forgetLocked(h)
	}
}

func (w *inboundWatch) forgetLocked(handle uint16) {
	if c := w.pending[handle]; c != nil {
		c.timer.Stop()
		delete(w.pending, handle)
	}
}

// inboundWatcher is a device that reports the connections centrals open
// to it (OpenHCI's devices do): a reader listening on it watches them.
type inboundWatcher interface {
	watchInbound(w *inboundWatch)
}
