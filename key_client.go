package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"postern/web"
	"strconv"
	"strings"
	"time"
)

// keyClient is the key's side of the key-facing API (web's /api/key/v1/):
// what the phone app does over HTTPS, here for `postern key`.
type keyClient struct {
	Site string // the site's public URL
	HTTP *http.Client
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
	return &http.Client{Timeout: 20 * time.Second}
}

// post sends one JSON request to the key API and decodes the answer.
func (k *keyClient) post(ctx context.Context, path string, headers map[string]string, body []byte, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(k.Site, "/")+"/api/key/v1/"+path, bytes.NewReader(body))
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
	body, err := json.Marshal(req)
	if err != nil {
		return out, err
	}
	at = time.UnixMilli(at.UnixMilli())
	headers := map[string]string{
		web.HeaderShareTime:      strconv.FormatInt(at.UnixMilli(), 10),
		web.HeaderShareSignature: base64.StdEncoding.EncodeToString(sign(body, at)),
	}
	return out, k.post(ctx, "share", headers, body, &out)
}
