package protocol

import (
	"testing"
)

// v2fixture is one site and one key registered there under version 2.
type v2fixture struct {
	fixture
	pins map[SiteID]SitePin
}

func newV2Fixture(tb testing.TB) v2fixture {
	tb.Helper()
	f := newFixture(tb)
	pin := SitePin{Site: f.siteID, KeyID: PublicKeyID(&f.site.PublicKey), Key: &f.site.PublicKey}
	return v2fixture{fixture: f, pins: map[SiteID]SitePin{f.siteID: pin}}
}

func (f v2fixture) signer() SiteSigner { return SiteSigner{ID: f.siteID, Key: f.site} }

func (f v2fixture) params(req Requirements) ChallengeParams {
	p := ChallengeParams{Site: f.signer(), ReaderID: f.readerID, Requirements: req}
	if req.UnlockRequired() {
		p.UnlockWindow = 10e9
	}
	return p
}

// hello makes a key's hello, offering ticket when it is not nil.
func (f v2fixture) hello(tb testing.TB, ticket *KeyTicket, intro []byte) *KeyHello {
	tb.Helper()
	k, err := NewHello(nil, ticket, intro)
	if err != nil {
		tb.Fatalf("NewHello: %v", err)
	}
	return k
}

// reader reads a hello off the air as the reader does.
func reader(tb testing.TB, raw []byte) *ReaderExchange {
	tb.Helper()
	h, err := ParseHello(raw)
	if err != nil {
		tb.Fatalf("ParseHello: %v", err)
	}
	return NewReaderExchange(h)
}

// full runs one full exchange to the reader's open response and returns
// both sides.
type fullRun struct {
	key       *KeyHello
	x         *ReaderExchange
	challenge []byte
	ch        *ChallengeV2
	trust     Trust
	response  []byte
	keySess   *Session2
	opened    *Opened2
}

func (f v2fixture) full(tb testing.TB, p ChallengeParams, uv bool) fullRun {
	tb.Helper()
	var r fullRun
	r.key = f.hello(tb, nil, nil)
	r.x = reader(tb, r.key.Bytes())
	var err error
	if r.challenge, err = r.x.Challenge(nil, p); err != nil {
		tb.Fatalf("Challenge: %v", err)
	}
	if r.ch, r.trust, err = r.key.ReadChallenge(r.challenge, f.pins, t0); err != nil {
		tb.Fatalf("ReadChallenge: %v", err)
	}
	signer := f.tap
	if uv {
		signer = f.uv
	}
	if r.response, r.keySess, err = r.key.Respond(r.ch, f.cred, signer, uv); err != nil {
		tb.Fatalf("Respond: %v", err)
	}
	if r.opened, err = r.x.OpenResponse(r.response); err != nil {
		tb.Fatalf("OpenResponse: %v", err)
	}
	return r
}
