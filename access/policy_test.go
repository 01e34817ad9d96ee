package access

import (
	"bytes"
	"testing"
	"time"
)

// TestPolicy reads a small site's policy as a door would, after each
// update: who the credential is, and whether it opens.
func TestPolicy(t *testing.T) {
	// Wednesday 2026-03-11 10:00 UTC.
	now := time.Date(2026, 3, 11, 10, 0, 0, 0, time.UTC)
	annCred, bobCred := CredentialID{1}, CredentialID{2}
	front := AccessPoint{ID: 1, Name: "Front", State: StateNormal}
	back := AccessPoint{ID: 2, Name: "Back", State: StateNormal}
	mornings := TimeProfile{ID: 7, Name: "mornings", Windows: []Window{{Days: []time.Weekday{1, 2, 3, 4, 5}, Start: 6 * 60, End: 9 * 60}}}
	site := PolicyUpdate{
		Credentials:  []Credential{{ID: annCred, UserID: 10, Status: CredentialActive}, {ID: bobCred, UserID: 11, Status: CredentialActive}},
		Users:        []User{{ID: 10, FirstName: "Ann", Enabled: true}, {ID: 11, FirstName: "Bob", Enabled: true}},
		Memberships:  map[int64][]int64{11: {100}},
		Permissions:  []Permission{{ID: 1, UserID: 10, AccessPointID: 1}, {ID: 2, GroupID: 100, AccessPointID: 2, TimeProfileID: 7}},
		TimeProfiles: []TimeProfile{mornings},
		AccessPoints: []AccessPoint{front, back},
	}
	tests := []struct {
		name   string
		update PolicyUpdate // applied after the site's
		cred   CredentialID
		ap     AccessPoint
		want   Reason
	}{
		{"Ann's own permission opens the front", PolicyUpdate{}, annCred, front, ReasonGranted},
		{"Ann has none at the back", PolicyUpdate{}, annCred, back, ReasonNoPermission},
		{"Bob's group reaches the back, in the mornings only", PolicyUpdate{}, bobCred, back, ReasonOutsideSchedule},
		{"a credential the site does not know", PolicyUpdate{}, CredentialID{9}, front, ReasonUnknownCredential},
		{"mornings stretched to noon", PolicyUpdate{TimeProfiles: []TimeProfile{{ID: 7, Windows: []Window{{Days: []time.Weekday{3}, Start: 6 * 60, End: 12 * 60}}}}}, bobCred, back, ReasonGranted},
		{"the schedule is gone: its permission opens nothing", PolicyUpdate{DropTimeProfiles: []int64{7}}, bobCred, back, ReasonOutsideSchedule},
		{"Bob leaves the group", PolicyUpdate{Memberships: map[int64][]int64{11: nil}}, bobCred, back, ReasonNoPermission},
		{"the group's permission moves to the front, at any time", PolicyUpdate{Permissions: []Permission{{ID: 2, GroupID: 100, AccessPointID: 1}}}, bobCred, front, ReasonGranted},
		{"and is no longer at the back", PolicyUpdate{Permissions: []Permission{{ID: 2, GroupID: 100, AccessPointID: 1}}}, bobCred, back, ReasonNoPermission},
		{"Ann's permission is dropped", PolicyUpdate{DropPermissions: []int64{1}}, annCred, front, ReasonNoPermission},
		{"Ann's credential is revoked", PolicyUpdate{Credentials: []Credential{{ID: annCred, UserID: 10, Status: CredentialRevoked}}}, annCred, front, ReasonCredentialNotActive},
		{"Ann is disabled", PolicyUpdate{Users: []User{{ID: 10, FirstName: "Ann"}}}, annCred, front, ReasonUserDisabled},
		{"Ann is gone: her credential names no one", PolicyUpdate{DropUsers: []int64{10}}, annCred, front, ReasonUnknownCredential},
		{"Ann's credential is gone", PolicyUpdate{DropCredentials: []CredentialID{annCred}}, annCred, front, ReasonUnknownCredential},
		{"memberships replaced whole", PolicyUpdate{ReplaceMemberships: true, Memberships: map[int64][]int64{10: {100}}}, bobCred, back, ReasonNoPermission},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := NewPolicy(time.UTC)
			p.Apply(site)
			p.Apply(tt.update)
			r := p.Request(tt.cred, tt.ap)
			r.Now = now
			if got := Decide(r).Reason; got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// TestPolicyIndexForgetsMovedPermissions: a permission edited many times
// leaves one entry in the door index, and none once dropped.
func TestPolicyIndexForgetsMovedPermissions(t *testing.T) {
	p := NewPolicy(nil)
	for i := range 10 {
		p.Apply(PolicyUpdate{Permissions: []Permission{{ID: 1, UserID: 10, AccessPointID: int64(i%2 + 1)}}})
	}
	if got := len(p.doors); got != 1 {
		t.Fatalf("%d doors indexed, want 1", got)
	}
	if refs := p.doors[2].users[10]; len(refs) != 1 {
		t.Fatalf("door 2 lists %d grants for user 10, want 1", len(refs))
	}
	p.Apply(PolicyUpdate{DropPermissions: []int64{1}})
	if len(p.doors) != 0 || len(p.permissions) != 0 {
		t.Fatalf("after the drop: %d doors, %d permissions; want none", len(p.doors), len(p.permissions))
	}
}

// TestPolicyGroupSizes: the member counts follow memberships as they change.
func TestPolicyGroupSizes(t *testing.T) {
	p := NewPolicy(nil)
	p.Apply(PolicyUpdate{Memberships: map[int64][]int64{1: {10, 20}, 2: {10}, 3: {20}}})
	p.Apply(PolicyUpdate{Memberships: map[int64][]int64{1: {20}, 3: nil}})
	for _, tt := range []struct{ group, want int64 }{{10, 1}, {20, 1}, {30, 0}} {
		if got := p.GroupSize(tt.group); int64(got) != tt.want {
			t.Errorf("group %d: got %d members, want %d", tt.group, got, tt.want)
		}
	}
	p.Apply(PolicyUpdate{ReplaceMemberships: true, Memberships: map[int64][]int64{5: {30}}})
	if p.GroupSize(10) != 0 || p.GroupSize(30) != 1 {
		t.Errorf("after a replace: %d in 10, %d in 30; want 0 and 1", p.GroupSize(10), p.GroupSize(30))
	}
}

// TestPolicyKeepsWhatDecisionsRead: a credential and a user come back from
// the compact forms the policy keeps them in as they went in, keys of any
// length and every status included.
func TestPolicyKeepsWhatDecisionsRead(t *testing.T) {
	key := func(n int, b byte) []byte { return bytes.Repeat([]byte{b}, n) }
	from := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	tests := []struct {
		name string
		cred Credential
		user User
	}{
		{"active, with both keys", Credential{Status: CredentialActive, TapKey: key(65, 1), UVKey: key(65, 2)}, User{FirstName: "Ann", LastName: "Lee", Enabled: true}},
		{"invited, no keys yet", Credential{Status: CredentialInvited}, User{FirstName: "Bo"}},
		{"revoked", Credential{Status: CredentialRevoked, TapKey: key(65, 3)}, User{LastName: "Ray", ValidFrom: from, ValidUntil: from.Add(time.Hour)}},
		{"expired", Credential{Status: CredentialExpired}, User{FirstName: "Émile", LastName: "Zola"}},
		{"keys of another length", Credential{Status: CredentialActive, TapKey: key(33, 4), UVKey: key(65, 5)}, User{FirstName: "Cy"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := NewPolicy(nil)
			tt.cred.ID, tt.cred.UserID, tt.user.ID = CredentialID{7}, 9, 9
			p.Apply(PolicyUpdate{Credentials: []Credential{tt.cred}, Users: []User{tt.user}})
			r := p.Request(tt.cred.ID, AccessPoint{ID: 1})
			if r.Credential == nil || r.User == nil {
				t.Fatalf("got %+v, want the credential and its user", r)
			}
			c := *r.Credential
			if c.ID != tt.cred.ID || c.UserID != 9 || c.Status != tt.cred.Status || !bytes.Equal(c.TapKey, tt.cred.TapKey) || !bytes.Equal(c.UVKey, tt.cred.UVKey) {
				t.Errorf("credential: got %+v, want %+v", c, tt.cred)
			}
			u := *r.User
			if u.ID != 9 || u.FirstName != tt.user.FirstName || u.LastName != tt.user.LastName || u.Enabled != tt.user.Enabled ||
				!u.ValidFrom.Equal(tt.user.ValidFrom) || !u.ValidUntil.Equal(tt.user.ValidUntil) || u.ValidFrom.IsZero() != tt.user.ValidFrom.IsZero() {
				t.Errorf("user: got %+v, want %+v", u, tt.user)
			}
		})
	}
}
