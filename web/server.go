// Package web serves Postern's admin pages, its JSON API and the API that
// keys call.
package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"

	"postern/assets"
	"postern/mail"
	"postern/store"
)

// Config is what the web server needs from the rest of the appliance.
type Config struct {
	Store      *store.Store
	Log        *slog.Logger
	PublicURL  string           // base of emailed links, e.g. https://doors.example.com
	SetupToken string           // one-time first-run token; empty once an admin exists
	Now        func() time.Time // nil: time.Now
	Mailer     *mail.Mailer     // nil: emails wait in the outbox
	// Touch arms the touch-mode reader of an access point, as a touch on
	// its input line does; it reports false when there is no such reader
	// running. nil: no readers here.
	Touch func(accessPointID int64) bool
	// Calibrate measures, at the running reader of an access point, the
	// nearest phone heard in the last few seconds (see Calibration). Its
	// errors are shown as they are. nil: no readers here.
	Calibrate func(accessPointID int64) (Calibration, error)
	// DoorInput reports a simulated input (open, close, exit) at an
	// access point's door, as its contact or exit button would. nil: no
	// doors here.
	DoorInput func(ctx context.Context, accessPointID int64, input string) error
	// Readers says how each access point's reader is doing, for the
	// dashboard. nil: no readers here, and the dashboard says nothing of
	// them.
	Readers Readers
	// Stopping is closed when the server shuts down, so live streams end
	// and let the shutdown finish. Until then the summary of refused
	// attempts is written every minute, and once more when it closes.
	// nil: never, and summaries are written only when the next
	// unauthenticated request comes.
	Stopping <-chan struct{}
	// Background, when set, counts the goroutines the server runs until
	// Stopping closes, so the caller can wait for them before it closes
	// the store.
	Background *sync.WaitGroup
	// TLS is how browsers reach the appliance, for the settings page and
	// the dashboard's warning.
	TLS TLSStatus
	// TrustedProxies are the reverse proxies whose X-Forwarded-For and
	// X-Forwarded-Proto are believed. Empty: none, the peer is the client.
	TrustedProxies []netip.Prefix
	// Metrics, when set, is served at /metrics to MetricsAllow addresses
	// and to API tokens, and counts every request.
	Metrics      *Metrics
	MetricsAllow []netip.Prefix
	// FleetToken composes the enrolment token of remote reader id from
	// its secret; FleetAddress is the address readers dial. nil: remote
	// readers cannot be added here.
	FleetToken   func(readerID int64, secret string) (string, error)
	FleetAddress string
	// Version is this Postern's, recorded in the backups it writes.
	Version string
	// BackupFlags is the backup schedule serve's flags set; when it is
	// on, it is the schedule and the page shows it instead of its own.
	BackupFlags store.BackupSchedule
	// PageSlots is how many admin pages and API calls are worked on at
	// once; 0: half the CPUs (see pageSlots).
	PageSlots int
	// PhoneExchange runs the reader's half of an open from a web key over
	// the network ("open from this phone"). nil: no readers here.
	PhoneExchange PhoneExchange
}

// TLSStatus says how the appliance serves its pages.
type TLSStatus struct {
	Mode        string // "off", "acme", "files" or "self-signed"
	Fingerprint string // SHA-256 of a self-signed certificate, for admins to compare
	// PlainOnNetwork is plain HTTP on an address other than loopback:
	// passwords cross the network in the clear, so the dashboard says so
	// to anyone who reached it that way.
	PlainOnNetwork bool
}

