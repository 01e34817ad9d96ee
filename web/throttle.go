package web

import (
	"fmt"
	"math"
	"net"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"postern/store"
)

// Rate limits are token buckets kept in the database (store.TakeThrottle),
// so a restart does not reset them. Sign-ins are limited three ways, so a
// guesser is slowed without locking the owner out: per address and email
// together, per address over every email, and per email over every
// address, more slowly. A browser the admin has signed in from before is
// held only to its own limit, so a guesser elsewhere who has used up the
// email's allowance does not keep the owner out. docs/decisions.md lists
// the numbers.
var (
	loginPairLimit   = limit{burst: 5, every: time.Minute}
	loginAddrLimit   = limit{burst: 10, every: 30 * time.Second}
	loginEmailLimit  = limit{burst: 20, every: 5 * time.Minute}
	loginDeviceLimit = limit{burst: 5, every: time.Minute}
	keyAddrLimit     = limit{burst: 10, every: 6 * time.Second}
)

type limit struct {
	burst int
	every time.Duration
}

func (l limit) bucket(key string) store.Bucket {
	return store.Bucket{Key: key, Burst: l.burst, Every: l.every}
}

// clientAddress is what rate limits count a client by (limitAddress).
func clientAddress(c echo.Context) string { return limitAddress(c.RealIP()) }

// limitAddress is an IP address as limits count it: an IPv4 address as it
// is, an IPv6 address by its /64, since one IPv6 host commonly holds a
// whole /64.
func limitAddress(s string) string {
	ip := net.ParseIP(s)
	if ip == nil {
		return s
	}
	if ip.To4() != nil {
		return ip.String()
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

// setRetryAfter tells the client when to try again: the whole seconds
// until the bucket holds a try, rounded up.
func setRetryAfter(c echo.Context, wait time.Duration) {
	c.Response().Header().Set("Retry-After", strconv.Itoa(retrySeconds(wait)))
}

func retrySeconds(wait time.Duration) int {
	return int(math.Ceil(wait.Seconds()))
}

// inWords says a wait as a person reads it.
func inWords(wait time.Duration) string {
	switch s := retrySeconds(wait); {
	case s <= 1:
		return "a second"
	case s < 60:
		return fmt.Sprintf("%d seconds", s)
	case s < 120:
		return "a minute"
	default:
		return fmt.Sprintf("%d minutes", (s+59)/60)
	}
}
