package web

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base32"
	"errors"
	"strings"
	"time"

	"github.com/a-h/templ"
	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"postern/access"
	"postern/store"
)

// Two-factor sign-in is TOTP (RFC 6238) as every authenticator app reads
// it: SHA-1, six digits, a 30-second step. Other settings are in the
// standard but some apps ignore them and show wrong codes.
const (
	totpPeriod = 30
	// recoveryCodes is how many one-time recovery codes an admin gets.
	recoveryCodes = 10
	// twoFactorRolesKey is the setting naming the roles that must use a
	// second factor, comma-separated.
	twoFactorRolesKey = "two_factor_roles"
)

var totpOptions = totp.ValidateOpts{Period: totpPeriod, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

// codeAttemptLimit slows guessing second-factor codes for one admin: whoever
// guesses has the password already, and a six-digit code is right one time
// in a million, so the limit is per admin, whatever the address.
var codeAttemptLimit = limit{burst: 5, every: 5 * time.Minute}

// newTOTPSecret returns a new base32 secret (160 bits, as RFC 4226 advises).
func newTOTPSecret() (string, error) {
	k, err := totp.Generate(totp.GenerateOpts{Issuer: "Postern", AccountName: "new", Period: totpPeriod, SecretSize: 20,
		Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return "", err
	}
	return k.Secret(), nil
}

// totpSetup is what an admin needs to add a secret to their app: the
// otpauth URI as a QR code, and the secret to type in when scanning fails.
type totpSetup struct {
	Secret string // grouped in fours for reading
	URI    string
	QR     templ.SafeURL
}

// newTOTPSetup describes secret for account on site issuer.
func newTOTPSetup(issuer, account, secret string) (totpSetup, error) {
	raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(secret)
	if err != nil {
		return totpSetup{}, err
	}
	k, err := totp.Generate(totp.GenerateOpts{Issuer: issuer, AccountName: account, Period: totpPeriod, Secret: raw,
		Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return totpSetup{}, err
	}
	var grouped []string
	for s := k.Secret(); s != ""; {
		n := min(4, len(s))
		grouped, s = append(grouped, s[:n]), s[n:]
	}
	return totpSetup{Secret: strings.Join(grouped, " "), URI: k.URL(), QR: qrDataURL(k.URL())}, nil
}

// totpStep returns the time step at which code is secret's, allowing one
// step either side of now for a phone's clock and the time to type it.
func totpStep(secret, code string, now time.Time) (int64, bool) {
	code = strings.Join(strings.Fields(code), "")
	if len(code) != 6 {
		return 0, false
	}
	for _, skew := range []int64{0, -1, 1} {
		at := now.Add(time.Duration(skew*totpPeriod) * time.Second)
		want, err := totp.GenerateCodeCustom(secret, at, totpOptions)
		if err == nil && subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 {
			return at.Unix() / totpPeriod, true
		}
	}
	return 0, false
}

// recoveryAlphabet leaves out letters and digits read as one another.
const recoveryAlphabet = "abcdefghjkmnpqrstuvwxyz23456789"

// newRecoveryCodes returns fresh recovery codes, each 12 characters
// (about 59 bits) in groups of four: hard to guess, easy to type.
func newRecoveryCodes() []string {
	codes := make([]string, recoveryCodes)
	b := make([]byte, 12)
	for i := range codes {
		rand.Read(b)
		var sb strings.Builder
		for j, x := range b {
			if j > 0 && j%4 == 0 {
				sb.WriteByte('-')
			}
			sb.WriteByte(recoveryAlphabet[int(x)%len(recoveryAlphabet)])
		}
		codes[i] = sb.String()
	}
	return codes
}

// normalRecoveryCode is a recovery code as stored: the grouping and case
// people type it with do not matter.
func normalRecoveryCode(s string) string {
	s = strings.ToLower(strings.Map(func(r rune) rune {
		if r == '-' || r == ' ' {
			return -1
		}
		return r
	}, s))
	var sb strings.Builder
	for i, r := range s {
		if i > 0 && i%4 == 0 {
			sb.WriteByte('-')
		}
		sb.WriteRune(r)
	}
	return sb.String()
}

// twoFactorRoles returns the roles whose admins must sign in with a
// second factor, as the owner set them.
func (h *handler) twoFactorRoles(ctx context.Context) (map[access.Role]bool, error) {
	return requiredTwoFactorRoles(ctx, h.store)
}

// requiredTwoFactorRoles is twoFactorRoles for those without a handler:
// the command line.
func requiredTwoFactorRoles(ctx context.Context, st *store.Store) (map[access.Role]bool, error) {
	v, err := st.Setting(ctx, twoFactorRolesKey, "")
	out := map[access.Role]bool{}
	for _, s := range strings.Split(v, ",") {
		if r, err := access.ParseRole(s); err == nil {
			out[r] = true
		}
	}
	return out, err
}

// checkSecondFactor checks code against an admin's second factor: a TOTP
// code from their app, used once, or one of their recovery codes, which
// then stops working. It reports whether the code was good.
func (h *handler) checkSecondFactor(ctx context.Context, a store.Admin, tf store.TwoFactor, code string) (bool, error) {
	if step, ok := totpStep(tf.Secret, code, h.now()); ok {
		return h.store.UseTOTPStep(ctx, a.ID, step)
	}
	code = normalRecoveryCode(code)
	if len(code) != 14 {
		return false, nil
	}
	_, err := h.store.UseRecoveryCode(ctx, "admin:"+a.Email, a.ID, code)
	if errors.Is(err, access.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// siteIssuer is the name an authenticator app lists this site's codes
// under.
func (h *handler) siteIssuer(ctx context.Context) string {
	if site, err := h.store.Site(ctx); err == nil && site.Name != "" {
		return "Postern " + site.Name
	}
	return "Postern"
}