// handler holds the dependencies every route uses.
type handler struct {
	store     *store.Store
	log       *slog.Logger
	publicURL string
	now       func() time.Time

	setupMu    sync.Mutex
	setupToken string

	mailer          *mail.Mailer
	touch           func(accessPointID int64) bool
	calibrateReader func(accessPointID int64) (Calibration, error)
	doorInput       func(ctx context.Context, accessPointID int64, input string) error
	readers         Readers
	stop            <-chan struct{}
	tls             TLSStatus
	proxies         prefixes
	metrics         *Metrics
	metricsAllow    prefixes
	fleetToken      func(readerID int64, secret string) (string, error)
	fleetAddress    string
	// client calls other sites: an importing site confirms a version 2
	// token with the site that issued it.
	client      *http.Client
	version     string
	backupFlags store.BackupSchedule

	refusals *refusalLog
	codes    *codeShelf // new registration codes waiting for their one view
	imports  *importRunner

	// pageSlots bounds the admin pages and API calls worked on at once,
	// pageBudget the share of time they take.
	pageSlots  chan struct{}
	pageBudget *pageBudget
	// accessPointOptions is the permission form's list of access points,
	// rendered once until one changes.
	accessPointOptions accessPointOptionsCache
	// dashboardCache is the dashboard's reads, shared for a moment;
	// pageWrites counts the requests that may have changed something, so
	// that a change drops it.
	dashboardCache dashboardCache
	pageWrites     atomic.Uint64
	// choices are the groups and time profiles the forms offer.
	choices siteChoicesCache

	phoneExchange       PhoneExchange
	webKeyRegistrations *pending[webKeyRegistration]
	webKeyOpens         *pending[*httpLink]
	// routes are every "METHOD path" registered, to tell a route with no
	// permission rule (refused) from no route at all (404).
	routes map[string]bool
}

