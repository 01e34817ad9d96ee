package web_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"postern/access"
	"postern/access/protocol"
	"postern/ble"
	"postern/mail/mailtest"
)

// standInBluetooth replaces the browser's navigator.bluetooth before any
// page script runs. Its reader is the simulated air's: every GATT write to
// Reader RX and every subscription goes to the test through the
// posternGATT binding, and the test delivers Reader TX notifications with
// posternNotify. The page's own code is what runs on top of it.
const standInBluetooth = `(() => {
  const listeners = [];
  let subscribed = null;
  window.posternNotify = (b64) => {
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    const value = new DataView(bytes.buffer);
    for (const f of listeners) f({ target: { value } });
  };
  window.posternSubscribed = () => subscribed && subscribed();
  const send = (m) => window.posternGATT(JSON.stringify(m));
  const b64 = (v) => {
    const u = v instanceof Uint8Array ? v : new Uint8Array(v.buffer || v);
    let s = "";
    for (const b of u) s += String.fromCharCode(b);
    return btoa(s);
  };
  const characteristic = (uuid) => ({
    uuid,
    addEventListener: (type, f) => { if (type === "characteristicvaluechanged") listeners.push(f); },
    startNotifications: () => new Promise((resolve) => { subscribed = resolve; send({ op: "subscribe", uuid }); }),
    writeValueWithResponse: async (v) => { send({ op: "write", uuid, value: b64(v) }); },
  });
  const service = { getCharacteristic: async (uuid) => characteristic(uuid) };
  const device = { gatt: { connect: async () => ({ getPrimaryService: async (uuid) => { send({ op: "service", uuid }); return service; }, disconnect: () => send({ op: "disconnect" }) }) } };
  Object.defineProperty(navigator, "bluetooth", { configurable: true, value: { requestDevice: async (opts) => { send({ op: "request", opts }); return device; } } });
})();`

// gattCall is one call the stand-in makes.
type gattCall struct {
	Op    string `json:"op"`
	UUID  string `json:"uuid"`
	Value string `json:"value"`
	Opts  struct {
		Filters []struct {
			Services []string `json:"services"`
		} `json:"filters"`
	} `json:"opts"`
}

// gattBridge carries the stand-in's GATT traffic to a reader on the air:
// the phone connects to the reader's service (DiscoverConnect), its writes
// are reassembled into messages, and the reader's messages go back as
// notifications in fragments.
type gattBridge struct {
	t       *testing.T
	b       *browser
	air     string
	reader  string
	calls   chan gattCall
	seen    chan gattCall // every call, for the test to check
	written int
}

func (g *gattBridge) run(ctx context.Context) {
	var link ble.Link
	var r protocol.Reassembler
	for {
		var c gattCall
		select {
		case c = <-g.calls:
		case <-ctx.Done():
			return
		}
		g.seen <- c
		switch c.Op {
		case "subscribe":
			if c.UUID != protocol.ReaderTXUUID {
				g.t.Errorf("the page subscribed to %s, want Reader TX %s", c.UUID, protocol.ReaderTXUUID)
			}
			p, err := ble.DialAir(ctx, g.air, ble.Presence{Reader: g.reader, RSSI: -50, Discovery: ble.DiscoverConnect})
			if err != nil {
				g.t.Errorf("dial the air: %v", err)
				return
			}
			if link, err = p.Link(ctx); err != nil {
				g.t.Errorf("the reader did not take the phone up: %v", err)
				return
			}
			go g.notify(ctx, link)
			g.eval(`window.posternSubscribed()`)
		case "write":
			if c.UUID != protocol.ReaderRXUUID {
				g.t.Errorf("the page wrote to %s, want Reader RX %s", c.UUID, protocol.ReaderRXUUID)
			}
			frag, _ := base64.StdEncoding.DecodeString(c.Value)
			g.written++
			msg, done, err := r.Add(frag)
			if err != nil {
				g.t.Errorf("the page's fragment %x: %v", frag, err)
				continue
			}
			if done && link != nil {
				link.Send(ctx, msg)
			}
		case "disconnect":
			if link != nil {
				link.Close()
			}
			link = nil
		}
	}
}

// notify passes the reader's messages to the page as notifications, in
// the fragments of the smallest MTU.
func (g *gattBridge) notify(ctx context.Context, link ble.Link) {
	for {
		msg, err := link.Recv(ctx)
		if err != nil {
			return
		}
		for _, f := range protocol.Fragment(msg, 23) {
			g.eval(fmt.Sprintf(`window.posternNotify(%q)`, base64.StdEncoding.EncodeToString(f)))
		}
	}
}

func (g *gattBridge) eval(js string) {
	if _, err := chromedp.Run(g.b.ctx, chromedp.Evaluate[chromedp.Void](js)); err != nil {
		g.t.Errorf("evaluate %s: %v", js, err)
	}
}

