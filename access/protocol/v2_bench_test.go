package protocol

import (
	"testing"
	"time"
)

// The expedited path beside the full one: the whole exchange's CPU, both
// sides in one process, and each side alone. docs/performance.md quotes
// them.

// BenchmarkV2Full is one full exchange, key and reader: hello, signed
// challenge, response, open and verify, result with the next ticket.
func BenchmarkV2Full(b *testing.B) {
	f := newV2Fixture(b)
	tickets := NewTickets(time.Now, 0)
	p := f.params(0)
	for b.Loop() {
		r := f.full(b, p, false)
		if err := r.opened.Verify(&f.tap.PublicKey); err != nil {
			b.Fatal(err)
		}
		next, _ := tickets.Issue(nil, f.cred, r.opened.Session.NextTicketSecret(), KeyID{}, [32]byte{})
		sealed, err := SealResult2(r.opened.Session, Result{Granted: true, Reason: ReasonGranted}, &next)
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := OpenResult2(r.keySess, sealed); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkV2Expedited is one expedited exchange, key and reader: hello
// with a ticket, redeem, result with the next ticket.
func BenchmarkV2Expedited(b *testing.B) {
	f := newV2Fixture(b)
	tickets := NewTickets(time.Now, 0)
	var secret [SecretSize]byte
	n, _ := tickets.Issue(nil, f.cred, secret, KeyID{}, [32]byte{})
	kt := &KeyTicket{ID: n.ID, Secret: secret}
	for b.Loop() {
		k, err := NewHello(nil, kt, nil)
		if err != nil {
			b.Fatal(err)
		}
		h, err := ParseHello(k.Bytes())
		if err != nil {
			b.Fatal(err)
		}
		e, ok := tickets.Redeem(h, KeyID{})
		if !ok {
			b.Fatal("ticket not redeemed")
		}
		sess, err := NewReaderExchange(h).Expedite(nil, e.Secret)
		if err != nil {
			b.Fatal(err)
		}
		next, _ := tickets.Issue(nil, e.Credential, sess.NextTicketSecret(), KeyID{}, [32]byte{})
		sealed, err := SealResult2(sess, Result{Granted: true, Reason: ReasonGranted}, &next)
		if err != nil {
			b.Fatal(err)
		}
		if _, kt, err = k.OpenExpedited(sealed); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkV2FullReader is the reader's share of a full exchange: parse
// the hello, sign the challenge, open and verify the response, seal.
func BenchmarkV2FullReader(b *testing.B) {
	f := newV2Fixture(b)
	k := f.hello(b, nil, nil)
	p := f.params(0)
	// One response per challenge: make them outside the timer.
	for b.Loop() {
		b.StopTimer()
		h, _ := ParseHello(k.Bytes())
		x := NewReaderExchange(h)
		b.StartTimer()
		raw, err := x.Challenge(nil, p)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		ch, _, err := k.ReadChallenge(raw, f.pins, t0)
		if err != nil {
			b.Fatal(err)
		}
		resp, _, _ := k.Respond(ch, f.cred, f.tap, false)
		b.StartTimer()
		o, err := x.OpenResponse(resp)
		if err != nil {
			b.Fatal(err)
		}
		if err := o.Verify(&f.tap.PublicKey); err != nil {
			b.Fatal(err)
		}
		if _, err := SealResult2(o.Session, Result{Granted: true, Reason: ReasonGranted}, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkV2ExpeditedReader is the reader's share of an expedited
// exchange: parse the hello, check its MAC, one ECDH, seal.
func BenchmarkV2ExpeditedReader(b *testing.B) {
	f := newV2Fixture(b)
	var secret [SecretSize]byte
	k := f.hello(b, &KeyTicket{ID: TicketID{1}, Secret: secret}, nil)
	raw := k.Bytes()
	for b.Loop() {
		h, err := ParseHello(raw)
		if err != nil {
			b.Fatal(err)
		}
		if !h.TicketValid(secret) {
			b.Fatal("MAC")
		}
		sess, err := NewReaderExchange(h).Expedite(nil, secret)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := SealResult2(sess, Result{Granted: true, Reason: ReasonGranted}, &NextTicket{ID: TicketID{2}, Lifetime: time.Hour}); err != nil {
			b.Fatal(err)
		}
	}
}
