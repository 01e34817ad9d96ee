package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"postern/mail/mailtest"
)

// The tests in this file run the real binary, as a new user would.

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "postern-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "postern")
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// freeAddr returns a loopback address nothing listens on yet.
func freeAddr(t *testing.T) string {
	t.Helper()
	handedOut.Lock()
	defer handedOut.Unlock()
	for {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := l.Addr().String()
		l.Close()
		// Once closed, the kernel may offer the same port to the next
		// caller: an appliance once got it for both its web server and
		// its air, and could not start.
		if !handedOut.addrs[addr] {
			handedOut.addrs[addr] = true
			return addr
		}
	}
}

// handedOut is every address freeAddr has returned in this test binary.
var handedOut = struct {
	sync.Mutex
	addrs map[string]bool
}{addrs: map[string]bool{}}

// appliance is a running `postern serve`.
type appliance struct {
	t        *testing.T
	data     string
	url      string
	air      string
	cmd      *exec.Cmd
	setupURL string
	client   *http.Client // trusts the appliance's certificate, if it has one

	mu  sync.Mutex
	out bytes.Buffer
}

// startAppliance runs `postern serve` on loopback with extra flags and waits
// until /healthz answers.
func startAppliance(t *testing.T, data string, extra ...string) *appliance {
	t.Helper()
	return launch(t, launchOpts{data: data, args: extra})
}

// startMailingAppliance is startAppliance sending its emails, from
// doors@office.example, through a real SMTP server on loopback, which it
// returns.
func startMailingAppliance(t *testing.T, data string) (*appliance, *mailtest.Server) {
	t.Helper()
	smtpd, err := mailtest.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { smtpd.Close() })
	return startAppliance(t, data, "--smtp", smtpd.URL(), "--mail-from", "doors@office.example"), smtpd
}

// startApplianceEnv is startAppliance with extra environment variables.
func startApplianceEnv(t *testing.T, data string, env []string, extra ...string) *appliance {
	t.Helper()
	return launch(t, launchOpts{data: data, args: extra, env: env})
}

// launchOpts say how to start an appliance that is not plain HTTP on a
// loopback port of its own.
type launchOpts struct {
	data   string
	listen string       // "": a free loopback address
	url    string       // the public URL; "": http://listen
	client *http.Client // reaches url; nil: http.DefaultClient
	args   []string
	env    []string // more environment variables
}

func launch(t *testing.T, o launchOpts) *appliance {
	t.Helper()
	a := &appliance{t: t, data: o.data, client: o.client}
	if o.listen == "" {
		o.listen = freeAddr(t)
	}
	if a.client == nil {
		a.client = http.DefaultClient
	}
	a.air = freeAddr(t)
	a.url = o.url
	if a.url == "" {
		a.url = "http://" + o.listen
	}
	args := append([]string{"serve", "--data", o.data, "--listen", o.listen, "--air", a.air, "--radio", "sim"}, o.args...)
	a.cmd = exec.Command(binary, args...)
	a.cmd.Env = append(append(os.Environ(), "POSTERN_PUBLIC_URL="+a.url), o.env...)
	stdout, err := a.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	a.cmd.Stderr = writerFunc(func(p []byte) (int, error) {
		a.mu.Lock()
		defer a.mu.Unlock()
		return a.out.Write(p)
	})
	if err := a.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	setup := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			if i := strings.Index(line, "/setup?token="); i >= 0 {
				setup <- strings.TrimSpace(line)
			}
			a.mu.Lock()
			a.out.WriteString(line + "\n")
			a.mu.Unlock()
		}
	}()
	t.Cleanup(func() { a.stop() })
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := a.client.Get(a.url + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the appliance did not come up (%v):\n%s", err, a.output())
		}
		time.Sleep(50 * time.Millisecond)
	}
	select {
	case a.setupURL = <-setup:
	case <-time.After(time.Second):
	}
	return a
}

func (a *appliance) output() string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.out.String()
}

