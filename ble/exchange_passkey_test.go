package ble

import (
	"context"
	"testing"
	"time"

	"postern/access"
	"postern/access/protocol"
)

var passkeyRP = protocol.RelyingParty{ID: "doors.example.com", Origins: []string{"https://doors.example.com"}}

// passkeySide is a web key at a door that requires unlock: it signs the
// response with its tap key and sends its passkey's assertion over the
// transcript after it, as the key page does. verified is what the phone's
// authenticator says of the holder; origin where the page ran.
func passkeySide(h holderV2, pin protocol.SitePin, verified bool, origin string) keySide {
	return func(ctx context.Context, l Link) (protocol.Result, error) {
		k, err := protocol.NewHello(nil, nil, nil)
		if err != nil {
			return protocol.Result{}, err
		}
		if err := l.Send(ctx, k.Bytes()); err != nil {
			return protocol.Result{}, err
		}
		raw, err := l.Recv(ctx)
		if err != nil {
			return protocol.Result{}, err
		}
		ch, _, err := k.ReadChallenge(raw, map[protocol.SiteID]protocol.SitePin{pin.Site: pin}, time.Now())
		if err != nil {
			return protocol.Result{}, err
		}
		resp, sess, challenge, err := k.RespondWithPasskey(ch, protocol.CredentialID(h.cred.ID), h.tap)
		if err != nil {
			return protocol.Result{}, err
		}
		a, err := protocol.SignAssertion(h.uv, passkeyRP, origin, challenge, verified)
		if err != nil {
			return protocol.Result{}, err
		}
		if err := l.Send(ctx, resp); err != nil {
			return protocol.Result{}, err
		}
		if err := l.Send(ctx, a.Marshal()); err != nil {
			return protocol.Result{}, err
		}
		msg, err := l.Recv(ctx)
		if err != nil {
			return protocol.Result{}, err
		}
		res, _, err := protocol.OpenResult2(sess, msg)
		return res, err
	}
}

func TestExchangePasskey(t *testing.T) {
	tests := []struct {
		name       string
		phone      string
		edit       func(*access.AccessPoint)
		verified   bool
		origin     string
		wantKind   string
		wantReason string
		wantProto  string
		wantResult protocol.Reason
	}{
		{"verified at an unlock-required door", "", func(a *access.AccessPoint) { a.RequireUnlock = true }, true, passkeyRP.Origins[0],
			"access.granted", "granted", "v2 passkey", protocol.ReasonGranted},
		{"present but not verified", "", func(a *access.AccessPoint) { a.RequireUnlock = true }, false, passkeyRP.Origins[0],
			"access.denied", "unlock required", "v2 passkey", protocol.ReasonUnlockRequired},
		{"made on another site's page", "", func(a *access.AccessPoint) { a.RequireUnlock = true }, true, "https://evil.example",
			"access.rejected", "bad_signature", "v2 passkey", protocol.ReasonNotProcessed},
		{"from the phone, passkey every time", "192.168.10.5", func(a *access.AccessPoint) { a.PhoneOpen, a.PhonePasskey = true, true }, true, passkeyRP.Origins[0],
			"access.phone.granted", "granted", "v2 passkey", protocol.ReasonGranted},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newSiteFixture(t)
			f.x.RelyingParty = func() protocol.RelyingParty { return passkeyRP }
			f.phone = tt.phone
			door := f.accessPoint("Server room", "sim:server", tt.edit)
			ann := f.registerV2(f.user("Ann"))
			f.permit(access.Permission{UserID: ann.user.ID, AccessPointID: door.ID})
			p := f.present(door, -50, passkeySide(ann, f.pin(), tt.verified, tt.origin))
			if p.err != nil || p.keyErr != nil {
				t.Fatalf("exchange %v; key %v", p.err, p.keyErr)
			}
			if p.result.Reason != tt.wantResult {
				t.Errorf("key read %+v, want reason %v", p.result, tt.wantResult)
			}
			e := p.only(t)
			if e.Kind != tt.wantKind || e.Reason != tt.wantReason || e.Protocol != tt.wantProto {
				t.Errorf("event %s %q %q, want %s %q %q (%s)", e.Kind, e.Reason, e.Protocol, tt.wantKind, tt.wantReason, tt.wantProto, e.Detail)
			}
			if tt.phone != "" && e.Actor != "phone:"+tt.phone {
				t.Errorf("event actor %q, want the phone's address", e.Actor)
			}
			if granted := tt.wantResult == protocol.ReasonGranted; granted {
				recv(t, f.door.pulses, "the door")
			} else if n := len(f.pulses()); n != 0 {
				t.Errorf("%d door pulses, want none", n)
			}
		})
	}
}