// TestBrowserWebKeyBluetooth: the key page opens a door that does not
// open from the phone over Web Bluetooth, against a stand-in
// navigator.bluetooth that carries GATT writes and notifications to the
// simulated air's reader.
func TestBrowserWebKeyBluetooth(t *testing.T) {
	if testing.Short() {
		t.Skip("drives a real browser; skipped with -short")
	}
	chrome := findChromium(t)
	ctx, cancel := context.WithTimeout(context.Background(), 240*time.Second)
	t.Cleanup(cancel)
	s := startWebKeySite(ctx, t)

	var grace, lab struct{ ID int64 }
	s.api(t, "POST", "/api/v1/users", `{"first_name":"Grace","last_name":"Hopper","email":"grace@example.com"}`, &grace)
	s.api(t, "POST", "/api/v1/access-points", `{"name":"Lab","reader":"sim:lab","mode":"direct"}`, &lab)
	s.api(t, "POST", "/api/v1/permissions", fmt.Sprintf(`{"user_id":%d,"access_point_id":%d}`, grace.ID, lab.ID), nil)
	s.api(t, "POST", fmt.Sprintf("/api/v1/users/%d/credentials", grace.ID), `{}`, nil)
	invite, err := s.smtpd.Wait(ctx, mailtest.To("grace@example.com"))
	if err != nil {
		t.Fatal(err)
	}

	// The reader of the Lab on the simulated air.
	air := ble.NewAir(ble.AirOptions{})
	airLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go air.Serve(airLn)
	t.Cleanup(func() { air.Close() })
	mgr := ble.NewManager(ble.ManagerOptions{Radios: map[string]ble.Radio{ble.RadioSim: air.Radio()}, Exchanger: s.x})
	t.Cleanup(func() { mgr.Close() })
	if err := mgr.Sync([]ble.ReaderConfig{{ID: lab.ID, Name: "Lab", Binding: "sim:lab", Mode: "direct", RSSIThreshold: -60}}); err != nil {
		t.Fatal(err)
	}
	if err := air.WaitReader(ctx, "lab"); err != nil {
		t.Fatal(err)
	}

	b := startBrowser(ctx, t, chrome, s.base)
	virtualPhone(b)
	g := &gattBridge{t: t, b: b, air: airLn.Addr().String(), reader: "lab", calls: make(chan gattCall, 64), seen: make(chan gattCall, 256)}
	b.console.mu.Lock()
	b.console.also = func(ev any) {
		if e, ok := ev.(*runtime.EventBindingCalled); ok && e.Name == "posternGATT" {
			var c gattCall
			if json.Unmarshal([]byte(e.Payload), &c) == nil {
				g.calls <- c
			}
		}
	}
	b.console.mu.Unlock()
	go g.run(ctx)
	if _, err := chromedp.Call(b.ctx, runtime.AddBinding, runtime.AddBindingParams{Name: "posternGATT"}); err != nil {
		t.Fatal(err)
	}
	if _, err := chromedp.Call(b.ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: standInBluetooth}); err != nil {
		t.Fatal(err)
	}

	link := regexp.MustCompile(`http://localhost:\d+/key/register\?code=\d{32}\S*`).FindString(invite.Text)
	b.open(strings.TrimPrefix(link, s.base))
	b.do("press Register this phone", chromedp.Click(chromedp.CSS(testid("register"))))
	b.poll("the registration to finish", `/Registered|failed|Error|could/.test(document.querySelector('[data-testid="status"]').textContent)`)
	b.wantText("status", "Registered")

	b.open("/key")
	b.poll("the doors", `document.querySelector('main').dataset.ready === "true"`)
	b.wantRows("door", "Open Lab")
	if got := b.openDoor("Lab"); got != "Access granted" {
		t.Fatalf("the Lab over Bluetooth: the page says %q, want Access granted", got)
	}
	wantPulse(t, s.door.pulses, "Lab")
	evs, _, err := s.st.Events(ctx, access.EventFilter{Kind: "access.", Limit: 1})
	if err != nil || len(evs) == 0 || evs[0].Kind != "access.granted" || evs[0].Actor != "reader:sim:lab" || evs[0].Protocol != "v2" {
		t.Errorf("newest event %+v, %v; want granted at the Lab's reader over v2", evs, err)
	}
	// What crossed the stand-in: a request for the reader service, the
	// subscription, the hello and response in several fragments, and the
	// page hanging up.
	var ops []string
	for len(ops) == 0 || ops[len(ops)-1] != "disconnect" {
		var c gattCall
		select {
		case c = <-g.seen:
		case <-time.After(10 * time.Second):
			t.Fatalf("the page did not hang up; GATT calls %v", ops)
		}
		ops = append(ops, c.Op)
		if c.Op == "request" && (len(c.Opts.Filters) != 1 || len(c.Opts.Filters[0].Services) != 1 || c.Opts.Filters[0].Services[0] != protocol.ReaderServiceUUID) {
			t.Errorf("the page asked for devices %+v, want the reader service", c.Opts)
		}
	}
	if g.written < 2 || !strings.HasPrefix(strings.Join(ops, " "), "request service subscribe write") || !strings.HasSuffix(strings.Join(ops, " "), "write disconnect") {
		t.Errorf("GATT calls %v (%d writes), want a request, the service, a subscription and fragmented writes", ops, g.written)
	}
}
