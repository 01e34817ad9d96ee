package web_test

import (
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"
)

// A user whose access has ended or not begun is shown so wherever
// "enabled" would show, and the admin is warned before issuing them a
// credential that would open nothing.
func TestUserStateAndIssueWarning(t *testing.T) {
	t.Parallel()
	env := newLoggedInEnv(t)
	if err := env.s.SetSetting(t.Context(), "test", "time_zone", "UTC"); err != nil {
		t.Fatal(err)
	}
	// The test clock reads 2026-03-11 10:00 UTC.
	users := []struct {
		body      string
		name      string
		state     string
		warning   string // "" for none
		assignSay string // in the assign form's confirm, "" for none
	}{
		{`{"first_name":"Ann","email":"ann.lee@example.com"}`, "Ann", "enabled", "", ""},
		{`{"first_name":"Bob","email":"bob@example.com","valid_until":"2026-03-11T00:00:00Z"}`, "Bob", "expired: valid until 2026-03-10",
			"Bob's access expired (valid until 2026-03-10): a credential issued now opens no door unless Valid until is changed.", "Issue it anyway?"},
		{`{"first_name":"Cat","email":"cat@example.com","valid_from":"2026-03-12T00:00:00Z"}`, "Cat", "starts on 2026-03-12",
			"Cat's access starts on 2026-03-12: a credential issued now opens no door before then.", "Issue it anyway?"},
		{`{"first_name":"Dan","email":"dan@example.com","enabled":false}`, "Dan", "disabled",
			"Dan is disabled: a credential issued now opens no door until they are enabled again.", "Issue it anyway?"},
	}
	var wantRows []string
	for _, u := range users {
		id := env.create(t, "users", u.body)
		doc := parse(t, env.get("/users/"+itoa(id)).Body.String())
		if got := byTestID(doc, "user-state").Text(); got != u.state {
			t.Errorf("%s's page: state %q, want %q", u.name, got, u.state)
		}
		if got := strings.TrimSpace(byTestID(doc, "issue-warning").Text()); got != u.warning {
			t.Errorf("%s's page: warning %q, want %q", u.name, got, u.warning)
		}
		if got := byTestID(doc, "assign-form").AttrOr("data-confirm", ""); !strings.Contains(got, u.assignSay) || (u.assignSay == "") != (got == "") {
			t.Errorf("%s's assign form asks %q, want %q", u.name, got, u.assignSay)
		}
		wantRows = append(wantRows, u.state)
	}
	doc := parse(t, env.get("/users").Body.String())
	var got []string
	byTestID(doc, "user-status").Each(func(_ int, s *goquery.Selection) { got = append(got, s.Text()) })
	if strings.Join(got, "|") != strings.Join(wantRows, "|") {
		t.Errorf("the list's statuses: got %q, want %q", got, wantRows)
	}
}
