package store

import (
	"slices"
	"testing"
)

// Names sort as people read them: numbers by value, case folded.
func TestSortKeyOrder(t *testing.T) {
	tests := []struct {
		name string
		in   []string // in the order people expect
	}{
		{"numbers by value", []string{"Temp1", "Temp5", "Temp10", "Temp49", "Temp100"}},
		{"case does not count", []string{"adams", "Baker", "carter"}},
		{"leading zeros", []string{"Room 007", "Room 8", "Room 10"}},
		{"digits before letters, as in text", []string{"2nd floor", "Annex"}},
		{"a prefix first", []string{"Lee", "Lee-Smith"}},
		{"numbers inside words", []string{"B2 Gate", "B10 Gate", "C1 Gate"}},
		{"long numbers", []string{"9", "12345678901234567890", "99999999999999999999"}},
		{"accents after plain letters", []string{"Mueller", "Muller", "Müller"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys := make([]string, len(tt.in))
			for i, s := range tt.in {
				keys[i] = sortKey(s)
			}
			if !slices.IsSorted(keys) {
				t.Errorf("keys of %q are not in that order: %q", tt.in, keys)
			}
		})
	}
}

// A last name sorts before a first name: "Lee, Zoe" before "Lees, Ann".
func TestNameSortKey(t *testing.T) {
	if a, b := nameSortKey("Zoe", "Lee"), nameSortKey("Ann", "Lees"); a >= b {
		t.Errorf("Zoe Lee %q sorts after Ann Lees %q", a, b)
	}
	if a, b := emailSortKey("zed@example.com"), emailSortKey(""); a >= b {
		t.Errorf("an address %q sorts after none %q", a, b)
	}
}
