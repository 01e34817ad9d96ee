package access

import (
	"testing"
	"time"
)

func mustLoad(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("load %s: %v", name, err)
	}
	return loc
}

func TestDecide(t *testing.T) {
	london := mustLoad(t, "Europe/London")
	// Wednesday 2026-03-11 10:00 London.
	now := time.Date(2026, 3, 11, 10, 0, 0, 0, london)
	officeHours := &TimeProfile{Name: "office", Windows: []Window{{Days: []time.Weekday{1, 2, 3, 4, 5}, Start: 8 * 60, End: 18 * 60}}}
	nights := &TimeProfile{Name: "nights", Windows: []Window{{Days: []time.Weekday{1, 2, 3, 4, 5}, Start: 22 * 60, End: 6 * 60}}}
	active := &Credential{Status: CredentialActive}
	ann := &User{FirstName: "Ann", Enabled: true}
	door := AccessPoint{Name: "Front", State: StateNormal}
	unlockDoor := AccessPoint{Name: "Server room", RequireUnlock: true, State: StateNormal}
	always := []Grant{{PermissionID: 1}}

	tests := []struct {
		name string
		req  Request
		want Decision
	}{
		{"permission at any time opens", Request{Credential: active, User: ann, AccessPoint: door, Grants: always}, Decision{true, ReasonGranted}},
		{"no permission is refused", Request{Credential: active, User: ann, AccessPoint: door}, Decision{false, ReasonNoPermission}},
		{"unknown credential is refused", Request{AccessPoint: door, Grants: always}, Decision{false, ReasonUnknownCredential}},
		{"revoked credential is refused", Request{Credential: &Credential{Status: CredentialRevoked}, User: ann, AccessPoint: door, Grants: always}, Decision{false, ReasonCredentialNotActive}},
		{"invited credential is refused", Request{Credential: &Credential{Status: CredentialInvited}, User: ann, AccessPoint: door, Grants: always}, Decision{false, ReasonCredentialNotActive}},
		{"disabled user is refused", Request{Credential: active, User: &User{Enabled: false}, AccessPoint: door, Grants: always}, Decision{false, ReasonUserDisabled}},
		{"user not yet valid is refused", Request{Credential: active, User: &User{Enabled: true, ValidFrom: now.Add(time.Hour)}, AccessPoint: door, Grants: always}, Decision{false, ReasonNotYetValid}},
		{"user valid from now opens", Request{Credential: active, User: &User{Enabled: true, ValidFrom: now}, AccessPoint: door, Grants: always}, Decision{true, ReasonGranted}},
		{"user expired is refused", Request{Credential: active, User: &User{Enabled: true, ValidUntil: now}, AccessPoint: door, Grants: always}, Decision{false, ReasonExpired}},
		{"inside office hours opens", Request{Credential: active, User: ann, AccessPoint: door, Grants: []Grant{{1, officeHours}}}, Decision{true, ReasonGranted}},
		{"outside office hours is refused", Request{Credential: active, User: ann, AccessPoint: door, Grants: []Grant{{1, officeHours}}, Now: now.Add(9 * time.Hour)}, Decision{false, ReasonOutsideSchedule}},
		{"any one grant in schedule is enough", Request{Credential: active, User: ann, AccessPoint: door, Grants: []Grant{{1, nights}, {2, officeHours}}}, Decision{true, ReasonGranted}},
		{"unlock required without proof is refused", Request{Credential: active, User: ann, AccessPoint: unlockDoor, Grants: always}, Decision{false, ReasonUnlockRequired}},
		{"unlock required with proof opens", Request{Credential: active, User: ann, AccessPoint: unlockDoor, Grants: always, UserVerified: true}, Decision{true, ReasonGranted}},
		{"no permission beats unlock required", Request{Credential: active, User: ann, AccessPoint: unlockDoor, UserVerified: false}, Decision{false, ReasonNoPermission}},
		{"lockdown refuses everyone", Request{Credential: active, User: ann, AccessPoint: AccessPoint{State: StateLockdown}, Grants: always, UserVerified: true}, Decision{false, ReasonLockedDown}},
		{"a replaced phone is refused", Request{Credential: active, User: ann, AccessPoint: door, Grants: always, Replaced: true, UserVerified: true}, Decision{false, ReasonReplaced}},
		{"lockdown comes before a replaced phone", Request{Credential: active, User: ann, AccessPoint: AccessPoint{State: StateLockdown}, Grants: always, Replaced: true}, Decision{false, ReasonLockedDown}},
		{"a reader offline too long refuses", Request{Credential: active, User: ann, AccessPoint: door, Grants: always, PolicyStale: true}, Decision{false, ReasonOfflineTooLong}},
		{"a reader offline too long lets in who is allowed offline", Request{Credential: active, User: &User{Enabled: true, AllowedOffline: true}, AccessPoint: door, Grants: always, PolicyStale: true}, Decision{true, ReasonGranted}},
		{"allowed offline still needs a permission", Request{Credential: active, User: &User{Enabled: true, AllowedOffline: true}, AccessPoint: door, PolicyStale: true}, Decision{false, ReasonNoPermission}},
		{"a revoked credential stays revoked offline", Request{Credential: &Credential{Status: CredentialRevoked}, User: &User{Enabled: true, AllowedOffline: true}, AccessPoint: door, Grants: always, PolicyStale: true}, Decision{false, ReasonCredentialNotActive}},
		{"held-open door still decides", Request{Credential: active, User: ann, AccessPoint: AccessPoint{State: StateUnlocked}, Grants: always}, Decision{true, ReasonGranted}},
		{"version 1 key while version 1 is accepted opens", Request{Credential: active, User: ann, AccessPoint: door, Grants: always, Protocol: 1, AcceptV1: true}, Decision{true, ReasonGranted}},
		{"version 1 key once version 1 is off must update", Request{Credential: active, User: ann, AccessPoint: door, Grants: always, Protocol: 1}, Decision{false, ReasonUpdateRequired}},
		{"version 1 stranger once version 1 is off must update", Request{AccessPoint: door, Protocol: 1}, Decision{false, ReasonUpdateRequired}},
		{"version 2 key ignores the version 1 setting", Request{Credential: active, User: ann, AccessPoint: door, Grants: always, Protocol: 2}, Decision{true, ReasonGranted}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.req.Now.IsZero() {
				tt.req.Now = now
			}
			tt.req.Location = london
			if got := Decide(tt.req); got != tt.want {
				t.Errorf("got %+v (%v), want %+v (%v)", got, got.Reason, tt.want, tt.want.Reason)
			}
		})
	}
}

