package protocol

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ecdsa"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func writeVectors(t *testing.T) {
	s := newVectorSetup(t)
	scalar := func(k *ecdsa.PrivateKey) string {
		b, err := k.Bytes()
		if err != nil {
			t.Fatal(err)
		}
		return hx(b)
	}
	v := vectorFile{
		Comment: "Postern protocol test vectors, see docs/protocol.md. Bytes are hex. ECDSA signatures are randomised: verify them, do not expect to reproduce them. Regenerate with: go test ./access/protocol -run TestVectors -update",
		Keys: vectorKeys{
			SitePrivate: scalar(s.site), SitePublic: hx(pubBytes(t, s.site)),
			TapPrivate: scalar(s.tap), TapPublic: hx(pubBytes(t, s.tap)),
			UVPrivate: scalar(s.uv), UVPublic: hx(pubBytes(t, s.uv)),
			SiteID: hx(s.siteID[:]), ReaderID: hx(s.readerID[:]), CredentialID: hx(s.cred[:]),
		},
	}
	for i, ex := range vectorExchanges {
		label := "postern vector: exchange " + string(rune('a'+i))
		nonce := vectorBytes(label+" nonce", 16)
		readerEph := vectorBytes(label+" reader ephemeral", 32)
		keyEph := vectorBytes(label+" key ephemeral", 32)
		ch, eph, err := NewChallenge(bytes.NewReader(append(bytes.Clone(nonce), readerEph...)), s.site, s.siteID, s.readerID, ex.req, vectorTime)
		if err != nil {
			t.Fatal(err)
		}
		msg := ch.Marshal()
		parsed, err := ParseChallenge(msg)
		if err != nil {
			t.Fatal(err)
		}
		signer := s.tap
		if ex.uv {
			signer = s.uv
		}
		resp, _, err := Respond(bytes.NewReader(keyEph), parsed, s.cred, signer, ex.uv)
		if err != nil {
			t.Fatal(err)
		}
		o, err := OpenResponse(ch, eph, resp)
		if err != nil {
			t.Fatal(err)
		}
		sealed, err := SealResult(o.Session, ex.res)
		if err != nil {
			t.Fatal(err)
		}
		hlen := 3 + 1 + PublicKeySize
		header := resp[:hlen]
		kEph, _ := ecdh.P256().NewPrivateKey(keyEph)
		shared, _ := kEph.ECDH(ch.ReaderKey)
		chHash := specSHA(msg)
		salt := specSHA([]byte(labelSession), chHash, header)
		respKey := specHKDF(t, shared, salt, infoResponse)
		flags := uint8(0)
		if ex.uv {
			flags = 1
		}
		plain, err := open([32]byte(respKey), header, resp[hlen:])
		if err != nil {
			t.Fatal(err)
		}
		granted := uint8(0)
		if ex.res.Granted {
			granted = 1
		}
		v.Exchanges = append(v.Exchanges, vectorExchange{
			Name:                   ex.name,
			Versions:               []uint8{uint8(Version1)},
			Requirements:           uint8(ex.req),
			IssuedAtMs:             vectorTime.UnixMilli(),
			Nonce:                  hx(nonce),
			ReaderEphemeralPrivate: hx(readerEph),
			ReaderEphemeralPublic:  hx(eph.PublicKey().Bytes()),
			ChallengeBody:          hx(ch.body()),
			ChallengeDigest:        hx(specSHA([]byte(labelChallenge), ch.body())),
			ChallengeSignature:     hx(ch.Signature[:]),
			Challenge:              hx(msg),
			ChallengeFragments185:  hexAll(Fragment(msg, DefaultMTU)),
			UserVerified:           ex.uv,
			KeyEphemeralPrivate:    hx(keyEph),
			KeyEphemeralPublic:     hx(kEph.PublicKey().Bytes()),
			ResponseHeader:         hx(header),
			ChallengeHash:          hx(chHash),
			SharedSecret:           hx(shared),
			Salt:                   hx(salt),
			ResponseKey:            hx(respKey),
			ResultKey:              hx(specHKDF(t, shared, salt, infoResult)),
			Flags:                  flags,
			TranscriptDigest:       hx(specSHA([]byte(labelResponse), chHash, header, s.cred[:], []byte{flags})),
			ResponseSignature:      hx(plain[17:]),
			ResponsePlaintext:      hx(plain),
			Response:               hx(resp),
			ResultGranted:          ex.res.Granted,
			ResultReason:           uint8(ex.res.Reason),
			ResultMessage:          ex.res.Message,
			ResultPlaintext:        hx(append([]byte{granted, uint8(ex.res.Reason), byte(len(ex.res.Message))}, ex.res.Message...)),
			Result:                 hx(sealed),
		})
	}

	tok := Token{
		CredentialID: s.cred, TapKey: pubBytes(t, s.tap), UVKey: pubBytes(t, s.uv),
		FirstName: "Zoë", LastName: "Okafor",
		SiteID: s.siteID, SiteName: "Riverside Workshop", SiteURL: "https://doors.riverside.example",
		IssuedAt: vectorTime, ExpiresAt: vectorTime.Add(14 * 24 * time.Hour),
	}
	text, err := EncodeToken(tok, s.site)
	if err != nil {
		t.Fatal(err)
	}
	decoded, err := DecodeToken(text, vectorTime)
	if err != nil {
		t.Fatal(err)
	}
	payload := decoded.payload()
	_, sigPart, _ := bytes.Cut([]byte(text), []byte("."))
	tokSig, _ := base64.RawURLEncoding.DecodeString(string(sigPart))
	v.Token = vectorToken{
		FirstName: tok.FirstName, LastName: tok.LastName, SiteName: tok.SiteName, SiteURL: tok.SiteURL,
		IssuedAtMs: tok.IssuedAt.UnixMilli(), ExpiresAtMs: tok.ExpiresAt.UnixMilli(),
		Payload: hx(payload), Digest: hx(specSHA([]byte(labelToken), payload)),
		Signature: hx(tokSig), Text: text, Fingerprint: decoded.SiteFingerprint(),
	}

	tapSig, uvSig, err := SignRegistration(vectorCode, s.tap, s.uv)
	if err != nil {
		t.Fatal(err)
	}
	v.Registration = vectorRegistration{
		Code:         vectorCode,
		Digest:       hx(specSHA([]byte(labelRegister), specSHA([]byte(vectorCode)), pubBytes(t, s.tap), pubBytes(t, s.uv))),
		TapSignature: hx(tapSig), UVSignature: hx(uvSig),
	}

	shareSig := SignShare(s.cred, []byte(vectorBody), vectorShareNow, s.tap)
	v.Share = vectorShare{
		Body: vectorBody, AtMs: vectorShareNow.UnixMilli(),
		Digest:    hx(specSHA([]byte(labelShare), s.cred[:], binary.BigEndian.AppendUint64(nil, uint64(vectorShareNow.UnixMilli())), specSHA([]byte(vectorBody)))),
		Signature: hx(shareSig),
	}

	out, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Dir(vectorsPath), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(vectorsPath, append(out, '\n'), 0o644); err != nil {
		t.Fatal(err)
	}
}

func hexAll(bs [][]byte) []string {
	out := make([]string, len(bs))
	for i, b := range bs {
		out[i] = hx(b)
	}
	return out
}
