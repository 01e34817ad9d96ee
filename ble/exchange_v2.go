package ble

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
	"time"

	"postern/access"
	"postern/access/protocol"
)

// signer is the site's signing identity as a version 2 challenge needs it,
// with the previous key's certificate during a rollover's overlap.
func signer(site access.Site) protocol.SiteSigner {
	s := protocol.SiteSigner{ID: protocol.SiteID(site.ID), Key: site.Key}
	if r := site.Rollover; r != nil && len(r.Signature) == protocol.SignatureSize {
		s.Rollover = &protocol.Rollover{OldKeyID: protocol.KeyID(r.OldKeyID), NotAfter: r.NotAfter, Signature: [protocol.SignatureSize]byte(r.Signature)}
	}
	return s
}

// exchangeV2 is the version 2 exchange, from the key's hello: expedited
// when the hello offers a ticket this site issued (one round trip), full
// otherwise (challenge signed over the hello, response, result).
func (x *SiteExchange) exchangeV2(ctx context.Context, ap access.AccessPoint, site access.Site, c Candidate, link Link, start time.Time, raw []byte) error {
	h, err := protocol.ParseHello(raw)
	if err != nil {
		return x.reject(ctx, ap, c, start, "", "v2", err)
	}
	rx := protocol.NewReaderExchange(h)
	keyID := protocol.PublicKeyID(&site.Key.PublicKey)
	if e, ok := x.tickets().Redeem(h, keyID); ok {
		if !ap.RequireUnlock {
			return x.expedite(ctx, ap, site, c, link, start, rx, e, keyID)
		}
		// Unlock is proved only by a signature: the ticket is spent and
		// the exchange goes on in full, which hands out the next one.
	}
	p := protocol.ChallengeParams{Site: signer(site), ReaderID: ReaderID(site.ID, ap.Reader)}
	if ap.RequireUnlock {
		p.Requirements |= protocol.RequireUnlock
		p.UnlockWindow = ap.Window()
	}
	intro, err := x.introduction(ctx, h)
	if err != nil {
		return err
	}
	if intro != nil {
		p.Introduction = intro.Secret
	}
	chal, err := rx.Challenge(rand.Reader, p)
	if err != nil {
		return x.reject(ctx, ap, c, start, "", "v2", err)
	}
	// The deadline runs on the reader's own clock from the challenge (a
	// monotonic reading in production), and covers the unlock window
	// where the holder must unlock.
	sent := x.Now()
	if err := link.Send(ctx, chal); err != nil {
		return fmt.Errorf("send challenge: %w", err)
	}
	deadline := ap.Deadline(x.defaultDeadline())
	resp, err := x.await(ctx, link, deadline)
	if err != nil {
		return x.awaitFailed(ctx, ap, c, start, "v2", deadline, err)
	}
	if took := x.Now().Sub(sent); took > deadline {
		return x.reject(ctx, ap, c, start, "", "v2", fmt.Errorf("%w: answered %v after the challenge, the deadline is %v", protocol.ErrLate, took, deadline))
	}
	opened, err := rx.OpenResponse(resp)
	if err != nil {
		return x.reject(ctx, ap, c, start, "", "v2", err)
	}
	credID := access.CredentialID(opened.CredentialID)
	in, err := x.Store.PresentationInputs(ctx, credID, ap)
	if err != nil {
		return err
	}
	answer := x.answerV2(ctx, link, opened.Session, opened.CredentialID, keyID, in.Credential)
	// A passkey's response is signed by the tap key; the passkey's own
	// assertion over this transcript follows it.
	if err := x.checkHolder(ctx, &in, credID, opened.UserVerified && !opened.Passkey, opened.Verify); err != nil {
		if !errors.Is(err, protocol.ErrBadSignature) {
			return err
		}
		answer(protocol.Result{Reason: protocol.ReasonNotProcessed, Message: "not accepted"}, false)
		return x.reject(ctx, ap, c, start, credID.String(), "v2", err)
	}
	if opened.Passkey && in.Credential != nil && !in.Replaced {
		uv, err := x.passkey(ctx, link, in.Credential, opened, sent, deadline)
		if err != nil {
			answer(protocol.Result{Reason: protocol.ReasonNotProcessed, Message: "not accepted"}, false)
			return x.reject(ctx, ap, c, start, credID.String(), "v2 passkey", err)
		}
		opened.UserVerified = uv
	}
	if intro != nil && in.Credential != nil && in.Credential.ID == intro.Credential && !in.Replaced {
		// The phone answered with the keys of the share it was introduced
		// by: the introduction is done, and its secret can go.
		if err := x.Store.CompleteIntroduction(ctx, credID); err != nil {
			x.Log.Warn("forgetting an introduction", "credential", credID, "err", err)
		}
	}
	in.UserVerified, in.Protocol = opened.UserVerified, 2
	proto := "v2"
	if opened.Passkey {
		proto = "v2 passkey"
	}
	return x.conclude(ctx, ap, c, start, in, credID, proto, answer)
}