func TestTimeProfileAllows(t *testing.T) {
	london := mustLoad(t, "Europe/London")
	ny := mustLoad(t, "America/New_York")
	weekdays := []time.Weekday{time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday}
	office := TimeProfile{Windows: []Window{{Days: weekdays, Start: 8 * 60, End: 18 * 60}}}
	night := TimeProfile{Windows: []Window{{Days: []time.Weekday{time.Friday}, Start: 22 * 60, End: 6 * 60}}}
	early := TimeProfile{Windows: []Window{{Days: []time.Weekday{time.Sunday}, Start: 0, End: 3 * 60}}}
	withHoliday := TimeProfile{Windows: office.Windows, Holidays: []Date{{2026, 12, 25}}}
	nightHoliday := TimeProfile{Windows: night.Windows, Holidays: []Date{{2026, 3, 27}}}
	allDay := TimeProfile{Windows: []Window{{Days: []time.Weekday{time.Sunday}, Start: 0, End: 1440}}}

	tests := []struct {
		name    string
		profile TimeProfile
		at      time.Time
		loc     *time.Location
		want    bool
	}{
		{"weekday morning is open", office, time.Date(2026, 6, 3, 8, 0, 0, 0, london), london, true},
		{"one minute before opening is closed", office, time.Date(2026, 6, 3, 7, 59, 0, 0, london), london, false},
		{"closing time itself is closed", office, time.Date(2026, 6, 3, 18, 0, 0, 0, london), london, false},
		{"saturday is closed", office, time.Date(2026, 6, 6, 12, 0, 0, 0, london), london, false},
		{"the site's zone counts, not UTC", office, time.Date(2026, 6, 3, 7, 30, 0, 0, time.UTC), london, true},
		{"the same instant read in New York is closed", office, time.Date(2026, 6, 3, 7, 30, 0, 0, time.UTC), ny, false},
		{"09:00 local after spring forward is open", office, time.Date(2026, 3, 30, 9, 0, 0, 0, london), london, true},
		{"07:30 local after spring forward is closed (06:30 UTC)", office, time.Date(2026, 3, 30, 6, 30, 0, 0, time.UTC), london, false},
		{"08:30 local after fall back is open", office, time.Date(2026, 10, 26, 8, 30, 0, 0, time.UTC), london, true},
		{"overnight window: friday evening", night, time.Date(2026, 3, 27, 23, 0, 0, 0, london), london, true},
		{"overnight window: saturday early morning", night, time.Date(2026, 3, 28, 5, 59, 0, 0, london), london, true},
		{"overnight window: saturday 06:00 is closed", night, time.Date(2026, 3, 28, 6, 0, 0, 0, london), london, false},
		{"overnight across spring forward: 03:30 BST saturday", night, time.Date(2026, 3, 29, 3, 30, 0, 0, london), london, false},
		{"window in the skipped hour: 01:30 UTC is 02:30 BST", early, time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC), london, true},
		{"repeated hour at fall back is open both times", early, time.Date(2026, 10, 25, 0, 30, 0, 0, time.UTC), london, true},
		{"repeated hour, second pass", early, time.Date(2026, 10, 25, 1, 30, 0, 0, time.UTC), london, true},
		{"whole day ends at midnight", allDay, time.Date(2026, 3, 29, 23, 59, 0, 0, london), london, true},
		{"holiday closes a weekday", withHoliday, time.Date(2026, 12, 25, 10, 0, 0, 0, london), london, false},
		{"day after the holiday is open", withHoliday, time.Date(2026, 12, 28, 10, 0, 0, 0, london), london, true},
		{"holiday that starts a night shift closes its morning too", nightHoliday, time.Date(2026, 3, 28, 2, 0, 0, 0, london), london, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.profile.Allows(tt.at, tt.loc); got != tt.want {
				t.Errorf("got %v, want %v (at %v)", got, tt.want, tt.at.In(tt.loc))
			}
		})
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		wantBad bool
	}{
		{"user with name", User{FirstName: "Ann"}.Validate(), false},
		{"user without name", User{Email: "a@example.com"}.Validate(), true},
		{"user with bad email", User{FirstName: "Ann", Email: "not-an-email"}.Validate(), true},
		{"user email with header break", User{FirstName: "Ann", Email: "a@example.com\r\nBcc: x@y.z"}.Validate(), true},
		{"user ends before start", User{FirstName: "Ann", ValidFrom: time.Unix(100, 0), ValidUntil: time.Unix(50, 0)}.Validate(), true},
		{"group without name", Group{}.Validate(), true},
		{"access point ok", func() error {
			a := AccessPoint{Name: "Front", Reader: "sim:front"}
			a.Normalize()
			return a.Validate()
		}(), false},
		{"access point with bad reader", func() error {
			a := AccessPoint{Name: "Front", Reader: "usb0"}
			a.Normalize()
			return a.Validate()
		}(), true},
		{"access point with bad mode", func() error {
			a := AccessPoint{Name: "Front", Reader: "hci0", Mode: "teleport"}
			a.Normalize()
			return a.Validate()
		}(), true},
		{"access point calibrated", func() error {
			a := AccessPoint{Name: "Front", Reader: "hci0", RSSIOffset: -MaxRSSIOffset}
			a.Normalize()
			return a.Validate()
		}(), false},
		{"access point calibrated past the bound", func() error {
			a := AccessPoint{Name: "Front", Reader: "hci0", RSSIOffset: MaxRSSIOffset + 1}
			a.Normalize()
			return a.Validate()
		}(), true},
		{"time profile without windows", TimeProfile{Name: "x"}.Validate(), true},
		{"time profile with empty window", TimeProfile{Name: "x", Windows: []Window{{Days: []time.Weekday{1}, Start: 60, End: 60}}}.Validate(), true},
		{"permission with user and group", Permission{UserID: 1, GroupID: 2, AccessPointID: 3}.Validate(), true},
		{"permission with group", Permission{GroupID: 2, AccessPointID: 3}.Validate(), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.err != nil; got != tt.wantBad {
				t.Errorf("got error %v, want error: %v", tt.err, tt.wantBad)
			}
		})
	}
}