// stop sends SIGINT and waits for a clean exit.
func (a *appliance) stop() {
	if a.cmd.ProcessState != nil {
		return
	}
	a.cmd.Process.Signal(os.Interrupt)
	done := make(chan error, 1)
	go func() { done <- a.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			a.t.Errorf("serve did not exit cleanly: %v\n%s", err, a.output())
		}
	case <-time.After(20 * time.Second):
		a.cmd.Process.Kill()
		a.t.Errorf("serve did not stop on SIGINT\n%s", a.output())
	}
}

type writerFunc func([]byte) (int, error)

func (f writerFunc) Write(p []byte) (int, error) { return f(p) }

// postern runs the binary with args and stdin, returning stdout, stderr and
// the exit code.
func postern(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run postern %v: %v", args, err)
	}
	return out.String(), errb.String(), code
}

// adminToken creates an admin and an API token on the data dir while the
// appliance runs, as the README says.
func adminToken(t *testing.T, data, email string) string {
	t.Helper()
	if out, errs, code := postern(t, "correct horse battery\n", "admin", "create", "--data", data, "--email", email); code != 0 {
		t.Fatalf("admin create: %d %s %s", code, out, errs)
	}
	out, errs, code := postern(t, "", "admin", "token", "--data", data, "--email", email, "--name", "tests")
	if code != 0 {
		t.Fatalf("admin token: %d %s", code, errs)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	return lines[len(lines)-1]
}

// api calls the JSON API and decodes the answer into out (if not nil).
func api(t *testing.T, base, token, method, path string, body any, out any) int {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		r = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, base+path, r)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, data)
		}
	}
	return resp.StatusCode
}

var unbrokenCode = regexp.MustCompile(`\b\d{32}\b`)
var registrationLink = regexp.MustCompile(`https?://\S+/key/register\?code=\d{32}(&fp=[0-9a-f%A-F]+)?`)

func TestServeFirstRunAndShutdown(t *testing.T) {
	data := t.TempDir()
	a := startAppliance(t, data)
	if !strings.Contains(a.setupURL, a.url+"/setup?token=") {
		t.Fatalf("got setup line %q, want a one-time setup URL on %s", a.setupURL, a.url)
	}
	resp, err := http.Get(strings.Fields(a.setupURL)[0])
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("setup page: got %d, want 200", resp.StatusCode)
	}
	a.stop()
	if _, err := os.Stat(filepath.Join(data, "postern.db")); err != nil {
		t.Errorf("no database in the data folder: %v", err)
	}
	if !strings.Contains(a.output(), "shutting down") {
		t.Errorf("serve did not say it was shutting down:\n%s", a.output())
	}
}

