package protocol

import (
	"bytes"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"os"
	"testing"
	"time"
)

// Version 2's test vectors. As for version 1, everything but the ECDSA
// signatures is re-derived here from docs/protocol.md, independently of
// the package where the specification allows, and compared byte for byte.

const vectorsV2Path = "testdata/vectors_v2.json"

type vectorFileV2 struct {
	Comment      string               `json:"comment"`
	Keys         vectorKeysV2         `json:"keys"`
	Exchanges    []vectorExchangeV2   `json:"exchanges"`
	Rollover     vectorRollover       `json:"rollover"`
	Registration vectorRegistrationV2 `json:"registration"`
	Migration    vectorMigration      `json:"migration"`
	Share        vectorShare          `json:"share"`
	Token        vectorTokenV2        `json:"token"`
}

type vectorKeysV2 struct {
	SitePrivate   string `json:"site_private"`
	SitePublic    string `json:"site_public"`
	SiteKeyID     string `json:"site_key_id"`
	RolledPrivate string `json:"rolled_site_private"`
	RolledPublic  string `json:"rolled_site_public"`
	TapPrivate    string `json:"tap_private"`
	TapPublic     string `json:"tap_public"`
	UVPrivate     string `json:"uv_private"`
	UVPublic      string `json:"uv_public"`
	SiteID        string `json:"site_id"`
	ReaderID      string `json:"reader_id"`
	CredentialID  string `json:"credential_id"`
	Introduction  string `json:"introduction_secret"`
}

type vectorExchangeV2 struct {
	Name                   string   `json:"name"`
	Path                   string   `json:"path"`
	KeyEphemeralPrivate    string   `json:"key_ephemeral_private"`
	Filler                 string   `json:"filler"`
	TicketID               string   `json:"offered_ticket_id,omitempty"`
	TicketSecret           string   `json:"offered_ticket_secret,omitempty"`
	Hello                  string   `json:"hello"`
	HelloHash              string   `json:"hello_hash"`
	ReaderEphemeralPrivate string   `json:"reader_ephemeral_private"`
	Challenge              string   `json:"challenge,omitempty"`
	ChallengeDigest        string   `json:"challenge_digest,omitempty"`
	ChallengeFragments185  []string `json:"challenge_fragments_mtu185,omitempty"`
	SharedSecret           string   `json:"shared_secret"`
	TranscriptHash         string   `json:"transcript_hash,omitempty"`
	Flags                  uint8    `json:"flags"`
	ResponseDigest         string   `json:"response_digest,omitempty"`
	ResponsePlaintext      string   `json:"response_plaintext,omitempty"`
	Response               string   `json:"response,omitempty"`
	ResultKey              string   `json:"result_key"`
	NextTicketSecret       string   `json:"next_ticket_secret"`
	ResultGranted          bool     `json:"result_granted"`
	ResultReason           uint8    `json:"result_reason"`
	ResultMessage          string   `json:"result_message"`
	ResultPlaintext        string   `json:"result_plaintext"`
	Result                 string   `json:"result"`
}

type vectorRollover struct {
	NotAfterMs int64  `json:"not_after_ms"`
	Digest     string `json:"digest"`
	Signature  string `json:"signature"`
}

type vectorRegistrationV2 struct {
	Code            string `json:"code"`
	Nonce           string `json:"nonce"`
	Digest          string `json:"digest"`
	TapSignature    string `json:"tap_signature"`
	UVSignature     string `json:"uv_signature"`
	AnswerSiteName  string `json:"answer_site_name"`
	AnswerSiteURL   string `json:"answer_site_url"`
	AnswerFirst     string `json:"answer_first_name"`
	AnswerLast      string `json:"answer_last_name"`
	AnswerPayload   string `json:"answer_payload"`
	AnswerSignature string `json:"answer_signature"`
	Fingerprint     string `json:"site_fingerprint"`
}

