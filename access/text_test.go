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
