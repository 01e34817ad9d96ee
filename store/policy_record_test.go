package store_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"fmt"
	"reflect"
	"sort"
	"testing"
	"time"

	"postern/access"
	"postern/store"
)

// policyStream is a test's stand-in for the hub's policy stream: the
// latest record per entity, each at the sequence it was last published.
type policyStream struct {
	seq    uint64
	latest map[string]policyAt
}

type policyAt struct {
	seq uint64
	rec store.PolicyRecord
}

// publish drains the hub's outbox into the stream, as the publisher does.
func (ps *policyStream) publish(t *testing.T, hub *store.Store) {
	t.Helper()
	ctx := t.Context()
	for {
		changes, err := hub.PolicyOutbox(ctx, 50)
		if err != nil {
			t.Fatal(err)
		}
		if len(changes) == 0 {
			return
		}
		for _, c := range changes {
			rec, err := hub.PolicyRecord(ctx, c.Entity, c.Key)
			if err != nil {
				t.Fatal(err)
			}
			ps.seq++
			ps.latest[c.Entity+"."+c.Key] = policyAt{ps.seq, rec}
		}
		if err := hub.DonePolicyOutbox(ctx, changes[len(changes)-1].ID); err != nil {
			t.Fatal(err)
		}
	}
}

// replay applies what the stream holds after seq, in stream order, in
// batches of n, as a reader catching up does.
func (ps *policyStream) replay(t *testing.T, replica *store.Store, after uint64, n int) {
	t.Helper()
	var all []policyAt
	for _, p := range ps.latest {
		if p.seq > after {
			all = append(all, p)
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].seq < all[j].seq })
	for len(all) > 0 {
		k := min(n, len(all))
		var recs []store.PolicyRecord
		for _, p := range all[:k] {
			recs = append(recs, p.rec)
		}
		if _, err := replica.ApplyPolicy(t.Context(), "e1", all[k-1].seq, recs, false); err != nil {
			t.Fatal(err)
		}
		all = all[k:]
	}
}

// policyTables dumps what a decision reads, for comparing two databases.
func policyTables(t *testing.T, s *store.Store) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	ctx := t.Context()
	for _, q := range []string{
		`SELECT id, first_name, last_name, email, enabled, valid_from, valid_until, allowed_offline FROM users ORDER BY id`,
		`SELECT hex(id), user_id, status, hex(tap_key), hex(uv_key) FROM credentials ORDER BY id`,
		`SELECT id, name FROM groups ORDER BY id`,
		`SELECT group_id, user_id FROM group_members ORDER BY group_id, user_id`,
		`SELECT id, ifnull(user_id, 0), ifnull(group_id, 0), access_point_id, ifnull(time_profile_id, 0) FROM permissions ORDER BY id`,
		`SELECT id, name, windows FROM time_profiles ORDER BY id`,
		`SELECT id, name, reader, mode, rssi_threshold, state FROM access_points ORDER BY id`,
		`SELECT key, value FROM settings WHERE key IN ('time_zone', 'offline_lease_days', 'protocol_v1_accepted', 'public_url') ORDER BY key`,
		`SELECT hex(site_id), name, hex(signing_key) FROM site`,
		`SELECT hex(key_id), hex(public_key), retired_at, hex(successor_id), hex(certificate), not_after FROM site_keys ORDER BY key_id`,
		`SELECT id, mode, started_at, ifnull(ended_at, 0) FROM emergencies ORDER BY id`,
	} {
		rows, err := store.QueryForTest(ctx, s, q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		out[q] = rows
	}
	return out
}

