package main

import (
	"bufio"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// startLimitedServer serves a small handler through newHTTPServer with
// short limits on a loopback port.
func startLimitedServer(t *testing.T, lim httpLimits) string {
	t.Helper()
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, "ok\n")
	})
	srv := newHTTPServer(h, lim, nil, slog.New(slog.DiscardHandler))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return ln.Addr().String()
}

// closedWithin reports whether the server closes c before guard passes,
// reading and discarding whatever it sends first.
func closedWithin(c net.Conn, guard time.Duration) bool {
	c.SetReadDeadline(time.Now().Add(guard))
	_, err := io.Copy(io.Discard, c)
	var ne net.Error
	return !(errors.As(err, &ne) && ne.Timeout())
}

// TestHTTPServerTimeouts: a client that trickles its headers or its body,
// or sits on a kept-alive connection, is let go by the server.
func TestHTTPServerTimeouts(t *testing.T) {
	lim := httpLimits{readHeader: 200 * time.Millisecond, read: 400 * time.Millisecond, write: time.Second, idle: 300 * time.Millisecond, perAddress: 64}
	addr := startLimitedServer(t, lim)
	const guard = 20 * time.Second // a trickle below would last far longer
	tests := []struct {
		name    string
		trickle func(c net.Conn)
	}{
		{"headers a byte at a time", func(c net.Conn) {
			for _, b := range []byte("GET / HTTP/1.1\r\nHost: x\r\nX-Slow: " + strings.Repeat("a", 500)) {
				if _, err := c.Write([]byte{b}); err != nil {
					return
				}
				time.Sleep(50 * time.Millisecond)
			}
		}},
		{"a body a byte at a time", func(c net.Conn) {
			io.WriteString(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n")
			for range 1000 {
				if _, err := c.Write([]byte("a")); err != nil {
					return
				}
				time.Sleep(50 * time.Millisecond)
			}
		}},
		{"idle after a request", func(c net.Conn) {
			io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			go tt.trickle(c)
			if !closedWithin(c, guard) {
				t.Errorf("the server held the connection for %v", guard)
			}
		})
	}
}

// TestHTTPServerConnectionCap: one address holds at most perAddress
// connections; one more is closed at once, while another address is
// served and a freed slot is taken again.
func TestHTTPServerConnectionCap(t *testing.T) {
	addr := startLimitedServer(t, httpLimits{readHeader: 30 * time.Second, read: 30 * time.Second, write: 30 * time.Second, idle: 30 * time.Second, perAddress: 3})
	var held []net.Conn
	for range 3 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		held = append(held, c)
	}
	waitServed(t, "127.0.0.2", addr) // every held connection has been accepted
	over, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer over.Close()
	if !closedWithin(over, 10*time.Second) {
		t.Fatal("a fourth connection from one address was kept open")
	}
	waitServed(t, "127.0.0.2", addr)
	held[0].Close()
	waitServed(t, "127.0.0.1", addr)
}

// waitServed waits until a GET from the local address from is answered,
// retrying while a closed slot is being freed.
func waitServed(t *testing.T, from, addr string) {
	t.Helper()
	d := net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(from)}}
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := d.Dial("tcp", addr)
		if err == nil {
			c.SetDeadline(time.Now().Add(5 * time.Second))
			io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
			resp, err := http.ReadResponse(bufio.NewReader(c), nil)
			c.Close()
			if err == nil && resp.StatusCode == http.StatusOK {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("a request from %s was never answered: %v", from, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
