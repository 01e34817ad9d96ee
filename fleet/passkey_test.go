package fleet_test

import (
	"context"
	"testing"
	"time"

	"postern/access/protocol"
	"postern/ble"
	"postern/store"
)

// webKey is a web key at a door that requires unlock, as the key page
// plays it: it signs the response with its tap key and sends its
// passkey's assertion over the transcript after it, made on the page at
// origin. last is the result the key read.
func webKey(h holder, pin protocol.SitePin, rp protocol.RelyingParty, origin string, last *protocol.Result) func(context.Context, ble.Link) error {
	return func(ctx context.Context, l ble.Link) error {
		k, err := protocol.NewHello(nil, nil, nil)
		if err != nil {
			return err
		}
		if err := l.Send(ctx, k.Bytes()); err != nil {
			return err
		}
		raw, err := l.Recv(ctx)
		if err != nil {
			return err
		}
		ch, _, err := k.ReadChallenge(raw, map[protocol.SiteID]protocol.SitePin{pin.Site: pin}, time.Now())
		if err != nil {
			return err
		}
		resp, sess, challenge, err := k.RespondWithPasskey(ch, protocol.CredentialID(h.cred), h.tap)
		if err != nil {
			return err
		}
		a, err := protocol.SignAssertion(h.uv, rp, origin, challenge, true)
		if err != nil {
			return err
		}
		if err := l.Send(ctx, resp); err != nil {
			return err
		}
		if err := l.Send(ctx, a.Marshal()); err != nil {
			return err
		}
		msg, err := l.Recv(ctx)
		if err != nil {
			return err
		}
		*last, _, err = protocol.OpenResult2(sess, msg)
		return err
	}
}

// TestRemoteReaderChecksPasskeysAgainstTheHub: a web key's passkey is
// made for the hub's public URL, which the hub keeps at start-up and its
// policy stream carries; a remote reader, which is not told the URL,
// lets the web key in at a door that requires unlock, refuses an
// assertion made on another site's page, and follows the hub when its
// public URL changes.
func TestRemoteReaderChecksPasskeysAgainstTheHub(t *testing.T) {
	s := startSite(t)
	ctx := t.Context()
	// What the hub does at start-up (keepPublicURL): no event, since the
	// URL is configuration.
	if err := s.st.SetSetting(ctx, "", store.SettingPublicURL, "https://doors.example.com"); err != nil {
		t.Fatal(err)
	}
	s.front.RequireUnlock = true
	if err := s.st.UpdateAccessPoint(ctx, "test", &s.front); err != nil {
		t.Fatal(err)
	}
	r := s.startReader(t, s.addReader(t, "door1"))
	ann := s.registerHolder(t, "Web", "53535353535353535353535353535353", 2, s.front)
	pin := s.sitePin(t)
	site, _ := protocol.RelyingPartyOf("https://doors.example.com")
	x := r.exchange(t)
	var last protocol.Result

	took := eventually(t, 10*time.Second, "the web key's passkey opens the remote door", func() bool {
		return r.present(t, x, s.front, webKey(ann, pin, site, site.Origins[0], &last)) == nil && last.Granted
	})
	t.Logf("granted at the remote reader after %v", took)

	// Made on another site's page: the remote reader refuses it, as the
	// appliance's own readers do, and the hub hears why.
	evil, _ := protocol.RelyingPartyOf("https://evil.example")
	if err := r.present(t, x, s.front, webKey(ann, pin, evil, evil.Origins[0], &last)); err != nil {
		t.Fatal(err)
	}
	if last.Granted || last.Reason != protocol.ReasonNotProcessed {
		t.Errorf("an assertion made for another origin: got %+v, want not processed", last)
	}
	eventually(t, 20*time.Second, "the refusal reaches the hub", func() bool {
		e, ok := hubEvent(t, s.st, "bad_signature")
		return ok && e.Kind == "access.rejected" && e.CredentialID == ann.cred.String()
	})

	// The hub moves to another URL: passkeys made for the old one stop
	// working at the remote door, as they would at the hub's own.
	if err := s.st.SetSetting(ctx, "", store.SettingPublicURL, "https://entry.example.org"); err != nil {
		t.Fatal(err)
	}
	moved, _ := protocol.RelyingPartyOf("https://entry.example.org")
	eventually(t, 10*time.Second, "the remote reader follows the hub's new public URL", func() bool {
		return r.present(t, x, s.front, webKey(ann, pin, moved, moved.Origins[0], &last)) == nil && last.Granted
	})
	if err := r.present(t, x, s.front, webKey(ann, pin, site, site.Origins[0], &last)); err != nil || last.Granted {
		t.Errorf("a passkey made for the hub's old URL: got %+v, %v, want refused", last, err)
	}
}
