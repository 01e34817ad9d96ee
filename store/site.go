package store

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"database/sql"
	"errors"
	"fmt"

	"postern/access"
)

// SettingPublicURL is the public URL the hub serves its pages at, kept
// by the hub at start-up: web keys' passkeys are made for it, so remote
// readers, which are not told it, check passkeys against it.
const SettingPublicURL = "public_url"

// Site returns this appliance's identity, creating it (with a fresh P-256
// signing key) the first time. The URL is configuration, not part of the
// identity; the hub keeps a copy as SettingPublicURL for remote readers.
func (s *Store) Site(ctx context.Context) (access.Site, error) {
	site, err := s.loadSite(ctx, s.read)
	if err == nil || !errors.Is(err, sql.ErrNoRows) {
		return site, err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return site, fmt.Errorf("store: create the site identity: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return site, fmt.Errorf("store: create the site identity: %w", err)
	}
	var id [16]byte
	rand.Read(id[:])
	err = s.tx(ctx, "create the site identity", func(tx *sql.Tx) error {
		// INSERT OR IGNORE: two first calls racing keep the first identity.
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO site (one, site_id, name, signing_key, created_at) VALUES (1, ?, 'Postern', ?, ?)`,
			id[:], der, s.now().UnixMilli()); err != nil {
			return fmt.Errorf("store: create the site identity: %w", err)
		}
		return nil
	})
	if err != nil {
		return site, err
	}
	return s.loadSite(ctx, s.db)
}

func (s *Store) loadSite(ctx context.Context, q querier) (access.Site, error) {
	var site access.Site
	var id, der []byte
	if err := q.QueryRowContext(ctx, `SELECT site_id, name, signing_key FROM site WHERE one = 1`).Scan(&id, &site.Name, &der); err != nil {
		return site, fmt.Errorf("store: read the site identity: %w", err)
	}
	copy(site.ID[:], id)
	k, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return site, fmt.Errorf("store: read the site identity: the stored site key is damaged: %w", err)
	}
	key, ok := k.(*ecdsa.PrivateKey)
	if !ok {
		return site, errors.New("store: read the site identity: the stored site key is not an ECDSA key")
	}
	site.Key = key
	if site.Rollover, err = s.currentRollover(ctx, q, key); err != nil {
		return site, err
	}
	v1, err := s.Setting(ctx, SettingAcceptV1, "true")
	if err != nil {
		return site, err
	}
	site.AcceptV1 = v1 != "false"
	return site, nil
}

// SetSiteName renames the site, as keys and other sites will see it.
func (s *Store) SetSiteName(ctx context.Context, actor, name string) error {
	if err := access.ValidateSiteName(name); err != nil {
		return err
	}
	if _, err := s.Site(ctx); err != nil {
		return err
	}
	return s.tx(ctx, "rename site", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE site SET name = ? WHERE one = 1`, name); err != nil {
			return fmt.Errorf("store: rename site: %w", err)
		}
		return s.insertEvent(ctx, tx, &access.Event{Kind: "site.renamed", Actor: actor, Detail: name})
	})
}
