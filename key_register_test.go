package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"postern/access/protocol"
	"postern/store"
	"postern/web"
	"postern/web/tlsconf"
)

// rogueSite answers registrations as a site that is not the one that sent
// the invitation: it has its own key, and signs (or not) as told.
func rogueSite(t *testing.T, sign func(req web.KeyRegisterV2Request, a *protocol.SiteAnswer) []byte) *httptest.Server {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := protocol.MarshalPublicKey(&key.PublicKey)
	site := web.KeySiteV2{ID: "00112233445566778899aabbccddeeff", Name: "Rogue", URL: "https://rogue.example", PublicKey: pub}
	id := protocol.KeyIDOf(pub)
	site.KeyID = hex.EncodeToString(id[:])
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api/key/v1/register":
			json.NewEncoder(w).Encode(web.KeyRegisterResponse{CredentialID: "00000000000000000000000000000001",
				Site: web.KeySite{ID: site.ID, Name: site.Name, URL: site.URL, PublicKey: pub}, FirstName: "Ann"})
		case "/api/key/v2/register":
			var req web.KeyRegisterV2Request
			json.NewDecoder(r.Body).Decode(&req)
			a := protocol.SiteAnswer{CredentialID: protocol.CredentialID{1}, SiteID: protocol.SiteID{0, 0x11}, SiteKey: pub, SiteName: site.Name, SiteURL: site.URL, FirstName: "Ann"}
			ans := web.KeySiteAnswer{CredentialID: "00000000000000000000000000000001", Site: site, FirstName: "Ann"}
			ans.Site.ID = "00110000000000000000000000000000"
			ans.Signature = sign(req, &a)
			json.NewEncoder(w).Encode(ans)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

// TestRegistrationAnswerMustBeSigned: the key keeps nothing from a site
// whose answer is unsigned, badly signed, or signed by another key than
// the one its invitation names, and sends nothing over plain HTTP to
// another machine. A version 1 key takes the same unsigned answer: that
// is the weakness.
func TestRegistrationAnswerMustBeSigned(t *testing.T) {
	pin := filepath.Join(t.TempDir(), "pin")
	os.WriteFile(pin, []byte("correct horse 4321"), 0o600)
	const code = "12345678901234567890123456789012"
	register := func(t *testing.T, args ...string) (string, int) {
		t.Helper()
		state := filepath.Join(t.TempDir(), "k.json")
		var out, errb bytes.Buffer
		err := key(t.Context(), append([]string{"--state", state, "register"}, args...), stdio{in: strings.NewReader(""), out: &out, err: &errb})
		code := exitCode(err, &errb)
		if _, serr := os.Stat(state); code != 0 && serr == nil {
			t.Error("a refused registration left a state file")
		}
		return errb.String() + out.String(), code
	}
	unsigned := rogueSite(t, func(web.KeyRegisterV2Request, *protocol.SiteAnswer) []byte { return nil })
	t.Run("v1 takes an unsigned answer", func(t *testing.T) {
		if out, rc := register(t, code, "--site", unsigned.URL, "--pin-file", pin, "--protocol", "1"); rc != 0 {
			t.Fatalf("the version 1 weakness is gone? exit %d %s", rc, out)
		}
	})
	forged := rogueSite(t, func(web.KeyRegisterV2Request, *protocol.SiteAnswer) []byte {
		return bytes.Repeat([]byte{1}, protocol.SignatureSize)
	})
	// A valid signature, by a key other than the one the answer names.
	rogueKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	selfSigned := rogueSite(t, func(req web.KeyRegisterV2Request, a *protocol.SiteAnswer) []byte {
		d := protocol.RegistrationDigest2(req.Code, req.Nonce, req.TapKey, req.UVKey)
		sig, _ := protocol.SignSiteAnswer(d, a, rogueKey)
		return sig
	})
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unsigned answer", []string{code, "--site", unsigned.URL}, "not signed"},
		{"answer signed by nobody", []string{code, "--site", forged.URL}, "does not verify"},
		{"answer signed by a key the answer does not name", []string{code, "--site", selfSigned.URL}, "does not verify"},
		{"plain http to another machine", []string{code, "--site", "http://doors.example"}, "plain http"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, rc := register(t, append(tt.args, "--pin-file", pin)...)
			if rc != 1 || !strings.Contains(out, "Registration Error") || !strings.Contains(out, tt.want) {
				t.Errorf("got exit %d %q, want 1 and a Registration Error mentioning %q", rc, out, tt.want)
			}
		})
	}
}

// TestRegistrationChecksTheInvitationsFingerprint: a genuine site's
// answer is kept only if its key is the one the invitation names.
func TestRegistrationChecksTheInvitationsFingerprint(t *testing.T) {
	srv, st := startKeySite(t)
	pin := filepath.Join(t.TempDir(), "pin")
	os.WriteFile(pin, []byte("correct horse 4321"), 0o600)
	site, err := st.Site(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	fp := protocol.KeyFingerprint(&site.Key.PublicKey)
	for _, tt := range []struct {
		name, fingerprint string
		want              int
	}{
		{"another fingerprint", "0000:0000:0000:0000:0000:0000:0000:0000", 1},
		{"the site's", fp, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, code := assignSmart(t, st, "Ann", "Lee")
			link := srv.URL + "/key/register?code=" + code + "&fp=" + tt.fingerprint
			var out, errb bytes.Buffer
			err := key(t.Context(), []string{"--state", filepath.Join(t.TempDir(), "k.json"), "register", link, "--pin-file", pin}, stdio{in: strings.NewReader(""), out: &out, err: &errb})
			if rc := exitCode(err, &errb); rc != tt.want {
				t.Errorf("got exit %d %q %q, want %d", rc, out.String(), errb.String(), tt.want)
			}
		})
	}
}

// TestRegistrationPinsASelfSignedCertificate: an appliance on a LAN serves
// a certificate no CA vouches for; the key trusts it when told its
// fingerprint (Settings shows it), and only that certificate.
func TestRegistrationPinsASelfSignedCertificate(t *testing.T) {
	st, err := store.Open(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	srv := httptest.NewTLSServer(web.New(web.Config{Store: st, Log: slog.New(slog.DiscardHandler), PublicURL: "https://doors.lan"}))
	t.Cleanup(srv.Close)
	pin := filepath.Join(t.TempDir(), "pin")
	os.WriteFile(pin, []byte("correct horse 4321"), 0o600)
	for _, tt := range []struct {
		name, fingerprint string
		want              int
		wantErr           string
	}{
		{"no pin: the certificate is refused", "", 2, "cannot be reached"},
		{"another certificate's fingerprint", strings.Repeat("AB:", 31) + "AB", 2, "another fingerprint"},
		{"the certificate's fingerprint, as Settings shows it", tlsconf.Fingerprint(srv.Certificate().Raw), 0, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, code := assignSmart(t, st, "Ann", "Lee")
			state := filepath.Join(t.TempDir(), "k.json")
			var out, errb bytes.Buffer
			err := key(t.Context(), []string{"--state", state, "register", code, "--site", srv.URL, "--pin-file", pin, "--tls-fingerprint", tt.fingerprint}, stdio{in: strings.NewReader(""), out: &out, err: &errb})
			if rc := exitCode(err, &errb); rc != tt.want || !strings.Contains(errb.String(), tt.wantErr) {
				t.Fatalf("got exit %d %q %q, want %d mentioning %q", rc, out.String(), errb.String(), tt.want, tt.wantErr)
			}
		})
	}
}
