package web

import (
	"net"
	"net/http"
	"sync"
)

// ConnLimit caps how many connections one client address holds open at
// once, so a few hosts trickling requests cannot take every connection the
// appliance can hold. Addresses are counted as the rate limits count them:
// an IPv4 address, or an IPv6 /64. Install its ConnState on the
// http.Server; a connection over the cap is closed before a byte is read.
type ConnLimit struct {
	// PerAddress is the cap; 0 means none.
	PerAddress int
	// Exempt, when set, lets an address through uncounted (a trusted
	// reverse proxy, which carries every client's connections).
	Exempt func(addr net.Addr) bool

	mu     sync.Mutex
	open   map[string]int
	counts map[net.Conn]string
}

// ConnState is the http.Server hook.
func (l *ConnLimit) ConnState(c net.Conn, state http.ConnState) {
	switch state {
	case http.StateNew:
		if l.PerAddress <= 0 || (l.Exempt != nil && l.Exempt(c.RemoteAddr())) {
			return
		}
		key := addressOf(c.RemoteAddr())
		l.mu.Lock()
		if l.open == nil {
			l.open, l.counts = map[string]int{}, map[net.Conn]string{}
		}
		over := l.open[key] >= l.PerAddress
		if !over {
			l.open[key]++
			l.counts[c] = key
		}
		l.mu.Unlock()
		if over {
			c.Close()
		}
	case http.StateClosed, http.StateHijacked:
		l.mu.Lock()
		if key, ok := l.counts[c]; ok {
			delete(l.counts, c)
			if l.open[key]--; l.open[key] <= 0 {
				delete(l.open, key)
			}
		}
		l.mu.Unlock()
	}
}

// addressOf is a connection's client address as limits count it.
func addressOf(a net.Addr) string {
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return limitAddress(host)
}
