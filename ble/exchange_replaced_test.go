package ble

import (
	"fmt"
	"testing"
	"time"

	"postern/access"
	"postern/access/protocol"
	"postern/access/softkey"
	"postern/store"
)

// reissue gives h's credential a new code, as Reissue (new phone) does,
// and registers a new phone with it; it returns the new phone's holder.
func (f *siteFixture) reissue(h holder) holder {
	f.t.Helper()
	code := access.NewRegistrationCode()
	err := f.st.NewRegistrationCode(f.ctx, "test", h.cred.ID, "reissued", code, time.Now().Add(24*time.Hour), func(c access.Credential, u access.User) (store.Mail, error) {
		return store.Mail{Kind: "invitation", Recipient: u.Email, Subject: "Your Smart credential", Message: "{}"}, nil
	})
	if err != nil {
		f.t.Fatalf("reissue: %v", err)
	}
	keys, err := softkey.NewKeys()
	if err != nil {
		f.t.Fatal(err)
	}
	tap, _ := protocol.MarshalPublicKey(&keys.Tap.PublicKey)
	uv, _ := protocol.MarshalPublicKey(&keys.UV.PublicKey)
	c, _, err := f.st.RegisterCredential(f.ctx, access.Registration{Code: code, TapKey: tap, UVKey: uv, DeviceInfo: "new phone"})
	if err != nil {
		f.t.Fatalf("register the new phone: %v", err)
	}
	return holder{cred: c, user: h.user, keys: keys}
}

// After a reissue, the old phone is a person at the door with the wrong
// phone, not a stranger: it is denied as the credential it holds, with its
// user in the log and the key told it was replaced. The new phone opens.
func TestExchangeReplacedPhone(t *testing.T) {
	f := newSiteFixture(t)
	ap := f.accessPoint("Front door", "sim:front", nil)
	old := f.register(f.user("Ann"))
	f.permit(access.Permission{UserID: old.user.ID, AccessPointID: ap.ID})
	oldKey := f.keyFor(old)
	if p := f.present(ap, -50, honest(oldKey, false)); !p.result.Granted {
		t.Fatalf("before the reissue the phone got %+v, want granted", p.result)
	}
	// The door is pulsed after the key has its answer: wait for that pulse,
	// or it lands in the next presentation's count.
	recv(t, f.door.pulses, "the door to open before the reissue")
	before, err := f.st.CredentialByID(f.ctx, old.cred.ID)
	if err != nil {
		t.Fatal(err)
	}

	newer := f.reissue(old)
	for _, unlocked := range []bool{false, true} {
		t.Run(fmt.Sprintf("old phone, unlocked %v", unlocked), func(t *testing.T) {
			f.t = t
			p := f.present(ap, -50, honest(oldKey, unlocked))
			if p.err != nil || p.keyErr != nil {
				t.Fatalf("exchange: %v; key: %v", p.err, p.keyErr)
			}
			if p.result.Granted || p.result.Reason != protocol.ReasonReplaced {
				t.Errorf("the key got %+v, want denied as replaced", p.result)
			}
			if got, want := p.result.Reason.String(), "replaced by a newer phone"; got != want {
				t.Errorf("the key shows %q, want %q", got, want)
			}
			e := p.only(t)
			checkEvent(t, e, "access.denied", "replaced by a newer phone", ap, old.cred.ID.String(), old.user.ID, -50)
			if len(f.pulses()) != 0 {
				t.Error("the door opened for a replaced phone")
			}
		})
	}
	f.t = t
	after, err := f.st.CredentialByID(f.ctx, old.cred.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !after.LastUsedAt.Equal(before.LastUsedAt) {
		t.Errorf("the old phone moved the credential's last use from %v to %v", before.LastUsedAt, after.LastUsedAt)
	}

	if p := f.present(ap, -50, honest(f.keyFor(newer), false)); !p.result.Granted {
		t.Errorf("the new phone got %+v, want granted", p.result)
	}
}
