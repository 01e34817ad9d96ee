// Package webhook posts events to the URLs admins register: JSON bodies
// signed with HMAC-SHA256, from a durable queue with retries and backoff.
package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// The headers of every post. The signature covers the timestamp and the
// body ("TIMESTAMP.BODY"), so a receiver that checks the timestamp is
// recent also refuses a replayed post.
const (
	HeaderTimestamp = "X-Postern-Timestamp" // Unix seconds
	HeaderSignature = "X-Postern-Signature" // "sha256=" and the hex HMAC
	HeaderEvent     = "X-Postern-Event"     // the event's kind
	HeaderDelivery  = "X-Postern-Delivery"  // the same for every retry of one delivery
)

// Sign returns the signature header's value for body sent at ts.
func Sign(secret string, ts time.Time, body []byte) string {
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(strconv.FormatInt(ts.Unix(), 10)))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

// Errors of Verify.
var (
	ErrBadSignature = errors.New("webhook: the signature does not match")
	ErrStale        = errors.New("webhook: the timestamp is too far from now")
)

// Verify checks a post as a receiver would: the signature over the
// timestamp and body, and the timestamp within tolerance of now.
func Verify(secret, timestamp, signature string, body []byte, now time.Time, tolerance time.Duration) error {
	sec, err := strconv.ParseInt(strings.TrimSpace(timestamp), 10, 64)
	if err != nil {
		return ErrBadSignature
	}
	ts := time.Unix(sec, 0)
	if d := now.Sub(ts); d > tolerance || d < -tolerance {
		return ErrStale
	}
	if !hmac.Equal([]byte(Sign(secret, ts, body)), []byte(strings.TrimSpace(signature))) {
		return ErrBadSignature
	}
	return nil
}
