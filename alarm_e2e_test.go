package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"postern/mail/mailtest"
	"postern/web/webhook"
)

// hookReceiver is a webhook receiver that, like a real one, takes only
// posts signed with its secret and recently.
type hookReceiver struct {
	srv *httptest.Server

	mu      sync.Mutex
	secret  string
	got     []map[string]any
	refused int
	arrived chan struct{}
}

func newHookReceiver(t *testing.T) *hookReceiver {
	r := &hookReceiver{arrived: make(chan struct{}, 100)}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		if err := webhook.Verify(r.secret, req.Header.Get(webhook.HeaderTimestamp), req.Header.Get(webhook.HeaderSignature), body, time.Now(), time.Minute); err != nil {
			r.refused++
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		var p map[string]any
		if err := json.Unmarshal(body, &p); err != nil || p["kind"] != req.Header.Get(webhook.HeaderEvent) {
			http.Error(w, "bad body", http.StatusBadRequest)
			return
		}
		r.got = append(r.got, p)
		r.arrived <- struct{}{}
	}))
	t.Cleanup(r.srv.Close)
	return r
}

// wait waits for a verified post of kind and returns it.
func (r *hookReceiver) wait(t *testing.T, kind string) map[string]any {
	t.Helper()
	deadline := time.After(e2eGuard)
	for {
		r.mu.Lock()
		for _, p := range r.got {
			if p["kind"] == kind {
				r.mu.Unlock()
				return p
			}
		}
		r.mu.Unlock()
		select {
		case <-r.arrived:
		case <-deadline:
			t.Fatalf("no signed %s webhook came (%d refused)", kind, r.refused)
		}
	}
}

// TestDoorAlarmsEndToEnd: a door forced open and then held open raise an
// alarm email on a real SMTP server and a signed webhook to a receiver
// that checks the signature.
func TestDoorAlarmsEndToEnd(t *testing.T) {
	smtpd, err := mailtest.Start("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer smtpd.Close()
	s := startDoorSiteFlags(t, nil, []string{"--smtp", smtpd.URL(), "--mail-from", "doors@office.example"})
	hooks := newHookReceiver(t)

	var ap struct{ ID int64 }
	s.call("POST", "/api/v1/access-points", map[string]any{"name": "Back door", "reader": "sim:back", "held_open_seconds": 2}, &ap, 201)
	var rules struct {
		DigestSeconds int `json:"digest_seconds"`
	}
	s.call("PUT", "/api/v1/alarm-rules", map[string]any{"digest_seconds": 0, "rules": []map[string]any{
		{"kind": "door.forced", "recipients": []string{"ops@office.example"}},
		{"kind": "door.held_open", "recipients": []string{"ops@office.example", "caretaker@office.example"}},
	}}, &rules, 200)
	var hook struct{ Secret string }
	s.call("POST", "/api/v1/webhooks", map[string]any{"url": hooks.srv.URL + "/postern", "kinds": []string{"door.forced", "door.held_open"}}, &hook, 201)
	if len(hook.Secret) != 64 {
		t.Fatalf("the webhook's secret is %q, want 32 random bytes in hex", hook.Secret)
	}
	hooks.mu.Lock()
	hooks.secret = hook.Secret
	hooks.mu.Unlock()

	// Opened with no grant: forced; left open: held open after 2 s.
	s.door("back", "open")
	ctx, cancel := context.WithTimeout(context.Background(), e2eGuard)
	defer cancel()
	forced, err := smtpd.Wait(ctx, func(m mailtest.Message) bool {
		return mailtest.To("ops@office.example")(m) && strings.Contains(m.Text, "Door forced open")
	})
	if err != nil {
		t.Fatalf("no forced-open alarm email: %v\n%s", err, s.a.output())
	}
	if !strings.Contains(forced.Text, "Back door") {
		t.Errorf("the alarm does not say where:\n%s", forced.Text)
	}
	p := hooks.wait(t, "door.forced")
	if where, _ := p["access_point"].(map[string]any); where["name"] != "Back door" {
		t.Errorf("the webhook does not say where: %v", p)
	}
	for _, to := range []string{"ops@office.example", "caretaker@office.example"} {
		if _, err := smtpd.Wait(ctx, func(m mailtest.Message) bool {
			return mailtest.To(to)(m) && strings.Contains(m.Text, "Door held open too long")
		}); err != nil {
			t.Fatalf("no held-open alarm email to %s: %v\n%s", to, err, s.a.output())
		}
	}
	hooks.wait(t, "door.held_open")
	if n := len(smtpd.Messages()); n != 3 {
		t.Errorf("%d emails, want 3: one forced to ops, one held open to each", n)
	}

	// The webhook's page shows its deliveries went through.
	var list struct {
		Webhooks []struct {
			LastError     string     `json:"last_error"`
			LastSuccessAt *time.Time `json:"last_success_at"`
		}
	}
	s.call("GET", "/api/v1/webhooks", nil, &list, 200)
	if len(list.Webhooks) != 1 || list.Webhooks[0].LastSuccessAt == nil || list.Webhooks[0].LastError != "" {
		t.Errorf("got %+v, want one webhook, delivered", list.Webhooks)
	}
}
