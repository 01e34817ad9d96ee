package web_test

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"postern/access"
	"postern/access/protocol"
	"postern/store"
	"postern/web"
)

// webKeyShare is h's web key share request for adminEmail, signed at at
// by an assertion that sign makes over the challenge.
func (h shareHolder) webKeyShare(t *testing.T, adminEmail, holderEmail string, at time.Time, sign func(challenge []byte) []byte) shareRequest {
	t.Helper()
	body, _ := json.Marshal(web.WebKeyShareRequest{KeyShareRequest: h.ask(adminEmail), HolderEmail: holderEmail})
	at = time.UnixMilli(at.UnixMilli())
	d := protocol.ShareDigest2(protocol.CredentialID(h.id), body, at)
	headers := map[string]string{web.HeaderShareTime: strconv.FormatInt(at.UnixMilli(), 10)}
	if sig := sign(d[:]); sig != nil {
		headers[web.HeaderShareSignature] = base64.StdEncoding.EncodeToString(sig)
	}
	return shareRequest{body: body, headers: headers}
}

// passkeyOf signs assertions as h's passkey would at site's origin.
func passkeyOf(t *testing.T, h shareHolder, siteURL string, verified bool) func([]byte) []byte {
	return func(challenge []byte) []byte {
		rp, _ := web.RelyingParty(siteURL)
		a, err := protocol.SignAssertion(h.keys.UV, rp, rp.Origins[0], challenge, verified)
		if err != nil {
			t.Fatal(err)
		}
		return a.Marshal()
	}
}