func TestPolicyRecordsRebuildTheHubsPolicyOnAReplica(t *testing.T) {
	ctx := t.Context()
	hub := openStore(t)
	if _, err := hub.Site(ctx); err != nil {
		t.Fatal(err)
	}
	// Before the hub first starts nothing is queued: a single appliance
	// pays nothing for the fleet.
	createUser(t, hub, "Early", "Bird", "early@example.com")
	if _, err := hub.CreateFleetReader(ctx, actor, "back-door", "token", testNow.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, err := hub.PolicyOutbox(ctx, 10); err != nil || len(got) != 0 {
		t.Fatalf("outbox before the hub started: got %v, %v, want empty", got, err)
	}
	if err := hub.EnablePolicyOutbox(ctx); err != nil {
		t.Fatal(err)
	}
	if err := hub.SeedPolicyOutbox(ctx); err != nil {
		t.Fatal(err)
	}
	ps := &policyStream{latest: map[string]policyAt{}}
	ps.publish(t, hub)

	// A reader that took the first snapshot, then stopped listening.
	early := openStore(t)
	ps.replay(t, early, 0, 3)
	earlySeq := ps.seq

	ann := createUser(t, hub, "Ann", "Lee", "ann@example.com")
	bob := createUser(t, hub, "Bob", "Ray", "bob@example.com")
	staff := createGroup(t, hub, "Staff")
	if err := hub.SetUserGroups(ctx, actor, ann.ID, []int64{staff.ID}); err != nil {
		t.Fatal(err)
	}
	front := createAccessPoint(t, hub, "Front", "back-door/sim:front")
	side := createAccessPoint(t, hub, "Side", "back-door/sim:side")
	// A reader that has both doors by their first names.
	ps.publish(t, hub)
	mid := openStore(t)
	ps.replay(t, mid, 0, 5)
	midSeq := ps.seq
	hours := createTimeProfile(t, hub, "Office hours")
	createPermission(t, hub, access.Permission{GroupID: staff.ID, AccessPointID: front.ID, TimeProfileID: hours.ID})
	createPermission(t, hub, access.Permission{UserID: bob.ID, AccessPointID: side.ID})
	mail := func(access.Credential, access.User) (store.Mail, error) {
		return store.Mail{Kind: "invitation", Recipient: "x@example.com", Subject: "key", Message: "{}"}, nil
	}
	annCred, err := hub.AssignCredential(ctx, actor, ann.ID, "11112222333344445555666677778888", testNow.Add(time.Hour), mail)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := hub.RegisterCredential(ctx, access.Registration{Code: "11112222333344445555666677778888", TapKey: []byte{4, 1, 2}, UVKey: []byte{4, 3, 4}}); err != nil {
		t.Fatal(err)
	}
	bobCred, err := hub.AssignCredential(ctx, actor, bob.ID, "99990000999900009999000099990000", testNow.Add(time.Hour), mail)
	if err != nil {
		t.Fatal(err)
	}
	if err := hub.SetSetting(ctx, actor, "time_zone", "Europe/Paris"); err != nil {
		t.Fatal(err)
	}
	if err := hub.SetSetting(ctx, actor, "smtp_url", "smtp://secret@example.com"); err != nil {
		t.Fatal(err)
	}
	// The site's protocol settings: version 1 turned off, and the site key
	// rolled, whose certificate every reader shows during the overlap.
	if err := hub.SetSetting(ctx, actor, store.SettingAcceptV1, "false"); err != nil {
		t.Fatal(err)
	}
	// The public URL the hub keeps at start-up, with no event: remote
	// readers check web keys' passkeys against it.
	if err := hub.SetSetting(ctx, "", store.SettingPublicURL, "https://doors.example.com"); err != nil {
		t.Fatal(err)
	}
	next, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if err := hub.RollSiteKey(ctx, actor, next, func(*ecdsa.PrivateKey) (access.SiteRollover, error) {
		return access.SiteRollover{NotAfter: testNow.Add(24 * time.Hour), Signature: make([]byte, 64)}, nil
	}); err != nil {
		t.Fatal(err)
	}
	// Names swap between two doors: applied one at a time on a replica
	// that holds the old names, the second would clash.
	front.Name, side.Name = "Tmp", "Front"
	for _, ap := range []*access.AccessPoint{&front, &side} {
		if err := hub.UpdateAccessPoint(ctx, actor, ap); err != nil {
			t.Fatal(err)
		}
	}
	front.Name = "Side"
	if err := hub.UpdateAccessPoint(ctx, actor, &front); err != nil {
		t.Fatal(err)
	}
	if err := hub.RevokeCredential(ctx, actor, annCred.ID); err != nil {
		t.Fatal(err)
	}
	// Using a credential changes nothing a reader needs.
	before := len(mustOutbox(t, hub))
	if err := hub.RecordDecision(ctx, &access.Event{Kind: "access.denied"}, &annCred.ID, testNow); err != nil {
		t.Fatal(err)
	}
	if after := len(mustOutbox(t, hub)); after != before {
		t.Errorf("a decision queued %d policy changes, want none", after-before)
	}
	// A lockdown started and ended, and one still on: every door of the
	// site decides under it, remote ones too.
	if _, err := hub.StartEmergency(ctx, actor, access.SiteLockdown); err != nil {
		t.Fatal(err)
	}
	if _, err := hub.EndEmergency(ctx, actor); err != nil {
		t.Fatal(err)
	}
	if _, err := hub.StartEmergency(ctx, actor, access.SiteLockdown); err != nil {
		t.Fatal(err)
	}
	// Deleting Bob cascades to his credential and permission.
	if err := hub.DeleteUser(ctx, actor, bob.ID); err != nil {
		t.Fatal(err)
	}
	ps.publish(t, hub)

	want := policyTables(t, hub)
	tests := []struct {
		name    string
		replica *store.Store
		after   uint64
		batch   int
	}{
		{"fresh replica, whole stream one at a time", openStore(t), 0, 1},
		{"fresh replica, whole stream in one batch", openStore(t), 0, 1000},
		{"replica catching up from where it stopped", early, earlySeq, 4},
		{"replica catching up across a swap of names", mid, midSeq, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ps.replay(t, tt.replica, tt.after, tt.batch)
			if got := policyTables(t, tt.replica); !reflect.DeepEqual(got, want) {
				for q := range want {
					if !reflect.DeepEqual(got[q], want[q]) {
						t.Errorf("%s:\ngot  %v\nwant %v", q, got[q], want[q])
					}
				}
			}
			// A replay of what is applied changes nothing.
			applied, err := tt.replica.ApplyPolicy(ctx, "e1", ps.seq, []store.PolicyRecord{{Entity: "user", Key: fmt.Sprint(ann.ID), Deleted: true}}, false)
			if err != nil || applied {
				t.Errorf("replay at seq %d: got applied %v, %v, want skipped", ps.seq, applied, err)
			}
			if seq, epoch, err := tt.replica.PolicySeq(ctx); err != nil || seq != ps.seq || epoch != "e1" {
				t.Errorf("policy seq: got %d %q, %v, want %d e1", seq, epoch, err, ps.seq)
			}
			// The replica decides as the hub does.
			in, err := tt.replica.PresentationInputs(ctx, annCred.ID, front)
			if err != nil || in.Credential == nil || in.Credential.Status != access.CredentialRevoked {
				t.Errorf("ann's credential on the replica: got %+v, %v, want revoked", in.Credential, err)
			}
			if in, err := tt.replica.PresentationInputs(ctx, bobCred.ID, side); err != nil || in.Credential != nil {
				t.Errorf("bob's deleted credential on the replica: got %+v, %v, want unknown", in.Credential, err)
			}
			if m, err := tt.replica.SiteMode(ctx); err != nil || m != access.SiteLockdown {
				t.Errorf("the replica's site: got %q, %v, want the hub's lockdown", m, err)
			}
			if v, _ := tt.replica.Setting(ctx, "smtp_url", ""); v != "" {
				t.Errorf("the SMTP setting reached a reader: %q", v)
			}
			if v, _ := tt.replica.Setting(ctx, store.SettingPublicURL, ""); v != "https://doors.example.com" {
				t.Errorf("the hub's public URL on the replica: got %q, want https://doors.example.com", v)
			}
			if site, err := tt.replica.Site(ctx); err != nil || site.AcceptV1 || site.Rollover == nil || !site.Key.Equal(next) {
				t.Errorf("the replica's site: got %+v, %v, want version 1 off and the rolled key with its certificate", site, err)
			}
		})
	}
}

