package main

import (
	"context"
	"crypto/ecdsa"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"postern/access"
	"postern/access/protocol"
	"postern/access/softkey"
	"postern/ble"
	"postern/store"
	"postern/web"
)

// benchConfig is bench's flags.
type benchConfig struct {
	keys     int
	readers  int
	duration time.Duration
	browse   int
	site     store.Population
	deadline time.Duration
	// helloWait is the readers' wait for a version 2 hello. The bench's
	// keys speak version 1, so each presentation starts with that much
	// silence: idle time, not work, and the same in every run.
	helloWait time.Duration
}

// bench is a load test of the whole appliance on a made-up site in a
// temporary folder: keys present at readers over the simulated air while
// admins browse, and it prints the decisions' throughput and latency.
func bench(ctx context.Context, args []string, std stdio) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(std.err)
	var cfg benchConfig
	fs.IntVar(&cfg.keys, "keys", 50, "simulated keys presenting at once, each again as soon as it has its answer")
	fs.IntVar(&cfg.readers, "readers", 2, "readers on the simulated air the keys share")
	fs.DurationVar(&cfg.duration, "duration", 10*time.Second, "how long the keys present")
	fs.IntVar(&cfg.browse, "browse", 0, "admin clients browsing the heaviest pages (dashboard, a user's page, permissions) meanwhile")
	fs.IntVar(&cfg.site.Users, "users", 0, "made-up users on the site besides the keys' holders")
	fs.IntVar(&cfg.site.AccessPoints, "doors", 0, "made-up access points besides the readers (each gets a reader on the air)")
	fs.IntVar(&cfg.site.Events, "events", 0, "made-up past events")
	fs.DurationVar(&cfg.deadline, "deadline", protocol.DefaultDeadline, "how long after its challenge a reader accepts a key's response")
	fs.DurationVar(&cfg.helloWait, "hello-wait", ble.DefaultHelloWait, "how long a reader listens for a version 2 hello before it challenges the bench's (version 1) keys; 1ms leaves only the decision's work in the latencies")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if cfg.keys < 1 || cfg.readers < 1 || cfg.duration <= 0 || cfg.browse < 0 {
		return exitf(2, "postern bench: --keys and --readers must be at least 1, --duration positive, --browse 0 or more")
	}
	dir, err := os.MkdirTemp("", "postern-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	st, err := store.Open(ctx, dir)
	if err != nil {
		return err
	}
	defer st.Close()
	if _, err := st.Site(ctx); err != nil {
		return err
	}
	if cfg.site.Users > 0 || cfg.site.AccessPoints > 0 || cfg.site.Events > 0 {
		cfg.site.Groups = max(1, cfg.site.Users/1000)
		cfg.site.AccessPoints = max(1, cfg.site.AccessPoints)
		fmt.Fprintf(std.out, "Making up a site of %d users, %d access points and %d events…\n", cfg.site.Users, cfg.site.AccessPoints, cfg.site.Events)
		if err := st.Populate(ctx, cfg.site); err != nil {
			return err
		}
	}
	fmt.Fprintf(std.out, "Registering %d keys…\n", cfg.keys)
	rig, err := newBenchRig(ctx, st, cfg)
	if err != nil {
		return err
	}
	defer rig.close()
	// With browsers, the same keys present first with no admin about:
	// the browsers' cost is the ratio of the two, measured on the same
	// machine a moment apart.
	var idle benchResult
	if cfg.browse > 0 {
		fmt.Fprintf(std.out, "%d keys present at %d readers for %v with no admin about…\n", cfg.keys, cfg.readers, cfg.duration)
		if idle, err = rig.run(ctx, benchRun{keys: cfg.keys, duration: cfg.duration}); err != nil {
			return err
		}
		idle.print(std.out)
	}
	fmt.Fprintf(std.out, "%d keys present at %d readers for %v", cfg.keys, cfg.readers, cfg.duration)
	if cfg.browse > 0 {
		fmt.Fprintf(std.out, " while %d admins browse", cfg.browse)
	}
	fmt.Fprintln(std.out, "…")
	res, err := rig.run(ctx, benchRun{keys: cfg.keys, browse: cfg.browse, duration: cfg.duration})
	if err != nil {
		return err
	}
	res.print(std.out)
	if p := percentile(idle.logged, 0.99); p > 0 {
		fmt.Fprintf(std.out, "browsed:    logged p99 %.2f × idle, p50 %.2f × idle\n",
			float64(percentile(res.logged, 0.99))/float64(p), float64(percentile(res.logged, 0.50))/float64(percentile(idle.logged, 0.50)))
	}
	return nil
}