// passkey reads and checks the passkey assertion a web key sends after a
// response that announced one, within the deadline of the challenge sent
// at sent. It reports whether the phone verified the holder.
func (x *SiteExchange) passkey(ctx context.Context, link Link, cred *access.Credential, opened *protocol.Opened2, sent time.Time, deadline time.Duration) (bool, error) {
	left := deadline - x.Now().Sub(sent)
	if left <= 0 {
		return false, fmt.Errorf("%w: no time left for the passkey's assertion", protocol.ErrLate)
	}
	raw, err := x.await(ctx, link, left)
	if err != nil {
		return false, fmt.Errorf("%w: no passkey assertion within the deadline: %v", protocol.ErrLate, err)
	}
	if took := x.Now().Sub(sent); took > deadline {
		return false, fmt.Errorf("%w: the passkey's assertion came %v after the challenge, the deadline is %v", protocol.ErrLate, took, deadline)
	}
	a, err := protocol.ParseAssertion(raw)
	if err != nil {
		return false, err
	}
	uv, err := protocol.ParsePublicKey(cred.UVKey)
	if err != nil {
		return false, fmt.Errorf("%w: the credential has no passkey: %v", protocol.ErrBadSignature, err)
	}
	var rp protocol.RelyingParty
	if x.RelyingParty != nil {
		rp = x.RelyingParty()
	}
	return opened.VerifyAssertion(uv, a, rp)
}

// expedite finishes a version 2 exchange whose hello carried a live ticket
// of this site: the ticket's MAC proved the key holds the secret of the
// full exchange it came from, so there is nothing more to ask.
func (x *SiteExchange) expedite(ctx context.Context, ap access.AccessPoint, site access.Site, c Candidate, link Link, start time.Time, rx *protocol.ReaderExchange, e protocol.TicketEntry, keyID protocol.KeyID) error {
	sess, err := rx.Expedite(rand.Reader, e.Secret)
	if err != nil {
		return x.reject(ctx, ap, c, start, "", "v2 expedited", err)
	}
	credID := access.CredentialID(e.Credential)
	in, err := x.Store.PresentationInputs(ctx, credID, ap)
	if err != nil {
		return err
	}
	answer := x.answerV2(ctx, link, sess, e.Credential, keyID, in.Credential)
	if in.Credential != nil && keyHolder(in.Credential) != e.Holder {
		// The credential was registered on another device since this
		// ticket was issued: the old phone is not the holder any more. A
		// phone a reissue replaced is told so, as in a full exchange.
		replaced, err := x.replacedHolder(ctx, credID, e.Holder)
		if err != nil {
			return err
		}
		if !replaced {
			answer(protocol.Result{Reason: protocol.ReasonNotProcessed, Message: "not accepted"}, false)
			return x.reject(ctx, ap, c, start, credID.String(), "v2 expedited", fmt.Errorf("%w: the ticket was issued to a device the credential no longer has", protocol.ErrBadSignature))
		}
		in.Replaced = true
	}
	in.Protocol = 2
	return x.conclude(ctx, ap, c, start, in, credID, "v2 expedited", answer)
}

// answerV2 returns what tells the key a version 2 result: sealed in sess,
// with the next ticket when the credential is one to give it to.
func (x *SiteExchange) answerV2(ctx context.Context, link Link, sess *protocol.Session2, cred protocol.CredentialID, keyID protocol.KeyID, c *access.Credential) func(protocol.Result, bool) {
	return func(r protocol.Result, ticket bool) {
		var next *protocol.NextTicket
		if ticket {
			if n, err := x.tickets().Issue(rand.Reader, cred, sess.NextTicketSecret(), keyID, keyHolder(c)); err == nil {
				next = &n
			}
		}
		msg, err := protocol.SealResult2(sess, r, next)
		x.send(ctx, link, msg, err)
	}
}

// keyHolder binds a ticket to the credential's device keys as they are now.
func keyHolder(c *access.Credential) [32]byte {
	if c == nil {
		return [32]byte{}
	}
	return holderOf(c.TapKey, c.UVKey)
}

// holderOf is the hash of a device's two public keys a ticket is bound to.
func holderOf(tap, uv []byte) [32]byte {
	return sha256.Sum256(append(append([]byte(nil), tap...), uv...))
}

// introduction returns the pending introduction whose secret made the
// hello's tag, or nil: a phone meeting, for the first time, a site that
// imported its share.
func (x *SiteExchange) introduction(ctx context.Context, h *protocol.Hello) (*access.Introduction, error) {
	intros, err := x.Store.Introductions(ctx)
	if err != nil {
		return nil, fmt.Errorf("introductions: %w", err)
	}
	for _, in := range intros {
		if len(in.Secret) == protocol.SecretSize && h.Introduces(in.Secret) {
			return &in, nil
		}
	}
	return nil, nil
}
