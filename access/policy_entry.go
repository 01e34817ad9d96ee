package access

import "time"

// A large site has a hundred thousand credentials and users. The policy
// keeps them in the compact forms below: a credential holds no pointer at
// all, so the garbage collector never scans them, and a user holds one.

// publicKeySize is a SEC1 uncompressed P-256 key's length, the form keys
// are stored in.
const publicKeySize = 65

// credEntry is a credential as a decision reads it.
type credEntry struct {
	userID   int64
	status   uint8 // index in credentialStatuses
	keys     uint8 // which of the keys below are held
	protocol uint8 // the version the device speaks
	tap, uv  [publicKeySize]byte
}

const (
	hasTap   = 1 << iota
	hasUV    // in the arrays
	oddSized // in Policy.oddKeys: not 65 bytes
)

// credentialStatuses are the statuses a credEntry can hold; any other
// reads as not active.
var credentialStatuses = []CredentialStatus{"", CredentialInvited, CredentialActive, CredentialRevoked, CredentialExpired}

func newCredEntry(c Credential) (credEntry, bool) {
	e := credEntry{userID: c.UserID, protocol: uint8(c.Protocol)}
	for i, s := range credentialStatuses {
		if s == c.Status {
			e.status = uint8(i)
		}
	}
	odd := false
	for _, k := range []struct {
		key []byte
		to  *[publicKeySize]byte
		bit uint8
	}{{c.TapKey, &e.tap, hasTap}, {c.UVKey, &e.uv, hasUV}} {
		switch len(k.key) {
		case 0:
		case publicKeySize:
			copy(k.to[:], k.key)
			e.keys |= k.bit
		default:
			odd = true
		}
	}
	if odd {
		e.keys = oddSized
	}
	return e, odd
}

// credential rebuilds the Credential; odd holds its keys when they are
// not 65 bytes long.
func (e credEntry) credential(id CredentialID, odd [2][]byte) Credential {
	c := Credential{ID: id, UserID: e.userID, Status: credentialStatuses[e.status], Protocol: int(e.protocol)}
	switch {
	case e.keys&oddSized != 0:
		c.TapKey, c.UVKey = odd[0], odd[1]
	default:
		if e.keys&hasTap != 0 {
			c.TapKey = append([]byte(nil), e.tap[:]...)
		}
		if e.keys&hasUV != 0 {
			c.UVKey = append([]byte(nil), e.uv[:]...)
		}
	}
	return c
}

// userEntry is a user as a decision and its event read them.
type userEntry struct {
	names       string // the first name, then the last
	split       int    // where the last name begins in names
	enabled     bool
	exempt      bool  // allowed in during a lockdown
	from, until int64 // unix nanoseconds; 0: no limit
}

func newUserEntry(u User) userEntry {
	e := userEntry{names: u.FirstName + u.LastName, split: len(u.FirstName), enabled: u.Enabled, exempt: u.LockdownExempt}
	if !u.ValidFrom.IsZero() {
		e.from = u.ValidFrom.UnixNano()
	}
	if !u.ValidUntil.IsZero() {
		e.until = u.ValidUntil.UnixNano()
	}
	return e
}

func (e userEntry) user(id int64) User {
	u := User{ID: id, FirstName: e.names[:e.split], LastName: e.names[e.split:], Enabled: e.enabled, LockdownExempt: e.exempt}
	if e.from != 0 {
		u.ValidFrom = time.Unix(0, e.from)
	}
	if e.until != 0 {
		u.ValidUntil = time.Unix(0, e.until)
	}
	return u
}

// groupList is a user's groups; most users are in one, which takes no
// allocation of its own.
type groupList struct {
	first int64
	more  []int64
}

func newGroupList(groups []int64) groupList {
	l := groupList{first: groups[0]}
	if len(groups) > 1 {
		l.more = append([]int64(nil), groups[1:]...)
	}
	return l
}

// each calls fn with every group; the zero groupList has none (group ids
// start at 1).
func (l groupList) each(fn func(int64)) {
	if l.first == 0 {
		return
	}
	fn(l.first)
	for _, g := range l.more {
		fn(g)
	}
}
