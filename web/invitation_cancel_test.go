package web_test

import (
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// TestStaleInvitationsAreNotSent: invitations wait in the outbox while
// SMTP is not set. Registering with the printed code, reissuing or
// revoking cancels the one waiting, with its body, in the same
// transaction, so once SMTP is set only live codes go out.
func TestStaleInvitationsAreNotSent(t *testing.T) {
	t.Parallel()
	env := newMailEnv(t, "")
	registered := env.smartUser(t, "Reg", "reg@example.com")
	regID, regCode := env.smartAssign(t, registered)
	env.mustRegister(t, newSmartDevice(t), regCode)

	reissued := env.smartUser(t, "Re", "re@example.com")
	reID, oldCode := env.smartAssign(t, reissued)
	newCode := env.smartReissue(t, reID)

	revoked := env.smartUser(t, "Rev", "rev@example.com")
	revID, revCode := env.smartAssign(t, revoked)
	env.mustAPI(t, http.MethodPost, "/api/v1/credentials/"+revID+"/revoke", "", http.StatusOK)

	out := env.smartOutbox(t)
	for _, tt := range []struct {
		who  string
		cred string
		want []string
	}{
		{"registered", regID, []string{"cancelled"}},
		{"reissued", reID, []string{"cancelled", "queued"}},
		{"revoked", revID, []string{"cancelled"}},
	} {
		if got := out.statuses(tt.cred); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: got invitations %v, want %v", tt.who, got, tt.want)
		}
	}
	items, _, err := env.s.Outbox(t.Context(), 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		if it.Status == "cancelled" && it.Message != "" {
			t.Errorf("cancelled invitation %d to %s keeps its body", it.ID, it.Recipient)
		}
	}

	srv := startSMTP(t)
	if w := env.post("/settings", settingsForm(srv.URL())); w.Code != http.StatusSeeOther {
		t.Fatalf("save settings: got status %d, want 303\n%s", w.Code, w.Body)
	}
	env.mailer.Wake()
	if try := env.nextTry(t); try.err != nil {
		t.Fatalf("got attempt %+v, want the reissued invitation sent", try)
	}
	env.noTry(t)
	msgs := srv.Messages()
	if len(msgs) != 1 || !strings.Contains(msgs[0].Text, newCode) {
		t.Fatalf("got %d emails, want only the one with the reissued code", len(msgs))
	}
	for _, dead := range []string{regCode, oldCode, revCode} {
		if strings.Contains(string(msgs[0].Raw), dead) {
			t.Errorf("an email carries the dead code %s", dead)
		}
	}
}
