package ble

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"errors"
	"fmt"
	"io"

	"postern/access/protocol"
)

// KeyCredential is what a key holds for the exchange: its credential id,
// its tap key, its user-verification key behind the device unlock, and the
// sites whose signatures it can check.
type KeyCredential struct {
	ID  protocol.CredentialID
	Tap *ecdsa.PrivateKey
	// UV opens the user-verification key: the phone's biometric or passcode
	// prompt, the soft key's PIN. It is called only when the key presents
	// itself unlocked.
	UV    func() (*ecdsa.PrivateKey, error)
	Sites map[protocol.SiteID]*ecdsa.PublicKey
	// Strict keys answer no site they do not know.
	Strict bool
}

// KeyOutcome is what the key learned from one presentation.
type KeyOutcome struct {
	Result       protocol.Result
	Site         protocol.SiteID
	KnownSite    bool // the challenge was signed by a site the key knows
	UnlockNeeded bool // the access point asked for user verification
}

// ErrNoResult is returned when the reader hung up after the key's answer
// without a result: it refused the answer as too late or not valid, which
// the reader cannot tell a key it could not decrypt.
var ErrNoResult = errors.New("the reader did not accept the answer (too late, or not valid)")

// ErrNoAnswer is returned when the link ended, or went quiet until the
// key's deadline, before the reader said anything: the reader's host
// stopped, or the radio lost the key. Nothing was decided; the holder may
// simply try again.
var ErrNoAnswer = errors.New("no answer from the reader")

// ErrUnknownSite is returned when a strict key meets a site it does not know.
var ErrUnknownSite = errors.New("this reader belongs to a site this key does not know")

// PresentKey runs the key's half of the exchange on an open link: check the
// challenge, answer with the tap key (or, when unlocked, the
// user-verification key), and read the result.
func PresentKey(ctx context.Context, link Link, k KeyCredential, unlocked bool) (KeyOutcome, error) {
	var out KeyOutcome
	raw, err := link.Recv(ctx)
	if err != nil {
		return out, fmt.Errorf("%w: waiting for its challenge: %w", ErrNoAnswer, err)
	}
	ch, err := protocol.ParseChallenge(raw)
	if err != nil {
		return out, err
	}
	out.Site = ch.SiteID
	out.UnlockNeeded = ch.Requirements.UnlockRequired()
	if err := protocol.VerifyChallenge(ch, k.Sites, k.Strict); err != nil {
		if errors.Is(err, protocol.ErrUnknownSite) {
			return out, ErrUnknownSite
		}
		return out, err
	}
	_, out.KnownSite = k.Sites[ch.SiteID]
	signer := k.Tap
	if unlocked {
		if k.UV == nil {
			return out, errors.New("this key cannot prove the device is unlocked")
		}
		if signer, err = k.UV(); err != nil {
			return out, err
		}
	}
	resp, session, err := protocol.Respond(rand.Reader, ch, k.ID, signer, unlocked)
	if err != nil {
		return out, err
	}
	if err := link.Send(ctx, resp); err != nil {
		return out, noResult(err)
	}
	raw, err = link.Recv(ctx)
	if err != nil {
		return out, noResult(err)
	}
	out.Result, err = protocol.OpenResult(session, raw)
	return out, err
}

// hungUp reports whether err is the reader closing the link on purpose.
func hungUp(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrClosedPipe)
}

// noResult says why the key got no result for its answer: the reader hung
// up (io.EOF, or a Send on a link it closed), which is how it refuses an
// answer too late or not valid to reply to, or the link was lost or went
// quiet, and nothing was decided.
func noResult(err error) error {
	if hungUp(err) {
		return fmt.Errorf("%w: %v", ErrNoResult, err)
	}
	return fmt.Errorf("%w: %w", ErrNoAnswer, err)
}
