package ble

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	goble "github.com/go-ble/ble"

	"postern/access/protocol"
)

// The GATT UUIDs as docs/protocol.md lists them, typed out rather than
// taken from the protocol package, so the adapter is held to the document.
const (
	docKeyService    = "6111410f-d6fa-47ba-ba30-c84544d7bf0c"
	docKeyRX         = "37cdf37b-edcc-424a-b6dc-21b28883434d"
	docKeyTX         = "72a5f413-d40c-4b37-9f15-ed25fcd129fd"
	docReaderService = "3afbf2ae-34a0-4f15-9add-4657ab1c2863"
	docReaderRX      = "1304a292-30bd-4456-bfe9-9ae61f5cb2e4"
	docReaderTX      = "4fc8fd46-e568-4807-94cd-21f2be456088"
)

// docUUID is a documented UUID as go-ble holds it.
func docUUID(s string) goble.UUID { return goble.MustParse(s) }

// isDoc reports whether u is the documented UUID s. go-ble prints a UUID as
// its hex digits in the usual order, without dashes.
func isDoc(u goble.UUID, s string) bool {
	return u.String() == strings.ReplaceAll(s, "-", "")
}

// areDoc reports whether us are exactly the documented UUIDs want, in order.
func areDoc(us []goble.UUID, want ...string) bool {
	if len(us) != len(want) {
		return false
	}
	for i, u := range us {
		if !isDoc(u, want[i]) {
			return false
		}
	}
	return true
}

// testMessage is a protocol-sized message of n bytes starting with typ.
func testMessage(typ byte, n int) []byte {
	b := make([]byte, n)
	b[0] = typ
	for i := 1; i < n; i++ {
		b[i] = byte(i*7 + n)
	}
	return b
}

// checkFragments holds the ATT values one message went as to the format of
// docs/protocol.md ("Fragmentation") at the given ATT_MTU, header by header,
// and reassembles them with protocol.Reassembler.
func checkFragments(t *testing.T, values [][]byte, msg []byte, mtu int) {
	t.Helper()
	var r protocol.Reassembler
	for i, v := range values {
		if len(v) > mtu-3 {
			t.Fatalf("value %d is %d bytes, over ATT_MTU-3 = %d", i, len(v), mtu-3)
		}
		wantHdr := byte(i % 64)
		if i == 0 {
			wantHdr = 0x80
		}
		if i == len(values)-1 {
			wantHdr |= 0x40
		}
		if v[0] != wantHdr {
			t.Fatalf("value %d of %d has header %#02x, want %#02x", i, len(values), v[0], wantHdr)
		}
		if i == 0 {
			if l := binary.BigEndian.Uint16(v[1:3]); int(l) != len(msg) {
				t.Fatalf("first value gives length %d, want %d", l, len(msg))
			}
		}
		got, done, err := r.Add(v)
		if err != nil {
			t.Fatalf("protocol.Reassembler refused value %d: %v", i, err)
		}
		if done != (i == len(values)-1) {
			t.Fatalf("value %d of %d: done = %v", i, len(values), done)
		}
		if done && !bytes.Equal(got, msg) {
			t.Fatalf("reassembled %d bytes, want the %d sent", len(got), len(msg))
		}
	}
}

// checkTraffic holds the values written or notified on a characteristic to
// the documented one and format: msgs, in order, each cut for mtu.
func checkTraffic(t *testing.T, what string, values []attValue, char string, msgs [][]byte, mtu int) {
	t.Helper()
	for i, v := range values {
		if !isDoc(v.char, char) || v.noRsp {
			t.Fatalf("%s: value %d went to %s (without response: %v), want %s with response", what, i, v.char, v.noRsp, char)
		}
	}
	for _, msg := range msgs {
		n := 0
		for n < len(values) && values[n].value[0]&0x40 == 0 {
			n++
		}
		if n == len(values) {
			t.Fatalf("%s: no last fragment for the %d-byte message", what, len(msg))
		}
		group := make([][]byte, n+1)
		for i := range group {
			group[i] = values[i].value
		}
		checkFragments(t, group, msg, mtu)
		values = values[n+1:]
	}
	if len(values) != 0 {
		t.Fatalf("%s: %d values beyond the messages sent", what, len(values))
	}
}

