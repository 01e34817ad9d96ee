package web_test

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"postern/access"
	"postern/ble"
	"postern/mail"
	"postern/mail/mailtest"
	"postern/store"
	"postern/web"
)

// browserApp is a whole appliance for a browser test: the store, the web
// server, a real SMTP server, and the simulated air with readers that
// follow the access points, as `postern serve` runs them.
type browserApp struct {
	*browser
	st    *store.Store
	smtpd *mailtest.Server
	air   string // the simulated air's address
	shots string // where phone-sized screenshots go

	dialogs *dialogLog
}

// startBrowserApp starts an appliance and a browser on it, and signs the
// browser in as a new administrator through the setup link.
func startBrowserApp(t *testing.T, ctx context.Context) *browserApp {
	t.Helper()
	chrome := findChromium(t)
	st, err := store.Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewUnstartedServer(nil)
	srv.Listener.Close()
	srv.Listener = ln
	base := "http://" + ln.Addr().String()
	token := randomHex(t, 16)
	smtpd, err := mailtest.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { smtpd.Close() })
	logger := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	mailer, err := mail.NewMailer(web.MailOutbox(st), st, mail.MailerConfig{SMTP: smtpd.URL(), From: "doors@example.com", Log: logger})
	if err != nil {
		t.Fatal(err)
	}
	go mailer.Run(ctx)

	air := ble.NewAir(ble.AirOptions{Logger: logger})
	airLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go air.Serve(airLn)
	t.Cleanup(func() { air.Close() })
	mgr := ble.NewManager(ble.ManagerOptions{
		Radios:    map[string]ble.Radio{ble.RadioSim: air.Radio()},
		Exchanger: ble.NewSiteExchange(st, ble.LogDoor{Logger: logger}, 0, logger),
		Logger:    logger,
	})
	t.Cleanup(func() { mgr.Close() })
	mgr.Follow(100*time.Millisecond, func(ctx context.Context) ([]ble.ReaderConfig, error) {
		aps, err := st.AllAccessPoints(ctx)
		var cfgs []ble.ReaderConfig
		for _, ap := range aps {
			cfgs = append(cfgs, ble.ReaderConfig{ID: ap.ID, Name: ap.Name, Binding: ap.Reader, Mode: ap.Mode, RSSIThreshold: ap.RSSIThreshold})
		}
		return cfgs, err
	})

	srv.Config.Handler = web.New(web.Config{Store: st, Log: logger, PublicURL: base, SetupToken: token, Mailer: mailer, Readers: mgr})
	srv.Start()
	t.Cleanup(srv.Close)

	shots := os.Getenv("POSTERN_SCREENSHOT_DIR")
	if shots == "" {
		shots = t.TempDir()
	}
	app := &browserApp{browser: startBrowser(ctx, t, chrome, base), st: st, smtpd: smtpd, air: airLn.Addr().String(), shots: shots, dialogs: &dialogLog{}}
	if err := chromedp.Listen(app.ctx, app.dialogs.listen(app.ctx)); err != nil {
		t.Fatal(err)
	}

	app.open("/setup?token=" + token)
	app.wantPage("/setup", "Welcome to Postern")
	app.fill("setup-form", "email", adminEmail)
	app.fill("setup-form", "password", adminPassword)
	app.fill("setup-form", "confirm", adminPassword)
	app.submit("setup-form")
	app.wantPage("/", "Dashboard")
	return app
}

// dialogLog answers the pages' confirm() dialogs, as the test says, and
// keeps what they asked.
type dialogLog struct {
	mu     sync.Mutex
	accept bool
	asked  []string
}

func (d *dialogLog) listen(ctx context.Context) func(ev any) {
	return func(ev any) {
		if ev, ok := ev.(*page.EventJavascriptDialogOpening); ok {
			d.mu.Lock()
			d.asked = append(d.asked, ev.Message)
			accept := d.accept
			d.mu.Unlock()
			// Not from the event loop itself: answering waits on it.
			go chromedp.Call(ctx, page.HandleJavaScriptDialog, page.HandleJavaScriptDialogParams{Accept: accept})
		}
	}
}

