package access

import (
	"fmt"
	"testing"
	"time"
)

func TestDoorStateOf(t *testing.T) {
	london := mustLoad(t, "Europe/London")
	// Wednesday 2026-03-11 10:00 London.
	now := time.Date(2026, 3, 11, 10, 0, 0, 0, london)
	hours := &TimeProfile{Name: "business hours", Windows: []Window{{Days: []time.Weekday{1, 2, 3, 4, 5}, Start: 8 * 60, End: 18 * 60}}}
	split := &TimeProfile{Name: "split", Windows: []Window{{Days: []time.Weekday{3}, Start: 8 * 60, End: 12 * 60}, {Days: []time.Weekday{3}, Start: 13 * 60, End: 17 * 60}}}
	holiday := &TimeProfile{Name: "closed today", Windows: hours.Windows, Holidays: []Date{{2026, 3, 11}}}
	front := AccessPoint{Name: "Front", State: StateNormal}
	exit := AccessPoint{Name: "Fire exit", State: StateNormal, Exit: true}
	with := func(ap AccessPoint, f func(*AccessPoint)) AccessPoint { f(&ap); return ap }
	until := now.Add(20 * time.Minute)
	byHand := with(front, func(a *AccessPoint) { a.UnlockedUntil = until })
	firstIn := with(front, func(a *AccessPoint) { a.FirstPersonIn = true })

	tests := []struct {
		name      string
		in        DoorInputs
		want      DoorMode
		wantUntil time.Time
		wantSite  bool
		wantWait  bool
	}{
		{name: "a plain door is locked", in: DoorInputs{AccessPoint: front}, want: DoorNormal},
		{name: "within its schedule it is unlocked", in: DoorInputs{AccessPoint: front, Schedule: hours}, want: DoorScheduled},
		{name: "after hours it locks", in: DoorInputs{AccessPoint: front, Schedule: hours, Now: now.Add(8 * time.Hour)}, want: DoorNormal},
		{name: "a holiday keeps it locked", in: DoorInputs{AccessPoint: front, Schedule: holiday}, want: DoorNormal},
		{name: "first person in: nobody yet", in: DoorInputs{AccessPoint: firstIn, Schedule: hours}, want: DoorNormal, wantWait: true},
		{name: "first person in: someone at nine", in: DoorInputs{AccessPoint: firstIn, Schedule: hours, LastGrant: now.Add(-time.Hour)}, want: DoorScheduled},
		{name: "first person in: a grant before opening does not count", in: DoorInputs{AccessPoint: firstIn, Schedule: hours, LastGrant: now.Add(-3 * time.Hour)}, want: DoorNormal, wantWait: true},
		{name: "first person in: yesterday's grant does not count", in: DoorInputs{AccessPoint: firstIn, Schedule: hours, LastGrant: now.Add(-24 * time.Hour)}, want: DoorNormal, wantWait: true},
		{name: "first person in: the morning's arrival opens the afternoon", in: DoorInputs{AccessPoint: firstIn, Schedule: split, LastGrant: now.Add(150 * time.Minute), Now: now.Add(3*time.Hour + 30*time.Minute)}, want: DoorScheduled},
		{name: "unlocked by hand until its end", in: DoorInputs{AccessPoint: byHand}, want: DoorUnlockedByHand, wantUntil: until},
		{name: "an unlock by hand ends on time", in: DoorInputs{AccessPoint: byHand, Now: until}, want: DoorNormal},
		{name: "unlock by hand beats the schedule", in: DoorInputs{AccessPoint: byHand, Schedule: hours}, want: DoorUnlockedByHand, wantUntil: until},
		{name: "unlock by hand does not wait for the first person", in: DoorInputs{AccessPoint: with(byHand, func(a *AccessPoint) { a.FirstPersonIn = true }), Schedule: hours}, want: DoorUnlockedByHand, wantUntil: until},
		{name: "held open", in: DoorInputs{AccessPoint: with(front, func(a *AccessPoint) { a.State = StateUnlocked })}, want: DoorHeldOpen},
		{name: "held open beats unlock by hand", in: DoorInputs{AccessPoint: with(byHand, func(a *AccessPoint) { a.State = StateUnlocked })}, want: DoorHeldOpen},
		{name: "the door's own lockdown", in: DoorInputs{AccessPoint: with(front, func(a *AccessPoint) { a.State = StateLockdown })}, want: DoorLockedDown},
		{name: "a site lockdown locks a held-open door", in: DoorInputs{AccessPoint: with(front, func(a *AccessPoint) { a.State = StateUnlocked }), Site: SiteLockdown}, want: DoorLockedDown, wantSite: true},
		{name: "a site lockdown locks a door unlocked by hand and by schedule", in: DoorInputs{AccessPoint: byHand, Schedule: hours, Site: SiteLockdown}, want: DoorLockedDown, wantSite: true},
		{name: "a site lockdown locks exits too", in: DoorInputs{AccessPoint: exit, Site: SiteLockdown}, want: DoorLockedDown, wantSite: true},
		{name: "evacuation unlocks an exit", in: DoorInputs{AccessPoint: exit, Site: SiteEvacuation}, want: DoorEvacuation, wantSite: true},
		{name: "evacuation unlocks an exit the door's own lockdown closed", in: DoorInputs{AccessPoint: with(exit, func(a *AccessPoint) { a.State = StateLockdown }), Site: SiteEvacuation}, want: DoorEvacuation, wantSite: true},
		{name: "evacuation leaves a door that is not an exit as it was", in: DoorInputs{AccessPoint: front, Schedule: hours, Site: SiteEvacuation}, want: DoorScheduled},
		{name: "evacuation leaves a locked-down inner door locked", in: DoorInputs{AccessPoint: with(front, func(a *AccessPoint) { a.State = StateLockdown }), Site: SiteEvacuation}, want: DoorLockedDown},
		{name: "an exit in normal times follows its schedule", in: DoorInputs{AccessPoint: exit, Site: SiteNormal}, want: DoorNormal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.in.Now.IsZero() {
				tt.in.Now = now
			}
			tt.in.Location = london
			got := DoorStateOf(tt.in)
			want := DoorState{Mode: tt.want, Until: tt.wantUntil, BySite: tt.wantSite, WaitingFirstIn: tt.wantWait}
			if got != want {
				t.Errorf("got %+v (%v), want %+v (%v)", got, got.Mode, want, want.Mode)
			}
		})
	}
}