func TestGATTFragments(t *testing.T) {
	for _, mtu := range []int{protocol.MinMTU, protocol.DefaultMTU} {
		sizes := []int{1, mtu - 6, mtu - 5, 196, protocol.MaxMessageSize}
		for _, size := range sizes {
			t.Run(fmt.Sprintf("%d bytes at MTU %d", size, mtu), func(t *testing.T) {
				msg := testMessage(0xA1, size)
				frags, err := fragments(msg, mtu, goble.MaxMTU)
				if err != nil {
					t.Fatal(err)
				}
				checkFragments(t, frags, msg, mtu)
				// The link's MTU is the smaller of granted and asked.
				frags, err = fragments(msg, goble.MaxMTU, mtu)
				if err != nil {
					t.Fatal(err)
				}
				checkFragments(t, frags, msg, mtu)
			})
		}
	}

	tests := []struct {
		name string
		size int
		want error
	}{
		{name: "empty", size: 0},
		{name: "over the protocol's bound", size: protocol.MaxMessageSize + 1},
		{name: "over any link's bound", size: MaxMessage + 1, want: ErrMessageTooLong},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			frags, err := fragments(make([]byte, tt.size), protocol.DefaultMTU, protocol.DefaultMTU)
			if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Fatalf("got %d fragments, %v; want an error (%v)", len(frags), err, tt.want)
			}
		})
	}
}

// docReceiver reassembles ATT values with protocol.Reassembler, as a phone
// app built from docs/protocol.md does.
type docReceiver struct {
	mu   sync.Mutex
	r    protocol.Reassembler
	msgs chan []byte
	errs chan error
}

func newDocReceiver() *docReceiver {
	return &docReceiver{msgs: make(chan []byte, 8), errs: make(chan error, 8)}
}

func (d *docReceiver) add(v []byte) error {
	d.mu.Lock()
	msg, done, err := d.r.Add(v)
	d.mu.Unlock()
	switch {
	case err != nil:
		d.errs <- err
	case done:
		d.msgs <- msg
	}
	return err
}

func (d *docReceiver) next(t *testing.T) []byte {
	t.Helper()
	select {
	case m := <-d.msgs:
		return m
	case err := <-d.errs:
		t.Fatalf("the phone could not reassemble: %v", err)
	case <-time.After(guard):
		t.Fatal("gave up waiting for the phone to get a message")
	}
	panic("unreachable")
}

// docExchange runs challenge, response and result between the reader's
// link and a phone built from the document, which receives on phone and
// sends with send. It returns what the reader sent and what it received.
func docExchange(t *testing.T, ctx context.Context, reader Link, phone *docReceiver, send func([]byte)) (sent, received [][]byte) {
	t.Helper()
	challenge, response, result := testMessage(0xA1, 196), testMessage(0xA2, 150), testMessage(0xA3, 60)
	if err := reader.Send(ctx, challenge); err != nil {
		t.Fatalf("reader Send: %v", err)
	}
	if got := phone.next(t); !bytes.Equal(got, challenge) {
		t.Fatalf("the phone got %d bytes, want the %d-byte challenge", len(got), len(challenge))
	}
	send(response)
	if got, err := reader.Recv(ctx); err != nil || !bytes.Equal(got, response) {
		t.Fatalf("reader got %d bytes, %v; want the %d-byte response", len(got), err, len(response))
	}
	if err := reader.Send(ctx, result); err != nil {
		t.Fatalf("reader Send: %v", err)
	}
	if got := phone.next(t); !bytes.Equal(got, result) {
		t.Fatalf("the phone got %d bytes, want the %d-byte result", len(got), len(result))
	}
	return [][]byte{challenge, result}, [][]byte{response}
}