// answer says how the next dialogs are answered and forgets earlier ones.
func (d *dialogLog) answer(accept bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.accept, d.asked = accept, nil
}

func (d *dialogLog) questions() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]string(nil), d.asked...)
}

// reload reloads the page, as the browser's reload button does.
func (b *browser) reload() {
	b.t.Helper()
	b.do("reload", chromedp.Reload())
}

// visible reports whether an element with the data-testid shows.
func (b *browser) visible(id string) bool {
	b.t.Helper()
	// checkVisibility also sees content hidden by a closed <details>.
	js := fmt.Sprintf(`(() => { const e = document.querySelector(%q); return String(!!e && e.checkVisibility({visibilityProperty: true})) })()`, testid(id))
	return b.eval(js) == "true"
}

// rightEdge is how far right the element reaches, in CSS pixels.
func (b *browser) rightEdge(id string) int {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](fmt.Sprintf(`Math.ceil(document.querySelector(%q).getBoundingClientRect().right)`, testid(id))))
	if err != nil {
		b.t.Fatalf("measuring %s: %v", id, err)
	}
	return v
}

// screenshot saves the whole page as it is, under name, for a person to
// look at.
func (app *browserApp) screenshot(name string) {
	app.t.Helper()
	png, err := chromedp.Run(app.ctx, chromedp.FullScreenshot(100)) // 100: PNG; less is JPEG
	if err != nil {
		app.t.Fatalf("screenshot of %s: %v", name, err)
	}
	app.save(name, png)
}

func (app *browserApp) save(name string, png []byte) {
	app.t.Helper()
	file := filepath.Join(app.shots, name+".png")
	if err := os.MkdirAll(app.shots, 0o755); err != nil {
		app.t.Fatal(err)
	}
	if err := os.WriteFile(file, png, 0o644); err != nil {
		app.t.Fatal(err)
	}
	app.t.Logf("screenshot of %s: %s", name, file)
}

// phone shows the pages as a 390 px wide phone does; desktop as a laptop.
func (app *browserApp) phone() {
	app.t.Helper()
	app.do("emulate a phone", chromedp.EmulateViewport(phoneWidth, 844, chromedp.EmulateMobile))
}

func (app *browserApp) desktop() {
	app.t.Helper()
	app.do("back to a laptop", chromedp.EmulateViewport(1280, 900))
}

// mustAccessPoint returns the access point called name.
func (app *browserApp) mustAccessPoint(ctx context.Context, name string) access.AccessPoint {
	app.t.Helper()
	aps, err := app.st.AllAccessPoints(ctx)
	if err != nil {
		app.t.Fatal(err)
	}
	for _, ap := range aps {
		if ap.Name == name {
			return ap
		}
	}
	app.t.Fatalf("no access point %q", name)
	return access.AccessPoint{}
}

// present presents key at a reader of the simulated air, as `postern key
// present` does, and returns the reader's answer.
func (app *browserApp) present(ctx context.Context, reader string, key ble.KeyCredential) (ble.KeyOutcome, error) {
	app.t.Helper()
	presence, err := ble.DialAir(ctx, app.air, ble.Presence{Reader: reader, RSSI: -50, Discovery: ble.DiscoverAdvertise})
	if err != nil {
		return ble.KeyOutcome{}, err
	}
	defer presence.Close()
	link, err := presence.Link(ctx)
	if err != nil {
		return ble.KeyOutcome{}, err
	}
	return ble.PresentKey(ctx, link, key, false)
}

// textOf is the visible text of the first element with the data-testid,
// white space made single spaces.
func (b *browser) textOf(id string) string {
	b.t.Helper()
	got := b.texts(id)
	if len(got) == 0 {
		b.t.Fatalf("on %s: no %s", b.location(), testid(id))
	}
	return got[0]
}

// wantContains checks that the first element with the data-testid says want.
func (b *browser) wantContains(id, want string) {
	b.t.Helper()
	if got := b.textOf(id); !strings.Contains(got, want) {
		b.t.Errorf("on %s: %s reads %q, want it to say %q", b.location(), testid(id), got, want)
	}
}