// TestDoorStatePrecedence runs every combination of the inputs and checks
// the result is the highest mode whose own condition holds, as the
// precedence list in DoorStateOf's comment says.
func TestDoorStatePrecedence(t *testing.T) {
	now := time.Date(2026, 3, 11, 10, 0, 0, 0, time.UTC)
	hours := &TimeProfile{Windows: []Window{{Days: []time.Weekday{3}, Start: 8 * 60, End: 18 * 60}}}
	closed := &TimeProfile{Windows: []Window{{Days: []time.Weekday{3}, Start: 18 * 60, End: 20 * 60}}}
	n := 0
	for _, site := range []SiteMode{SiteNormal, SiteLockdown, SiteEvacuation} {
		for _, state := range []State{StateNormal, StateLockdown, StateUnlocked} {
			for _, exit := range []bool{false, true} {
				for _, until := range []time.Time{{}, now.Add(-time.Minute), now.Add(time.Minute)} {
					for _, sched := range []*TimeProfile{nil, closed, hours} {
						for _, firstIn := range []bool{false, true} {
							for _, grant := range []time.Time{{}, now.Add(-time.Hour)} {
								in := DoorInputs{
									AccessPoint: AccessPoint{State: state, Exit: exit, UnlockedUntil: until, FirstPersonIn: firstIn},
									Site:        site, Schedule: sched, LastGrant: grant, Now: now, Location: time.UTC,
								}
								applies := map[DoorMode]bool{
									DoorEvacuation:     site == SiteEvacuation && exit,
									DoorLockedDown:     site == SiteLockdown || state == StateLockdown,
									DoorHeldOpen:       state == StateUnlocked,
									DoorUnlockedByHand: until.After(now),
									DoorScheduled:      sched == hours && (!firstIn || !grant.IsZero()),
									DoorNormal:         true,
								}
								want := DoorNormal
								for m := DoorEvacuation; ; m-- {
									if applies[m] {
										want = m
										break
									}
								}
								got := DoorStateOf(in)
								if got.Mode != want {
									t.Errorf("%s: got %v, want %v", describe(in), got.Mode, want)
								}
								if got.Unlocked() != (want != DoorNormal && want != DoorLockedDown) {
									t.Errorf("%s: Unlocked() = %v for %v", describe(in), got.Unlocked(), got.Mode)
								}
								n++
							}
						}
					}
				}
			}
		}
	}
	if n != 3*3*2*3*3*2*2 {
		t.Fatalf("ran %d combinations", n)
	}
}

func describe(in DoorInputs) string {
	return fmt.Sprintf("site %s, door %s, exit %v, until %v, schedule %v, first in %v, grant %v",
		in.Site, in.AccessPoint.State, in.AccessPoint.Exit, !in.AccessPoint.UnlockedUntil.IsZero(), in.Schedule != nil, in.AccessPoint.FirstPersonIn, !in.LastGrant.IsZero())
}

