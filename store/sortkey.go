package store

import (
	"database/sql/driver"
	"fmt"
	"strings"

	"modernc.org/sqlite"
)

// The users list sorts the way people read names: case folded, and numbers
// by value, so "Temp5" comes before "Temp49". SQLite's collations compare
// digits as text, and a collation of our own would make the database file
// unusable to any other SQLite that opens it, so each user row keeps a
// sort key made here (sort_name, sort_email) that plain byte order sorts
// right, with an index on it.

// sortKey joins the parts' keys with a byte below any character, so a
// shorter first part sorts first ("Lee" before "Lee-Smith").
func sortKey(parts ...string) string {
	var b strings.Builder
	for i, p := range parts {
		if i > 0 {
			b.WriteByte(1)
		}
		naturalKey(&b, p)
	}
	return b.String()
}

// maxDigits bounds a run of digits in a sort key: longer runs are cut, and
// sort among themselves by their first maxDigits digits.
const maxDigits = 99

// naturalKey writes s lower-cased, with every run of digits written as its
// length in two digits and then the digits without their leading zeros:
// "5" is "015" and "49" is "0249", so "015" < "0249" as 5 < 49, and digits
// still sort before letters as they do in plain text.
func naturalKey(b *strings.Builder, s string) {
	s = strings.ToLower(s)
	for i := 0; i < len(s); {
		if s[i] < '0' || s[i] > '9' {
			j := i + 1
			for j < len(s) && (s[j] < '0' || s[j] > '9') {
				j++
			}
			b.WriteString(s[i:j])
			i = j
			continue
		}
		j := i
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		digits := strings.TrimLeft(s[i:j], "0")
		if len(digits) > maxDigits {
			digits = digits[:maxDigits]
		}
		fmt.Fprintf(b, "%02d%s", len(digits), digits)
		i = j
	}
}

// noEmailKey sorts a user without an email address after every address:
// U+10FFFF is the last character there is.
const noEmailKey = "\U0010FFFF"

// emailSortKey is a user's sort_email.
func emailSortKey(email string) string {
	if email == "" {
		return noEmailKey
	}
	return sortKey(email)
}

// nameSortKey is a user's sort_name: last name, then first.
func nameSortKey(first, last string) string {
	return sortKey(last, first)
}

// The migration that adds the keys fills them for the users already there
// with these functions. They exist only in this program's connections: the
// schema never refers to them, so the file stays readable to any SQLite.
func init() {
	text := func(v driver.Value) string {
		switch v := v.(type) {
		case string:
			return v
		case []byte:
			return string(v)
		}
		return ""
	}
	sqlite.MustRegisterDeterministicScalarFunction("postern_name_sort_key", 2, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		return nameSortKey(text(args[0]), text(args[1])), nil
	})
	sqlite.MustRegisterDeterministicScalarFunction("postern_email_sort_key", 1, func(_ *sqlite.FunctionContext, args []driver.Value) (driver.Value, error) {
		return emailSortKey(text(args[0])), nil
	})
}
