package access_test

import (
	"testing"

	"postern/access"
)

func TestCheckText(t *testing.T) {
	tests := []struct {
		name      string
		text      string
		wantLine  bool // CheckLine accepts it
		wantLines bool // CheckLines accepts it
	}{
		{"plain", "Front door", true, true},
		{"accents and scripts", "Zoë Ørsted 山田 محمد", true, true},
		{"Persian with a zero-width non-joiner", "می\u200cخواهم", true, true},
		{"emoji joined by ZWJ", "Team 👩\u200d💻", true, true},
		{"emoji flag of a subdivision (tags)", "\U0001F3F4\U000E0067\U000E0062\U000E0073\U000E0063\U000E0074\U000E007F", true, true},
		{"NUL", "Ann\x00", false, false},
		{"BEL", "Ann\a", false, false},
		{"ESC", "Ann\x1b[31m", false, false},
		{"DEL", "Ann\x7f", false, false},
		{"C1 control", "Ann\u0085", false, false},
		{"line feed", "Ann\nLee", false, true},
		{"tab", "Ann\tLee", false, true},
		{"line separator", "Ann\u2028Lee", false, false},
		{"right-to-left override", "Front\u202Erood", false, false},
		{"left-to-right embedding", "\u202AFront", false, false},
		{"first strong isolate", "\u2068Front\u2069", false, false},
		{"right-to-left mark", "Front\u200F", false, false},
		{"zero-width space", "Fr\u200Bont", false, false},
		{"byte order mark", "\uFEFFFront", false, false},
		{"soft hyphen", "ad\u00ADmin", false, false},
		{"invalid UTF-8", "Ann \xff\xfe", false, false},
		{"half a character", "Zo\xc3", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := access.CheckLine(tt.text); (err == nil) != tt.wantLine {
				t.Errorf("CheckLine(%q) = %v, want accepted %v", tt.text, err, tt.wantLine)
			}
			if err := access.CheckLines(tt.text); (err == nil) != tt.wantLines {
				t.Errorf("CheckLines(%q) = %v, want accepted %v", tt.text, err, tt.wantLines)
			}
		})
	}
}

func TestClip(t *testing.T) {
	tests := []struct {
		s    string
		n    int
		want string
	}{
		{"ann@example.com", 254, "ann@example.com"},
		{"abcdef", 6, "abcdef"},
		{"abcdefgh", 6, "abc…"},
		{"ééééé", 6, "é…"}, // no half é before the ellipsis
		{"abc", 2, ""},
	}
	for _, tt := range tests {
		if got := access.Clip(tt.s, tt.n); got != tt.want || len(got) > tt.n {
			t.Errorf("Clip(%q, %d) = %q, want %q", tt.s, tt.n, got, tt.want)
		}
	}
}

func TestPrintable(t *testing.T) {
	tests := []struct{ in, want string }{
		{"postern key 1.0 (linux)", "postern key 1.0 (linux)"},
		{"Pixel\x00 8\a", "Pixel 8"},
		{"iPhone\u202E\u200B 15", "iPhone 15"},
		{"bad \xff bytes", "bad  bytes"},
		{"👩\u200d💻 laptop", "👩\u200d💻 laptop"},
	}
	for _, tt := range tests {
		if got := access.Printable(tt.in); got != tt.want || access.CheckLine(got) != nil {
			t.Errorf("Printable(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
