package protocol

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hkdf"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"flag"
	"math/big"
	"os"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "regenerate testdata/vectors.json")

const vectorsPath = "testdata/vectors.json"

// The vectors are for a phone app's implementers: every intermediate value
// of an exchange, from fixed private keys and fixed random bytes. ECDSA
// signatures are randomised, so the file stores them and the test verifies
// them; every other byte is re-derived here, independently of the package
// where the specification allows, and compared exactly.

type vectorFile struct {
	Comment      string             `json:"comment"`
	Keys         vectorKeys         `json:"keys"`
	Exchanges    []vectorExchange   `json:"exchanges"`
	Token        vectorToken        `json:"token"`
	Registration vectorRegistration `json:"registration"`
	Share        vectorShare        `json:"share"`
}

type vectorKeys struct {
	SitePrivate  string `json:"site_private"`
	SitePublic   string `json:"site_public"`
	TapPrivate   string `json:"tap_private"`
	TapPublic    string `json:"tap_public"`
	UVPrivate    string `json:"uv_private"`
	UVPublic     string `json:"uv_public"`
	SiteID       string `json:"site_id"`
	ReaderID     string `json:"reader_id"`
	CredentialID string `json:"credential_id"`
}

type vectorExchange struct {
	Name                   string   `json:"name"`
	Versions               []uint8  `json:"versions"`
	Requirements           uint8    `json:"requirements"`
	IssuedAtMs             int64    `json:"issued_at_ms"`
	Nonce                  string   `json:"nonce"`
	ReaderEphemeralPrivate string   `json:"reader_ephemeral_private"`
	ReaderEphemeralPublic  string   `json:"reader_ephemeral_public"`
	ChallengeBody          string   `json:"challenge_body"`
	ChallengeDigest        string   `json:"challenge_digest"`
	ChallengeSignature     string   `json:"challenge_signature"`
	Challenge              string   `json:"challenge"`
	ChallengeFragments185  []string `json:"challenge_fragments_mtu185"`
	UserVerified           bool     `json:"user_verified"`
	KeyEphemeralPrivate    string   `json:"key_ephemeral_private"`
	KeyEphemeralPublic     string   `json:"key_ephemeral_public"`
	ResponseHeader         string   `json:"response_header"`
	ChallengeHash          string   `json:"challenge_hash"`
	SharedSecret           string   `json:"shared_secret"`
	Salt                   string   `json:"hkdf_salt"`
	ResponseKey            string   `json:"response_key"`
	ResultKey              string   `json:"result_key"`
	Flags                  uint8    `json:"flags"`
	TranscriptDigest       string   `json:"transcript_digest"`
	ResponseSignature      string   `json:"response_signature"`
	ResponsePlaintext      string   `json:"response_plaintext"`
	Response               string   `json:"response"`
	ResultGranted          bool     `json:"result_granted"`
	ResultReason           uint8    `json:"result_reason"`
	ResultMessage          string   `json:"result_message"`
	ResultPlaintext        string   `json:"result_plaintext"`
	Result                 string   `json:"result"`
}

type vectorToken struct {
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
	Fingerprint string `json:"site_fingerprint"`
}

type vectorRegistration struct {
	Code         string `json:"code"`
	Digest       string `json:"digest"`
	TapSignature string `json:"tap_signature"`
	UVSignature  string `json:"uv_signature"`
}

type vectorShare struct {
	Body      string `json:"body"`
	AtMs      int64  `json:"at_ms"`
	Digest    string `json:"digest"`
	Signature string `json:"signature"`
}

// vectorBytes derives fixed "random" bytes from a label.
func vectorBytes(label string, n int) []byte {
	var out []byte
	for i := 0; len(out) < n; i++ {
		s := sha256.Sum256([]byte(label + string(rune('0'+i))))
		out = append(out, s[:]...)
	}
	return out[:n]
}

func unhex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("hex %q: %v", s, err)
	}
	return b
}

func hx(b []byte) string { return hex.EncodeToString(b) }

func vectorKey(t *testing.T, scalar []byte) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), scalar)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// Independent re-statements of docs/protocol.md.

func specSHA(parts ...[]byte) []byte {
	h := sha256.New()
	for _, p := range parts {
		h.Write(p)
	}
	return h.Sum(nil)
}

func specVerify(t *testing.T, pub *ecdsa.PublicKey, digest, sig []byte) bool {
	t.Helper()
	if len(sig) != 64 {
		return false
	}
	return ecdsa.Verify(pub, digest, new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:]))
}

