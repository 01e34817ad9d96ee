package store

import (
	"slices"
	"strings"
	"testing"

	"postern/access"
)

// TestPolicySnapshotHoldsTheGrantsAQueryFinds compares the snapshot's
// grants, direct and through groups, with Grants for the benchmark site's
// first users at every door, and checks keep narrows them.
func TestPolicySnapshotHoldsTheGrantsAQueryFinds(t *testing.T) {
	ctx := t.Context()
	s, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := seedBench(ctx, s); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Site(ctx); err != nil {
		t.Fatal(err)
	}
	p, err := s.PolicySnapshot(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Users) != benchUsers || len(p.AccessPoints) != benchAccessPoints {
		t.Fatalf("got %d users and %d access points, want %d and %d", len(p.Users), len(p.AccessPoints), benchUsers, benchAccessPoints)
	}
	placed := map[[2]int64][]int64{}
	for _, g := range p.Grants {
		k := [2]int64{g.UserID, g.AccessPointID}
		placed[k] = append(placed[k], g.Grant.PermissionID)
	}
	checked := 0
	for user := int64(1); user <= 200; user++ {
		for ap := int64(1); ap <= benchAccessPoints; ap++ {
			gs, err := s.Grants(ctx, user, ap)
			if err != nil {
				t.Fatal(err)
			}
			var want []int64
			for _, g := range gs {
				want = append(want, g.PermissionID)
			}
			got := placed[[2]int64{user, ap}]
			slices.Sort(want)
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Errorf("user %d at door %d: snapshot has permissions %v, Grants %v", user, ap, got, want)
			}
			checked += len(want)
		}
	}
	if checked == 0 {
		t.Fatal("no grants compared")
	}

	door1, err := s.PolicySnapshot(ctx, func(ap access.AccessPoint) bool { return strings.HasSuffix(ap.Reader, ":door1") })
	if err != nil {
		t.Fatal(err)
	}
	if len(door1.Grants) == 0 || len(door1.Grants) >= len(p.Grants) {
		t.Errorf("kept %d of %d grants for door 1 alone", len(door1.Grants), len(p.Grants))
	}
	for _, g := range door1.Grants {
		if g.AccessPointID != busyDoor {
			t.Fatalf("a grant at door %d kept for door 1 alone", g.AccessPointID)
		}
	}
}

// BenchmarkPolicySnapshot is what a remote reader reads to rebuild its
// in-memory policy, on the benchmark site (10,000 users, each with a
// credential), keeping one door's grants.
func BenchmarkPolicySnapshot(b *testing.B) {
	s := openBench(b)
	ctx := b.Context()
	if _, err := s.db.ExecContext(ctx, `INSERT INTO credentials (id, user_id, kind, status, tap_key, uv_key, created_at)
		SELECT randomblob(16), id, 'smart', 'active', randomblob(65), randomblob(65), 0 FROM users`); err != nil {
		b.Fatal(err)
	}
	if _, err := s.Site(ctx); err != nil {
		b.Fatal(err)
	}
	keep := func(ap access.AccessPoint) bool { return ap.ID == busyDoor }
	for b.Loop() {
		p, err := s.PolicySnapshot(ctx, keep)
		if err != nil || len(p.Credentials) != benchUsers {
			b.Fatal(err, len(p.Credentials))
		}
	}
}

// TestImportEventsBoundsAReadersEvents: a reader's events are clipped as
// the appliance's own are, and an event with no id or an oversized one is
// refused, so a broken or stolen board cannot fill the hub's log.
func TestImportEventsBoundsAReadersEvents(t *testing.T) {
	ctx := t.Context()
	s, err := Open(ctx, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	long := strings.Repeat("x", 10*access.MaxEventDetail)
	if n, err := s.ImportEvents(ctx, []access.Event{{Kind: "access.denied", Detail: long, UID: "u1", Protocol: long},
		{Kind: "access.denied", UID: "u2", Protocol: "v2 expedited"}}); err != nil || n != 2 {
		t.Fatalf("import: %d, %v", n, err)
	}
	evs, _, err := s.Events(ctx, access.EventFilter{Limit: 10})
	if err != nil || len(evs) != 2 {
		t.Fatalf("events: %d, %v", len(evs), err)
	}
	if got := len(evs[1].Detail); got > access.MaxEventDetail {
		t.Errorf("an imported detail of %d bytes, want at most %d", got, access.MaxEventDetail)
	}
	if got := len(evs[1].Protocol); got > access.MaxEventProtocol {
		t.Errorf("an imported protocol of %d bytes, want at most %d", got, access.MaxEventProtocol)
	}
	// The version a presentation was made with is kept, as the
	// appliance's own decisions keep it.
	if evs[0].Protocol != "v2 expedited" {
		t.Errorf("an imported event's protocol: got %q, want v2 expedited", evs[0].Protocol)
	}
	for _, uid := range []string{"", strings.Repeat("a", 65)} {
		if _, err := s.ImportEvents(ctx, []access.Event{{Kind: "access.denied", UID: uid}}); err == nil {
			t.Errorf("an event with a uid of %d bytes was imported", len(uid))
		}
	}
}
