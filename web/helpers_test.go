package web_test

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
	"github.com/labstack/echo/v4"

	"postern/access"
	"postern/store"
	"postern/web"
)

const (
	adminEmail    = "ann@example.com"
	adminPassword = "correct horse battery"
	// origin is what a browser on the admin pages sends: httptest.NewRequest
	// addresses every request to example.com.
	origin = "http://example.com"
)

// adminHash is hashed once: argon2id is deliberately slow and the machine
// is shared.
var adminHash = sync.OnceValue(func() string {
	h, err := web.HashPassword(adminPassword)
	if err != nil {
		panic(err)
	}
	return h
})

// clock is the fake time shared by the web server (rate limits) and the
// store (session expiry). It only moves when a test moves it.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// env is one appliance under test: a real store in a temporary folder and
// the echo server in front of it.
type env struct {
	e     *echo.Echo
	s     *store.Store
	clock *clock

	admin   store.Admin
	token   string       // API bearer token of admin
	session *http.Cookie // the browser's session cookie after login
	csrf    string       // the session's CSRF token
}

// testLog sends the server's log to the test's log, so a failing test
// shows what the server said.
type testLog struct{ t testing.TB }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Helper()
	l.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

// newEnv starts an appliance with no admin. opts adjust the config.
func newEnv(t *testing.T, opts ...func(*web.Config)) *env {
	t.Helper()
	s, err := store.Open(t.Context(), t.TempDir())
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	clk := &clock{now: time.Date(2026, 3, 11, 10, 0, 0, 0, time.UTC)}
	s.SetClock(clk.Now)
	cfg := web.Config{Store: s, Log: slog.New(slog.NewTextHandler(testLog{t}, nil)), Now: clk.Now}
	for _, o := range opts {
		o(&cfg)
	}
	return &env{e: web.New(cfg), s: s, clock: clk}
}

// openEnv starts an appliance on the database in dir, as serve does after
// a restart; the caller closes its store.
func openEnv(t *testing.T, dir string, clk *clock, opts ...func(*web.Config)) *env {
	t.Helper()
	s, err := store.Open(t.Context(), dir)
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	s.SetClock(clk.Now)
	cfg := web.Config{Store: s, Log: slog.New(slog.NewTextHandler(testLog{t}, nil)), Now: clk.Now}
	for _, o := range opts {
		o(&cfg)
	}
	return &env{e: web.New(cfg), s: s, clock: clk}
}

// newAdminEnv starts an appliance with an admin and an API token for them.
func newAdminEnv(t *testing.T, opts ...func(*web.Config)) *env {
	t.Helper()
	env := newEnv(t, opts...)
	admin, err := env.s.CreateAdmin(t.Context(), "test", adminEmail, adminHash(), false)
	if err != nil {
		t.Fatalf("create admin: %v", err)
	}
	env.admin = admin
	env.token = web.NewAPIToken()
	if err := env.s.CreateAPIToken(t.Context(), "test", admin.ID, "tests", env.token); err != nil {
		t.Fatalf("create API token: %v", err)
	}
	return env
}

// newLoggedInEnv is newAdminEnv with a browser signed in.
func newLoggedInEnv(t *testing.T, opts ...func(*web.Config)) *env {
	t.Helper()
	env := newAdminEnv(t, opts...)
	env.login(t)
	return env
}

func (env *env) serve(r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	env.e.ServeHTTP(w, r)
	return w
}