type vectorMigration struct {
	OldTapPrivate   string `json:"old_tap_private"`
	OldUVPrivate    string `json:"old_uv_private"`
	Nonce           string `json:"nonce"`
	Digest          string `json:"digest"`
	OldTapSignature string `json:"old_tap_signature"`
	OldUVSignature  string `json:"old_uv_signature"`
	TapSignature    string `json:"tap_signature"`
	UVSignature     string `json:"uv_signature"`
}

type vectorTokenV2 struct {
	ID          string `json:"token_id"`
	AdminEmail  string `json:"admin_email"`
	FirstName   string `json:"first_name"`
	LastName    string `json:"last_name"`
	SiteName    string `json:"site_name"`
	SiteURL     string `json:"site_url"`
	IssuedAtMs  int64  `json:"issued_at_ms"`
	ExpiresAtMs int64  `json:"expires_at_ms"`
	Payload     string `json:"payload"`
	Digest      string `json:"digest"`
	Signature   string `json:"signature"`
	Text        string `json:"text"`
}

type vectorSetupV2 struct {
	vectorSetup
	rolled          *ecdsa.PrivateKey
	keyID, rolledID KeyID
	intro           []byte
}

func newVectorSetupV2(t *testing.T) vectorSetupV2 {
	s := vectorSetupV2{vectorSetup: newVectorSetup(t)}
	s.rolled = vectorKey(t, vectorBytes("postern v2 vector: rolled site key", 32))
	s.keyID, s.rolledID = PublicKeyID(&s.site.PublicKey), PublicKeyID(&s.rolled.PublicKey)
	s.intro = vectorBytes("postern v2 vector: introduction secret", SecretSize)
	return s
}

// vectorExchangesV2 are played in order: the expedited one spends the
// ticket the one before it handed out.
var vectorExchangesV2 = []struct {
	name   string
	path   Path
	req    Requirements
	uv     bool
	intro  bool
	rolled bool
	ticket bool
	res    Result
}{
	{name: "full, tap, granted, ticket issued", ticket: true, res: Result{Granted: true, Reason: ReasonGranted, Message: "Welcome, Zoë"}},
	{name: "expedited, granted, next ticket", path: PathExpedited, ticket: true, res: Result{Granted: true, Reason: ReasonGranted, Message: "Welcome"}},
	{name: "full, unlock required, user verified, after a rollover, denied", req: RequireUnlock, uv: true, rolled: true, res: Result{Reason: ReasonOutsideSchedule, Message: "Outside your schedule"}},
	{name: "full, first contact by introduction, granted", intro: true, ticket: true, res: Result{Granted: true, Reason: ReasonGranted}},
}

func TestVectorsV2(t *testing.T) {
	if *update {
		writeVectorsV2(t)
	}
	raw, err := os.ReadFile(vectorsV2Path)
	if err != nil {
		t.Fatalf("%v (run go test -run TestVectorsV2 -update to create it)", err)
	}
	var v vectorFileV2
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.Exchanges) != len(vectorExchangesV2) {
		t.Fatalf("%d exchanges in the file, want %d", len(v.Exchanges), len(vectorExchangesV2))
	}
	s := newVectorSetupV2(t)
	same := func(what string, got []byte, want string) {
		t.Helper()
		if hx(got) != want {
			t.Errorf("%s: got %x, want %s", what, got, want)
		}
	}
	same("site public", pubBytes(t, s.site), v.Keys.SitePublic)
	same("site key id", specSHA(pubBytes(t, s.site))[:8], v.Keys.SiteKeyID)
	same("tap public", pubBytes(t, s.tap), v.Keys.TapPublic)
	for i, e := range v.Exchanges {
		t.Run(e.Name, func(t *testing.T) { checkExchangeV2(t, s, vectorExchangesV2[i], e) })
	}
	checkArtefactsV2(t, s, &v)
}

func specHMAC16(key []byte, parts ...[]byte) []byte {
	m := hmac.New(sha256.New, key)
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)[:16]
}

func be64(n int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(n)) }

