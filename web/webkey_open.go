package web

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/netip"
	"strconv"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"postern/access"
)

// Link carries one exchange's messages between the reader's half and a
// key: the same methods as the radio's links, so the reader runs the
// exchange it runs at the door.
type Link interface {
	Send(ctx context.Context, msg []byte) error
	Recv(ctx context.Context) ([]byte, error)
	Close() error
}

// PhoneExchange runs the reader's half of an exchange with a web key that
// opens an access point over the network; from is the request's address.
type PhoneExchange func(ctx context.Context, accessPointID int64, from string, link Link) error

// phoneOpenTTL bounds an open from the phone: the longest unlock window
// and a margin. The reader's own deadline is what refuses a late answer.
const phoneOpenTTL = access.MaxUnlockWindow + 10*time.Second

// httpLink is a Link whose key is a web page: each request brings the
// key's messages in and waits for the reader's next one.
type httpLink struct {
	in     chan []byte
	out    chan []byte
	done   chan struct{}
	once   sync.Once
	closed chan struct{} // the exchange returned
}

func newHTTPLink() *httpLink {
	return &httpLink{in: make(chan []byte, 4), out: make(chan []byte, 4), done: make(chan struct{}), closed: make(chan struct{})}
}

func (l *httpLink) Send(ctx context.Context, msg []byte) error {
	select {
	case l.out <- msg:
		return nil
	case <-l.done:
		return io.ErrClosedPipe
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (l *httpLink) Recv(ctx context.Context) ([]byte, error) {
	select {
	case m := <-l.in:
		return m, nil
	case <-l.done:
		return nil, io.EOF
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

func (l *httpLink) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

// next waits for the reader's next message, or for the exchange to end
// without one.
func (l *httpLink) next(ctx context.Context) ([]byte, bool) {
	select {
	case m := <-l.out:
		return m, true
	case <-l.closed:
		select {
		case m := <-l.out:
			return m, true
		default:
			return nil, false
		}
	case <-ctx.Done():
		return nil, false
	}
}

// WebKeyOpenRequest carries a web key's messages of one exchange, in
// order, as unpadded base64url. The first request names the access point
// and carries the hello; the next names the exchange it answered.
type WebKeyOpenRequest struct {
	AccessPoint int64    `json:"access_point"`
	Messages    []string `json:"messages"`
}

// WebKeyOpenResponse is the reader's next message (a challenge, or the
// result), and the exchange to answer.
type WebKeyOpenResponse struct {
	Exchange string `json:"exchange,omitempty"`
	Message  string `json:"message"`
}

func (h *handler) webKeyOpenRoutes(api *echo.Group) {
	api.POST("/open", h.webKeyOpenStart)
	api.POST("/open/:exchange", h.webKeyOpenAnswer)
}

// clientAddr is the request's address as the network list reads it.
func clientAddr(c echo.Context) netip.Addr {
	a, err := netip.ParseAddr(c.RealIP())
	if err != nil {
		return netip.Addr{}
	}
	return a.Unmap()
}

func (h *handler) webKeyOpenStart(c echo.Context) error {
	ctx := c.Request().Context()
	var req WebKeyOpenRequest
	if ok, err := decodeKeyJSON(c, &req); !ok {
		return err
	}
	msgs, ok := decodeMessages(req.Messages)
	if !ok || len(msgs) != 1 {
		return keyFail(c, http.StatusBadRequest, KeyErrBadRequest, "An open starts with one message, the key's hello.")
	}
	ap, err := h.store.AccessPointByID(ctx, req.AccessPoint)
	if errors.Is(err, access.ErrNotFound) || err == nil && !ap.PhoneOpen {
		return keyFail(c, http.StatusForbidden, KeyErrNotHere, "This door does not open from the phone. Use Bluetooth, or present the phone at the reader.")
	}
	if err != nil {
		return err
	}
	if !ap.PhoneAllowedFrom(clientAddr(c)) {
		return keyFail(c, http.StatusForbidden, KeyErrNotHere, "This door opens from the phone only on the site's own network. Join it, or use Bluetooth.")
	}
	if h.phoneExchange == nil {
		return keyFail(c, http.StatusConflict, KeyErrNotHere, "This appliance runs no readers.")
	}
	link := newHTTPLink()
	from := clientAddr(c).String()
	// The exchange outlives this request: its next message comes with the
	// next one.
	xctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), phoneOpenTTL)
	go func() {
		defer cancel()
		defer close(link.closed)
		if err := h.phoneExchange(xctx, ap.ID, from, link); err != nil {
			h.log.Warn("open from the phone", "access_point", ap.Name, "from", from, "err", err)
		}
		link.Close()
	}()
	link.in <- msgs[0]
	msg, ok := link.next(ctx)
	if !ok {
		link.Close()
		return keyFail(c, http.StatusUnprocessableEntity, KeyErrBadRequest, "The door did not answer the phone's key.")
	}
	id := h.webKeyOpens.put(link)
	return c.JSON(http.StatusOK, WebKeyOpenResponse{Exchange: id, Message: base64.RawURLEncoding.EncodeToString(msg)})
}

func (h *handler) webKeyOpenAnswer(c echo.Context) error {
	var req WebKeyOpenRequest
	if ok, err := decodeKeyJSON(c, &req); !ok {
		return err
	}
	link, ok := h.webKeyOpens.take(c.Param("exchange"))
	if !ok {
		return keyFail(c, http.StatusGone, KeyErrSession, "That took too long. Press Open again.")
	}
	msgs, ok := decodeMessages(req.Messages)
	if !ok || len(msgs) == 0 || len(msgs) > cap(link.in) {
		link.Close()
		return keyFail(c, http.StatusBadRequest, KeyErrBadRequest, "The key's answer is not "+strconv.Itoa(cap(link.in))+" messages or fewer.")
	}
	for _, m := range msgs {
		link.in <- m
	}
	msg, ok := link.next(c.Request().Context())
	link.Close()
	if !ok {
		return keyFail(c, http.StatusUnprocessableEntity, KeyErrBadRequest, "The door did not accept the phone's answer.")
	}
	return c.JSON(http.StatusOK, WebKeyOpenResponse{Message: base64.RawURLEncoding.EncodeToString(msg)})
}

// decodeMessages reads base64url messages, each at most the protocol's
// longest.
func decodeMessages(in []string) ([][]byte, bool) {
	out := make([][]byte, 0, len(in))
	for _, s := range in {
		b, err := base64.RawURLEncoding.DecodeString(s)
		if err != nil || len(b) == 0 || len(b) > 512 {
			return nil, false
		}
		out = append(out, b)
	}
	return out, true
}

// phoneRateLimit bounds the web key's opens per client address: generous,
// since every one is proved by the key's signature, but enough to keep a
// flood of exchanges from tying up the readers.
func (h *handler) phoneRateLimit(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		wait, err := h.store.TakeThrottle(ctx, h.now(), phoneAddrLimit.bucket("phone-addr:"+clientAddress(c)))
		if err != nil {
			return err
		}
		if wait > 0 {
			h.refusals.count(ctx, "key.limited")
			setRetryAfter(c, wait)
			return keyFail(c, http.StatusTooManyRequests, KeyErrRateLimited, "Too many requests from this network. Try again in "+inWords(wait)+".")
		}
		return next(c)
	}
}

// phoneAddrLimit is the web key's opens per address: 60 at once, one a
// second after that.
var phoneAddrLimit = limit{burst: 60, every: time.Second}