// cookie returns the cookie a response set, or nil.
func cookie(w *httptest.ResponseRecorder, name string) *http.Cookie {
	for _, c := range w.Result().Cookies() {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// sessionCookie returns whichever session cookie a response set.
func sessionCookie(w *httptest.ResponseRecorder) *http.Cookie {
	if c := cookie(w, "__Host-postern_session"); c != nil {
		return c
	}
	return cookie(w, "postern_session")
}

// preForm fetches a pre-session form (/login, /setup) and returns its
// double-submit cookie and the token in its _csrf field.
func (env *env) preForm(t *testing.T, target string) (*http.Cookie, string) {
	t.Helper()
	w := env.serve(httptest.NewRequest(http.MethodGet, target, nil))
	if w.Code != http.StatusOK {
		t.Fatalf("GET %s: got status %d, want 200\n%s", target, w.Code, w.Body)
	}
	ck := cookie(w, "__Host-postern_csrf")
	if ck == nil {
		ck = cookie(w, "postern_csrf")
	}
	if ck == nil {
		ck = cookie(w, "__Host-postern_csrf") // over TLS
	}
	if ck == nil {
		t.Fatalf("GET %s set no postern_csrf cookie", target)
	}
	field := fieldValue(t, w.Body.String(), "_csrf")
	if field != ck.Value {
		t.Fatalf("GET %s: the _csrf field %q is not the cookie %q", target, field, ck.Value)
	}
	return ck, field
}

// postPre posts a pre-session form with the double-submit cookie.
func (env *env) postPre(target string, ck *http.Cookie, form url.Values) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Origin", origin)
	if ck != nil {
		r.AddCookie(ck)
	}
	return env.serve(r)
}

// login signs the admin in through the login form, as a browser does, and
// keeps the session cookie and its CSRF token.
func (env *env) login(t *testing.T) {
	t.Helper()
	ck, csrf := env.preForm(t, "/login")
	w := env.postPre("/login", ck, url.Values{"_csrf": {csrf}, "email": {adminEmail}, "password": {adminPassword}})
	if w.Code != http.StatusSeeOther {
		t.Fatalf("login: got status %d, want 303\n%s", w.Code, w.Body)
	}
	env.session = sessionCookie(w)
	if env.session == nil || env.session.Value == "" {
		t.Fatalf("login set no session cookie: %v", w.Result().Cookies())
	}
	env.csrf = env.sessionCSRF(t)
}

// sessionCSRF reads the session's CSRF token from the sign-out form every
// admin page carries.
func (env *env) sessionCSRF(t *testing.T) string {
	t.Helper()
	w := env.get("/")
	if w.Code != http.StatusOK {
		t.Fatalf("GET / after login: got status %d, want 200\n%s", w.Code, w.Body)
	}
	csrf := fieldValue(t, w.Body.String(), "_csrf")
	if csrf == "" {
		t.Fatal("the dashboard has no _csrf field")
	}
	return csrf
}

// get fetches an admin page as the signed-in browser.
func (env *env) get(target string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodGet, target, nil)
	if env.session != nil {
		r.AddCookie(env.session)
	}
	return env.serve(r)
}

// post sends an admin form as the signed-in browser, with its CSRF token.
func (env *env) post(target string, form url.Values) *httptest.ResponseRecorder {
	if form == nil {
		form = url.Values{}
	}
	if _, ok := form["_csrf"]; !ok {
		form.Set("_csrf", env.csrf)
	}
	r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("Origin", origin)
	if env.session != nil {
		r.AddCookie(env.session)
	}
	return env.serve(r)
}

// api sends a JSON API request with the admin's bearer token.
func (env *env) api(method, target, body string) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, strings.NewReader(body))
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	r.Header.Set("Authorization", "Bearer "+env.token)
	return env.serve(r)
}

// mustAPI sends an API request that must answer want, and decodes the body.
func (env *env) mustAPI(t *testing.T, method, target, body string, want int) map[string]any {
	t.Helper()
	w := env.api(method, target, body)
	if w.Code != want {
		t.Fatalf("%s %s %s: got status %d, want %d\n%s", method, target, body, w.Code, want, w.Body)
	}
	if want == http.StatusNoContent {
		return nil
	}
	var m map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &m); err != nil {
		t.Fatalf("%s %s: body is not a JSON object: %v\n%s", method, target, err, w.Body)
	}
	return m
}

// create posts to an API collection and returns the new id.
func (env *env) create(t *testing.T, collection, body string) int64 {
	t.Helper()
	return idOf(t, env.mustAPI(t, http.MethodPost, "/api/v1/"+collection, body, http.StatusCreated))
}

func idOf(t *testing.T, m map[string]any) int64 {
	t.Helper()
	id, ok := m["id"].(float64)
	if !ok || id <= 0 {
		t.Fatalf("got id %v, want a positive number in %v", m["id"], m)
	}
	return int64(id)
}

// stackTrace matches what a Go panic or error dump would leave in a body.
var stackTrace = regexp.MustCompile(`goroutine \d+|\.go:\d+|runtime\.|panic\(`)

