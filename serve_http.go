package main

import (
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"time"

	"postern/web"
)

// httpLimits bound what one client can hold of the web server: how long it
// may take to send a request, to read an answer, or to sit idle between
// requests, and how many connections one address may hold at once. Live
// event streams lift the read and write timeouts for themselves and keep
// their own (web's liveWriteTimeout).
type httpLimits struct {
	readHeader time.Duration // the request line and headers
	read       time.Duration // the whole request, body included (bodies are at most 1 MB)
	write      time.Duration // from the end of the headers to the end of the answer
	idle       time.Duration // a kept-alive connection between requests
	perAddress int           // connections one address (IPv4, or IPv6 /64) holds at once
}

// defaultHTTPLimits are generous for a browser or a script on a slow link
// and short for a client that trickles (docs/decisions.md).
var defaultHTTPLimits = httpLimits{
	readHeader: 10 * time.Second,
	read:       30 * time.Second,
	write:      30 * time.Second,
	idle:       time.Minute,
	perAddress: 64,
}

// newHTTPServer is the server in front of handler, with lim's timeouts and
// connection cap, for every listener serve runs it on. exempt, when set,
// names addresses the cap does not count (a trusted proxy's).
func newHTTPServer(handler http.Handler, lim httpLimits, exempt func(net.Addr) bool, log *slog.Logger) *http.Server {
	conns := &web.ConnLimit{PerAddress: lim.perAddress, Exempt: exempt}
	return &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: lim.readHeader,
		ReadTimeout:       lim.read,
		WriteTimeout:      lim.write,
		IdleTimeout:       lim.idle,
		MaxHeaderBytes:    64 << 10,
		ConnState:         conns.ConnState,
		ErrorLog:          serverLog(log),
	}
}

// proxyAddr is the connection cap's exemption for the trusted proxies,
// which carry every client's connections; nil when there are none.
func proxyAddr(proxies []netip.Prefix) func(net.Addr) bool {
	if len(proxies) == 0 {
		return nil
	}
	return func(a net.Addr) bool {
		ap, err := netip.ParseAddrPort(a.String())
		if err != nil {
			return false
		}
		for _, p := range proxies {
			if p.Contains(ap.Addr().Unmap()) {
				return true
			}
		}
		return false
	}
}