func TestModeDefaults(t *testing.T) {
	a := AccessPoint{Name: "Car park", Reader: "sim:gate", Mode: ModeLongRange}
	a.Normalize()
	if a.RSSIThreshold != -90 {
		t.Errorf("got %d, want -90", a.RSSIThreshold)
	}
	d := AccessPoint{Name: "Door", Reader: "sim:door"}
	d.Normalize()
	if d.Mode != ModeDirect || d.RSSIThreshold != -60 || d.UnlockDuration != DefaultUnlockDuration {
		t.Errorf("got %+v, want direct at -60 dBm with the default unlock time", d)
	}
}

func TestParseWindow(t *testing.T) {
	tests := []struct {
		in      string
		want    string
		wantErr bool
	}{
		{"Mon-Fri 08:00-18:00", "Mon-Fri 08:00-18:00", false},
		{"sat, sun 10:00-14:00", "Sat Sun 10:00-14:00", false},
		{"Weekdays 22:00-06:00", "Mon-Fri 22:00-06:00", false},
		{"Fri-Mon 00:00-24:00", "Mon Fri-Sun 00:00-24:00", false},
		{"Tue Thu 09:00-10:00", "Tue Thu 09:00-10:00", false},
		{"Mon Tue 09:00-10:00", "Mon Tue 09:00-10:00", false},
		{"Daily 07:30-19:15", "Mon-Sun 07:30-19:15", false},
		{"Tuesday 09:00-10:00", "Tue 09:00-10:00", false},
		{"Funday 09:00-10:00", "", true},
		{"Mon 9-10", "", true},
		{"Mon 25:00-26:00", "", true},
		{"08:00-18:00", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			w, err := ParseWindow(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("got error %v, want error: %v", err, tt.wantErr)
			}
			if err == nil && w.String() != tt.want {
				t.Errorf("got %q, want %q", w.String(), tt.want)
			}
		})
	}
}

