package protocol

import (
	"bytes"
	"crypto/ecdh"
	"crypto/hmac"
	"errors"
	"io"
	"time"
)

// helloSize is the exact size of a hello listing n versions: type, count,
// the list, the key's ephemeral key, the introduction tag, the ticket id
// and the ticket MAC.
func helloSize(n int) int { return 2 + n + PublicKeySize + TagSize + 16 + TagSize }

// KeyTicket is the key's half of an expedited-path ticket: the id the site
// gave it in a result and the secret both sides derived from that exchange.
type KeyTicket struct {
	ID     TicketID
	Secret [SecretSize]byte
	// Lifetime is how long the site said it keeps the ticket, from the
	// result that carried it; NewHello ignores it.
	Lifetime time.Duration
}

// Hello is the key's opening message as the reader reads it. Every field
// is fixed-size and present whether or not it means anything: a key with
// no ticket or no pending introduction fills them with random bytes, so a
// listener cannot tell which keys have either.
type Hello struct {
	// Versions are the versions the key speaks, highest first.
	Versions []Version
	// KeyEphemeral is the key's fresh ECDH key; the site signs over it.
	KeyEphemeral *ecdh.PublicKey
	// IntroTag asks a site that imported one of the key's shares to
	// introduce itself (see Introduces).
	IntroTag [TagSize]byte
	// TicketID and TicketMAC offer the expedited path (see TicketValid).
	TicketID  TicketID
	TicketMAC [TagSize]byte

	raw []byte
}

// KeyHello is a hello the key sent, with what it needs to go on: its
// ephemeral private key and the ticket and introduction it offered, if any.
type KeyHello struct {
	raw    []byte
	eph    *ecdh.PrivateKey
	ticket *KeyTicket
	intro  []byte
}

// NewHello makes a key's hello. ticket, when not nil, offers the
// expedited path at the site that issued it; intro, when not nil, is the
// introduction secret of a pending share. It reads the ephemeral scalar
// from rnd, then random bytes for the fields it has nothing for (nil means
// crypto/rand).
func NewHello(rnd io.Reader, ticket *KeyTicket, intro []byte) (*KeyHello, error) {
	if intro != nil && len(intro) != SecretSize {
		return nil, errors.New("protocol: new hello: an introduction secret is 32 bytes")
	}
	eph, err := ephemeral(rnd)
	if err != nil {
		return nil, err
	}
	vs := HelloVersions()
	b := make([]byte, 0, helloSize(len(vs)))
	b = append(b, typeHello, byte(len(vs)))
	for _, v := range vs {
		b = append(b, byte(v))
	}
	b = append(b, eph.PublicKey().Bytes()...)
	if intro != nil {
		t := tag(intro, labelIntroKey2, eph.PublicKey().Bytes())
		b = append(b, t[:]...)
	} else {
		filler := make([]byte, TagSize)
		if err := readRand(rnd, filler); err != nil {
			return nil, err
		}
		b = append(b, filler...)
	}
	if ticket != nil {
		b = append(b, ticket.ID[:]...)
		mac := tag(ticket.Secret[:], labelTicketMAC2, b)
		b = append(b, mac[:]...)
	} else {
		filler := make([]byte, 16+TagSize)
		if err := readRand(rnd, filler); err != nil {
			return nil, err
		}
		b = append(b, filler...)
	}
	k := &KeyHello{raw: b, eph: eph, ticket: ticket}
	if intro != nil {
		k.intro = bytes.Clone(intro)
	}
	return k, nil
}

// Bytes returns the hello as sent.
func (k *KeyHello) Bytes() []byte { return bytes.Clone(k.raw) }

// OfferedTicket reports whether the hello offered a real ticket. The key
// forgets it either way once the hello is sent: a ticket is shown once.
func (k *KeyHello) OfferedTicket() bool { return k.ticket != nil }

// ParseHello reads a key's hello strictly: exact length, a canonical
// version list, a valid ephemeral key. It refuses anything else with
// ErrMalformed.
func ParseHello(b []byte) (*Hello, error) {
	if len(b) < 2 {
		return nil, refuse(ErrMalformed, "hello is %d bytes, too short for a header", len(b))
	}
	if b[0] != typeHello {
		return nil, refuse(ErrMalformed, "message type 0x%02x is not a hello (0x%02x)", b[0], typeHello)
	}
	n := int(b[1])
	if n < 1 || n > MaxVersions {
		return nil, refuse(ErrMalformed, "hello lists %d versions, want 1 to %d", n, MaxVersions)
	}
	if len(b) != helloSize(n) {
		return nil, refuse(ErrMalformed, "hello is %d bytes, want %d for %d versions", len(b), helloSize(n), n)
	}
	h := &Hello{Versions: make([]Version, n), raw: bytes.Clone(b)}
	for i := range h.Versions {
		h.Versions[i] = Version(b[2+i])
	}
	if err := checkVersions(h.Versions); err != nil {
		return nil, refuse(ErrMalformed, "hello: %v", err)
	}
	off := 2 + n
	key, err := ecdh.P256().NewPublicKey(b[off : off+PublicKeySize])
	if err != nil {
		return nil, refuse(ErrMalformed, "hello key is not a P-256 point: %v", err)
	}
	h.KeyEphemeral = key
	off += PublicKeySize
	off += copy(h.IntroTag[:], b[off:])
	off += copy(h.TicketID[:], b[off:])
	copy(h.TicketMAC[:], b[off:])
	return h, nil
}

// Bytes returns the hello as received, which both sides hash into the
// transcript.
func (h *Hello) Bytes() []byte { return bytes.Clone(h.raw) }

// TicketValid reports whether the hello's MAC was made with secret, the
// ticket's secret as the site keeps it: only the key the ticket was issued
// to can make it. The site also refuses a ticket it has seen before.
func (h *Hello) TicketValid(secret [SecretSize]byte) bool {
	want := tag(secret[:], labelTicketMAC2, h.raw[:len(h.raw)-TagSize])
	return hmac.Equal(want[:], h.TicketMAC[:])
}

// Introduces reports whether the hello's introduction tag was made with
// secret, the introduction secret of a share this site imported.
func (h *Hello) Introduces(secret []byte) bool {
	want := tag(secret, labelIntroKey2, h.KeyEphemeral.Bytes())
	return hmac.Equal(want[:], h.IntroTag[:])
}

// chooseVersion is the reader's pick: the highest version both list.
func chooseVersion(key, reader []Version) (Version, error) {
	v, ok := highestCommon(key, reader)
	if !ok {
		return 0, refuse(ErrUnsupportedVersion, "the key speaks versions %s, the reader %s", versionList(key), versionList(reader))
	}
	return v, nil
}
