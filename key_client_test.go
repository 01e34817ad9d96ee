package main

import (
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"postern/access"
	"postern/access/protocol"
	"postern/access/softkey"
	"postern/store"
	"postern/web"
)

// startKeySite runs a real site in-process, the web server on a store in a
// temporary folder, for the key's client to talk to.
func startKeySite(t *testing.T) (*httptest.Server, *store.Store) {
	t.Helper()
	st, err := store.Open(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if _, err := st.Site(t.Context()); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(web.New(web.Config{Store: st, Log: slog.New(slog.DiscardHandler), PublicURL: "https://doors.example"}))
	t.Cleanup(srv.Close)
	return srv, st
}

// assignSmart gives a new user a Smart credential and returns its first
// registration code.
func assignSmart(t *testing.T, st *store.Store, first, last string) (access.CredentialID, string) {
	t.Helper()
	u := access.User{FirstName: first, LastName: last, Email: strings.ToLower(first) + "@doors.example"}
	if err := st.CreateUser(t.Context(), "test", &u); err != nil {
		t.Fatal(err)
	}
	code := access.NewRegistrationCode()
	invite := func(access.Credential, access.User) (store.Mail, error) {
		return store.Mail{Kind: "invitation", Recipient: u.Email, Subject: "Your key", Message: "{}"}, nil
	}
	cred, err := st.AssignCredential(t.Context(), "test", u.ID, code, time.Now().Add(time.Hour), invite)
	if err != nil {
		t.Fatal(err)
	}
	return cred.ID, code
}

// TestKeyClient registers and shares through the key API of a real site,
// and gets its refusals back as keyAPIErrors with their stable codes.
func TestKeyClient(t *testing.T) {
	srv, st := startKeySite(t)
	id, code := assignSmart(t, st, "Ann", "Lee")
	keys, err := softkey.NewKeys()
	if err != nil {
		t.Fatal(err)
	}
	tapPub, _ := keys.Tap.PublicKey.Bytes()
	uvPub, _ := keys.UV.PublicKey.Bytes()
	tapSig, uvSig, err := protocol.SignRegistration(code, keys.Tap, keys.UV)
	if err != nil {
		t.Fatal(err)
	}
	client := &keyClient{Site: srv.URL + "/", HTTP: srv.Client()}
	reg := web.KeyRegisterRequest{Code: code, TapKey: tapPub, UVKey: uvPub, TapSig: tapSig, UVSig: uvSig, Device: "client test"}

	resp, err := client.Register(t.Context(), reg)
	if err != nil {
		t.Fatalf("register: %v", err)
	}
	if resp.CredentialID != id.String() || resp.FirstName != "Ann" || resp.LastName != "Lee" {
		t.Errorf("got %+v, want Ann Lee's credential %s", resp, id)
	}
	if _, err := protocol.ParsePublicKey(resp.Site.PublicKey); err != nil || len(resp.Site.ID) != 32 {
		t.Errorf("got site %q with key error %v, want its id and public key", resp.Site.ID, err)
	}

	_, err = client.Register(t.Context(), reg)
	var ke *keyAPIError
	if !errors.As(err, &ke) || ke.Status != http.StatusConflict || ke.Code != web.KeyErrRegistration || !strings.Contains(ke.Message, "already been used") {
		t.Errorf("registering the code again: got %v, want a 409 %s", err, web.KeyErrRegistration)
	}

	ask := web.KeyShareRequest{CredentialID: id.String(), FirstName: "Ann", LastName: "Lee", AdminEmail: "admin@other.example"}
	signAs := func(id access.CredentialID) func([]byte, time.Time) []byte {
		return func(body []byte, at time.Time) []byte {
			return protocol.SignShare(protocol.CredentialID(id), body, at, keys.Tap)
		}
	}
	now := time.Now()
	shared, err := client.Share(t.Context(), ask, signAs(id), now)
	if err != nil {
		t.Fatalf("share: %v", err)
	}
	if shared.Status != "queued" || !shared.ExpiresAt.After(now) {
		t.Errorf("got %+v, want queued with an expiry ahead", shared)
	}

	stranger := access.NewCredentialID()
	ask.CredentialID = stranger.String()
	_, err = client.Share(t.Context(), ask, signAs(stranger), now)
	if !errors.As(err, &ke) || ke.Status != http.StatusNotFound || ke.Code != web.KeyErrUnknownCredential || ke.Message == "" {
		t.Errorf("sharing an unknown credential: got %v, want a 404 %s", err, web.KeyErrUnknownCredential)
	}
}

// TestKeyClientNotASite: what answers must be a Postern site, and be there.
func TestKeyClientNotASite(t *testing.T) {
	notPostern := httptest.NewServer(http.NotFoundHandler())
	defer notPostern.Close()
	_, err := (&keyClient{Site: notPostern.URL}).Register(t.Context(), web.KeyRegisterRequest{})
	var ke *keyAPIError
	if !errors.As(err, &ke) || ke.Code != "unexpected" || !strings.Contains(ke.Message, "did not answer like a Postern site (HTTP 404)") {
		t.Errorf("a web server that is not Postern: got %v, want it named as not a Postern site", err)
	}
	_, err = (&keyClient{Site: "http://" + freeAddr(t)}).Register(t.Context(), web.KeyRegisterRequest{})
	if !errors.Is(err, errSiteUnreachable) {
		t.Errorf("nothing listening: got %v, want errSiteUnreachable", err)
	}
}

func TestParseRegistrationInput(t *testing.T) {
	const code = "12345678901234567890123456789012"
	tests := []struct {
		name       string
		arg, site  string
		wantSite   string
		wantCode   string
		wantErrHas string
	}{
		{name: "link", arg: "https://doors.example/key/register?code=" + code, wantSite: "https://doors.example", wantCode: code},
		{name: "link under a path", arg: " http://gw.local:8080/postern/key/register?code=" + code + " ", wantSite: "http://gw.local:8080/postern", wantCode: code},
		{name: "code and site", arg: code, site: "https://doors.example/", wantSite: "https://doors.example", wantCode: code},
		{name: "code alone", arg: code, wantErrHas: "--site URL"},
		{name: "link without a site", arg: "/key/register?code=" + code, wantErrHas: "no site"},
		{name: "link without a code", arg: "https://doors.example/key/register", wantErrHas: "no registration code"},
		{name: "site not a web address", arg: code, site: "doors.example", wantErrHas: "not a web address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			site, code, err := parseRegistrationInput(tt.arg, tt.site)
			if tt.wantErrHas != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErrHas) {
					t.Errorf("got %q %q %v, want an error with %q", site, code, err, tt.wantErrHas)
				}
				return
			}
			if err != nil || site != tt.wantSite || code != tt.wantCode {
				t.Errorf("got %q %q %v, want %q %q", site, code, err, tt.wantSite, tt.wantCode)
			}
		})
	}
}
