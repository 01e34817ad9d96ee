package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"postern/web"
)

// keyClient is the key's side of the key-facing API (web's /api/key/v1/):
// what the phone app does over HTTPS, here for `postern key`.
type keyClient struct {
	Site string // the site's public URL
	HTTP *http.Client
	// CertPin, when set, is the SHA-256 fingerprint of the site's own TLS
	// certificate (a self-signed appliance on a LAN, which no CA vouches
	// for): the key trusts exactly that certificate instead.
	CertPin string
}

// keyAPIError is a refusal from the site, with the stable code it sent.
type keyAPIError struct {
	Status  int
	Code    string
	Message string
}

func (e *keyAPIError) Error() string { return e.Message }

// errSiteUnreachable wraps failures to reach the site at all.
var errSiteUnreachable = errors.New("the site cannot be reached")

// parseRegistrationInput reads what a user gives the key's register
// command: an invitation link (which carries the site) or a bare code
// (which needs site).
func parseRegistrationInput(arg, site string) (siteURL, code string, err error) {
	arg = strings.TrimSpace(arg)
	if strings.Contains(arg, "://") || strings.Contains(arg, "/key/register") {
		u, perr := url.Parse(arg)
		if perr != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			return "", "", errors.New("this link has no site in it: open the link from your invitation email, or give the code with --site URL")
		}
		code = u.Query().Get("code")
		if code == "" {
			return "", "", errors.New("this link has no registration code in it: copy the whole link from your invitation email")
		}
		path := strings.TrimSuffix(u.Path, "/key/register")
		siteURL = u.Scheme + "://" + u.Host + strings.TrimRight(path, "/")
		return siteURL, code, nil
	}
	if site == "" {
		return "", "", errors.New("a code alone does not say which site issued it: add --site URL (the address in your invitation email), or use the link from the email")
	}
	su, perr := url.Parse(site)
	if perr != nil || su.Host == "" || (su.Scheme != "http" && su.Scheme != "https") {
		return "", "", fmt.Errorf("--site %q is not a web address such as https://doors.example.com", site)
	}
	return strings.TrimRight(site, "/"), arg, nil
}

func (k *keyClient) client() *http.Client {
	if k.HTTP != nil {
		return k.HTTP
	}
	c := &http.Client{Timeout: 20 * time.Second}
	if k.CertPin != "" {
		want := normalizePin(k.CertPin)
		c.Transport = &http.Transport{TLSClientConfig: &tls.Config{
			// The pin replaces the CA check: the certificate must be the
			// one the site shows, whoever signed it.
			InsecureSkipVerify: true,
			VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
				if len(raw) == 0 {
					return errors.New("the site sent no certificate")
				}
				sum := sha256.Sum256(raw[0])
				if hex.EncodeToString(sum[:]) != want {
					return fmt.Errorf("the site's certificate has another fingerprint than %s: not the site you pinned", k.CertPin)
				}
				return nil
			},
		}}
	}
	return c
}

// normalizePin reads a certificate fingerprint as Settings shows it
// (colon-separated hex pairs, any case) or as plain hex.
func normalizePin(s string) string {
	return strings.ToLower(strings.NewReplacer(":", "", " ", "").Replace(strings.TrimSpace(s)))
}

// errPlainHTTP refuses to send a code or a signed request in the clear.
var errPlainHTTP = errors.New("the site's address is plain http://, which anyone on the way can read and change: use its https:// address (plain http is only for this machine itself)")

// checkSiteURL refuses a site the key would reach over plain HTTP, except
// on this machine (loopback), where nothing is on the way.
func checkSiteURL(site string) error {
	u, err := url.Parse(site)
	if err != nil || u.Host == "" {
		return fmt.Errorf("%q is not a web address such as https://doors.example.com", site)
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		host := u.Hostname()
		if ip := net.ParseIP(host); host == "localhost" || (ip != nil && ip.IsLoopback()) {
			return nil
		}
		return errPlainHTTP
	}
	return fmt.Errorf("%q is not a web address such as https://doors.example.com", site)
}