func specPub(t *testing.T, scalar []byte) []byte {
	k, err := ecdh.P256().NewPrivateKey(scalar)
	if err != nil {
		t.Fatal(err)
	}
	return k.PublicKey().Bytes()
}

func sharedFrom(t *testing.T, a, b []byte) []byte {
	k, err := ecdh.P256().NewPrivateKey(a)
	if err != nil {
		t.Fatal(err)
	}
	pub, err := ecdh.P256().NewPublicKey(specPub(t, b))
	if err != nil {
		t.Fatal(err)
	}
	z, err := k.ECDH(pub)
	if err != nil {
		t.Fatal(err)
	}
	return z
}

func scalarHex(t *testing.T, k *ecdsa.PrivateKey) string {
	b, err := k.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return hx(b)
}

func checkExchangeV2(t *testing.T, s vectorSetupV2, ex struct {
	name   string
	path   Path
	req    Requirements
	uv     bool
	intro  bool
	rolled bool
	ticket bool
	res    Result
}, e vectorExchangeV2) {
	same := func(what string, got []byte, want string) {
		t.Helper()
		if hx(got) != want {
			t.Errorf("%s: got %x, want %s", what, got, want)
		}
	}
	keyEph, readerEph, filler := unhex(t, e.KeyEphemeralPrivate), unhex(t, e.ReaderEphemeralPrivate), unhex(t, e.Filler)
	ek := specPub(t, keyEph)
	// Hello: type, versions, key ephemeral, introduction tag, ticket id, MAC.
	hello := append([]byte{0xB1, 1, 2}, ek...)
	if ex.intro {
		hello = append(hello, specHMAC16(s.intro, []byte("postern-intro-key-v2"), ek)...)
	} else {
		hello = append(hello, filler[:16]...)
	}
	if ex.path == PathExpedited {
		hello = append(hello, unhex(t, e.TicketID)...)
		hello = append(hello, specHMAC16(unhex(t, e.TicketSecret), []byte("postern-ticket-v2"), hello)...)
	} else {
		hello = append(hello, filler[len(filler)-32:]...)
	}
	if ex.intro {
		hello = hello[:len(hello)-32]
		hello = append(hello, filler[:32]...)
	}
	same("hello", hello, e.Hello)
	same("hello hash", specSHA(hello), e.HelloHash)
	z := sharedFrom(t, keyEph, readerEph)
	same("shared secret", z, e.SharedSecret)
	var resultKey, ticketSecret []byte
	header := []byte{0xB4, 2, byte(ex.path)}
	if ex.path == PathFull {
		ch := unhex(t, e.Challenge)
		signKey, signPub := s.site, pubBytes(t, s.site)
		if ex.rolled {
			signKey, signPub = s.rolled, pubBytes(t, s.rolled)
		}
		body := []byte{0xB2, 2, 1, 2}
		body = append(body, s.siteID[:]...)
		body = append(body, specSHA(signPub)[:8]...)
		body = append(body, s.readerID[:]...)
		var window, contents byte
		if ex.req.UnlockRequired() {
			window = 10
		}
		if ex.intro || ex.rolled {
			contents |= 1
		}
		if ex.intro {
			contents |= 2
		}
		if ex.rolled {
			contents |= 4
		}
		body = append(body, byte(ex.req), window, contents)
		body = append(body, specPub(t, readerEph)...)
		if contents != 0 {
			body = append(body, signPub...)
		}
		if ex.intro {
			body = append(body, specHMAC16(s.intro, []byte("postern-intro-site-v2"), specSHA(hello), s.siteID[:], signPub)...)
		}
		if ex.rolled {
			// The previous key's certificate: its id, the end of the
			// overlap, and its (randomised) signature, checked here.
			notAfter := vectorTime.Add(30 * 24 * time.Hour).UnixMilli()
			body = append(append(body, s.keyID[:]...), be64(notAfter)...)
			rollSig := ch[len(body) : len(body)+64]
			rd := specSHA([]byte("postern-rollover-v2"), s.siteID[:], s.keyID[:], s.rolledID[:], signPub, be64(notAfter))
			if !specVerify(t, &s.site.PublicKey, rd, rollSig) {
				t.Error("the challenge's rollover certificate does not verify with the previous key")
			}
			body = append(body, rollSig...)
		}
		if !bytes.Equal(body, ch[:len(ch)-64]) {
			t.Fatalf("challenge body:\n got %x\nwant %x", body, ch[:len(ch)-64])
		}
		d := specSHA([]byte("postern-challenge-v2"), specSHA(hello), body)
		same("challenge digest", d, e.ChallengeDigest)
		if !specVerify(t, &signKey.PublicKey, d, ch[len(ch)-64:]) {
			t.Error("challenge signature does not verify")
		}
		th := specSHA(hello, ch)
		same("transcript hash", th, e.TranscriptHash)
		salt := specSHA([]byte("postern-session-v2"), th)
		respKey := specHKDF(t, z, salt, "postern v2 response key")
		resultKey = specHKDF(t, z, salt, "postern v2 result key")
		ticketSecret = specHKDF(t, z, salt, "postern v2 ticket secret")
		plain := unhex(t, e.ResponsePlaintext)
		same("response", append([]byte{0xB3, 2}, specGCM(t, respKey, []byte{0xB3, 2}, plain)...), e.Response)
		same("response credential", plain[:16], hx(s.cred[:]))
		if plain[16] != e.Flags {
			t.Errorf("flags %d, want %d", plain[16], e.Flags)
		}
		rd := specSHA([]byte("postern-response-v2"), th, s.cred[:], []byte{e.Flags})
		same("response digest", rd, e.ResponseDigest)
		signer := s.tap
		if ex.uv {
			signer = s.uv
		}
		if !specVerify(t, &signer.PublicKey, rd, plain[17:]) {
			t.Error("response signature does not verify")
		}
	} else {
		salt := specSHA([]byte("postern-expedite-v2"), specSHA(hello))
		ikm := append(unhex(t, e.TicketSecret), z...)
		resultKey = specHKDF(t, ikm, salt, "postern v2 result key")
		ticketSecret = specHKDF(t, ikm, salt, "postern v2 ticket secret")
		header = append(header, specPub(t, readerEph)...)
	}
	same("result key", resultKey, e.ResultKey)
	same("next ticket secret", ticketSecret, e.NextTicketSecret)
	plain := unhex(t, e.ResultPlaintext)
	if len(plain) != 88 {
		t.Fatalf("result plaintext is %d bytes, want 88", len(plain))
	}
	granted := byte(0)
	if e.ResultGranted {
		granted = 1
	}
	want := append([]byte{granted, e.ResultReason, byte(len(e.ResultMessage))}, e.ResultMessage...)
	if !bytes.Equal(plain[:len(want)], want) || !allZero(plain[len(want):67]) {
		t.Errorf("result plaintext %x does not start %x then zeros", plain, want)
	}
	if (plain[67] == 1) != ex.ticket {
		t.Errorf("ticket flag %d, want a ticket: %v", plain[67], ex.ticket)
	}
	same("result", append(header, specGCM(t, resultKey, header, plain)...), e.Result)
}

