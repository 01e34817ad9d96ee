package protocol

import (
	"bytes"
	"crypto/ecdh"
	"encoding/json"
	"os"
	"testing"
	"time"
)

// writeVectorsV2 regenerates testdata/vectors_v2.json from fixed keys and
// fixed "random" bytes.
func writeVectorsV2(t *testing.T) {
	s := newVectorSetupV2(t)
	v := vectorFileV2{
		Comment: "Postern protocol version 2 test vectors, see docs/protocol.md. Bytes are hex. ECDSA signatures are randomised: verify them. Regenerate with: go test ./access/protocol -run TestVectorsV2 -update",
		Keys: vectorKeysV2{
			SitePrivate: scalarHex(t, s.site), SitePublic: hx(pubBytes(t, s.site)), SiteKeyID: hx(s.keyID[:]),
			RolledPrivate: scalarHex(t, s.rolled), RolledPublic: hx(pubBytes(t, s.rolled)),
			TapPrivate: scalarHex(t, s.tap), TapPublic: hx(pubBytes(t, s.tap)),
			UVPrivate: scalarHex(t, s.uv), UVPublic: hx(pubBytes(t, s.uv)),
			SiteID: hx(s.siteID[:]), ReaderID: hx(s.readerID[:]), CredentialID: hx(s.cred[:]),
			Introduction: hx(s.intro),
		},
	}
	var ticket *KeyTicket
	for i, ex := range vectorExchangesV2 {
		var e vectorExchangeV2
		e.Name, e.Path = ex.name, ex.path.String()
		label := "postern v2 vector: exchange " + string(rune('a'+i))
		keyEph := vectorBytes(label+" key ephemeral", 32)
		filler := vectorBytes(label+" filler", 48)
		readerEph := vectorBytes(label+" reader ephemeral", 32)
		ticketID := vectorBytes(label+" ticket id", 16)
		e.KeyEphemeralPrivate, e.ReaderEphemeralPrivate, e.Filler = hx(keyEph), hx(readerEph), hx(filler)
		var offered *KeyTicket
		if ex.path == PathExpedited {
			offered = ticket
			e.TicketID, e.TicketSecret = hx(ticket.ID[:]), hx(ticket.Secret[:])
		}
		var intro []byte
		if ex.intro {
			intro = s.intro
		}
		k, err := NewHello(bytes.NewReader(append(bytes.Clone(keyEph), filler...)), offered, intro)
		if err != nil {
			t.Fatal(err)
		}
		e.Hello = hx(k.Bytes())
		e.HelloHash = hx(specSHA(k.Bytes()))
		x := reader(t, k.Bytes())
		tickets := NewTickets(func() time.Time { return vectorTime }, 0)
		var sess, keySess *Session2
		if ex.path == PathFull {
			p := ChallengeParams{Site: SiteSigner{ID: s.siteID, Key: s.site}, ReaderID: s.readerID, Requirements: ex.req}
			if ex.req.UnlockRequired() {
				p.UnlockWindow = 10 * time.Second
			}
			if ex.intro {
				p.Introduction = s.intro
			}
			if ex.rolled {
				roll, err := CertifyRollover(s.siteID, s.site, &s.rolled.PublicKey, vectorTime.Add(30*24*time.Hour))
				if err != nil {
					t.Fatal(err)
				}
				p.Site = SiteSigner{ID: s.siteID, Key: s.rolled, Rollover: &roll}
			}
			raw, err := x.Challenge(bytes.NewReader(readerEph), p)
			if err != nil {
				t.Fatal(err)
			}
			e.Challenge = hx(raw)
			e.ChallengeDigest = hx(specSHA([]byte(labelChallenge2), specSHA(k.Bytes()), raw[:len(raw)-SignatureSize]))
			e.ChallengeFragments185 = hexAll(Fragment(raw, DefaultMTU))
			pins := map[SiteID]SitePin{}
			if !ex.intro {
				pins[s.siteID] = SitePin{Site: s.siteID, KeyID: s.keyID, Key: &s.site.PublicKey}
			}
			ch, _, err := k.ReadChallenge(raw, pins, vectorTime)
			if err != nil {
				t.Fatal(err)
			}
			signer := s.tap
			if ex.uv {
				signer = s.uv
			}
			resp, ks, err := k.Respond(ch, s.cred, signer, ex.uv)
			if err != nil {
				t.Fatal(err)
			}
			keySess = ks
			e.Response = hx(resp)
			o, err := x.OpenResponse(resp)
			if err != nil {
				t.Fatal(err)
			}
			sess = o.Session
			if ex.uv {
				e.Flags = 1
			}
			th := specSHA(k.Bytes(), raw)
			e.TranscriptHash = hx(th)
			e.ResponseDigest = hx(specSHA([]byte(labelResponse2), th, s.cred[:], []byte{e.Flags}))
			plain, err := open(keysFor(t, keyEph, ch.ReaderKey, func(z []byte) sessionKeys2 {
				k, _ := fullKeys(z, [32]byte(th))
				return k
			}).response, resp[:2], resp[2:])
			if err != nil {
				t.Fatal(err)
			}
			e.ResponsePlaintext = hx(plain)
		} else {
			sess, err = x.Expedite(bytes.NewReader(readerEph), ticket.Secret)
			if err != nil {
				t.Fatal(err)
			}
		}
		z := sharedFrom(t, keyEph, readerEph)
		e.SharedSecret = hx(z)
		var next *NextTicket
		if ex.ticket {
			n, err := tickets.Issue(bytes.NewReader(ticketID), s.cred, sess.NextTicketSecret(), s.keyID, [32]byte{})
			if err != nil {
				t.Fatal(err)
			}
			next = &n
		}
		sealed, err := SealResult2(sess, ex.res, next)
		if err != nil {
			t.Fatal(err)
		}
		e.ResultGranted, e.ResultReason, e.ResultMessage = ex.res.Granted, uint8(ex.res.Reason), ex.res.Message
		e.ResultKey, e.NextTicketSecret = hx(sess.result[:]), hx(sess.ticket[:])
		e.Result = hx(sealed)
		plain, err := open(sess.result, sess.header, sealed[len(sess.header):])
		if err != nil {
			t.Fatal(err)
		}
		e.ResultPlaintext = hx(plain)
		var kt *KeyTicket
		if ex.path == PathFull {
			_, kt, err = OpenResult2(keySess, sealed)
		} else {
			_, kt, err = k.OpenExpedited(sealed)
		}
		if err != nil {
			t.Fatal(err)
		}
		if kt != nil {
			ticket = kt
		}
		v.Exchanges = append(v.Exchanges, e)
	}
	writeArtefactsV2(t, s, &v)
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(vectorsV2Path, append(b, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

// writeArtefactsV2 fills in the signed things around a credential's life.
func writeArtefactsV2(t *testing.T, s vectorSetupV2, v *vectorFileV2) {
	roll, err := CertifyRollover(s.siteID, s.site, &s.rolled.PublicKey, vectorTime.Add(30*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	v.Rollover = vectorRollover{NotAfterMs: roll.NotAfter.UnixMilli(), Signature: hx(roll.Signature[:]),
		Digest: hx(specSHA([]byte(labelRollover2), s.siteID[:], s.keyID[:], s.rolledID[:], pubBytes(t, s.rolled), be64(roll.NotAfter.UnixMilli())))}

	nonce := vectorBytes("postern v2 vector: registration nonce", NonceSize)
	tapSig, uvSig, err := SignRegistration2(vectorCode, nonce, s.tap, s.uv)
	if err != nil {
		t.Fatal(err)
	}
	reg := RegistrationDigest2(vectorCode, nonce, pubBytes(t, s.tap), pubBytes(t, s.uv))
	a := SiteAnswer{CredentialID: s.cred, SiteID: s.siteID, SiteName: "Head office", SiteURL: "https://doors.example", FirstName: "Zoë", LastName: "Okafor"}
	ansSig, err := SignSiteAnswer(reg, &a, s.site)
	if err != nil {
		t.Fatal(err)
	}
	v.Registration = vectorRegistrationV2{Code: vectorCode, Nonce: hx(nonce), Digest: hx(reg[:]), TapSignature: hx(tapSig), UVSignature: hx(uvSig),
		AnswerSiteName: a.SiteName, AnswerSiteURL: a.SiteURL, AnswerFirst: a.FirstName, AnswerLast: a.LastName,
		AnswerPayload: hx(a.payload()), AnswerSignature: hx(ansSig), Fingerprint: a.Fingerprint()}

	oldTap, oldUV := vectorKey(t, vectorBytes("postern v2 vector: old tap", 32)), vectorKey(t, vectorBytes("postern v2 vector: old uv", 32))
	mnonce := vectorBytes("postern v2 vector: migration nonce", NonceSize)
	p, err := SignMigration(s.cred, mnonce, oldTap, oldUV, s.tap, s.uv)
	if err != nil {
		t.Fatal(err)
	}
	md := MigrationDigest(s.cred, mnonce, pubBytes(t, s.tap), pubBytes(t, s.uv))
	v.Migration = vectorMigration{OldTapPrivate: scalarHex(t, oldTap), OldUVPrivate: scalarHex(t, oldUV), Nonce: hx(mnonce), Digest: hx(md[:]),
		OldTapSignature: hx(p.OldTapSig), OldUVSignature: hx(p.OldUVSig), TapSignature: hx(p.TapSig), UVSignature: hx(p.UVSig)}

	sig, err := SignShare2(s.cred, []byte(vectorBody), vectorShareNow, s.uv)
	if err != nil {
		t.Fatal(err)
	}
	sd := ShareDigest2(s.cred, []byte(vectorBody), vectorShareNow)
	v.Share = vectorShare{Body: vectorBody, AtMs: vectorShareNow.UnixMilli(), Digest: hx(sd[:]), Signature: hx(sig)}

	tok := TokenV2{CredentialID: s.cred, TapKey: pubBytes(t, s.tap), UVKey: pubBytes(t, s.uv), Introduction: s.intro,
		AdminEmail: "admin@other.example", FirstName: "Zoë", LastName: "Okafor", SiteID: s.siteID, SiteName: "Head office",
		SiteURL: "https://doors.example", IssuedAt: vectorTime, ExpiresAt: vectorTime.Add(30 * 24 * time.Hour)}
	copy(tok.ID[:], vectorBytes("postern v2 vector: token id", 16))
	text, err := EncodeTokenV2(tok, s.site)
	if err != nil {
		t.Fatal(err)
	}
	payload, tsig, err := splitToken(text)
	if err != nil {
		t.Fatal(err)
	}
	v.Token = vectorTokenV2{ID: hx(tok.ID[:]), AdminEmail: tok.AdminEmail, FirstName: tok.FirstName, LastName: tok.LastName,
		SiteName: tok.SiteName, SiteURL: tok.SiteURL, IssuedAtMs: tok.IssuedAt.UnixMilli(), ExpiresAtMs: tok.ExpiresAt.UnixMilli(),
		Payload: hx(payload), Digest: hx(specSHA([]byte(labelToken2), payload)), Signature: hx(tsig), Text: text}
}

func keysFor(t *testing.T, keyEph []byte, readerPub *ecdh.PublicKey, derive func([]byte) sessionKeys2) sessionKeys2 {
	k, err := ecdh.P256().NewPrivateKey(keyEph)
	if err != nil {
		t.Fatal(err)
	}
	z, err := k.ECDH(readerPub)
	if err != nil {
		t.Fatal(err)
	}
	return derive(z)
}
