package store_test

import (
	"reflect"
	"testing"
	"time"

	"postern/access"
	"postern/store"
)

func TestTimeProfileRoundTrip(t *testing.T) {
	s := openStore(t)
	ctx := t.Context()
	weekend := []time.Weekday{time.Saturday, time.Sunday}
	tests := []struct {
		name string
		in   access.TimeProfile
		want access.TimeProfile // without ID
	}{
		{"office hours", access.TimeProfile{Name: "Office", Windows: officeHours},
			access.TimeProfile{Name: "Office", Windows: officeHours}},
		{"several windows with an overnight one", access.TimeProfile{Name: "Shifts", Windows: []access.Window{
			{Days: []time.Weekday{time.Friday, time.Monday}, Start: 22 * 60, End: 6 * 60},
			{Days: weekend, Start: 0, End: 1440},
			{Days: []time.Weekday{time.Wednesday}, Start: 12*60 + 30, End: 13*60 + 15},
		}}, access.TimeProfile{Name: "Shifts", Windows: []access.Window{
			{Days: []time.Weekday{time.Monday, time.Friday}, Start: 22 * 60, End: 6 * 60},
			{Days: []time.Weekday{time.Sunday, time.Saturday}, Start: 0, End: 1440},
			{Days: []time.Weekday{time.Wednesday}, Start: 12*60 + 30, End: 13*60 + 15},
		}}},
		{"holidays sorted and deduplicated", access.TimeProfile{Name: "With holidays", Windows: officeHours,
			Holidays: []access.Date{date(2026, 12, 26), date(2026, 12, 25), date(2027, 1, 1), date(2026, 12, 25), date(2025, 12, 31)}},
			access.TimeProfile{Name: "With holidays", Windows: officeHours,
				Holidays: []access.Date{date(2025, 12, 31), date(2026, 12, 25), date(2026, 12, 26), date(2027, 1, 1)}}},
		{"name trimmed", access.TimeProfile{Name: "  Nights  ", Windows: officeHours},
			access.TimeProfile{Name: "Nights", Windows: officeHours}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := tt.in
			if err := s.CreateTimeProfile(ctx, actor, &p); err != nil {
				t.Fatalf("create: %v", err)
			}
			want := tt.want
			want.ID = p.ID
			got, err := s.TimeProfileByID(ctx, p.ID)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("got %+v, want %+v", got, want)
			}
		})
	}

	t.Run("update", func(t *testing.T) {
		p := createTimeProfile(t, s, "Cleaning")
		p.Name = "Cleaning crew"
		p.Windows = []access.Window{{Days: weekend, Start: 6 * 60, End: 9 * 60}}
		p.Holidays = []access.Date{date(2026, 4, 5)}
		if err := s.UpdateTimeProfile(ctx, actor, &p); err != nil {
			t.Fatal(err)
		}
		got, err := s.TimeProfileByID(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, p) {
			t.Errorf("got %+v, want %+v", got, p)
		}
	})

	t.Run("listing by name", func(t *testing.T) {
		page, err := s.TimeProfiles(ctx, store.ListOptions{Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for {
			for _, p := range page.Items {
				got = append(got, p.Name)
			}
			if page.Next == "" {
				break
			}
			if page, err = s.TimeProfiles(ctx, store.ListOptions{Limit: 2, After: page.Next}); err != nil {
				t.Fatal(err)
			}
		}
		want := []string{"Cleaning crew", "Nights", "Office", "Shifts", "With holidays"}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
	})
}
