package store_test

import (
	"maps"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"postern/access"
	"postern/store"
)

func TestPermissionRoundTrip(t *testing.T) {
	s := openStore(t)
	ctx := t.Context()
	ann := createUser(t, s, "Ann", "Smith", "")
	cher := createUser(t, s, "Cher", "", "")
	staff := createGroup(t, s, "Staff")
	front := createAccessPoint(t, s, "Front", "sim:front")
	lab := createAccessPoint(t, s, "Lab", "sim:lab")
	office := createTimeProfile(t, s, "Office")

	tests := []struct {
		name string
		in   access.Permission
		want access.Permission // without ID
	}{
		{"user at any time", access.Permission{UserID: ann.ID, AccessPointID: front.ID},
			access.Permission{UserID: ann.ID, AccessPointID: front.ID, UserName: "Ann Smith", AccessPointName: "Front"}},
		{"user within a profile", access.Permission{UserID: ann.ID, AccessPointID: lab.ID, TimeProfileID: office.ID},
			access.Permission{UserID: ann.ID, AccessPointID: lab.ID, TimeProfileID: office.ID, UserName: "Ann Smith", AccessPointName: "Lab", TimeProfileName: "Office"}},
		{"group within a profile", access.Permission{GroupID: staff.ID, AccessPointID: front.ID, TimeProfileID: office.ID},
			access.Permission{GroupID: staff.ID, AccessPointID: front.ID, TimeProfileID: office.ID, GroupName: "Staff", AccessPointName: "Front", TimeProfileName: "Office"}},
		{"user with only a first name", access.Permission{UserID: cher.ID, AccessPointID: front.ID},
			access.Permission{UserID: cher.ID, AccessPointID: front.ID, UserName: "Cher", AccessPointName: "Front"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.in
			if err := s.CreatePermission(ctx, actor, &p); err != nil {
				t.Fatalf("create: %v", err)
			}
			want := tt.want
			want.ID = p.ID
			got, err := s.PermissionByID(ctx, p.ID)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("got %+v, want %+v", got, want)
			}
		})
	}

	t.Run("update", func(t *testing.T) {
		p := createPermission(t, s, access.Permission{GroupID: staff.ID, AccessPointID: lab.ID})
		p = access.Permission{ID: p.ID, UserID: ann.ID, AccessPointID: lab.ID}
		if err := s.UpdatePermission(ctx, actor, &p); err != nil {
			t.Fatal(err)
		}
		want := access.Permission{ID: p.ID, UserID: ann.ID, AccessPointID: lab.ID, UserName: "Ann Smith", AccessPointName: "Lab"}
		if got, err := s.PermissionByID(ctx, p.ID); err != nil || got != want {
			t.Errorf("got %+v, %v, want %+v", got, err, want)
		}
	})

	t.Run("listing", func(t *testing.T) {
		list := func(t *testing.T, userID, apID int64, limit int) []string {
			t.Helper()
			var out []string
			o := store.ListOptions{Limit: limit}
			for range 20 {
				p, err := s.Permissions(ctx, o, userID, apID)
				if err != nil {
					t.Fatal(err)
				}
				for _, p := range p.Items {
					// Trimmed: the stray space after a lone first name is
					// the round-trip row's business, not the listing's.
					out = append(out, strings.TrimSpace(p.UserName)+p.GroupName+"@"+p.AccessPointName+"/"+p.TimeProfileName)
				}
				if p.Next == "" {
					return out
				}
				o.After = p.Next
			}
			t.Fatal("got more than 20 pages")
			return nil
		}
		tests := []struct {
			name   string
			userID int64
			apID   int64
			want   []string
		}{
			{"all in creation order", 0, 0, []string{"Ann Smith@Front/", "Ann Smith@Lab/Office", "Staff@Front/Office", "Cher@Front/", "Ann Smith@Lab/"}},
			{"one user's own", ann.ID, 0, []string{"Ann Smith@Front/", "Ann Smith@Lab/Office", "Ann Smith@Lab/"}},
			{"one access point", 0, front.ID, []string{"Ann Smith@Front/", "Staff@Front/Office", "Cher@Front/"}},
			{"one user at one access point", ann.ID, lab.ID, []string{"Ann Smith@Lab/Office", "Ann Smith@Lab/"}},
		}
		for _, tt := range tests {
			for _, limit := range []int{1, 2, 50} {
				if got := list(t, tt.userID, tt.apID, limit); !slices.Equal(got, tt.want) {
					t.Errorf("%s, limit %d: got %q, want %q", tt.name, limit, got, tt.want)
				}
			}
		}
	})
}