// checkAPIError checks the one shape every API error has.
func checkAPIError(t *testing.T, status int, body []byte) {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("error body is not JSON: %v\n%s", err, body)
	}
	code, _ := m["error"].(string)
	msg, _ := m["message"].(string)
	keys := 2
	if fields, ok := m["fields"]; ok {
		keys = 3
		checkFieldsJSON(t, code, fields)
	}
	if code == "" || strings.TrimSpace(msg) == "" || len(m) != keys {
		t.Errorf(`got error body %s, want {"error": CODE, "message": TEXT} with both non-empty, and "fields" only on an invalid input or a clash`, body)
	}
	if status >= 500 {
		t.Errorf("got status %d, want a 4xx for a client mistake: %s", status, body)
	}
	if stackTrace.Match(body) {
		t.Errorf("error body looks like a stack trace: %s", body)
	}
}

// checkFieldsJSON checks an error's "fields": only on "invalid" (every
// invalid field) or "conflict" (the one field that clashes), an object of
// field names to non-empty messages.
func checkFieldsJSON(t *testing.T, code string, fields any) {
	t.Helper()
	m, ok := fields.(map[string]any)
	if (code != "invalid" && (code != "conflict" || len(m) != 1)) || !ok || len(m) == 0 {
		t.Errorf(`got "fields" %v on error %q, want a non-empty object on "invalid", or one field on "conflict"`, fields, code)
	}
	for name, msg := range m {
		if s, ok := msg.(string); name == "" || !ok || strings.TrimSpace(s) == "" {
			t.Errorf("fields: got %q: %v, want a field name and its message", name, msg)
		}
	}
}

// scenario is one HTTP exchange and what must come back.
type scenario struct {
	name            string
	method          string
	url             string
	body            string
	headers         map[string]string // set on the request; "" deletes a default
	wantStatus      int
	wantLocation    string            // prefix of the Location header
	wantHeaders     map[string]string // header → prefix of its value
	wantContains    []string          // in the body
	wantNotContains []string          // not in the body
	wantTestIDs     map[string]string // data-testid → text it contains ("" only: present)
	wantFields      map[string]string // form field name → its value
}

// runAPI runs JSON API scenarios in order with the admin's token.
func (env *env) runAPI(t *testing.T, tests []scenario) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.url, strings.NewReader(tt.body))
			if tt.body != "" {
				r.Header.Set("Content-Type", "application/json")
			}
			r.Header.Set("Authorization", "Bearer "+env.token)
			setHeaders(r, tt.headers)
			w := env.serve(r)
			check(t, tt, w)
			if w.Code >= 400 {
				checkAPIError(t, w.Code, w.Body.Bytes())
			}
		})
	}
}

// runPages runs admin page scenarios in order as the signed-in browser; a
// POST carries the Origin and, unless the body names one, the CSRF token.
func (env *env) runPages(t *testing.T, tests []scenario) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			body := tt.body
			if tt.method == http.MethodPost && !strings.Contains(body, "_csrf=") {
				if body != "" {
					body += "&"
				}
				body += "_csrf=" + url.QueryEscape(env.csrf)
			}
			r := httptest.NewRequest(tt.method, tt.url, strings.NewReader(body))
			if tt.method == http.MethodPost {
				r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				r.Header.Set("Origin", origin)
			}
			if env.session != nil {
				r.AddCookie(env.session)
			}
			setHeaders(r, tt.headers)
			w := env.serve(r)
			check(t, tt, w)
			if stackTrace.Match(w.Body.Bytes()) {
				t.Errorf("page looks like a stack trace:\n%s", w.Body)
			}
		})
	}
}

func setHeaders(r *http.Request, h map[string]string) {
	for k, v := range h {
		if v == "" {
			r.Header.Del(k)
		} else {
			r.Header.Set(k, v)
		}
	}
}

