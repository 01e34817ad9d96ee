package ble

import (
	"context"
	"sync"
)

// LinkStats count what crossed a link: whole protocol messages and their
// bytes, before any fragmentation.
type LinkStats struct {
	Sent, Received           int
	BytesSent, BytesReceived int
}

// RoundTrips is the exchange's length in round trips: one for every two
// messages, rounded up (version 1: challenge, response, result is 2;
// version 2 full: 2; expedited: 1).
func (s LinkStats) RoundTrips() int { return (s.Sent + s.Received + 1) / 2 }

// CountingLink is a Link that counts what it carries.
type CountingLink struct {
	Link
	mu    sync.Mutex
	stats LinkStats
}

// Count wraps l.
func Count(l Link) *CountingLink { return &CountingLink{Link: l} }

// Send counts a message that was sent.
func (c *CountingLink) Send(ctx context.Context, msg []byte) error {
	err := c.Link.Send(ctx, msg)
	if err == nil {
		c.mu.Lock()
		c.stats.Sent++
		c.stats.BytesSent += len(msg)
		c.mu.Unlock()
	}
	return err
}

// Recv counts a message that arrived.
func (c *CountingLink) Recv(ctx context.Context) ([]byte, error) {
	m, err := c.Link.Recv(ctx)
	if err == nil {
		c.mu.Lock()
		c.stats.Received++
		c.stats.BytesReceived += len(m)
		c.mu.Unlock()
	}
	return m, err
}

// Stats returns the counts so far.
func (c *CountingLink) Stats() LinkStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stats
}