// post sends one JSON request to the key API (version 1 paths unless
// path names its version) and decodes the answer.
func (k *keyClient) post(ctx context.Context, path string, headers map[string]string, body []byte, out any) error {
	if !strings.HasPrefix(path, "v2/") {
		path = "v1/" + path
	}
	if err := checkSiteURL(k.Site); err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(k.Site, "/")+"/api/key/"+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	for name, v := range headers {
		req.Header.Set(name, v)
	}
	resp, err := k.client().Do(req)
	if err != nil {
		return fmt.Errorf("%w at %s: %v", errSiteUnreachable, k.Site, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("%w at %s: %v", errSiteUnreachable, k.Site, err)
	}
	if resp.StatusCode/100 != 2 {
		var ke web.KeyError
		if json.Unmarshal(data, &ke) != nil || ke.Error == "" {
			return &keyAPIError{Status: resp.StatusCode, Code: "unexpected", Message: fmt.Sprintf("%s did not answer like a Postern site (HTTP %d)", k.Site, resp.StatusCode)}
		}
		return &keyAPIError{Status: resp.StatusCode, Code: ke.Error, Message: ke.Message}
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s did not answer like a Postern site: %v", k.Site, err)
	}
	return nil
}

// Register sends a registration request.
func (k *keyClient) Register(ctx context.Context, req web.KeyRegisterRequest) (web.KeyRegisterResponse, error) {
	var out web.KeyRegisterResponse
	body, err := json.Marshal(req)
	if err != nil {
		return out, err
	}
	return out, k.post(ctx, "register", nil, body, &out)
}

// Share asks the home site to email the credential to another site's
// administrator, signed with the credential's tap key.
func (k *keyClient) Share(ctx context.Context, req web.KeyShareRequest, sign func(body []byte, at time.Time) []byte, at time.Time) (web.KeyShareResponse, error) {
	var out web.KeyShareResponse
	return out, k.signedPost(ctx, "share", req, sign, at, &out)
}

// ShareV2 asks the home site for a version 2 share, signed with the
// credential's user-verification key.
func (k *keyClient) ShareV2(ctx context.Context, req web.KeyShareV2Request, sign func(body []byte, at time.Time) []byte, at time.Time) (web.KeyShareV2Response, error) {
	var out web.KeyShareV2Response
	return out, k.signedPost(ctx, "v2/share", req, sign, at, &out)
}

// signedPost sends a request signed over its body and time, as the share
// requests are.
func (k *keyClient) signedPost(ctx context.Context, path string, req any, sign func(body []byte, at time.Time) []byte, at time.Time, out any) error {
	body, err := json.Marshal(req)
	if err != nil {
		return err
	}
	at = time.UnixMilli(at.UnixMilli())
	headers := map[string]string{
		web.HeaderShareTime:      strconv.FormatInt(at.UnixMilli(), 10),
		web.HeaderShareSignature: base64.StdEncoding.EncodeToString(sign(body, at)),
	}
	return k.post(ctx, path, headers, body, out)
}

// RegisterV2 sends a version 2 registration; the answer is checked by the
// caller against the request.
func (k *keyClient) RegisterV2(ctx context.Context, req web.KeyRegisterV2Request) (web.KeySiteAnswer, error) {
	var out web.KeySiteAnswer
	body, err := json.Marshal(req)
	if err != nil {
		return out, err
	}
	return out, k.post(ctx, "v2/register", nil, body, &out)
}

// Migrate asks the home site to move a version 1 credential to version 2.
func (k *keyClient) Migrate(ctx context.Context, req web.KeyMigrateRequest) (web.KeySiteAnswer, error) {
	var out web.KeySiteAnswer
	body, err := json.Marshal(req)
	if err != nil {
		return out, err
	}
	return out, k.post(ctx, "v2/migrate", nil, body, &out)
}