func check(t *testing.T, tt scenario, w *httptest.ResponseRecorder) {
	t.Helper()
	body := w.Body.String()
	if w.Code != tt.wantStatus {
		t.Fatalf("%s %s: got status %d, want %d\n%s", tt.method, tt.url, w.Code, tt.wantStatus, body)
	}
	if tt.wantLocation != "" {
		if got := w.Header().Get("Location"); !strings.HasPrefix(got, tt.wantLocation) {
			t.Errorf("got Location %q, want it to start with %q", got, tt.wantLocation)
		}
	}
	for h, want := range tt.wantHeaders {
		if got := w.Header().Get(h); !strings.HasPrefix(got, want) || got == "" {
			t.Errorf("got %s %q, want it to start with %q", h, got, want)
		}
	}
	for _, s := range tt.wantContains {
		if !strings.Contains(body, s) {
			t.Errorf("body does not contain %q:\n%s", s, body)
		}
	}
	for _, s := range tt.wantNotContains {
		if strings.Contains(body, s) {
			t.Errorf("body contains %q, want it not to:\n%s", s, body)
		}
	}
	if len(tt.wantTestIDs) == 0 && len(tt.wantFields) == 0 {
		return
	}
	doc := parse(t, body)
	for id, text := range tt.wantTestIDs {
		sel := byTestID(doc, id)
		if sel.Length() == 0 {
			t.Errorf("no element with data-testid=%q in:\n%s", id, body)
			continue
		}
		if got := sel.Text(); !strings.Contains(got, text) {
			t.Errorf("data-testid=%q: got text %q, want it to contain %q", id, got, text)
		}
	}
	for name, want := range tt.wantFields {
		if got, ok := formField(doc, name); !ok || got != want {
			t.Errorf("field %q: got %q (present %v), want %q", name, got, ok, want)
		}
	}
}

func parse(t *testing.T, body string) *goquery.Document {
	t.Helper()
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		t.Fatalf("parse HTML: %v", err)
	}
	return doc
}

func byTestID(doc *goquery.Document, id string) *goquery.Selection {
	return doc.Find(fmt.Sprintf("[data-testid=%q]", id))
}

// formField reads the value a form would submit for name: an input's
// value, a textarea's text or a select's chosen option.
func formField(doc *goquery.Document, name string) (string, bool) {
	sel := doc.Find(fmt.Sprintf("[name=%q]", name)).First()
	if sel.Length() == 0 {
		return "", false
	}
	switch goquery.NodeName(sel) {
	case "textarea":
		return sel.Text(), true
	case "select":
		return sel.Find("option[selected]").AttrOr("value", ""), true
	}
	if sel.AttrOr("type", "") == "checkbox" {
		_, on := sel.Attr("checked")
		return strconv.FormatBool(on), true
	}
	return sel.AttrOr("value", ""), true
}

// fieldValue is formField on a page body, failing when it is absent.
func fieldValue(t *testing.T, body, name string) string {
	t.Helper()
	v, ok := formField(parse(t, body), name)
	if !ok {
		t.Fatalf("no field %q in:\n%s", name, body)
	}
	return v
}

// redirectID reads the id from a Location such as /users/12?flash=created.
func redirectID(t *testing.T, w *httptest.ResponseRecorder, prefix string) int64 {
	t.Helper()
	loc := w.Header().Get("Location")
	rest, ok := strings.CutPrefix(loc, prefix)
	if !ok {
		t.Fatalf("got Location %q, want %s<id>", loc, prefix)
	}
	rest, _, _ = strings.Cut(rest, "?")
	id, err := strconv.ParseInt(rest, 10, 64)
	if err != nil {
		t.Fatalf("got Location %q, want %s<id>", loc, prefix)
	}
	return id
}

// events returns every event, newest first.
func (env *env) events(t *testing.T) []access.Event {
	t.Helper()
	evs, _, err := env.s.Events(t.Context(), access.EventFilter{Limit: store.MaxLimit})
	if err != nil {
		t.Fatalf("events: %v", err)
	}
	return evs
}

func itoa(id int64) string { return strconv.FormatInt(id, 10) }

// checkedValues returns the values of the ticked checkboxes called name.
func checkedValues(t *testing.T, body, name string) []string {
	t.Helper()
	var vals []string
	parse(t, body).Find(fmt.Sprintf("input[type=checkbox][name=%q][checked]", name)).Each(func(_ int, s *goquery.Selection) {
		vals = append(vals, s.AttrOr("value", ""))
	})
	return vals
}
