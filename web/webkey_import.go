package web

import (
	"context"
	"errors"
	"strings"

	"postern/access"
	"postern/access/protocol"
	"postern/store"
)

// The receiving side of a web key's "Add this key to another site": the
// token carries no keys (a web key cannot leave its origin), so adding it
// makes a Smart credential here and invites the holder, at the address the
// token carries, to register a web key at this site's origin.

// readWebKeyToken checks a web key token as readToken checks a version 2
// one: the signature, the expiry, another site's, sent to one of this
// site's administrators.
func (h *handler) readWebKeyToken(ctx context.Context, site access.Site, text string) (importToken, error) {
	tok, err := protocol.DecodeWebKeyToken(text, h.now())
	if err != nil {
		return importToken{}, access.Invalid("token", "%s", tokenMessage(err))
	}
	if tok.SiteID == protocol.SiteID(site.ID) {
		return importToken{}, access.Conflict("this key was issued by this site: it is already one of ours")
	}
	if _, err := h.store.AdminByEmail(ctx, tok.AdminEmail); errors.Is(err, access.ErrNotFound) {
		return importToken{}, access.Conflict("this token was sent to %s, who is not an administrator of this site: it can only be added where it was sent", tok.AdminEmail)
	} else if err != nil {
		return importToken{}, err
	}
	return importToken{holder: strings.TrimSpace(tok.FirstName + " " + tok.LastName), siteName: tok.SiteName, siteURL: tok.SiteURL,
		fingerprint: tok.SiteFingerprint(), expires: tok.ExpiresAt, sentTo: tok.AdminEmail, id: tok.ID, holderEmail: tok.HolderEmail}, nil
}

// inviteShared makes the Smart credential a web key token asks for and
// emails its invitation to the holder's address from the token.
func (h *handler) inviteShared(ctx context.Context, actor string, userID int64, t importToken) (access.CredentialID, error) {
	code := access.NewRegistrationCode()
	expires := h.now().Add(h.codeLifetime(ctx))
	inviter := h.inviter(ctx, code, expires)
	invite := func(c access.Credential, u access.User) (store.Mail, error) {
		u.Email = t.holderEmail
		return inviter(c, u)
	}
	cred, err := h.store.AssignSharedCredential(ctx, actor, userID, code, expires, store.SharedInvitation{TokenID: t.id, SiteName: t.siteName}, invite)
	if err != nil {
		return cred.ID, err
	}
	h.mailer.Wake()
	return cred.ID, nil
}
