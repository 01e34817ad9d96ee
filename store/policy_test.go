package store_test

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"postern/access"
	"postern/store"
)

// sqlRequest gathers a decision's inputs with SQL lookups, as the reader
// did before it read the in-memory policy: the oracle the policy must agree
// with.
func sqlRequest(t *testing.T, s *store.Store, id access.CredentialID, ap access.AccessPoint) access.Request {
	t.Helper()
	ctx := t.Context()
	r := access.Request{AccessPoint: ap, Location: time.Local}
	site, err := s.SiteMode(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r.Site = site
	if tz, err := s.Setting(ctx, "time_zone", ""); err == nil && tz != "" {
		if loc, err := time.LoadLocation(tz); err == nil {
			r.Location = loc
		}
	}
	c, err := s.CredentialByID(ctx, id)
	if errors.Is(err, access.ErrNotFound) {
		return r
	}
	if err != nil {
		t.Fatal(err)
	}
	r.Credential = &c
	u, err := s.UserByID(ctx, c.UserID)
	if err != nil {
		t.Fatal(err)
	}
	r.User = &u
	if r.Grants, err = s.Grants(ctx, u.ID, ap.ID); err != nil {
		t.Fatal(err)
	}
	return r
}

// summary is what of a Request a decision and its event read, in words.
func summary(r access.Request) string {
	var b strings.Builder
	fmt.Fprintf(&b, "tz %s, site %q", r.Location, r.Site)
	if c := r.Credential; c != nil {
		active := c.Status == access.CredentialActive
		fmt.Fprintf(&b, "; credential %s of user %d, active %v, tap %x, uv %x, protocol %d", c.ID, c.UserID, active, c.TapKey, c.UVKey, c.Protocol)
	}
	if u := r.User; u != nil {
		fmt.Fprintf(&b, "; user %q enabled %v from %v until %v, in during a lockdown %v", u.Name(), u.Enabled, u.ValidFrom.UTC(), u.ValidUntil.UTC(), u.LockdownExempt)
	}
	var grants []string
	for _, g := range r.Grants {
		s := fmt.Sprintf("permission %d", g.PermissionID)
		if g.Profile != nil {
			s += fmt.Sprintf(" within %d %v %v", g.Profile.ID, g.Profile.Windows, g.Profile.Holidays)
		}
		grants = append(grants, s)
	}
	slices.Sort(grants)
	fmt.Fprintf(&b, "; grants %v", grants)
	return b.String()
}

// TestPolicyFollowsEveryWrite makes every kind of change an admin, a key or
// a reader can make, and after each compares what the in-memory policy
// gives a decision with what SQL lookups give, for every credential at
// every access point.
func TestPolicyFollowsEveryWrite(t *testing.T) {
	s := openStore(t)
	ctx := t.Context()
	front := createAccessPoint(t, s, "Front", "sim:front")
	back := createAccessPoint(t, s, "Back", "sim:back")
	hours := createTimeProfile(t, s, "Office hours")
	staff := createGroup(t, s, "Staff")
	night := createGroup(t, s, "Night")
	ann := createUser(t, s, "Ann", "Lee", "ann@example.com")
	bob := createUser(t, s, "Bob", "Ray", "bob@example.com")
	cy := createUser(t, s, "Cy", "Oh", "cy@example.com")
	setUserGroups(t, s, bob.ID, staff)
	setUserGroups(t, s, cy.ID, staff, night)
	createPermission(t, s, access.Permission{UserID: ann.ID, AccessPointID: front.ID})
	createPermission(t, s, access.Permission{GroupID: staff.ID, AccessPointID: front.ID, TimeProfileID: hours.ID})
	nightBack := createPermission(t, s, access.Permission{GroupID: night.ID, AccessPointID: back.ID})
	annCred := assign(t, s, ann.ID, "code-ann")
	if _, err := register(s, t, "code-ann", 1); err != nil {
		t.Fatal(err)
	}
	bobCred := assign(t, s, bob.ID, "code-bob")
	if _, err := register(s, t, "code-bob", 3); err != nil {
		t.Fatal(err)
	}
	cyCred := assign(t, s, cy.ID, "code-cy") // invited, never registered

	// Loaded now: everything after this reaches it only through the feed.
	if _, err := s.LoadPolicy(ctx); err != nil {
		t.Fatal(err)
	}
	creds := []access.CredentialID{annCred.ID, bobCred.ID, cyCred.ID, {0xff}}
	aps := []access.AccessPoint{front, back}

	var imported access.CredentialID
	// reissueBob gives Bob's credential a new code and registers a new
	// phone with it: the one before is kept as replaced.
	reissueBob := func(code string, seed byte) error {
		exp := testNow.Add(time.Hour)
		if err := s.NewRegistrationCode(ctx, actor, bobCred.ID, "reissued", code, exp, invitation(code, exp)); err != nil {
			return err
		}
		_, err := register(s, t, code, seed)
		return err
	}
	// visit registers a visitor hosted by Ann with the night group's
	// doors as their profile, and registers their key.
	var visitors []access.User
	visit := func(email, code string, from, until time.Time, seed byte) error {
		v, err := s.CreateVisitor(ctx, actor, store.VisitorDraft{FirstName: "Visitor", LastName: email, Email: email,
			HostID: ann.ID, GroupID: night.ID, From: from, Until: until})
		if err != nil {
			return err
		}
		visitors = append(visitors, v.User)
		c := assign(t, s, v.User.ID, code)
		creds = append(creds, c.ID)
		_, err = register(s, t, code, seed)
		return err
	}
	steps := []struct {
		name string
		do   func() error
	}{
		{"nothing yet", func() error { return nil }},
		{"revoke Ann's credential", func() error { return s.RevokeCredential(ctx, actor, annCred.ID) }},
		{"disable Bob", func() error {
			u := bob
			u.Enabled = false
			return s.UpdateUser(ctx, actor, &u)
		}},
		{"enable Bob within dates", func() error {
			u := bob
			u.ValidFrom, u.ValidUntil = testNow.Add(-time.Hour), testNow.Add(time.Hour)
			return s.UpdateUser(ctx, actor, &u)
		}},
		{"Cy registers a version 2 phone", func() error {
			tap, uv := keysOf(5)
			_, _, err := s.RegisterCredential(ctx, access.Registration{Code: "code-cy", TapKey: tap, UVKey: uv, DeviceInfo: "phone F", Protocol: 2})
			return err
		}},
		{"Cy leaves the night group", func() error { return s.SetUserGroups(ctx, actor, cy.ID, []int64{staff.ID}) }},
		{"Cy joins it again", func() error { return s.SetUserGroups(ctx, actor, cy.ID, []int64{staff.ID, night.ID}) }},
		{"Ann gets a back door permission within hours", func() error {
			return s.CreatePermission(ctx, actor, &access.Permission{UserID: ann.ID, AccessPointID: back.ID, TimeProfileID: hours.ID})
		}},
		{"the night group's permission moves to the front", func() error {
			p := nightBack
			p.AccessPointID = front.ID
			return s.UpdatePermission(ctx, actor, &p)
		}},
		{"office hours close at noon", func() error {
			p := hours
			p.Windows = []access.Window{{Days: []time.Weekday{1, 2, 3, 4, 5}, Start: 8 * 60, End: 12 * 60}}
			p.Holidays = []access.Date{date(2026, 3, 11)}
			return s.UpdateTimeProfile(ctx, actor, &p)
		}},
		{"Bob is allowed in during a lockdown", func() error {
			u, err := s.UserByID(ctx, bob.ID)
			if err != nil {
				return err
			}
			u.LockdownExempt = true
			return s.UpdateUser(ctx, actor, &u)
		}},
		{"the site is locked down", func() error { _, err := s.StartEmergency(ctx, actor, access.SiteLockdown); return err }},
		{"an evacuation replaces the lockdown", func() error { _, err := s.StartEmergency(ctx, actor, access.SiteEvacuation); return err }},
		{"the evacuation ends", func() error { _, err := s.EndEmergency(ctx, actor); return err }},
		{"the site is locked down again", func() error { _, err := s.StartEmergency(ctx, actor, access.SiteLockdown); return err }},
		{"the site moves to Tokyo", func() error { return s.SetSetting(ctx, actor, "time_zone", "Asia/Tokyo") }},
		{"a refused change changes nothing", func() error {
			err := s.CreatePermission(ctx, actor, &access.Permission{UserID: ann.ID, AccessPointID: front.ID})
			if !isConflict(err) {
				return fmt.Errorf("got %v, want a conflict", err)
			}
			return nil
		}},
		{"Bob's credential is reissued and a new phone registers", func() error { return reissueBob("code-bob-2", 7) }},
		{"Bob's credential is reissued again: two phones replaced", func() error { return reissueBob("code-bob-3", 11) }},
		{"Bob's phone moves to protocol version 2 with new keys", func() error {
			tap, uv := keysOf(13)
			_, _, err := s.MigrateCredential(ctx, store.Migration{ID: bobCred.ID, TapKey: tap, UVKey: uv, DeviceInfo: "phone N"}, func(access.Credential) error { return nil })
			return err
		}},
		{"a version 2 credential from another site is added to Ann", func() error {
			imported = access.NewCredentialID()
			creds = append(creds, imported)
			tap, uv := keysOf(9)
			return s.ImportCredential(ctx, actor, ann.ID, access.Credential{ID: imported, TapKey: tap, UVKey: uv, Issuer: access.IssuerSite{ID: [16]byte{1}, Name: "Elsewhere"},
				Protocol: 2, Introduction: bytes.Repeat([]byte{7}, 32), TokenID: []byte{1, 2, 3}})
		}},
		{"Ann's phone is introduced at a reader", func() error { return s.CompleteIntroduction(ctx, imported) }},
		{"a visitor in their visit, at the night group's doors, registers a key", func() error {
			return visit("vic@example.com", "code-vic", testNow.Add(-time.Hour), testNow.Add(time.Hour), 17)
		}},
		{"a visitor whose visit is tomorrow registers a key", func() error {
			return visit("val@example.com", "code-val", testNow.Add(23*time.Hour), testNow.Add(25*time.Hour), 19)
		}},
		{"a visit ended an hour ago", func() error {
			if err := visit("vera@example.com", "code-vera", testNow.Add(-3*time.Hour), testNow.Add(-time.Hour), 23); err != nil {
				return err
			}
			// The policy's decisions at the profile's door, the site's
			// lockdown aside: only the visit in progress opens it.
			p, err := s.Policy(ctx)
			if err != nil {
				return err
			}
			want := []string{"granted", "not yet valid", "expired"}
			for i, id := range creds[len(creds)-3:] {
				r := p.Request(id, aps[0])
				r.Site, r.Now, r.UserVerified, r.AcceptV1 = "", testNow, true, true
				if r.Credential != nil {
					r.Protocol = r.Credential.Protocol
				}
				d := access.Decide(r)
				got := "granted"
				if !d.Granted {
					got = d.Reason.String()
				}
				if got != want[i] {
					return fmt.Errorf("visitor %d at %s: got %s, want %s", i, aps[0].Name, got, want[i])
				}
			}
			return nil
		}},
		{"the front door asks for an unlock within 30 s and an answer within 2 s", func() error {
			a := aps[0]
			a.RequireUnlock, a.UnlockWindow, a.ResponseDeadline = true, 30*time.Second, 2*time.Second
			if err := s.UpdateAccessPoint(ctx, actor, &a); err != nil {
				return err
			}
			aps[0] = a
			return nil
		}},
		{"the back door opens from phones on the site's Wi-Fi, with the passkey", func() error {
			a := aps[1]
			a.PhoneOpen, a.PhoneNetworks, a.PhonePasskey = true, "192.168.10.0/24, fd00::/8", true
			if err := s.UpdateAccessPoint(ctx, actor, &a); err != nil {
				return err
			}
			aps[1] = a
			return nil
		}},
		{"a decision is recorded", func() error {
			return s.RecordDecision(ctx, &access.Event{Kind: "access.granted", AccessPointID: front.ID}, &imported, testNow)
		}},
		{"the front door is locked down", func() error {
			a := front
			a.State = access.StateLockdown
			if err := s.UpdateAccessPoint(ctx, actor, &a); err != nil {
				return err
			}
			aps[0] = a
			return nil
		}},
		{"Cy is taken out of the night group on its page", func() error {
			_, err := s.RemoveGroupMembers(ctx, actor, night.ID, []int64{cy.ID})
			return err
		}},
		{"Cy and Ann are added to it on its page", func() error {
			_, err := s.AddGroupMembers(ctx, actor, night.ID, []int64{cy.ID, ann.ID})
			return err
		}},
		{"an import puts Bob in the night group", func() error {
			job := store.ImportJob{FileName: "people.csv"}
			rows := []store.ImportRow{{Line: 2, FirstName: "Bob", LastName: "Ray", Email: "bob@example.com", Groups: []string{"Night"}}}
			if err := s.CreateImport(ctx, actor, &job, rows); err != nil {
				return err
			}
			if err := s.StartImport(ctx, actor, job.ID); err != nil {
				return err
			}
			_, err := s.RunImportBatch(ctx, actor, job.ID, 10, nil, time.Second)
			return err
		}},
		{"Ann and Cy are disabled together", func() error {
			_, err := s.DisableUsers(ctx, actor, []int64{ann.ID, cy.ID})
			return err
		}},
		{"the staff group is deleted", func() error { return s.DeleteGroup(ctx, actor, staff.ID) }},
		{"Cy is deleted", func() error { return s.DeleteUser(ctx, actor, cy.ID) }},
		{"the back door is deleted", func() error { return s.DeleteAccessPoint(ctx, actor, back.ID) }},
		{"office hours are deleted, no longer used", func() error { return s.DeleteTimeProfile(ctx, actor, hours.ID) }},
		{"Bob is deleted, and his replaced phones with him", func() error { return s.DeleteUser(ctx, actor, bob.ID) }},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		p, err := s.Policy(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range creds {
			for _, ap := range aps {
				got, want := summary(p.Request(id, ap)), summary(sqlRequest(t, s, id, ap))
				if got != want {
					t.Errorf("after %q, credential %s at %s:\n got %s\nwant %s", st.name, id, ap.Name, got, want)
				}
			}
			// The phones a reissue replaced, which a decision checks a
			// key that fails the credential's own keys against.
			var got []string
			for _, d := range p.ReplacedDevices(id) {
				got = append(got, fmt.Sprintf("%X|%X", d.Tap, d.UV))
			}
			want, err := store.QueryForTest(ctx, s, fmt.Sprintf(`SELECT hex(tap_key), hex(uv_key) FROM replaced_devices WHERE credential_id = x'%x' ORDER BY replaced_at DESC, rowid DESC`, id[:]))
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, want) {
				t.Errorf("after %q, credential %s's replaced phones:\n got %q\nwant %q", st.name, id, got, want)
			}
		}
		members := map[int64]int{}
		for _, u := range append([]access.User{ann, bob, cy}, visitors...) {
			gs, err := s.UserGroups(ctx, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			for _, g := range gs {
				members[g.ID]++
			}
		}
		groups, err := s.Groups(ctx, store.ListOptions{Limit: store.MaxLimit})
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range groups.Items {
			if g.Members != members[g.ID] {
				t.Errorf("after %q: group %s has %d members, want %d", st.name, g.Name, g.Members, members[g.ID])
			}
		}
		// The access point as the reader reads it on every presentation,
		// version 2's timings included.
		timings := func(a access.AccessPoint) string {
			return fmt.Sprintf("%s unlock %v within %v, deadline %v", a.State, a.RequireUnlock, a.UnlockWindow, a.ResponseDeadline)
		}
		if got, err := s.AccessPointByID(ctx, aps[0].ID); err != nil || timings(got) != timings(aps[0]) {
			t.Errorf("after %q: access point %+v, %v; want %+v", st.name, got, err, aps[0])
		}
		// The access points as the policy holds them (readers, and web
		// keys opening from the phone, read them there, phone settings
		// included), field for field as their table has them.
		for _, ap := range aps {
			want, err := store.AccessPointFromSQL(ctx, s, ap.ID)
			if errors.Is(err, access.ErrNotFound) {
				if got, ok := p.AccessPoint(ap.ID); ok {
					t.Errorf("after %q: the policy still has deleted access point %+v", st.name, got)
				}
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			if got, ok := p.AccessPoint(ap.ID); !ok || !reflect.DeepEqual(got, want) {
				t.Errorf("after %q: the policy's access point %+v (%v)\nwant SQL's %+v", st.name, got, ok, want)
			}
		}
	}
	if _, err := s.AccessPointByID(ctx, back.ID); !errors.Is(err, access.ErrNotFound) {
		t.Errorf("deleted access point: got %v, want ErrNotFound", err)
	}
}

// TestRevocationDeniesAtOnce: the revoke call returns only once the policy
// a reader decides from refuses the credential.
func TestRevocationDeniesAtOnce(t *testing.T) {
	s := openStore(t)
	ctx := t.Context()
	front := createAccessPoint(t, s, "Front", "sim:front")
	ann := createUser(t, s, "Ann", "Lee", "ann@example.com")
	createPermission(t, s, access.Permission{UserID: ann.ID, AccessPointID: front.ID})
	c := assign(t, s, ann.ID, "code-ann")
	if _, err := register(s, t, "code-ann", 1); err != nil {
		t.Fatal(err)
	}
	decide := func() access.Decision {
		r, err := s.PresentationInputs(ctx, c.ID, front)
		if err != nil {
			t.Fatal(err)
		}
		r.Now = testNow
		return access.Decide(r)
	}
	if d := decide(); !d.Granted {
		t.Fatalf("before the revocation: got %v, want granted", d.Reason)
	}
	if err := s.RevokeCredential(ctx, actor, c.ID); err != nil {
		t.Fatal(err)
	}
	if d := decide(); d.Granted || d.Reason != access.ReasonCredentialNotActive {
		t.Fatalf("right after the revocation: got %+v, want denied as not active", d)
	}
}

// TestChangeFeed: each write tells subscribers what it changed, by key,
// before it returns; cascades are named; a refused write and a decision
// name nothing.
func TestChangeFeed(t *testing.T) {
	s := openStore(t)
	ctx := t.Context()
	var got []store.Change
	cancel := s.Subscribe(func(c store.Change) { got = append(got, c) })
	defer cancel()
	front := createAccessPoint(t, s, "Front", "sim:front")
	staff := createGroup(t, s, "Staff")
	ann := createUser(t, s, "Ann", "Lee", "ann@example.com")
	hours := createTimeProfile(t, s, "Hours")
	got = nil

	var perm access.Permission
	var cred access.Credential
	tests := []struct {
		name string
		do   func() error
		want func() store.Change
	}{
		{"an access point is edited", func() error {
			a := front
			a.Name = "Front door"
			return s.UpdateAccessPoint(ctx, actor, &a)
		}, func() store.Change { return store.Change{AccessPoints: []int64{front.ID}} }},
		{"a user joins a group", func() error { return s.SetUserGroups(ctx, actor, ann.ID, []int64{staff.ID}) },
			func() store.Change { return store.Change{Members: []int64{ann.ID}} }},
		{"a permission is made", func() error {
			perm = access.Permission{GroupID: staff.ID, AccessPointID: front.ID, TimeProfileID: hours.ID}
			return s.CreatePermission(ctx, actor, &perm)
		}, func() store.Change { return store.Change{Permissions: []int64{perm.ID}} }},
		{"a credential is assigned", func() error {
			exp := testNow.Add(time.Hour)
			var err error
			cred, err = s.AssignCredential(ctx, actor, ann.ID, "code", exp, invitation("code", exp))
			return err
		}, func() store.Change { return store.Change{Credentials: []access.CredentialID{cred.ID}} }},
		{"a refused write", func() error {
			if err := s.CreateGroup(ctx, actor, &access.Group{Name: "Staff"}); !isConflict(err) {
				return fmt.Errorf("got %v, want a conflict", err)
			}
			return nil
		}, nil},
		{"a decision", func() error {
			return s.RecordDecision(ctx, &access.Event{Kind: "access.denied"}, &cred.ID, testNow)
		}, nil},
		{"a setting", func() error { return s.SetSetting(ctx, actor, "time_zone", "Europe/Paris") },
			func() store.Change { return store.Change{Settings: true} }},
		{"a group is deleted, with its members and permissions", func() error { return s.DeleteGroup(ctx, actor, staff.ID) },
			func() store.Change {
				return store.Change{Groups: []int64{staff.ID}, Members: []int64{ann.ID}, Permissions: []int64{perm.ID}}
			}},
		{"a user is deleted, with their credentials", func() error { return s.DeleteUser(ctx, actor, ann.ID) },
			func() store.Change {
				return store.Change{Users: []int64{ann.ID}, Credentials: []access.CredentialID{cred.ID}}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got = nil
			if err := tt.do(); err != nil {
				t.Fatal(err)
			}
			var want []store.Change
			if tt.want != nil {
				want = []store.Change{tt.want()}
			}
			if fmt.Sprint(got) != fmt.Sprint(want) {
				t.Errorf("got %+v, want %+v", got, want)
			}
		})
	}
}

// TestAllAccessPointsFromThePolicy: the loaded policy lists access points in
// the order SQL does.
func TestAllAccessPointsFromThePolicy(t *testing.T) {
	s := openStore(t)
	for i, name := range []string{"back", "Annex", "annex 2", "Äußere Tür", "_store", "Zone 9", "zone 10", "B"} {
		createAccessPoint(t, s, name, fmt.Sprintf("sim:door%d", i))
	}
	names := func() string {
		aps, err := s.AllAccessPoints(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, ap := range aps {
			out = append(out, ap.Name)
		}
		return strings.Join(out, ", ")
	}
	fromSQL := names()
	if _, err := s.LoadPolicy(t.Context()); err != nil {
		t.Fatal(err)
	}
	if got := names(); got != fromSQL {
		t.Errorf("from the policy: %s\nfrom SQL:        %s", got, fromSQL)
	}
}