// TestDecideInLockdown: a lockdown, the site's or the door's, refuses all
// but the users allowed during lockdown, and they still need a permission.
func TestDecideInLockdown(t *testing.T) {
	now := time.Date(2026, 3, 11, 10, 0, 0, 0, time.UTC)
	active := &Credential{Status: CredentialActive}
	ann := &User{FirstName: "Ann", Enabled: true}
	guard := &User{FirstName: "Gus", Enabled: true, LockdownExempt: true}
	front := AccessPoint{Name: "Front", State: StateNormal}
	exit := AccessPoint{Name: "Fire exit", State: StateNormal, Exit: true}
	always := []Grant{{PermissionID: 1}}
	tests := []struct {
		name string
		req  Request
		want Reason
	}{
		{"site lockdown refuses Ann", Request{Credential: active, User: ann, AccessPoint: front, Grants: always, Site: SiteLockdown}, ReasonLockedDown},
		{"site lockdown lets the guard in", Request{Credential: active, User: guard, AccessPoint: front, Grants: always, Site: SiteLockdown}, ReasonGranted},
		{"the guard still needs a permission", Request{Credential: active, User: guard, AccessPoint: front, Site: SiteLockdown}, ReasonNoPermission},
		{"the door's own lockdown lets the guard in", Request{Credential: active, User: guard, AccessPoint: AccessPoint{State: StateLockdown}, Grants: always}, ReasonGranted},
		{"an unknown credential in lockdown is refused as locked down", Request{AccessPoint: front, Site: SiteLockdown}, ReasonLockedDown},
		{"evacuation still decides", Request{Credential: active, User: ann, AccessPoint: exit, Grants: always, Site: SiteEvacuation}, ReasonGranted},
		{"evacuation refuses who has no permission", Request{Credential: active, User: ann, AccessPoint: exit, Site: SiteEvacuation}, ReasonNoPermission},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.req.Now = now
			if got := Decide(tt.req).Reason; got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestTimeProfileOpensAt(t *testing.T) {
	wed := Date{2026, 3, 11}
	at := func(h, m int) time.Time { return time.Date(2026, 3, 11, h, m, 0, 0, time.UTC) }
	tests := []struct {
		name   string
		p      TimeProfile
		want   time.Time
		wantOK bool
	}{
		{"the earliest window of the day", TimeProfile{Windows: []Window{{Days: []time.Weekday{3}, Start: 13 * 60, End: 17 * 60}, {Days: []time.Weekday{3}, Start: 8*60 + 30, End: 12 * 60}}}, at(8, 30), true},
		{"not on this weekday", TimeProfile{Windows: []Window{{Days: []time.Weekday{1}, Start: 8 * 60, End: 12 * 60}}}, time.Time{}, false},
		{"a holiday", TimeProfile{Windows: []Window{{Days: []time.Weekday{3}, Start: 8 * 60, End: 12 * 60}}, Holidays: []Date{wed}}, time.Time{}, false},
		{"last night's shift runs into today", TimeProfile{Windows: []Window{{Days: []time.Weekday{2}, Start: 22 * 60, End: 6 * 60}}}, at(0, 0), true},
		{"tonight's shift opens this evening", TimeProfile{Windows: []Window{{Days: []time.Weekday{3}, Start: 22 * 60, End: 6 * 60}}}, at(22, 0), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := tt.p.OpensAt(wed, time.UTC)
			if ok != tt.wantOK || !got.Equal(tt.want) {
				t.Errorf("got %v %v, want %v %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

// BenchmarkDoorStateOf: the state of one door with every input set, as the
// door loop computes it for every door each second.
func BenchmarkDoorStateOf(b *testing.B) {
	now := time.Date(2026, 3, 11, 10, 0, 0, 0, time.UTC)
	hours := &TimeProfile{Windows: []Window{{Days: []time.Weekday{1, 2, 3, 4, 5}, Start: 8 * 60, End: 18 * 60}}, Holidays: []Date{{2026, 12, 25}}}
	in := DoorInputs{AccessPoint: AccessPoint{State: StateNormal, FirstPersonIn: true, UnlockedUntil: now.Add(-time.Minute)},
		Site: SiteNormal, Schedule: hours, LastGrant: now.Add(-time.Hour), Now: now, Location: time.UTC}
	for b.Loop() {
		if DoorStateOf(in).Mode != DoorScheduled {
			b.Fatal("wrong state")
		}
	}
}
