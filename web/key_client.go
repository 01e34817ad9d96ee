package web

import (
	"bytes"
	"context"
	"encoding/base64"
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
)

// KeyClient is the key's side of the key-facing API: what the phone app
// does over HTTPS, here for `postern key`.
type KeyClient struct {
	Site string // the site's public URL
	HTTP *http.Client
}

// KeyAPIError is a refusal from the site, with the stable code it sent.
type KeyAPIError struct {
	Status  int
	Code    string
	Message string
}

func (e *KeyAPIError) Error() string { return e.Message }

// ErrSiteUnreachable wraps failures to reach the site at all.
var ErrSiteUnreachable = errors.New("the site cannot be reached")

// ParseRegistrationInput reads what a user gives the key's register
// command: an invitation link (which carries the site) or a bare code
// (which needs site).
func ParseRegistrationInput(arg, site string) (siteURL, code string, err error) {
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

func (k *KeyClient) client() *http.Client {
	if k.HTTP != nil {
		return k.HTTP
	}
	return &http.Client{Timeout: 20 * time.Second}
}

// post sends one JSON request to the key API and decodes the answer.
func (k *KeyClient) post(ctx context.Context, path string, headers map[string]string, body []byte, out any) error {
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
		var ne net.Error
		if errors.As(err, &ne) || strings.Contains(err.Error(), "connection refused") || strings.Contains(err.Error(), "no such host") {
			return fmt.Errorf("%w at %s: %v", ErrSiteUnreachable, k.Site, err)
		}
		return fmt.Errorf("%w at %s: %v", ErrSiteUnreachable, k.Site, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("%w at %s: %v", ErrSiteUnreachable, k.Site, err)
	}
	if resp.StatusCode/100 != 2 {
		var ke KeyError
		if json.Unmarshal(data, &ke) != nil || ke.Error == "" {
			return &KeyAPIError{Status: resp.StatusCode, Code: "unexpected", Message: fmt.Sprintf("%s did not answer like a Postern site (HTTP %d)", k.Site, resp.StatusCode)}
		}
		return &KeyAPIError{Status: resp.StatusCode, Code: ke.Error, Message: ke.Message}
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s did not answer like a Postern site: %v", k.Site, err)
	}
	return nil
}

// Register sends a registration request.
func (k *KeyClient) Register(ctx context.Context, req KeyRegisterRequest) (KeyRegisterResponse, error) {
	var out KeyRegisterResponse
	body, err := json.Marshal(req)
	if err != nil {
		return out, err
	}
	return out, k.post(ctx, "register", nil, body, &out)
}

// Share asks the home site to email the credential to another site's
// administrator, signed with the credential's tap key.
func (k *KeyClient) Share(ctx context.Context, req KeyShareRequest, sign func(body []byte, at time.Time) []byte, at time.Time) (KeyShareResponse, error) {
	var out KeyShareResponse
	body, err := json.Marshal(req)
	if err != nil {
		return out, err
	}
	at = time.UnixMilli(at.UnixMilli())
	headers := map[string]string{
		HeaderShareTime:      strconv.FormatInt(at.UnixMilli(), 10),
		HeaderShareSignature: base64.StdEncoding.EncodeToString(sign(body, at)),
	}
	return out, k.post(ctx, "share", headers, body, &out)
}