func TestGrants(t *testing.T) {
	s := openStore(t)
	ctx := t.Context()
	ann := createUser(t, s, "Ann", "Smith", "")
	bob := createUser(t, s, "Bob", "Jones", "")
	carl := createUser(t, s, "Carl", "Brown", "")
	staff := createGroup(t, s, "Staff")
	night := createGroup(t, s, "Night")
	visitors := createGroup(t, s, "Visitors")
	front := createAccessPoint(t, s, "Front", "sim:front")
	lab := createAccessPoint(t, s, "Lab", "sim:lab")
	garage := createAccessPoint(t, s, "Garage", "sim:garage")
	office := createTimeProfile(t, s, "Office")
	nights := access.TimeProfile{Name: "Nights",
		Windows:  []access.Window{{Days: []time.Weekday{time.Friday, time.Saturday}, Start: 22 * 60, End: 6 * 60}},
		Holidays: []access.Date{date(2026, 12, 25), date(2027, 1, 1)}}
	if err := s.CreateTimeProfile(ctx, "setup", &nights); err != nil {
		t.Fatal(err)
	}
	profiles := map[string]access.TimeProfile{office.Name: office, nights.Name: nights}
	setUserGroups(t, s, ann.ID, staff, night)
	setUserGroups(t, s, bob.ID, night)
	setUserGroups(t, s, carl.ID, visitors)

	annFront := createPermission(t, s, access.Permission{UserID: ann.ID, AccessPointID: front.ID})
	staffFront := createPermission(t, s, access.Permission{GroupID: staff.ID, AccessPointID: front.ID, TimeProfileID: office.ID})
	nightFront := createPermission(t, s, access.Permission{GroupID: night.ID, AccessPointID: front.ID, TimeProfileID: nights.ID})
	staffLab := createPermission(t, s, access.Permission{GroupID: staff.ID, AccessPointID: lab.ID})
	bobGarage := createPermission(t, s, access.Permission{UserID: bob.ID, AccessPointID: garage.ID, TimeProfileID: office.ID})
	createPermission(t, s, access.Permission{GroupID: visitors.ID, AccessPointID: lab.ID, TimeProfileID: office.ID})

	// want maps each permission id to its profile's name ("" for none).
	tests := []struct {
		name string
		user int64
		ap   int64
		want map[int64]string
	}{
		{"ann at front: direct and through both groups", ann.ID, front.ID, map[int64]string{annFront.ID: "", staffFront.ID: "Office", nightFront.ID: "Nights"}},
		{"ann at lab: through staff", ann.ID, lab.ID, map[int64]string{staffLab.ID: ""}},
		{"ann at garage: bob's permission is not hers", ann.ID, garage.ID, map[int64]string{}},
		{"bob at front: through night", bob.ID, front.ID, map[int64]string{nightFront.ID: "Nights"}},
		{"bob at garage: direct with a profile", bob.ID, garage.ID, map[int64]string{bobGarage.ID: "Office"}},
		{"bob at lab: staff's permission is not his", bob.ID, lab.ID, map[int64]string{}},
		{"carl at front: his group has nothing there", carl.ID, front.ID, map[int64]string{}},
		{"unknown user", 999, front.ID, map[int64]string{}},
		{"unknown access point", ann.ID, 999, map[int64]string{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			grants, err := s.Grants(ctx, tt.user, tt.ap)
			if err != nil {
				t.Fatal(err)
			}
			if grants == nil {
				t.Error("got nil, want an empty slice")
			}
			got := map[int64]string{}
			for _, g := range grants {
				if _, dup := got[g.PermissionID]; dup {
					t.Errorf("got permission %d twice", g.PermissionID)
				}
				got[g.PermissionID] = ""
				if g.Profile != nil {
					got[g.PermissionID] = g.Profile.Name
					if want := profiles[g.Profile.Name]; !reflect.DeepEqual(*g.Profile, want) {
						t.Errorf("profile of permission %d: got %+v, want %+v", g.PermissionID, *g.Profile, want)
					}
				}
			}
			if !maps.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}

	t.Run("leaving a group takes its grants away", func(t *testing.T) {
		setUserGroups(t, s, ann.ID, staff)
		grants, err := s.Grants(ctx, ann.ID, front.ID)
		if err != nil {
			t.Fatal(err)
		}
		var got []int64
		for _, g := range grants {
			got = append(got, g.PermissionID)
		}
		slices.Sort(got)
		if want := []int64{annFront.ID, staffFront.ID}; !slices.Equal(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
	})
}
