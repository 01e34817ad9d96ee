package web_test

import (
	"net/url"
	"testing"

	"postern/access"
)

func TestUserBulkActions(t *testing.T) {
	t.Parallel()
	env := newLoggedInEnv(t)
	staff := env.create(t, "groups", `{"name":"Staff"}`)
	ann := env.create(t, "users", `{"first_name":"Ann","last_name":"Lee","email":"ann@example.com"}`)
	bob := env.create(t, "users", `{"first_name":"Bob","last_name":"Ray","email":"bob@example.com"}`)
	eli := env.create(t, "users", `{"first_name":"Eli","last_name":"Moss"}`)
	all := []string{itoa(ann), itoa(bob), itoa(eli)}
	form := func(action string, group int64, confirm bool, users ...string) string {
		v := url.Values{"action": {action}, "user": users}
		if group != 0 {
			v.Set("group", itoa(group))
		}
		if confirm {
			v.Set("confirm", "yes")
		}
		return v.Encode()
	}
	env.runPages(t, []scenario{
		{name: "the list has the bulk form", method: "GET", url: "/users", wantStatus: 200,
			wantTestIDs: map[string]string{"bulk-form": "", "bulk-action": "Add to group", "select-all": "", "user-tick": ""}},
		{name: "asking first names the count", method: "POST", url: "/users/bulk", body: form("add_group", staff, false, all...), wantStatus: 200,
			wantTestIDs: map[string]string{"bulk-confirm-message": "Add 3 users to Staff?", "bulk-confirm": "Add 3 users", "bulk-confirm-users": "Eli Moss"}},
		{name: "asking changes nothing", method: "GET", url: "/groups/" + itoa(staff), wantStatus: 200,
			wantTestIDs: map[string]string{"no-members": ""}},
		{name: "confirmed, it adds them", method: "POST", url: "/users/bulk", body: form("add_group", staff, true, all...), wantStatus: 303,
			wantLocation: "/users?done=add_group&n=3"},
		{name: "the list says what was done", method: "GET", url: "/users?done=add_group&n=3", wantStatus: 200,
			wantTestIDs: map[string]string{"bulk-done": "Added 3 to the group."}},
		{name: "a crafted result line says nothing", method: "GET", url: "/users?done=%3Cscript%3E&n=3", wantStatus: 200,
			wantNotContains: []string{`data-testid="bulk-done"`}},
		{name: "remove one", method: "POST", url: "/users/bulk", body: form("remove_group", staff, true, itoa(bob)), wantStatus: 303,
			wantLocation: "/users?done=remove_group&n=1"},
		{name: "invite: only those with an email", method: "POST", url: "/users/bulk", body: form("invite", 0, true, all...), wantStatus: 303,
			wantLocation: "/users?done=invite&n=2"},
		{name: "invite again: nobody twice", method: "POST", url: "/users/bulk", body: form("invite", 0, true, all...), wantStatus: 303,
			wantLocation: "/users?done=invite&n=0"},
		{name: "revoke", method: "POST", url: "/users/bulk", body: form("revoke", 0, true, itoa(ann)), wantStatus: 303,
			wantLocation: "/users?done=revoke&n=1"},
		{name: "disable asks with the count", method: "POST", url: "/users/bulk", body: form("disable", 0, false, itoa(ann), itoa(bob)), wantStatus: 200,
			wantTestIDs: map[string]string{"bulk-confirm-message": "Disable 2 users?"}},
		{name: "disable", method: "POST", url: "/users/bulk", body: form("disable", 0, true, itoa(ann), itoa(bob)), wantStatus: 303,
			wantLocation: "/users?done=disable&n=2"},
		{name: "no users ticked", method: "POST", url: "/users/bulk", body: form("disable", 0, false), wantStatus: 400},
		{name: "an unknown action", method: "POST", url: "/users/bulk", body: form("explode", 0, false, itoa(ann)), wantStatus: 400},
		{name: "a group action needs its group", method: "POST", url: "/users/bulk", body: form("add_group", 0, false, itoa(ann)), wantStatus: 400},
	})
	members, err := env.s.GroupMembers(t.Context(), staff, 10)
	if err != nil || len(members) != 2 || members[0].ID != ann || members[1].ID != eli {
		t.Errorf("Staff: got %+v, %v; want Ann and Eli", members, err)
	}
	for _, tt := range []struct {
		id          int64
		enabled     bool
		credentials []access.CredentialStatus
	}{
		{ann, false, []access.CredentialStatus{access.CredentialRevoked}},
		{bob, false, []access.CredentialStatus{access.CredentialInvited}},
		{eli, true, nil},
	} {
		u, _ := env.s.UserByID(t.Context(), tt.id)
		creds, _ := env.s.UserCredentials(t.Context(), tt.id)
		var got []access.CredentialStatus
		for _, c := range creds {
			got = append(got, c.Status)
		}
		if u.Enabled != tt.enabled || len(got) != len(tt.credentials) || (len(got) == 1 && got[0] != tt.credentials[0]) {
			t.Errorf("%s: got enabled %v, credentials %v; want %v, %v", u.Name(), u.Enabled, got, tt.enabled, tt.credentials)
		}
	}
}

func TestGroupMembers(t *testing.T) {
	t.Parallel()
	env := newLoggedInEnv(t)
	staff := env.create(t, "groups", `{"name":"Staff"}`)
	ann := env.create(t, "users", `{"first_name":"Ann","last_name":"Lee","email":"ann@example.com"}`)
	env.create(t, "users", `{"first_name":"Annette","last_name":"Ray"}`)
	env.create(t, "users", `{"first_name":"Bob","last_name":"Ray"}`)
	page := "/groups/" + itoa(staff)
	env.runPages(t, []scenario{
		{name: "find people to add", method: "GET", url: page + "?add=ann", wantStatus: 200,
			wantTestIDs: map[string]string{"candidate": "", "add-members": "Add to Staff"}, wantContains: []string{"Annette Ray", "Ann Lee"},
			wantNotContains: []string{"Bob Ray"}},
		{name: "add them", method: "POST", url: page + "/members", body: "user=" + itoa(ann), wantStatus: 303},
		{name: "the group lists its members", method: "GET", url: page + "?add=ann", wantStatus: 200,
			wantTestIDs: map[string]string{"member-row": "Ann Lee", "group-member-count": "1 members"}},
		{name: "remove one", method: "POST", url: page + "/members/remove", body: "user=" + itoa(ann), wantStatus: 303},
		{name: "nobody left", method: "GET", url: page, wantStatus: 200, wantTestIDs: map[string]string{"no-members": ""}},
		{name: "nobody matches", method: "GET", url: page + "?add=zed", wantStatus: 200, wantTestIDs: map[string]string{"no-candidates": "zed"}},
		{name: "an unknown group", method: "POST", url: "/groups/999/members", body: "user=" + itoa(ann), wantStatus: 404},
	})
}
