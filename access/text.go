package access

import (
	"strings"
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

// Clip cuts s to at most n bytes on a character boundary, ending it with
// "…" when it was cut, so text a caller controls has a size before it is
// logged, stored or shown.
func Clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	const ellipsis = "…"
	if n < len(ellipsis) {
		return ""
	}
	s = s[:n-len(ellipsis)]
	// Drop half a character left at the cut.
	for len(s) > 0 {
		if r, size := utf8.DecodeLastRuneInString(s); r != utf8.RuneError || size != 1 {
			break
		}
		s = s[:len(s)-1]
	}
	return s + ellipsis
}

// Printable is s with what CheckLine refuses taken out (invalid bytes,
// control and invisible format characters), for free text a caller sends
// that is kept rather than refused, such as a device's description.
func Printable(s string) string {
	return strings.Map(func(r rune) rune {
		if r == utf8.RuneError || unicode.IsControl(r) || r == '\u2028' || r == '\u2029' || unicode.Is(unicode.Cf, r) && !allowedFormat(r) {
			return -1
		}
		return r
	}, s)
}