func checkArtefactsV2(t *testing.T, s vectorSetupV2, v *vectorFileV2) {
	same := func(what string, got []byte, want string) {
		t.Helper()
		if hx(got) != want {
			t.Errorf("%s: got %x, want %s", what, got, want)
		}
	}
	rd := specSHA([]byte("postern-rollover-v2"), s.siteID[:], s.keyID[:], s.rolledID[:], pubBytes(t, s.rolled), be64(v.Rollover.NotAfterMs))
	same("rollover digest", rd, v.Rollover.Digest)
	if !specVerify(t, &s.site.PublicKey, rd, unhex(t, v.Rollover.Signature)) {
		t.Error("rollover signature does not verify with the previous key")
	}

	r := v.Registration
	codeHash := sha256.Sum256([]byte(r.Code))
	reg := specSHA([]byte("postern-register-v2"), codeHash[:], unhex(t, r.Nonce), pubBytes(t, s.tap), pubBytes(t, s.uv))
	same("registration digest", reg, r.Digest)
	for _, sig := range []struct {
		key *ecdsa.PrivateKey
		s   string
	}{{s.tap, r.TapSignature}, {s.uv, r.UVSignature}} {
		if !specVerify(t, &sig.key.PublicKey, reg, unhex(t, sig.s)) {
			t.Error("registration signature does not verify")
		}
	}
	payload := append(append(append(s.cred[:], s.siteID[:]...), s.keyID[:]...), pubBytes(t, s.site)...)
	for _, str := range []string{r.AnswerSiteName, r.AnswerSiteURL, r.AnswerFirst, r.AnswerLast} {
		payload = binary.BigEndian.AppendUint16(payload, uint16(len(str)))
		payload = append(payload, str...)
	}
	same("answer payload", payload, r.AnswerPayload)
	if !specVerify(t, &s.site.PublicKey, specSHA([]byte("postern-site-answer-v2"), reg, payload), unhex(t, r.AnswerSignature)) {
		t.Error("registration answer signature does not verify")
	}
	if r.Fingerprint != KeyFingerprint(&s.site.PublicKey) {
		t.Errorf("fingerprint %s", r.Fingerprint)
	}

	m := v.Migration
	md := specSHA([]byte("postern-migrate-v2"), s.cred[:], unhex(t, m.Nonce), pubBytes(t, s.tap), pubBytes(t, s.uv))
	same("migration digest", md, m.Digest)
	oldTap, oldUV := vectorKey(t, unhex(t, m.OldTapPrivate)), vectorKey(t, unhex(t, m.OldUVPrivate))
	for i, sig := range []struct {
		key *ecdsa.PrivateKey
		s   string
	}{{oldTap, m.OldTapSignature}, {oldUV, m.OldUVSignature}, {s.tap, m.TapSignature}, {s.uv, m.UVSignature}} {
		if !specVerify(t, &sig.key.PublicKey, md, unhex(t, sig.s)) {
			t.Errorf("migration signature %d does not verify", i)
		}
	}

	sd := specSHA([]byte("postern-share-v2"), s.cred[:], be64(v.Share.AtMs), specSHA([]byte(v.Share.Body)))
	same("share digest", sd, v.Share.Digest)
	if !specVerify(t, &s.uv.PublicKey, sd, unhex(t, v.Share.Signature)) {
		t.Error("share signature does not verify with the UV key")
	}

	tk := v.Token
	tp := append([]byte{2}, unhex(t, tk.ID)...)
	tp = append(tp, s.cred[:]...)
	tp = append(tp, pubBytes(t, s.tap)...)
	tp = append(tp, pubBytes(t, s.uv)...)
	tp = append(tp, s.intro...)
	tp = append(tp, s.siteID[:]...)
	tp = append(tp, pubBytes(t, s.site)...)
	tp = append(append(tp, be64(tk.IssuedAtMs)...), be64(tk.ExpiresAtMs)...)
	for _, str := range []string{tk.AdminEmail, tk.FirstName, tk.LastName, tk.SiteName, tk.SiteURL} {
		tp = append(append(tp, byte(len(str))), str...)
	}
	same("token payload", tp, tk.Payload)
	td := specSHA([]byte("postern-token-v2"), tp)
	same("token digest", td, tk.Digest)
	if !specVerify(t, &s.site.PublicKey, td, unhex(t, tk.Signature)) {
		t.Error("token signature does not verify")
	}
	if tk.Text != TokenPrefix+tokenEncoding.EncodeToString(tp)+"."+tokenEncoding.EncodeToString(unhex(t, tk.Signature)) {
		t.Error("token text is not the prefix, payload and signature in base64url")
	}
	if _, err := DecodeTokenV2(tk.Text, time.UnixMilli(tk.IssuedAtMs)); err != nil {
		t.Errorf("decode token: %v", err)
	}
}
