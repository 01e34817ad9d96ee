package store

import (
	"encoding/base64"
	"encoding/json"
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
}

func (o ListOptions) limit() int {
	switch {
	case o.Limit <= 0:
		return DefaultLimit
	case o.Limit > MaxLimit:
		return MaxLimit
	}
	return o.Limit
}

// Page is one page of a listing; Next is empty on the last page.
type Page[T any] struct {
	Items []T
	Next  string
}

// nameCursor is the keyset position after a row sorted by (a, b, id).
type nameCursor struct {
	A  string `json:"a"`
	B  string `json:"b,omitempty"`
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

// ValidCursor reports whether s is empty or a cursor the store wrote.
func ValidCursor(s string) bool {
	_, ok := decodeCursor(s)
	return s == "" || ok
}