// TestWebKeyShare: a web key asks its home site to introduce its holder to
// another site, signed by its passkey over the request; the other site's
// administrator adds the token, which makes a Smart credential there and
// invites the holder at the address the token carries.
func TestWebKeyShare(t *testing.T) {
	t.Parallel()
	a := servedSite(t, alphaName)
	b := newShareSite(t, bravoName, bravoURL)
	b.s.CreateAdmin(t.Context(), "test", bravoAdmin, adminHash(), false)
	// The passkey is the credential's user-verification key: holderV2's
	// unlock key stands in for it.
	ann, _ := a.holderV2(t, "Ann", "Lee")
	now := a.clock.Now()
	rpA, _ := web.RelyingParty(a.url)

	refusals := []struct {
		name   string
		sign   func([]byte) []byte
		status int
		code   string
	}{
		{"unsigned", func([]byte) []byte { return nil }, http.StatusBadRequest, web.KeyErrBadRequest},
		{"signed by the tap key, not as an assertion", func(c []byte) []byte {
			sig, _ := protocol.SignShare2(protocol.CredentialID(ann.id), c, now, ann.keys.Tap)
			return sig
		}, http.StatusUnauthorized, web.KeyErrBadSignature},
		{"an assertion by another key", passkeyOf(t, newHolderKeys(t, "Eve", "Mallory"), a.url, true), http.StatusUnauthorized, web.KeyErrBadSignature},
		{"the holder not verified", passkeyOf(t, ann, a.url, false), http.StatusUnauthorized, web.KeyErrBadSignature},
		{"an assertion made at another site's origin", passkeyOf(t, ann, bravoURL, true), http.StatusUnauthorized, web.KeyErrBadSignature},
		{"an assertion over another challenge", func(c []byte) []byte {
			a, _ := protocol.SignAssertion(ann.keys.UV, rpA, rpA.Origins[0], append([]byte{1}, c[1:]...), true)
			return a.Marshal()
		}, http.StatusUnauthorized, web.KeyErrBadSignature},
	}
	for i, tt := range refusals {
		t.Run(tt.name, func(t *testing.T) {
			req := ann.webKeyShare(t, bravoAdmin, "ann@home.example", now.Add(time.Duration(i)*time.Millisecond), tt.sign)
			wantKeyRefusal(t, a.keyPost("/api/key/web/share", req.body, req.headers), tt.status, tt.code)
		})
	}
	if n := len(a.shareMails(t)); n != 0 {
		t.Fatalf("%d share emails after refusals, want none", n)
	}
	if n := countEvents(t, a, "share.failed"); n != len(refusals)-1 {
		t.Errorf("%d share.failed events, want one per bad signature (%d)", n, len(refusals)-1)
	}
	bad := ann.webKeyShare(t, bravoAdmin, "not an address", now.Add(time.Second), passkeyOf(t, ann, a.url, true))
	wantKeyRefusal(t, a.keyPost("/api/key/web/share", bad.body, bad.headers), http.StatusUnprocessableEntity, web.KeyErrInvalidEmail)

	// Signed by the passkey with the holder verified: the token goes out,
	// and the same request again is a replay.
	req := ann.webKeyShare(t, bravoAdmin, "ann@home.example", now.Add(2*time.Second), passkeyOf(t, ann, a.url, true))
	if w := a.keyPost("/api/key/web/share", req.body, req.headers); w.Code != http.StatusAccepted {
		t.Fatalf("share: %d %s", w.Code, w.Body)
	}
	wantKeyRefusal(t, a.keyPost("/api/key/web/share", req.body, req.headers), http.StatusConflict, web.KeyErrReplayed)
	msg, token := shareMessage(t, a.shareMails(t)[0])
	if !strings.Contains(msg.Text, "ann@home.example") || !strings.Contains(msg.Text, "key page") {
		t.Errorf("the email to B's admin does not say where the invitation goes, or that it came from the key page:\n%s", msg.Text)
	}
	tok, err := protocol.DecodeWebKeyToken(token, a.clock.Now())
	if err != nil {
		t.Fatal(err)
	}
	if tok.AdminEmail != bravoAdmin || tok.HolderEmail != "ann@home.example" || tok.FirstName != "Ann" || tok.SiteName != alphaName {
		t.Errorf("token %+v, want Ann's, for %s, inviting ann@home.example", tok, bravoAdmin)
	}
	if _, err := protocol.DecodeTokenV2(token, a.clock.Now()); err == nil {
		t.Error("a web key token decodes as a version 2 token, which would import keys it does not carry")
	}

	// B previews it, then adds it to a user with no address of their own.
	visitor := b.shareUser(t, "Ann", "Visitor", "")
	b.login(t)
	b.runPages(t, []scenario{{name: "preview", method: "POST", url: "/users/" + itoa(visitor) + "/credentials/import/preview", body: "token=" + url.QueryEscape(token),
		wantStatus: 200, wantTestIDs: map[string]string{"import-holder": "Ann Lee", "import-holder-email": "ann@home.example", "import-web-key": "cannot be carried here"}}})
	w := b.api("POST", importURL(visitor), importBody(token))
	if w.Code != http.StatusCreated {
		t.Fatalf("import: %d %s", w.Code, w.Body)
	}
	var got struct{ ID, Status string }
	json.Unmarshal(w.Body.Bytes(), &got)
	id, err := access.ParseCredentialID(got.ID)
	if err != nil || got.Status != "invited" {
		t.Fatalf("import answered %s, want an invited credential of B's own", w.Body)
	}
	if c := b.credential(t, id); c.TapKey != nil || c.Issuer.Name != "" {
		t.Errorf("B's credential %+v, want one with no keys yet, issued by B", c)
	}
	invites := b.outboxTo(t, "ann@home.example")
	if len(invites) != 1 || invites[0].Kind != "invitation" || !strings.Contains(invites[0].Message, bravoURL+"/key/register?code=") {
		t.Fatalf("B's invitations to the holder: %+v, want one with B's registration link", invites)
	}
	if w := b.api("POST", importURL(visitor), importBody(token)); w.Code != http.StatusConflict {
		t.Errorf("adding the token twice: %d %s, want 409", w.Code, w.Body)
	}
	if sh := a.documentedAPI(t, "GET", "/api/v1/shares", http.StatusOK)["shares"].([]any)[0].(map[string]any); sh["status"] != "imported" {
		t.Errorf("A's share after B added it: %v", sh)
	}
}

// outboxTo is what site's outbox holds for the address to, newest first.
func (site *shareSite) outboxTo(t *testing.T, to string) []store.OutboxItem {
	t.Helper()
	items, _, err := site.s.Outbox(t.Context(), 0, store.MaxLimit)
	if err != nil {
		t.Fatal(err)
	}
	var out []store.OutboxItem
	for _, it := range items {
		if strings.Contains(it.Recipient, "<"+to+">") {
			out = append(out, it)
		}
	}
	return out
}