// New returns the HTTP handler for the whole appliance.
func New(cfg Config) *echo.Echo {
	h := &handler{
		store:           cfg.Store,
		log:             cfg.Log,
		publicURL:       strings.TrimRight(cfg.PublicURL, "/"),
		now:             cfg.Now,
		setupToken:      cfg.SetupToken,
		mailer:          cfg.Mailer,
		touch:           cfg.Touch,
		calibrateReader: cfg.Calibrate,
		doorInput:       cfg.DoorInput,
		readers:         cfg.Readers,
		stop:            cfg.Stopping,
		tls:             cfg.TLS,
		proxies:         cfg.TrustedProxies,
		metrics:         cfg.Metrics,
		metricsAllow:    cfg.MetricsAllow,
		fleetToken:      cfg.FleetToken,
		fleetAddress:    cfg.FleetAddress,
		client:          &http.Client{Timeout: redeemTimeout},
		version:         cfg.Version,
		backupFlags:     cfg.BackupFlags,
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	if h.now == nil {
		h.now = time.Now
	}
	h.refusals = &refusalLog{store: h.store, log: h.log, now: h.now, location: h.location}
	if cfg.Stopping != nil {
		wg := cfg.Background
		if wg == nil {
			wg = new(sync.WaitGroup)
		}
		wg.Go(func() { h.refusals.run(cfg.Stopping) })
	}
	h.codes = newCodeShelf(h.now)
	slots := cfg.PageSlots
	if slots <= 0 {
		slots = pageSlots()
	}
	h.pageSlots = make(chan struct{}, slots)
	h.pageBudget = newPageBudget(slots, time.Now) // real time, whatever clock tests give h
	h.phoneExchange = cfg.PhoneExchange
	h.webKeyRegistrations = newPending[webKeyRegistration](5*time.Minute, 1000, h.now)
	h.webKeyOpens = newPending[*httpLink](phoneOpenTTL, 1000, h.now)
	if h.mailer == nil {
		h.mailer, _ = mail.NewMailer(MailOutbox(h.store), h.store, mail.MailerConfig{Log: h.log})
	}
	h.imports = newImportRunner(h, cfg.Stopping, cfg.Background)
	if cfg.Stopping != nil {
		// A served appliance carries on with imports a restart cut off.
		h.imports.resume()
	}

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.IPExtractor = ipExtractor(h.proxies)
	e.HTTPErrorHandler = h.httpError
	if h.metrics != nil {
		e.Use(h.countRequests)
	}
	e.Use(h.recoverer, h.securityHeaders)

	e.GET("/healthz", h.healthz)
	h.metricsRoutes(e)
	e.GET("/assets/*", echo.WrapHandler(http.StripPrefix("/assets/", cacheForever(http.FileServerFS(assets.FS)))))

	pages := e.Group("", h.bodyLimit(1<<20))
	pages.GET("/setup", h.setupForm)
	pages.POST("/setup", h.setupSave, h.checkOrigin)
	pages.GET("/login", h.loginForm)
	pages.POST("/login", h.loginSave, h.checkOrigin)
	pages.GET("/key/register", h.keyRegisterPage)

	admin := pages.Group("", h.requireSession, h.requireTwoFactor, h.checkCSRF, h.authorize, h.withEmergency, h.boundPages)
	admin.POST("/logout", h.logout)
	admin.GET("/", h.dashboard)
	h.userRoutes(admin)
	h.groupRoutes(admin)
	h.accessPointRoutes(admin)
	h.timeProfileRoutes(admin)
	h.permissionRoutes(admin)
	h.eventRoutes(admin)
	h.exportRoutes(admin)
	h.rollCallRoutes(admin)
	// A CSV of users may be larger than any other form.
	uploads := e.Group("", h.bodyLimit(importMaxBytes), h.requireSession, h.requireTwoFactor, h.checkCSRF, h.authorize, h.withEmergency, h.boundPages)
	h.importRoutes(admin, uploads)
	h.credentialRoutes(admin)
	h.settingsRoutes(admin)
	h.backupRoutes(admin)
	h.adminAccountRoutes(admin)
	h.outboxRoutes(admin)
	h.readerRoutes(admin)
	h.siteModeRoutes(admin)
	h.alarmRoutes(admin)
	h.shareRoutes(admin)
	h.visitorRoutes(admin)
	h.adminLinkRoutes(pages, admin)
	h.loginCodeRoutes(pages)
	h.twoFactorRoutes(admin)

	h.openAPIRoutes(e)
	api := e.Group("/api/v1", h.bodyLimit(1<<20), h.requireToken, h.authorize, h.boundPages)
	h.apiRoutes(api)
	h.apiCredentialRoutes(api)
	h.apiVisitorRoutes(api)

	key := e.Group("/api/key/v1", h.bodyLimit(64<<10), h.keyRateLimit, h.refuseV1)
	h.keyRoutes(key)
	keyV2 := e.Group("/api/key/v2", h.bodyLimit(64<<10), h.keyRateLimit)
	h.keyRoutesV2(keyV2)
	// Registration spends codes, so it is limited as the key API is;
	// opening is proved by a signature, and an office behind one address
	// opens many doors a minute.
	h.webKeyRoutes(pages, e.Group("/api/key/web", h.bodyLimit(64<<10), h.keyRateLimit))
	phone := e.Group("/api/key/web", h.bodyLimit(64<<10), h.phoneRateLimit)
	h.webKeyOpenRoutes(phone)
	h.webKeyDoorRoutes(phone)

	h.routes = map[string]bool{}
	for _, r := range e.Routes() {
		h.routes[r.Method+" "+r.Path] = true
	}
	return e
}

func (h *handler) healthz(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	if err := h.store.Ping(ctx); err != nil {
		h.log.Error("health check failed", "err", err)
		return c.String(http.StatusServiceUnavailable, "database unavailable\n")
	}
	return c.String(http.StatusOK, "ok\n")
}

// render writes a templ component with a status.
func render(c echo.Context, status int, cmp templ.Component) error {
	c.Response().Header().Set(echo.HeaderContentType, echo.MIMETextHTMLCharsetUTF8)
	c.Response().WriteHeader(status)
	return cmp.Render(c.Request().Context(), c.Response())
}

// isHTMX reports whether the request came from htmx, which wants only the
// fragment it will swap in.
func isHTMX(c echo.Context) bool {
	return c.Request().Header.Get("HX-Request") == "true" && c.Request().Header.Get("HX-Boosted") != "true"
}

// redirect answers a form post with a redirect the browser follows with GET.
func redirect(c echo.Context, to string) error {
	return c.Redirect(http.StatusSeeOther, to)
}

func cacheForever(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		next.ServeHTTP(w, r)
	})
}

func (h *handler) securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		hd := c.Response().Header()
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'")
		if h.secure(c) {
			// Two years, the usual value; not includeSubDomains, since the
			// appliance does not speak for its parent domain's other hosts.
			hd.Set("Strict-Transport-Security", "max-age=63072000")
		}
		return next(c)
	}
}

func (h *handler) bodyLimit(n int64) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			c.Request().Body = http.MaxBytesReader(c.Response(), c.Request().Body, n)
			return next(c)
		}
	}
}

// recoverer turns a panic into a logged 500 with a plain message: never a
// stack trace in a page.
func (h *handler) recoverer(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				h.log.Error("panic in handler", "path", c.Request().URL.Path, "panic", r)
				err = errors.New("internal error")
			}
		}()
		return next(c)
	}
}
