package web

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"

	"github.com/labstack/echo/v4"
)

// ParsePrefixes reads a comma-separated list of CIDRs (10.0.0.0/8,
// fd00::/8) or single addresses (192.168.1.5, taken as /32 or /128), as
// --trusted-proxy and --metrics-allow take them.
func ParsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		if p, err := netip.ParsePrefix(part); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(part)
		if err != nil {
			return nil, fmt.Errorf("%q is neither an address nor a CIDR such as 10.0.0.0/8", part)
		}
		out = append(out, netip.PrefixFrom(a.Unmap(), a.Unmap().BitLen()))
	}
	return out, nil
}

// prefixes is a set of address ranges.
type prefixes []netip.Prefix

// contains reports whether ip (an address, or host:port as in
// http.Request.RemoteAddr) falls in one of the ranges.
func (ps prefixes) contains(ip string) bool {
	if host, _, err := net.SplitHostPort(ip); err == nil {
		ip = host
	}
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, p := range ps {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// ipExtractor finds the client's address. With no trusted proxy it is the
// peer, whatever headers say: believing X-Forwarded-For from anyone would
// let a client pick the address its rate limit counts against. Behind
// trusted proxies it is the nearest address in X-Forwarded-For that is not
// one of them, read from the right, since each proxy appends the peer it saw.
func ipExtractor(trusted prefixes) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, p := range trusted {
		opts = append(opts, echo.TrustIPRange(&net.IPNet{IP: p.Addr().AsSlice(), Mask: net.CIDRMask(p.Bits(), p.Addr().BitLen())}))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

// forwardedTLS reports whether a trusted proxy says the browser reached it
// over HTTPS. The first value counts: it is the one the proxy facing the
// browser set.
func (h *handler) forwardedTLS(r *http.Request) bool {
	if !h.proxies.contains(r.RemoteAddr) {
		return false
	}
	proto, _, _ := strings.Cut(r.Header.Get("X-Forwarded-Proto"), ",")
	return strings.EqualFold(strings.TrimSpace(proto), "https")
}
