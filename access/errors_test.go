package access

import (
	"errors"
	"fmt"
	"maps"
	"strings"
	"testing"
	"time"
)

// TestValidateEveryField checks that Validate names every field that is
// wrong, not only the first.
func TestValidateEveryField(t *testing.T) {
	long := strings.Repeat("x", 101)
	tests := []struct {
		name string
		err  error
		want map[string]string
	}{
		{"user", User{LastName: long, Email: "not-an-email", ValidFrom: time.Unix(100, 0), ValidUntil: time.Unix(50, 0)}.Validate(), map[string]string{
			"last_name":   "must be at most 100 characters",
			"email":       "is not a valid email address",
			"valid_until": "must be after valid from",
		}},
		{"user without a name", User{Email: "x"}.Validate(), map[string]string{
			"first_name": "a first or last name is required",
			"email":      "is not a valid email address",
		}},
		{"group", Group{Description: strings.Repeat("x", 1001)}.Validate(), map[string]string{
			"name":        "is required",
			"description": "must be at most 1000 characters",
		}},
		{"access point", AccessPoint{Reader: "usb0", Mode: "teleport", RSSIThreshold: -10, UnlockDuration: 2 * time.Hour, State: "open", Direction: "sideways"}.Validate(), map[string]string{
			"name":           "is required",
			"reader":         "must be sim:NAME (lower-case letters, digits, . _ -) or hciN, after READER/ for a remote reader",
			"mode":           "must be direct, touch or long-range",
			"rssi_threshold": "must be between -120 and -20 dBm",
			"unlock_seconds": "must be between 1 and 3600 seconds",
			"state":          "must be normal, lockdown or unlocked",
			"direction":      "must be entry, exit or neither",
		}},
		{"time profile keeps the first wrong window", TimeProfile{Windows: []Window{
			{Days: []time.Weekday{1}, Start: 60, End: 120},
			{Start: 60, End: 120},
			{Days: []time.Weekday{2}, Start: 60, End: 60},
		}}.Validate(), map[string]string{
			"name":    "is required",
			"windows": "window 2 has no days",
		}},
		{"permission", Permission{}.Validate(), map[string]string{
			"user_id":         "give either a user or a group",
			"access_point_id": "is required",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			es, ok := AsValidationErrors(tt.err)
			if !ok {
				t.Fatalf("got %T %v, want ValidationErrors", tt.err, tt.err)
			}
			if got := es.Fields(); !maps.Equal(got, tt.want) {
				t.Errorf("got fields %v, want %v", got, tt.want)
			}
		})
	}
}

func TestValidationErrors(t *testing.T) {
	var errs ValidationErrors
	if err := errs.Err(); err != nil {
		t.Fatalf("empty: got %v, want a nil error", err)
	}
	errs.Add("name", "is required")
	errs.Add("reader", "must be %s", "hciN")
	errs.Add("name", "is taken") // a field's first message stays
	err := fmt.Errorf("store: create access point: %w", errs.Err())

	if got, want := errs.Error(), "name: is required; reader: must be hciN"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	var one *ValidationError
	if !errors.As(err, &one) || one.Field != "name" {
		t.Errorf("errors.As *ValidationError: got %v, want the name error", one)
	}
	var all ValidationErrors
	if !errors.As(err, &all) || len(all) != 2 {
		t.Errorf("errors.As ValidationErrors: got %v, want both errors", all)
	}
	if got := errs.Fields(); !maps.Equal(got, map[string]string{"name": "is required", "reader": "must be hciN"}) {
		t.Errorf("got fields %v", got)
	}

	tests := []struct {
		name      string
		err       error
		wantOK    bool
		wantCount int
	}{
		{"nil", nil, false, 0},
		{"other error", errors.New("disk full"), false, 0},
		{"single", fmt.Errorf("wrapped: %w", Invalid("email", "is not valid")), true, 1},
		{"list", err, true, 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := AsValidationErrors(tt.err)
			if ok != tt.wantOK || len(got) != tt.wantCount {
				t.Errorf("got %v, %v, want %d errors, %v", got, ok, tt.wantCount, tt.wantOK)
			}
			var merged ValidationErrors
			merged.Add("email", "was typed twice")
			if m := merged.Merge(tt.err); m != tt.wantOK {
				t.Errorf("Merge: got %v, want %v", m, tt.wantOK)
			}
			if merged[0].Message != "was typed twice" {
				t.Errorf("Merge replaced a field's first message: %v", merged)
			}
		})
	}
}
