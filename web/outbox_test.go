package web_test

import (
	"net/http"
	"strings"
	"testing"
)

func TestOutboxPage(t *testing.T) {
	t.Parallel()
	env := newLoggedInEnv(t, withSmartURL)
	env.runPages(t, []scenario{
		{name: "empty", method: "GET", url: "/outbox", wantStatus: http.StatusOK,
			wantTestIDs: map[string]string{"empty": "No emails", "smtp-missing": "waiting"}},
	})
	uid := env.smartUser(t, "Kit", "kit@example.com")
	id, code := env.smartAssign(t, uid)
	env.smartReissue(t, id)
	env.runPages(t, []scenario{
		{name: "invitations", method: "GET", url: "/outbox", wantStatus: http.StatusOK,
			wantContains:    []string{`data-status="queued"`, `data-status="cancelled"`, "kit@example.com", "Your Postern key for Postern"},
			wantNotContains: []string{code, "Retry"},
			wantTestIDs:     map[string]string{"smtp-missing": "waiting"}},
		{name: "retry a queued email", method: "POST", url: "/outbox/1/retry", wantStatus: http.StatusNotFound},
		{name: "retry an unknown email", method: "POST", url: "/outbox/999/retry", wantStatus: http.StatusNotFound},
		{name: "bad cursor", method: "GET", url: "/outbox?before=x", wantStatus: http.StatusBadRequest},
	})
	doc := parse(t, env.get("/outbox").Body.String())
	rows := byTestID(doc, "outbox-row")
	if rows.Length() != 2 {
		t.Fatalf("got %d outbox rows, want 2", rows.Length())
	}
	// Newest first; each row shows status, attempts and last error.
	if got := rows.First().Find(`[data-label="Attempts"]`).Text(); got != "0" {
		t.Errorf("got attempts %q, want 0", got)
	}
	if got := strings.TrimSpace(rows.First().Find(`[data-label="Status"]`).Text()); got != "queued" {
		t.Errorf("got status %q, want queued", got)
	}
	if rows.First().Find(`[data-label="Last error"]`).Length() != 1 {
		t.Error("the outbox has no last error column")
	}
}