// benchRig is an appliance set up for a load test: readers on a
// simulated air, registered keys with permission at all of them, and the
// admin pages behind a signed-in session.
type benchRig struct {
	st       *store.Store
	readers  *readerSet
	doors    *ble.Doors
	doorLoop chan struct{} // closed when the door loop has stopped
	stop     context.CancelFunc
	keys     []ble.KeyCredential
	names    []string // the readers' names on the air
	users    []int64  // whose pages the admins open
	site     string   // the admin pages' URL
	session  *http.Cookie
	server   *http.Server
	serverWG sync.WaitGroup
}

// newBenchRig adds cfg.readers access points and cfg.keys holders to st,
// registers a key for each and starts the readers and the admin pages.
func newBenchRig(ctx context.Context, st *store.Store, cfg benchConfig) (*benchRig, error) {
	r := &benchRig{st: st}
	group := access.Group{Name: "Bench keys"}
	if err := st.CreateGroup(ctx, "bench", &group); err != nil {
		return nil, err
	}
	for i := range cfg.readers {
		ap := access.AccessPoint{Name: fmt.Sprint("Bench reader ", i+1), Reader: fmt.Sprint("sim:bench", i+1)}
		if err := st.CreateAccessPoint(ctx, "bench", &ap); err != nil {
			return nil, err
		}
		if err := st.CreatePermission(ctx, "bench", &access.Permission{GroupID: group.ID, AccessPointID: ap.ID}); err != nil {
			return nil, err
		}
		r.names = append(r.names, fmt.Sprint("bench", i+1))
	}
	site, err := st.Site(ctx)
	if err != nil {
		return nil, err
	}
	for i := range cfg.keys {
		k, userID, err := benchHolder(ctx, st, site, group.ID, i)
		if err != nil {
			return nil, err
		}
		r.keys = append(r.keys, k)
		r.users = append(r.users, userID)
	}
	if _, err := st.LoadPolicy(ctx); err != nil {
		return nil, err
	}
	quiet := slog.New(slog.DiscardHandler)
	readerCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	r.stop = stop
	airLn, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		stop()
		return nil, err
	}
	// The doors and their loop run as serve runs them: their work counts
	// against the appliance too.
	r.doors = ble.NewDoors(ble.DoorsOptions{Output: ble.LogDoor{Logger: quiet}, Logger: quiet,
		Events: func(ctx context.Context, e *access.Event) error { return st.AppendEvent(ctx, e) }})
	r.doorLoop = followDoors(readerCtx, localSite(st), r.doors, time.Now, quiet)
	radios := map[string]ble.Radio{}
	r.readers = startReaders(readerCtx, serveConfig{deadline: cfg.deadline, helloWait: cfg.helloWait}, localSite(st), radios, airLn, r.doors, time.Now, quiet)
	// A thousand readers take a moment to join the air; the keys must not
	// present before theirs has.
	joinCtx, cancelJoin := context.WithTimeout(ctx, time.Minute)
	defer cancelJoin()
	for _, name := range r.names {
		if err := r.readers.air.WaitReader(joinCtx, name); err != nil {
			r.close()
			return nil, fmt.Errorf("waiting for reader %s: %w", name, err)
		}
	}
	if err := r.startPages(ctx, quiet); err != nil {
		r.close()
		return nil, err
	}
	return r, nil
}