func TestSmartCredentialEndToEnd(t *testing.T) {
	data := t.TempDir()
	a, smtpd := startMailingAppliance(t, data)
	token := adminToken(t, data, "admin@office.example")

	var user struct{ ID int64 }
	if code := api(t, a.url, token, "POST", "/api/v1/users", map[string]string{"first_name": "Ann", "last_name": "Lee", "email": "ann@office.example"}, &user); code != 201 {
		t.Fatalf("create user: %d", code)
	}
	var cred struct {
		ID     string
		Status string
		Code   string
	}
	if code := api(t, a.url, token, "POST", fmt.Sprintf("/api/v1/users/%d/credentials", user.ID), map[string]string{"kind": "smart"}, &cred); code != 201 {
		t.Fatalf("assign: %d", code)
	}
	if cred.Status != "invited" || cred.Code != "" {
		t.Fatalf("got %+v, want an invited credential without its code", cred)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	msg, err := smtpd.Wait(ctx, mailtest.To("ann@office.example"))
	if err != nil {
		t.Fatalf("%v\n%s", err, a.output())
	}
	code := unbrokenCode.FindString(msg.Text)
	link := registrationLink.FindString(msg.Text)
	if code == "" || link == "" || !strings.Contains(link, code) {
		t.Fatalf("the invitation lacks the code or the link:\n%s", msg.Text)
	}
	if !strings.HasPrefix(link, a.url) || !strings.Contains(link, "&fp=") {
		t.Errorf("got link %s, want it on the site %s with the site key's fingerprint", link, a.url)
	}

	pin := filepath.Join(t.TempDir(), "pin")
	os.WriteFile(pin, []byte("correct horse 4321\n"), 0o600)
	state := filepath.Join(t.TempDir(), "ann.json")
	out, errs, rc := postern(t, "", "key", "--state", state, "register", link, "--pin-file", pin)
	if rc != 0 {
		t.Fatalf("register: exit %d\n%s%s", rc, out, errs)
	}
	if !strings.Contains(out, "Registered") {
		t.Errorf("register said %q", out)
	}
	var got struct{ Status string }
	api(t, a.url, token, "GET", "/api/v1/credentials/"+cred.ID, nil, &got)
	if got.Status != "active" {
		t.Errorf("got status %q, want active", got.Status)
	}

	// The same code on a second device: a clear Registration Error, and
	// the first device's binding stays.
	other := filepath.Join(t.TempDir(), "other.json")
	out, errs, rc = postern(t, "", "key", "--state", other, "register", code, "--site", a.url, "--pin-file", pin)
	if rc != 1 || !strings.Contains(errs, "Registration Error") || !strings.Contains(errs, "already been used") {
		t.Errorf("reused code: exit %d, %q %q; want exit 1 and a Registration Error", rc, out, errs)
	}
	if _, err := os.Stat(other); err == nil {
		t.Error("a refused registration wrote a state file")
	}
	out, _, rc = postern(t, "", "key", "--state", state, "status")
	if rc != 0 || !strings.Contains(out, cred.ID) || !strings.Contains(out, "Ann Lee") {
		t.Errorf("status: exit %d %q", rc, out)
	}

	// The events API shows assignment, the email, the registration and the
	// refused attempt.
	var events struct{ Events []struct{ Kind string } }
	api(t, a.url, token, "GET", "/api/v1/events?limit=100", nil, &events)
	kinds := map[string]bool{}
	for _, e := range events.Events {
		kinds[e.Kind] = true
	}
	for _, k := range []string{"credential.assigned", "invitation.queued", "invitation.sent", "credential.registered", "registration.failed"} {
		if !kinds[k] {
			t.Errorf("no %s event in %v", k, kinds)
		}
	}
}

func TestKeyErrors(t *testing.T) {
	dir := t.TempDir()
	pin := filepath.Join(dir, "pin")
	os.WriteFile(pin, []byte("correct horse 4321"), 0o600)
	short := filepath.Join(dir, "short")
	os.WriteFile(short, []byte("4321"), 0o600)
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantErr  string
	}{
		{"code without a site", []string{"register", "12345678901234567890123456789012", "--pin-file", pin}, 1, "--site"},
		{"link without a site", []string{"register", "/key/register?code=12345678901234567890123456789012", "--pin-file", pin}, 1, "no site"},
		{"short code", []string{"register", "1234", "--site", "http://127.0.0.1:1", "--pin-file", pin}, 1, "32 digits"},
		{"unreachable site", []string{"register", "12345678901234567890123456789012", "--site", "http://" + freeAddr(t), "--pin-file", pin}, 2, "cannot be reached"},
		{"plain http to another machine", []string{"register", "12345678901234567890123456789012", "--site", "http://doors.example", "--pin-file", pin}, 1, "plain http"},
		{"a PIN is not a passphrase", []string{"register", "12345678901234567890123456789012", "--site", "http://" + freeAddr(t), "--pin-file", short}, 2, "at least 8"},
		{"status without credential", []string{"status"}, 1, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			state := filepath.Join(t.TempDir(), "k.json")
			_, errs, code := postern(t, "", append([]string{"key", "--state", state}, tt.args...)...)
			if code != tt.wantCode || !strings.Contains(errs, tt.wantErr) {
				t.Errorf("got exit %d %q, want exit %d mentioning %q", code, errs, tt.wantCode, tt.wantErr)
			}
		})
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte("{not json"), 0o600)
	if _, _, code := postern(t, "", "key", "--state", bad, "status"); code != 2 {
		t.Errorf("malformed state file: got exit %d, want 2", code)
	}
}
