package store

import (
	"encoding/base64"
	"encoding/json"
	"slices"
)

// DefaultLimit and MaxLimit bound a page of a listing.
const (
	DefaultLimit = 50
	MaxLimit     = 500
)

// ListOptions asks for one page of a listing sorted by name.
type ListOptions struct {
	After string // the Next cursor of the previous page
	Limit int
	Query string // search words, where the listing supports them

	// Where a listing supports them (Users): the order, its direction, and
	// Before, the Prev cursor of the following page, to page backwards.
	Sort   string // SortName (the default), SortEmail, SortLastUsed
	Desc   bool
	Before string
}

// Sort orders of the users listing.
const (
	SortName     = "name"      // last name, then first
	SortEmail    = "email"     // users without one last
	SortLastUsed = "last_used" // when one of their credentials was last used; never first
)

func (o ListOptions) limit() int {
	switch {
	case o.Limit <= 0:
		return DefaultLimit
	case o.Limit > MaxLimit:
		return MaxLimit
	}
	return o.Limit
}

// Page is one page of a listing; Next is empty on the last page. Prev,
// where a listing pages backwards, is empty on the first.
type Page[T any] struct {
	Items []T
	Next  string
	Prev  string
}

// nameCursor is the keyset position after a row sorted by (a, b, id), or
// by (n, id) for a number.
type nameCursor struct {
	A  string `json:"a,omitempty"`
	B  string `json:"b,omitempty"`
	N  int64  `json:"n,omitempty"`
	ID int64  `json:"i"`
}

func (c nameCursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeCursor reads a cursor; a malformed one starts from the beginning,
// since it can only come from a hand-edited URL.
func decodeCursor(s string) (nameCursor, bool) {
	var c nameCursor
	if s == "" {
		return c, false
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(b, &c) != nil || c.ID <= 0 {
		return nameCursor{}, false
	}
	return c, true
}

// paginate trims rows fetched with limit+1 and builds the next cursor.
func paginate[T any](rows []T, limit int, cur func(T) nameCursor) Page[T] {
	p := Page[T]{Items: rows}
	if len(rows) > limit {
		p.Items = rows[:limit]
		p.Next = cur(rows[limit-1]).encode()
	}
	if p.Items == nil {
		p.Items = []T{}
	}
	return p
}

// trimByID trims rows fetched newest first with limit+1 and returns the id
// to continue before, 0 on the last page.
func trimByID[T any](rows []T, limit int, id func(T) int64) ([]T, int64) {
	if len(rows) <= limit {
		return rows, 0
	}
	rows = rows[:limit]
	return rows, id(rows[limit-1])
}

// pageBothWays trims rows fetched with limit+1 in the order asked for (or,
// paging back, the reverse order) and sets both cursors. Going forward
// there is a previous page when the listing did not start at the top;
// going back there is a next page, the one it came from.
func pageBothWays[T any](rows []T, limit int, back, fromCursor bool, cur func(T) nameCursor) Page[T] {
	more := len(rows) > limit
	if more {
		rows = rows[:limit]
	}
	if back {
		slices.Reverse(rows)
	}
	p := Page[T]{Items: rows}
	if len(rows) == 0 {
		p.Items = []T{}
		return p
	}
	first, last := cur(rows[0]).encode(), cur(rows[len(rows)-1]).encode()
	switch {
	case back:
		p.Next = last
		if more {
			p.Prev = first
		}
	default:
		if more {
			p.Next = last
		}
		if fromCursor {
			p.Prev = first
		}
	}
	return p
}

// ValidCursor reports whether s is empty or a cursor the store wrote.
func ValidCursor(s string) bool {
	_, ok := decodeCursor(s)
	return s == "" || ok
}