// A phone that advertises, built from the document alone: it hosts the key
// service, reassembles writes to Key RX and notifies fragments on Key TX.
func TestGATTReaderDialsDocPhone(t *testing.T) {
	for _, mtu := range []int{protocol.MinMTU, protocol.DefaultMTU} {
		t.Run(fmt.Sprintf("MTU %d", mtu), func(t *testing.T) {
			ctx := guardCtx(t)
			phoneRx := newDocReceiver()
			notifiers := make(chan goble.Notifier, 1)
			svc := goble.NewService(docUUID(docKeyService))
			svc.NewCharacteristic(docUUID(docKeyRX)).HandleWrite(goble.WriteHandlerFunc(func(req goble.Request, rsp goble.ResponseWriter) {
				if phoneRx.add(req.Data()) != nil {
					rsp.SetStatus(goble.ErrUnlikely)
				}
			}))
			svc.NewCharacteristic(docUUID(docKeyTX)).HandleNotify(goble.NotifyHandlerFunc(func(req goble.Request, n goble.Notifier) {
				notifiers <- n
				<-n.Context().Done()
			}))
			phoneDev := newFakeDevice()
			phoneDev.SetServices([]*goble.Service{svc})

			readerDev := newFakeDevice()
			conns := make(chan *fakeClient, 1)
			readerDev.dial = func(ctx context.Context, a goble.Addr) (goble.Client, error) {
				c := newFakeClient(phoneDev, a.String(), mtu, -50)
				conns <- c
				return c, nil
			}
			cands, _ := listenGATT(t, readerDev, GATTOptions{})
			readerDev.advert(fakeAdv{addr: "5e:00:00:00:00:01", rssi: -50, services: []goble.UUID{docUUID(docKeyService)}, connectable: true})
			reader, err := recv(t, cands, "the candidate").Connect(ctx)
			if err != nil {
				t.Fatalf("Connect: %v", err)
			}
			defer reader.Close()
			conn := recv(t, conns, "the reader to dial")
			n := recv(t, notifiers, "the reader to subscribe to Key TX")

			sent, received := docExchange(t, ctx, reader, phoneRx, func(msg []byte) {
				for _, v := range protocol.Fragment(msg, mtu) {
					if _, err := n.Write(v); err != nil {
						t.Fatalf("notify Key TX: %v", err)
					}
				}
			})

			svcs, chars, sub := conn.discovery()
			if !areDoc(svcs, docKeyService) || !areDoc(chars, docKeyRX, docKeyTX) || !isDoc(sub, docKeyTX) {
				t.Fatalf("the reader looked for %v %v and subscribed to %v, want the key service, Key RX and TX, and Key TX", svcs, chars, sub)
			}
			writes, notified := conn.traffic()
			checkTraffic(t, "reader writes", writes, docKeyRX, sent, mtu)
			checkTraffic(t, "phone notifications", notified, docKeyTX, received, mtu)
		})
	}
}

// A phone that connects (a backgrounded iPhone), built from the document
// alone: it finds the reader service, subscribes to Reader TX and writes
// fragments to Reader RX.
func TestGATTDocPhoneConnectsToReader(t *testing.T) {
	for _, mtu := range []int{protocol.MinMTU, protocol.DefaultMTU} {
		t.Run(fmt.Sprintf("MTU %d", mtu), func(t *testing.T) {
			ctx := guardCtx(t)
			readerDev := newFakeDevice()
			cands, _ := listenGATT(t, readerDev, GATTOptions{})
			phone := newFakeClient(readerDev, "6b:00:00:00:00:01", mtu, -50)
			defer phone.CancelConnection()

			svcs, err := phone.DiscoverServices([]goble.UUID{docUUID(docReaderService)})
			if err != nil || len(svcs) != 1 {
				t.Fatalf("the phone found %d reader services, %v; want 1", len(svcs), err)
			}
			chars, err := phone.DiscoverCharacteristics([]goble.UUID{docUUID(docReaderRX), docUUID(docReaderTX)}, svcs[0])
			if err != nil || len(chars) != 2 || !isDoc(chars[0].UUID, docReaderRX) || !isDoc(chars[1].UUID, docReaderTX) {
				t.Fatalf("the phone found %d characteristics, %v; want Reader RX and TX", len(chars), err)
			}
			rx, tx := chars[0], chars[1]
			if _, err := phone.DiscoverDescriptors(nil, tx); err != nil {
				t.Fatal(err)
			}
			phoneRx := newDocReceiver()
			if err := phone.Subscribe(tx, false, func(b []byte) { phoneRx.add(b) }); err != nil {
				t.Fatalf("subscribe to Reader TX: %v", err)
			}
			reader, err := recv(t, cands, "the inbound candidate").Connect(ctx)
			if err != nil {
				t.Fatalf("Connect: %v", err)
			}
			defer reader.Close()

			sent, received := docExchange(t, ctx, reader, phoneRx, func(msg []byte) {
				for _, v := range protocol.Fragment(msg, mtu) {
					if err := phone.WriteCharacteristic(rx, v, false); err != nil {
						t.Fatalf("write Reader RX: %v", err)
					}
				}
			})
			writes, notified := phone.traffic()
			checkTraffic(t, "reader notifications", notified, docReaderTX, sent, mtu)
			checkTraffic(t, "phone writes", writes, docReaderRX, received, mtu)
		})
	}
}
