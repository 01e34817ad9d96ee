package protocol

import (
	"io"
	"sync"
	"time"
)

// DefaultTicketLifetime is how long a site keeps an expedited-path ticket:
// a week covers a weekend away. A ticket is also gone once used, once the
// site key rolls, and when the appliance restarts (tickets live in memory,
// so a copy of the database opens no door with them).
const DefaultTicketLifetime = 7 * 24 * time.Hour

// MaxTickets bounds the tickets a site keeps; past it, the one closest to
// expiry gives way. One ticket per credential, so it is rarely reached.
const MaxTickets = 1 << 16

// TicketEntry is what the site keeps for one ticket.
type TicketEntry struct {
	Credential CredentialID
	Secret     [SecretSize]byte
	// KeyID is the site key the ticket was issued under: a rollover ends
	// every ticket issued before it.
	KeyID   KeyID
	Expires time.Time
	// Holder is what the site bound the ticket to, opaque here: a digest
	// of the credential's keys, so a ticket dies with the device it was
	// issued to when the credential is re-registered.
	Holder [32]byte
}

// Tickets is the site's memory of the expedited-path tickets it issued:
// at most one live ticket per credential, each redeemed at most once. It
// is safe for concurrent use.
type Tickets struct {
	now      func() time.Time
	lifetime time.Duration

	mu     sync.Mutex
	byID   map[TicketID]TicketEntry
	byCred map[CredentialID]TicketID
}

// NewTickets returns an empty ticket store reading time from now (pass
// time.Now: its readings carry the monotonic clock). lifetime <= 0 means
// DefaultTicketLifetime.
func NewTickets(now func() time.Time, lifetime time.Duration) *Tickets {
	if lifetime <= 0 {
		lifetime = DefaultTicketLifetime
	}
	return &Tickets{now: now, lifetime: lifetime, byID: map[TicketID]TicketEntry{}, byCred: map[CredentialID]TicketID{}}
}

// Issue makes the next ticket for a credential, replacing any it had, with
// the secret the exchange derived (Session2.NextTicketSecret). It reads
// the id from rnd (nil means crypto/rand).
func (t *Tickets) Issue(rnd io.Reader, cred CredentialID, secret [SecretSize]byte, key KeyID, holder [32]byte) (NextTicket, error) {
	var id TicketID
	if err := readRand(rnd, id[:]); err != nil {
		return NextTicket{}, err
	}
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if old, ok := t.byCred[cred]; ok {
		delete(t.byID, old)
	}
	if len(t.byID) >= MaxTickets {
		t.evictLocked(now)
	}
	t.byID[id] = TicketEntry{Credential: cred, Secret: secret, KeyID: key, Expires: now.Add(t.lifetime), Holder: holder}
	t.byCred[cred] = id
	return NextTicket{ID: id, Lifetime: t.lifetime}, nil
}

// evictLocked drops expired tickets, or failing that the one closest to
// expiry.
func (t *Tickets) evictLocked(now time.Time) {
	var oldest TicketID
	var oldestAt time.Time
	for id, e := range t.byID {
		if !now.Before(e.Expires) {
			t.dropLocked(id, e)
			continue
		}
		if oldestAt.IsZero() || e.Expires.Before(oldestAt) {
			oldest, oldestAt = id, e.Expires
		}
	}
	if len(t.byID) >= MaxTickets {
		t.dropLocked(oldest, t.byID[oldest])
	}
}

func (t *Tickets) dropLocked(id TicketID, e TicketEntry) {
	delete(t.byID, id)
	if t.byCred[e.Credential] == id {
		delete(t.byCred, e.Credential)
	}
}

// Redeem takes the ticket a hello offers, if this site issued it, it is
// live and was issued under the current site key, and the hello's MAC
// proves the key holds its secret. A redeemed ticket is gone: the hello
// cannot be replayed. A hello whose MAC does not verify leaves the ticket
// alone, so a listener who saw its id cannot spend it.
func (t *Tickets) Redeem(h *Hello, current KeyID) (TicketEntry, bool) {
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	e, ok := t.byID[h.TicketID]
	if !ok {
		return TicketEntry{}, false
	}
	if !now.Before(e.Expires) || e.KeyID != current {
		t.dropLocked(h.TicketID, e)
		return TicketEntry{}, false
	}
	if !h.TicketValid(e.Secret) {
		return TicketEntry{}, false
	}
	t.dropLocked(h.TicketID, e)
	return e, true
}

// Forget drops a credential's ticket, so its next presentation is a full
// exchange.
func (t *Tickets) Forget(cred CredentialID) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if id, ok := t.byCred[cred]; ok {
		t.dropLocked(id, t.byID[id])
	}
}

// Len is the number of tickets kept.
func (t *Tickets) Len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.byID)
}