func specGCM(t *testing.T, key, aad, plain []byte) []byte {
	t.Helper()
	block, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		t.Fatal(err)
	}
	return gcm.Seal(nil, make([]byte, 12), plain, aad)
}

func specHKDF(t *testing.T, secret, salt []byte, info string) []byte {
	t.Helper()
	k, err := hkdf.Key(sha256.New, secret, salt, info, 32)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestVectors(t *testing.T) {
	if *update {
		writeVectors(t)
	}
	raw, err := os.ReadFile(vectorsPath)
	if err != nil {
		t.Fatalf("%v (run go test -run TestVectors -update to create it)", err)
	}
	var v vectorFile
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	checkVectors(t, &v)
}

// vectorSetup is the fixed material both generation and checking use.
type vectorSetup struct {
	site, tap, uv *ecdsa.PrivateKey
	siteID        SiteID
	readerID      ReaderID
	cred          CredentialID
}

func newVectorSetup(t *testing.T) vectorSetup {
	var s vectorSetup
	s.site = vectorKey(t, vectorBytes("postern vector: site key", 32))
	s.tap = vectorKey(t, vectorBytes("postern vector: tap key", 32))
	s.uv = vectorKey(t, vectorBytes("postern vector: uv key", 32))
	copy(s.siteID[:], vectorBytes("postern vector: site id", 16))
	copy(s.readerID[:], vectorBytes("postern vector: reader id", 16))
	copy(s.cred[:], vectorBytes("postern vector: credential id", 16))
	return s
}

var vectorExchanges = []struct {
	name string
	req  Requirements
	uv   bool
	res  Result
}{
	{"tap, granted", 0, false, Result{Granted: true, Reason: ReasonGranted, Message: "Welcome, Zoë"}},
	{"unlock required, user verified, denied", RequireUnlock, true, Result{Reason: ReasonOutsideSchedule, Message: "Outside your schedule"}},
}

var (
	vectorTime     = time.UnixMilli(1772442000123) // 2026-03-02T09:00:00.123Z
	vectorCode     = "40192837465019283746501928374650"
	vectorShareNow = time.UnixMilli(1772442060000)
	vectorBody     = `{"first_name":"Zoë","last_name":"Okafor","admin_email":"admin@other.example"}`
)

func checkVectors(t *testing.T, v *vectorFile) {
	s := newVectorSetup(t)
	same := func(what string, got []byte, want string) {
		t.Helper()
		if hx(got) != want {
			t.Errorf("%s: got %x, want %s", what, got, want)
		}
	}

	// Keys.
	for _, k := range []struct {
		name       string
		key        *ecdsa.PrivateKey
		priv, pubH string
	}{
		{"site", s.site, v.Keys.SitePrivate, v.Keys.SitePublic},
		{"tap", s.tap, v.Keys.TapPrivate, v.Keys.TapPublic},
		{"uv", s.uv, v.Keys.UVPrivate, v.Keys.UVPublic},
	} {
		d, _ := k.key.Bytes()
		same(k.name+" private", d, k.priv)
		same(k.name+" public", pubBytes(t, k.key), k.pubH)
	}
	same("site id", s.siteID[:], v.Keys.SiteID)
	same("reader id", s.readerID[:], v.Keys.ReaderID)
	same("credential id", s.cred[:], v.Keys.CredentialID)

	if len(v.Exchanges) != len(vectorExchanges) {
		t.Fatalf("exchanges: got %d, want %d", len(v.Exchanges), len(vectorExchanges))
	}
	for i, ex := range v.Exchanges {
		t.Run(ex.Name, func(t *testing.T) {
			spec := vectorExchanges[i]
			nonce, readerEphB, keyEphB := unhex(t, ex.Nonce), unhex(t, ex.ReaderEphemeralPrivate), unhex(t, ex.KeyEphemeralPrivate)
			readerEph, err := ecdh.P256().NewPrivateKey(readerEphB)
			if err != nil {
				t.Fatal(err)
			}
			keyEph, err := ecdh.P256().NewPrivateKey(keyEphB)
			if err != nil {
				t.Fatal(err)
			}
			same("reader ephemeral public", readerEph.PublicKey().Bytes(), ex.ReaderEphemeralPublic)
			same("key ephemeral public", keyEph.PublicKey().Bytes(), ex.KeyEphemeralPublic)

			// Challenge body: from the specification's table...
			body := []byte{0xA1, byte(len(ex.Versions))}
			body = append(body, ex.Versions...)
			body = append(body, s.siteID[:]...)
			body = append(body, s.readerID[:]...)
			body = append(body, nonce...)
			body = append(body, ex.Requirements)
			body = append(body, readerEph.PublicKey().Bytes()...)
			body = binary.BigEndian.AppendUint64(body, uint64(ex.IssuedAtMs))
			same("challenge body (spec)", body, ex.ChallengeBody)
			// ...and from the package, with the same random bytes.
			ch, _, err := NewChallenge(bytes.NewReader(append(bytes.Clone(nonce), readerEphB...)), s.site, s.siteID, s.readerID, Requirements(ex.Requirements), time.UnixMilli(ex.IssuedAtMs))
			if err != nil {
				t.Fatal(err)
			}
			same("challenge body (package)", ch.body(), ex.ChallengeBody)
			digest := specSHA([]byte("postern-challenge-v1"), body)
			same("challenge digest", digest, ex.ChallengeDigest)
			if !specVerify(t, &s.site.PublicKey, digest, unhex(t, ex.ChallengeSignature)) {
				t.Errorf("challenge signature does not verify")
			}
			msg := append(bytes.Clone(body), unhex(t, ex.ChallengeSignature)...)
			same("challenge", msg, ex.Challenge)
			parsed, err := ParseChallenge(msg)
			if err != nil {
				t.Fatal(err)
			}
			if err := parsed.Verify(&s.site.PublicKey); err != nil {
				t.Errorf("package Verify: %v", err)
			}
			frags := Fragment(msg, DefaultMTU)
			if got := hexAll(frags); len(got) != len(ex.ChallengeFragments185) {
				t.Errorf("fragments: got %d, want %d", len(got), len(ex.ChallengeFragments185))
			} else {
				for j := range got {
					same("fragment", frags[j], ex.ChallengeFragments185[j])
				}
			}

			// Response header and session keys.
			header := []byte{0xA2, byte(Version1), 1, byte(Version1)}
			header = append(header, keyEph.PublicKey().Bytes()...)
			same("response header", header, ex.ResponseHeader)
			chHash := specSHA(msg)
			same("challenge hash", chHash, ex.ChallengeHash)
			shared, err := keyEph.ECDH(readerEph.PublicKey())
			if err != nil {
				t.Fatal(err)
			}
			shared2, _ := readerEph.ECDH(keyEph.PublicKey())
			if !bytes.Equal(shared, shared2) {
				t.Fatalf("ECDH disagrees with itself")
			}
			same("shared secret", shared, ex.SharedSecret)
			salt := specSHA([]byte("postern-session-v1"), chHash, header)
			same("salt", salt, ex.Salt)
			respKey := specHKDF(t, shared, salt, "postern response key")
			resultKey := specHKDF(t, shared, salt, "postern result key")
			same("response key", respKey, ex.ResponseKey)
			same("result key", resultKey, ex.ResultKey)

			// Transcript signature and ciphertext.
			if ex.UserVerified != spec.uv || (ex.Flags == 1) != spec.uv {
				t.Fatalf("flags: got %v/%d, want user verified %v", ex.UserVerified, ex.Flags, spec.uv)
			}
			transcript := specSHA([]byte("postern-response-v1"), chHash, header, s.cred[:], []byte{ex.Flags})
			same("transcript digest", transcript, ex.TranscriptDigest)
			signer := &s.tap.PublicKey
			if ex.UserVerified {
				signer = &s.uv.PublicKey
			}
			sig := unhex(t, ex.ResponseSignature)
			if !specVerify(t, signer, transcript, sig) {
				t.Errorf("response signature does not verify")
			}
			plain := append(append(append([]byte(nil), s.cred[:]...), ex.Flags), sig...)
			same("response plaintext", plain, ex.ResponsePlaintext)
			resp := append(bytes.Clone(header), specGCM(t, respKey, header, plain)...)
			same("response", resp, ex.Response)

			// The package agrees: same header from the same ephemeral
			// bytes, same session key, and it opens the stored response.
			pkgResp, keySess, err := Respond(bytes.NewReader(keyEphB), parsed, s.cred, s.tap, ex.UserVerified)
			if err != nil {
				t.Fatal(err)
			}
			same("package response header", pkgResp[:len(header)], ex.ResponseHeader)
			same("package key-side result key", keySess.resultKey[:], ex.ResultKey)
			o, err := OpenResponse(parsed, readerEph, resp)
			if err != nil {
				t.Fatalf("OpenResponse: %v", err)
			}
			if o.CredentialID != s.cred || o.UserVerified != ex.UserVerified {
				t.Errorf("opened: got %v/%v, want %v/%v", o.CredentialID, o.UserVerified, s.cred, ex.UserVerified)
			}
			if err := o.Verify(signer); err != nil {
				t.Errorf("package Verify: %v", err)
			}

			// Result.
			granted := byte(0)
			if ex.ResultGranted {
				granted = 1
			}
			rplain := append([]byte{granted, ex.ResultReason, byte(len(ex.ResultMessage))}, ex.ResultMessage...)
			same("result plaintext", rplain, ex.ResultPlaintext)
			rheader := []byte{0xA3, byte(Version1)}
			result := append(bytes.Clone(rheader), specGCM(t, resultKey, rheader, rplain)...)
			same("result", result, ex.Result)
			want := Result{Granted: ex.ResultGranted, Reason: Reason(ex.ResultReason), Message: ex.ResultMessage}
			if want != spec.res {
				t.Errorf("result fields: got %+v, want %+v", want, spec.res)
			}
			sealed, err := SealResult(o.Session, want)
			if err != nil {
				t.Fatal(err)
			}
			same("package result", sealed, ex.Result)
			got, err := OpenResult(keySess, result)
			if err != nil || got != want {
				t.Errorf("package OpenResult: got %+v (%v), want %+v", got, err, want)
			}
		})
	}

	t.Run("token", func(t *testing.T) {
		tv := v.Token
		payload := []byte{1}
		payload = append(payload, s.cred[:]...)
		payload = append(payload, pubBytes(t, s.tap)...)
		payload = append(payload, pubBytes(t, s.uv)...)
		payload = append(payload, s.siteID[:]...)
		payload = append(payload, pubBytes(t, s.site)...)
		payload = binary.BigEndian.AppendUint64(payload, uint64(tv.IssuedAtMs))
		payload = binary.BigEndian.AppendUint64(payload, uint64(tv.ExpiresAtMs))
		for _, f := range []string{tv.FirstName, tv.LastName, tv.SiteName, tv.SiteURL} {
			payload = append(append(payload, byte(len(f))), f...)
		}
		same("token payload", payload, tv.Payload)
		digest := specSHA([]byte("postern-token-v1"), payload)
		same("token digest", digest, tv.Digest)
		sig := unhex(t, tv.Signature)
		if !specVerify(t, &s.site.PublicKey, digest, sig) {
			t.Errorf("token signature does not verify")
		}
		text := "postern-credential:" + base64.RawURLEncoding.EncodeToString(payload) + "." + base64.RawURLEncoding.EncodeToString(sig)
		if text != tv.Text {
			t.Errorf("token text: got %s, want %s", text, tv.Text)
		}
		tok, err := DecodeToken(tv.Text, time.UnixMilli(tv.IssuedAtMs))
		if err != nil {
			t.Fatalf("DecodeToken: %v", err)
		}
		same("package token payload", tok.payload(), tv.Payload)
		if got := tok.SiteFingerprint(); got != tv.Fingerprint {
			t.Errorf("fingerprint: got %s, want %s", got, tv.Fingerprint)
		}
		fp := hex.EncodeToString(specSHA(pubBytes(t, s.site))[:16])
		var grouped []string
		for i := 0; i < len(fp); i += 4 {
			grouped = append(grouped, fp[i:i+4])
		}
		if want := strings.Join(grouped, ":"); tv.Fingerprint != want {
			t.Errorf("fingerprint: got %s, want SHA-256(site key)[:16] in groups, %s", tv.Fingerprint, want)
		}
	})

	t.Run("registration", func(t *testing.T) {
		rv := v.Registration
		digest := specSHA([]byte("postern-register-v1"), specSHA([]byte(rv.Code)), pubBytes(t, s.tap), pubBytes(t, s.uv))
		same("registration digest", digest, rv.Digest)
		if err := VerifyRegistration(rv.Code, pubBytes(t, s.tap), pubBytes(t, s.uv), unhex(t, rv.TapSignature), unhex(t, rv.UVSignature)); err != nil {
			t.Errorf("VerifyRegistration: %v", err)
		}
	})

	t.Run("share", func(t *testing.T) {
		sv := v.Share
		digest := specSHA([]byte("postern-share-v1"), s.cred[:], binary.BigEndian.AppendUint64(nil, uint64(sv.AtMs)), specSHA([]byte(sv.Body)))
		same("share digest", digest, sv.Digest)
		if err := VerifyShare(s.cred, []byte(sv.Body), time.UnixMilli(sv.AtMs), unhex(t, sv.Signature), &s.tap.PublicKey); err != nil {
			t.Errorf("VerifyShare: %v", err)
		}
	})
}
