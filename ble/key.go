package ble

import (
	"context"
	"crypto/ecdsa"
	"crypto/rand"
	"errors"
	"fmt"

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

// ErrUnknownSite is returned when a strict key meets a site it does not know.
var ErrUnknownSite = errors.New("this reader belongs to a site this key does not know")

// PresentKey runs the key's half of the exchange on an open link: check the
// challenge, answer with the tap key (or, when unlocked, the
// user-verification key), and read the result.
func PresentKey(ctx context.Context, link Link, k KeyCredential, unlocked bool) (KeyOutcome, error) {
	var out KeyOutcome
	raw, err := link.Recv(ctx)
	if err != nil {
		return out, fmt.Errorf("waiting for the reader's challenge: %w", err)
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
		// The reader hung up before the answer: it stopped waiting.
		return out, fmt.Errorf("%w: %v", ErrNoResult, err)
	}
	raw, err = link.Recv(ctx)
	if err != nil {
		return out, fmt.Errorf("%w: %v", ErrNoResult, err)
	}
	out.Result, err = protocol.OpenResult(session, raw)
	return out, err
}
