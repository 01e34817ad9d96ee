package store

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"postern/access"
)

// SettingAcceptV1 is the setting that still lets keys speaking only
// protocol version 1 in: "true" (the default) or "false".
const SettingAcceptV1 = "protocol_v1_accepted"

// keyID is a site key's id: the first 8 bytes of SHA-256 over its SEC1
// uncompressed public key (docs/protocol.md).
func keyID(pub *ecdsa.PublicKey) ([8]byte, []byte, error) {
	var id [8]byte
	b, err := pub.Bytes()
	if err != nil {
		return id, nil, err
	}
	sum := sha256.Sum256(b)
	copy(id[:], sum[:])
	return id, b, nil
}

// currentRollover returns the previous key's certificate of key while its
// overlap runs, or nil.
func (s *Store) currentRollover(ctx context.Context, q querier, key *ecdsa.PrivateKey) (*access.SiteRollover, error) {
	id, _, err := keyID(&key.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("store: read the site identity: %w", err)
	}
	var r access.SiteRollover
	var old []byte
	var notAfter, at int64
	err = q.QueryRowContext(ctx, `SELECT key_id, public_key, not_after, certificate, retired_at FROM site_keys WHERE successor_id = ? AND not_after > ? ORDER BY retired_at DESC LIMIT 1`,
		id[:], s.now().UnixMilli()).Scan(&old, &r.OldKey, &notAfter, &r.Signature, &at)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("store: read the site key rollover: %w", err)
	}
	copy(r.OldKeyID[:], old)
	r.NotAfter, r.At = time.UnixMilli(notAfter), time.UnixMilli(at)
	return &r, nil
}

// RollSiteKey replaces the site's signing key with next. certify is called
// with the key being retired, inside the transaction, and returns its
// certificate of next, which readers show keys until the overlap ends;
// the retired key's private half is not kept.
func (s *Store) RollSiteKey(ctx context.Context, actor string, next *ecdsa.PrivateKey, certify func(old *ecdsa.PrivateKey) (access.SiteRollover, error)) error {
	if _, err := s.Site(ctx); err != nil {
		return err
	}
	der, err := x509.MarshalPKCS8PrivateKey(next)
	if err != nil {
		return fmt.Errorf("store: roll the site key: %w", err)
	}
	nextID, _, err := keyID(&next.PublicKey)
	if err != nil {
		return fmt.Errorf("store: roll the site key: %w", err)
	}
	now := s.now()
	return s.tx(ctx, "roll the site key", func(tx *sql.Tx) error {
		site, err := s.loadSite(ctx, tx)
		if err != nil {
			return err
		}
		oldID, oldPub, err := keyID(&site.Key.PublicKey)
		if err != nil {
			return fmt.Errorf("store: roll the site key: %w", err)
		}
		cert, err := certify(site.Key)
		if err != nil {
			return fmt.Errorf("store: roll the site key: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO site_keys (key_id, public_key, retired_at, successor_id, certificate, not_after, retired_by) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			oldID[:], oldPub, now.UnixMilli(), nextID[:], cert.Signature, cert.NotAfter.UnixMilli(), actor); err != nil {
			return fmt.Errorf("store: roll the site key: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE site SET signing_key = ? WHERE one = 1`, der); err != nil {
			return fmt.Errorf("store: roll the site key: %w", err)
		}
		return s.insertEvent(ctx, tx, &access.Event{Kind: "site.key_rolled", Actor: actor,
			Detail: fmt.Sprintf("key %x replaces %x; the old key vouches for it until %s", nextID, oldID, cert.NotAfter.UTC().Format(time.RFC3339))})
	})
}

// RetiredSiteKey is a site key an admin rolled out.
type RetiredSiteKey struct {
	KeyID     [8]byte
	PublicKey []byte
	RetiredAt time.Time
	NotAfter  time.Time
	RetiredBy string
}

// RetiredSiteKeys lists the keys rolled out, newest first.
func (s *Store) RetiredSiteKeys(ctx context.Context) ([]RetiredSiteKey, error) {
	return queryAll(ctx, s.read, "list retired site keys", func(sc scanner) (RetiredSiteKey, error) {
		var k RetiredSiteKey
		var id []byte
		var at, until int64
		err := sc.Scan(&id, &k.PublicKey, &at, &until, &k.RetiredBy)
		copy(k.KeyID[:], id)
		k.RetiredAt, k.NotAfter = time.UnixMilli(at), time.UnixMilli(until)
		return k, err
	}, `SELECT key_id, public_key, retired_at, not_after, retired_by FROM site_keys ORDER BY retired_at DESC`)
}