func TestRegistrationCode(t *testing.T) {
	seen := map[string]bool{}
	var digitCount [10]int
	for i := 0; i < 2000; i++ {
		c := NewRegistrationCode()
		if len(c) != CodeDigits {
			t.Fatalf("got %d digits, want %d", len(c), CodeDigits)
		}
		if seen[c] {
			t.Fatalf("code %s drawn twice", c)
		}
		seen[c] = true
		for _, r := range c {
			if r < '0' || r > '9' {
				t.Fatalf("code %q has a non-digit", c)
			}
			digitCount[r-'0']++
		}
	}
	// 64,000 digits: each should be near 6,400 (σ ≈ 76). The bound is eight
	// σ wide, so it never flakes, and still catches a gross skew such as a
	// digit drawn from a nibble.
	for d, n := range digitCount {
		if n < 5800 || n > 7000 {
			t.Errorf("digit %d appeared %d times in 64000, want about 6400", d, n)
		}
	}
}

func TestNormalizeCode(t *testing.T) {
	tests := []struct {
		in     string
		want   string
		wantOK bool
	}{
		{"12345678901234567890123456789012", "12345678901234567890123456789012", true},
		{"1234 5678 9012 3456 7890 1234 5678 9012", "12345678901234567890123456789012", true},
		{"1234-5678-9012-3456-7890-1234-5678-9012", "12345678901234567890123456789012", true},
		{"1234567890123456789012345678901", "", false},
		{"1234567890123456789012345678901x", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got, ok := NormalizeCode(tt.in)
		if ok != tt.wantOK || (ok && got != tt.want) {
			t.Errorf("NormalizeCode(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}

func TestWindowStringRoundTrip(t *testing.T) {
	for _, in := range []string{"Mon-Fri 08:00-18:00", "Mon Fri-Sun 00:00-24:00", "Tue Thu 09:00-10:00", "Mon-Wed Fri 22:00-06:00"} {
		w, err := ParseWindow(in)
		if err != nil {
			t.Fatalf("%q: %v", in, err)
		}
		back, err := ParseWindow(w.String())
		if err != nil || back.String() != w.String() {
			t.Errorf("%q: got %q back (%v), want it unchanged", in, back.String(), err)
		}
	}
}

func TestAccessPointDeadline(t *testing.T) {
	tests := []struct {
		name string
		ap   AccessPoint
		want time.Duration
	}{
		{"default", AccessPoint{}, 800 * time.Millisecond},
		{"own deadline", AccessPoint{ResponseDeadline: 300 * time.Millisecond}, 300 * time.Millisecond},
		{"unlock required waits for the unlock", AccessPoint{RequireUnlock: true, ResponseDeadline: 300 * time.Millisecond}, DefaultUnlockWindow},
		{"own unlock window", AccessPoint{RequireUnlock: true, UnlockWindow: 4 * time.Second}, 4 * time.Second},
		{"window shorter than the deadline", AccessPoint{RequireUnlock: true, UnlockWindow: 2 * time.Second, ResponseDeadline: 5 * time.Second}, 5 * time.Second},
	}
	for _, tt := range tests {
		if got := tt.ap.Deadline(800 * time.Millisecond); got != tt.want {
			t.Errorf("%s: got %v, want %v", tt.name, got, tt.want)
		}
	}
}