func mustOutbox(t *testing.T, s *store.Store) []store.PolicyChange {
	t.Helper()
	c, err := s.PolicyOutbox(context.Background(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestApplyPolicyResetEmptiesThePolicy(t *testing.T) {
	ctx := t.Context()
	s := openStore(t)
	u := createUser(t, s, "Ann", "Lee", "ann@example.com")
	if _, err := s.ApplyPolicy(ctx, "e2", 1, []store.PolicyRecord{{Entity: "group", Key: "7", Row: []store.PolicyValue{
		{Col: "id", Int: ptr(int64(7))}, {Col: "name", Text: ptr("Night shift")}, {Col: "no_such_column", Text: ptr("x")},
	}}}, true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UserByID(ctx, u.ID); err == nil {
		t.Errorf("user %d survived a reset", u.ID)
	}
	if g, err := s.GroupByID(ctx, 7); err != nil || g.Name != "Night shift" {
		t.Errorf("group 7: got %+v, %v, want Night shift", g, err)
	}
	// Records this version does not take (from a newer hub, or naming a
	// table no reader may write) are passed over; the rest still apply.
	admin := []store.PolicyValue{{Col: "id", Int: ptr(int64(1))}, {Col: "email", Text: ptr("mallory@example.com")}}
	if _, err := s.ApplyPolicy(ctx, "e2", 2, []store.PolicyRecord{
		{Entity: "admin", Key: "1", Row: admin},
		{Entity: "setting", Key: "smtp_url", Row: []store.PolicyValue{{Col: "key", Text: ptr("smtp_url")}, {Col: "value", Text: ptr("smtp://x")}}},
		{Entity: "group", Key: "7", Deleted: true},
	}, false); err != nil {
		t.Fatalf("a batch with records this version does not take: %v", err)
	}
	if admins, err := s.Admins(ctx); err != nil || len(admins) != 0 {
		t.Errorf("admins: got %+v, %v, want none", admins, err)
	}
	if v, _ := s.Setting(ctx, "smtp_url", ""); v != "" {
		t.Errorf("the SMTP setting: got %q, want unset", v)
	}
	if _, err := s.GroupByID(ctx, 7); err == nil {
		t.Errorf("group 7 survived its tombstone")
	}
	if _, err := s.ApplyPolicy(ctx, "e2", 3, []store.PolicyRecord{{Entity: "user", Key: "not a number"}}, false); err == nil {
		t.Errorf("a record with a key it cannot read: applied, want refused")
	}
}

func ptr[T any](v T) *T { return &v }
