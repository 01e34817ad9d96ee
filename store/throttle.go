package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"
)

// Bucket is one rate limit, a token bucket: Burst tries at once, then one
// more every Every. Key says what it limits ("login-addr:198.51.100.7");
// only its hash is stored, so a caller's text never reaches the file.
type Bucket struct {
	Key   string
	Burst int
	Every time.Duration
}

func (b Bucket) hash() []byte {
	h := sha256.Sum256([]byte(b.Key))
	return h[:]
}

// level is how many tries b holds at now, from what was stored.
func (b Bucket) level(tokens float64, updated, now time.Time) float64 {
	if elapsed := now.Sub(updated); elapsed > 0 {
		tokens += float64(elapsed) / float64(b.Every)
	}
	return math.Min(tokens, float64(b.Burst))
}

// fullAt is when a bucket holding tokens at now is full again: a row past
// it says no more than a missing one, and is swept.
func (b Bucket) fullAt(tokens float64, now time.Time) time.Time {
	return now.Add(time.Duration((float64(b.Burst) - tokens) * float64(b.Every)))
}

// TakeThrottle takes one try from every bucket, or from none of them: when
// any is empty it returns how long until every one holds a try again, and
// takes nothing. The buckets live in the database, so a restart does not
// hand a guesser a fresh allowance, and one transaction takes from all of
// them, so concurrent requests cannot overdraw one.
func (s *Store) TakeThrottle(ctx context.Context, now time.Time, buckets ...Bucket) (wait time.Duration, err error) {
	err = s.tx(ctx, "take from rate limit", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM throttle WHERE full_at < ?`, now.UnixMilli()); err != nil {
			return fmt.Errorf("store: sweep rate limits: %w", err)
		}
		levels := make([]float64, len(buckets))
		for i, b := range buckets {
			tokens, err := bucketLevel(ctx, tx, b, now)
			if err != nil {
				return err
			}
			levels[i] = tokens
			if tokens < 1 {
				wait = max(wait, time.Duration((1-tokens)*float64(b.Every)))
			}
		}
		if wait > 0 {
			return nil
		}
		for i, b := range buckets {
			if err := setBucket(ctx, tx, b, levels[i]-1, now); err != nil {
				return err
			}
		}
		return nil
	})
	return wait, err
}

// ReturnThrottle gives back a try that TakeThrottle took from each bucket:
// a sign-in that succeeded was no guess.
func (s *Store) ReturnThrottle(ctx context.Context, now time.Time, buckets ...Bucket) error {
	return s.tx(ctx, "give back to rate limit", func(tx *sql.Tx) error {
		for _, b := range buckets {
			tokens, err := bucketLevel(ctx, tx, b, now)
			if err != nil {
				return err
			}
			if err := setBucket(ctx, tx, b, math.Min(tokens+1, float64(b.Burst)), now); err != nil {
				return err
			}
		}
		return nil
	})
}

func bucketLevel(ctx context.Context, tx querier, b Bucket, now time.Time) (float64, error) {
	var tokens float64
	var updated int64
	err := tx.QueryRowContext(ctx, `SELECT tokens, updated_at FROM throttle WHERE key = ?`, b.hash()).Scan(&tokens, &updated)
	if errors.Is(err, sql.ErrNoRows) {
		return float64(b.Burst), nil
	}
	if err != nil {
		return 0, fmt.Errorf("store: read rate limit: %w", err)
	}
	return b.level(tokens, time.UnixMilli(updated), now), nil
}

func setBucket(ctx context.Context, tx querier, b Bucket, tokens float64, now time.Time) error {
	var err error
	if tokens >= float64(b.Burst) {
		_, err = tx.ExecContext(ctx, `DELETE FROM throttle WHERE key = ?`, b.hash())
	} else {
		_, err = tx.ExecContext(ctx, `INSERT INTO throttle (key, tokens, updated_at, full_at) VALUES (?, ?, ?, ?)
			ON CONFLICT (key) DO UPDATE SET tokens = excluded.tokens, updated_at = excluded.updated_at, full_at = excluded.full_at`,
			b.hash(), tokens, now.UnixMilli(), b.fullAt(tokens, now).UnixMilli())
	}
	if err != nil {
		return fmt.Errorf("store: write rate limit: %w", err)
	}
	return nil
}