// benchHolder makes user i with an email, in the bench group, and
// registers a fresh soft key to a Smart credential, as `postern key
// register` would.
func benchHolder(ctx context.Context, st *store.Store, site access.Site, group int64, i int) (ble.KeyCredential, int64, error) {
	var k ble.KeyCredential
	u := access.User{FirstName: "Bench", LastName: fmt.Sprint("Key ", i+1), Email: fmt.Sprintf("bench-key-%d@example.com", i+1), Enabled: true}
	if err := st.CreateUser(ctx, "bench", &u); err != nil {
		return k, 0, err
	}
	if err := st.SetUserGroups(ctx, "bench", u.ID, []int64{group}); err != nil {
		return k, 0, err
	}
	code := access.NewRegistrationCode()
	noMail := func(_ access.Credential, u access.User) (store.Mail, error) {
		return store.Mail{Kind: "invitation", Recipient: u.Email, Subject: "Bench key", Message: "{}"}, nil
	}
	if _, err := st.AssignCredential(ctx, "bench", u.ID, code, time.Now().Add(time.Hour), noMail); err != nil {
		return k, 0, err
	}
	keys, err := softkey.NewKeys()
	if err != nil {
		return k, 0, err
	}
	tap, err := protocol.MarshalPublicKey(&keys.Tap.PublicKey)
	if err != nil {
		return k, 0, err
	}
	uv, err := protocol.MarshalPublicKey(&keys.UV.PublicKey)
	if err != nil {
		return k, 0, err
	}
	c, _, err := st.RegisterCredential(ctx, access.Registration{Code: code, TapKey: tap, UVKey: uv, DeviceInfo: "postern bench"})
	if err != nil {
		return k, 0, err
	}
	k = ble.KeyCredential{ID: protocol.CredentialID(c.ID), Tap: keys.Tap, Strict: true,
		Sites: map[protocol.SiteID]*ecdsa.PublicKey{protocol.SiteID(site.ID): &site.Key.PublicKey}}
	return k, u.ID, nil
}

// startPages serves the admin pages on loopback with a signed-in session.
func (r *benchRig) startPages(ctx context.Context, log *slog.Logger) error {
	admin, err := r.st.CreateAdmin(ctx, "bench", "bench-admin@example.com", "not a password hash", false)
	if err != nil {
		return err
	}
	token := randomHex(16)
	if err := r.st.CreateSession(ctx, token, randomHex(16), admin.ID, 24*time.Hour); err != nil {
		return err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	r.site = "http://" + l.Addr().String()
	r.session = &http.Cookie{Name: "postern_session", Value: token}
	r.server = &http.Server{Handler: web.New(web.Config{Store: r.st, Log: log, PublicURL: r.site}), ReadHeaderTimeout: 10 * time.Second}
	r.serverWG.Go(func() { r.server.Serve(l) })
	return nil
}

func (r *benchRig) close() {
	if r.server != nil {
		r.server.Close()
		r.serverWG.Wait()
	}
	if r.readers != nil {
		r.readers.Close()
	}
	r.stop()
	if r.doorLoop != nil {
		<-r.doorLoop
		r.doors.Close()
	}
}

// benchRun is one measured run: keys present until duration has passed
// or, when decisions is set, until that many decisions have been made.
type benchRun struct {
	keys      int
	browse    int
	duration  time.Duration
	decisions int
}

// benchResult is what a run measured.
type benchResult struct {
	run              benchRun
	elapsed          time.Duration
	granted, denied  int
	failed           int
	firstFailure     error
	atKey            []time.Duration // joining the air to the answer, as the key saw it
	logged           []time.Duration // challenge to decision, as the reader logged it
	decisionsWritten int64
	commits          int64
	pages            map[string][]time.Duration
}

// benchPages are what a browsing admin opens in turn: the heaviest pages.
var benchPages = []string{"dashboard", "user", "permissions"}

// run presents the keys, and browses, until the run's end.
func (r *benchRig) run(ctx context.Context, br benchRun) (benchResult, error) {
	res := benchResult{run: br, pages: map[string][]time.Duration{}}
	lastEvent, err := r.st.LastEventID(ctx)
	if err != nil {
		return res, err
	}
	decided0, commits0 := r.st.DecisionStats()
	var cancel context.CancelFunc
	if br.decisions > 0 {
		ctx, cancel = context.WithCancel(ctx)
	} else {
		ctx, cancel = context.WithTimeout(ctx, br.duration)
	}
	defer cancel()
	var mu sync.Mutex
	var keys, browsers sync.WaitGroup
	start := time.Now()
	for i := range min(br.keys, len(r.keys)) {
		reader := r.names[i%len(r.names)]
		keys.Go(func() {
			for ctx.Err() == nil {
				t0 := time.Now()
				granted, err := r.present(ctx, r.keys[i], reader)
				took := time.Since(t0)
				mu.Lock()
				switch {
				case ctx.Err() != nil && err != nil:
					// Cut off by the end of the run: not counted.
				case err != nil:
					res.failed++
					if res.firstFailure == nil {
						res.firstFailure = err
					}
				default:
					if granted {
						res.granted++
					} else {
						res.denied++
					}
					res.atKey = append(res.atKey, took)
					if br.decisions > 0 && len(res.atKey) >= br.decisions {
						cancel()
					}
				}
				mu.Unlock()
			}
		})
	}
	client := &http.Client{Timeout: 30 * time.Second}
	for b := range br.browse {
		browsers.Go(func() {
			for i := b; ctx.Err() == nil; i++ {
				page := benchPages[i%len(benchPages)]
				t0 := time.Now()
				err := r.browse(ctx, client, page)
				took := time.Since(t0)
				if ctx.Err() != nil {
					return
				}
				mu.Lock()
				if err != nil && res.firstFailure == nil {
					res.firstFailure = err
				}
				res.pages[page] = append(res.pages[page], took)
				mu.Unlock()
			}
		})
	}
	keys.Wait()
	res.elapsed = time.Since(start)
	cancel()
	browsers.Wait()
	decided, commits := r.st.DecisionStats()
	res.decisionsWritten, res.commits = decided-decided0, commits-commits0
	res.logged, err = r.loggedLatencies(context.WithoutCancel(ctx), lastEvent)
	return res, err
}

// present makes one presentation at reader over the air and reports
// whether it was granted.
func (r *benchRig) present(ctx context.Context, k ble.KeyCredential, reader string) (bool, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	p, err := ble.DialAir(ctx, r.readers.airAddr, ble.Presence{Reader: reader, RSSI: -50})
	if err != nil {
		return false, err
	}
	defer p.Close()
	link, err := p.Link(ctx)
	if err != nil {
		return false, err
	}
	defer link.Close()
	out, err := ble.PresentKey(ctx, link, k, false)
	if err != nil {
		return false, err
	}
	return out.Result.Granted, nil
}

// browse opens one page as the signed-in admin.
func (r *benchRig) browse(ctx context.Context, client *http.Client, page string) error {
	path := map[string]string{"dashboard": "/", "permissions": "/permissions"}[page]
	if page == "user" {
		path = fmt.Sprint("/users/", r.users[rand.IntN(len(r.users))])
	}
	req, err := http.NewRequestWithContext(ctx, "GET", r.site+path, nil)
	if err != nil {
		return err
	}
	req.AddCookie(r.session)
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return nil
}

// loggedLatencies reads the latency the readers logged with each decision
// made after event id after.
func (r *benchRig) loggedLatencies(ctx context.Context, after int64) ([]time.Duration, error) {
	var out []time.Duration
	for {
		events, err := r.st.EventsAfter(ctx, after, store.MaxLimit)
		if err != nil {
			return nil, err
		}
		if len(events) == 0 {
			return out, nil
		}
		for _, e := range events {
			after = e.ID
			if e.Kind == "access.granted" || e.Kind == "access.denied" {
				out = append(out, e.Latency)
			}
		}
	}
}

// percentile returns the q-th quantile of ds (sorted in place), 0 for none.
func percentile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	slices.Sort(ds)
	return ds[int(q*float64(len(ds)-1))]
}

