package hcisim

import (
	"errors"
	"io"
	"sync"
)

// hostPort is the host's end of a controller: the io.ReadWriteCloser a
// host stack opens instead of a kernel HCI socket. Each Read returns one
// whole packet the controller sent; each Write carries one whole packet
// from the host. The controller never waits for the host: packets to it
// queue until read, as in a socket's receive buffer.
type hostPort struct {
	c *Controller

	mu     sync.Mutex
	cond   *sync.Cond
	queue  [][]byte
	closed bool
}

func newHostPort(c *Controller) *hostPort {
	p := &hostPort{c: c}
	p.cond = sync.NewCond(&p.mu)
	return p
}

// push queues a packet for the host. It never blocks.
func (p *hostPort) push(pkt []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return
	}
	p.queue = append(p.queue, pkt)
	p.cond.Signal()
}

// Read returns the next packet for the host, or io.EOF once closed.
func (p *hostPort) Read(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for len(p.queue) == 0 && !p.closed {
		p.cond.Wait()
	}
	if p.closed {
		return 0, io.EOF
	}
	pkt := p.queue[0]
	if len(b) < len(pkt) {
		return 0, io.ErrShortBuffer
	}
	p.queue[0] = nil
	p.queue = p.queue[1:]
	return copy(b, pkt), nil
}

// Write hands one packet to the controller, which acts on it before Write
// returns (queueing whatever events it causes).
func (p *hostPort) Write(b []byte) (int, error) {
	p.mu.Lock()
	closed := p.closed
	p.mu.Unlock()
	if closed {
		return 0, errors.New("hcisim: controller is powered off")
	}
	if err := p.c.fromHost(append([]byte(nil), b...)); err != nil {
		return 0, err
	}
	return len(b), nil
}

// Close powers the controller off: its connections drop (the peers see a
// supervision timeout) and a blocked Read returns io.EOF.
func (p *hostPort) Close() error {
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		return nil
	}
	p.closed = true
	p.queue = nil
	p.cond.Broadcast()
	p.mu.Unlock()
	p.c.powerOff()
	return nil
}
