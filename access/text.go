package access

import (
	"unicode"
	"unicode/utf8"
)

// Text that people type and other people read (names, descriptions) goes
// through one check on every path, the API's and the forms'. It refuses
// what shows as nothing or as something else: control characters (NUL,
// BEL, ESC), line breaks in a one-line field, and the invisible format
// characters that reorder or hide text, such as U+202E RIGHT-TO-LEFT
// OVERRIDE, which makes "Front door\u202Eexe.txt" read differently from
// what it is. The joiners that scripts and emoji need (U+200C, U+200D)
// and emoji tag sequences stay allowed.

// CheckLine returns what is wrong with s as one line of text, or nil.
func CheckLine(s string) error { return checkText(s, false) }

// CheckLines is CheckLine for text that may span lines (a description):
// line feeds, carriage returns and tabs are allowed too.
func CheckLines(s string) error { return checkText(s, true) }

func checkText(s string, lines bool) error {
	if !utf8.ValidString(s) {
		return &ValidationError{Message: "is not valid text (it holds bytes that are not UTF-8)"}
	}
	for _, r := range s {
		switch {
		case lines && (r == '\n' || r == '\r' || r == '\t'):
		case unicode.IsControl(r) || r == '\u2028' || r == '\u2029':
			return &ValidationError{Message: "must not contain control characters or line breaks"}
		case unicode.Is(unicode.Cf, r) && !allowedFormat(r):
			return &ValidationError{Message: "must not contain invisible formatting characters such as direction overrides (U+202E)"}
		}
	}
	return nil
}

// allowedFormat reports the format characters text needs: the zero-width
// joiner and non-joiner (Persian, Indic scripts, emoji sequences) and the
// tag characters of emoji subdivision flags.
func allowedFormat(r rune) bool {
	return r == '\u200C' || r == '\u200D' || (r >= 0xE0020 && r <= 0xE007F)
}

// addText records field's text problem in errs, if it has one.
func (es *ValidationErrors) addText(field string, err error) {
	if err != nil {
		es.Add(field, "%s", err.(*ValidationError).Message)
	}
}