// spread is a latency distribution in a line: "p50 … p95 … p99 …".
func spread(ds []time.Duration) string {
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d.Microseconds())/1000) }
	return fmt.Sprintf("p50 %s  p95 %s  p99 %s", ms(percentile(ds, 0.50)), ms(percentile(ds, 0.95)), ms(percentile(ds, 0.99)))
}

func (res benchResult) print(w io.Writer) {
	n := res.granted + res.denied
	fmt.Fprintf(w, "decisions:  %d in %.1fs = %.1f/s (%d granted, %d denied), %d failed\n",
		n, res.elapsed.Seconds(), float64(n)/res.elapsed.Seconds(), res.granted, res.denied, res.failed)
	if res.commits > 0 {
		fmt.Fprintf(w, "writes:     %d decisions in %d commits, %.1f a commit\n", res.decisionsWritten, res.commits, float64(res.decisionsWritten)/float64(res.commits))
	}
	fmt.Fprintf(w, "at the key: %s  (joining the air to the answer)\n", spread(res.atKey))
	fmt.Fprintf(w, "logged:     %s  (challenge to decision, as the reader logs it)\n", spread(res.logged))
	var all []time.Duration
	var each []string
	for _, page := range benchPages {
		if ds := res.pages[page]; len(ds) > 0 {
			all = append(all, ds...)
			each = append(each, fmt.Sprintf("%s p95 %.1f ms", page, float64(percentile(ds, 0.95).Microseconds())/1000))
		}
	}
	if len(all) > 0 {
		fmt.Fprintf(w, "pages:      %d, %s\n            %s\n", len(all), spread(all), strings.Join(each, ", "))
	}
	if res.firstFailure != nil {
		fmt.Fprintf(w, "first failure: %v\n", res.firstFailure)
	}
}
