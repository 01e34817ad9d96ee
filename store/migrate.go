package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
	"slices"
)

// migrations is append-only: the schema version is how many have run. Never
// edit one that has shipped; add a new one at the end. The first fourteen
// are in migrate_first.go.
var migrations = slices.Concat(firstMigrations, []string{
	// 15: credential protocol version 2: which version each credential's
	// device speaks, the introduction secret of an imported share until
	// the phone has met the site, the token it came from (imported once),
	// per access point timings, the version each presentation used, the
	// site keys rolled out with their certificates of their successors,
	// and the shares this site sent.
	`ALTER TABLE credentials ADD COLUMN protocol INTEGER NOT NULL DEFAULT 1;
	ALTER TABLE credentials ADD COLUMN introduction BLOB;
	ALTER TABLE credentials ADD COLUMN token_id BLOB;
	CREATE UNIQUE INDEX credentials_token ON credentials(token_id) WHERE token_id IS NOT NULL;
	CREATE INDEX credentials_introduction ON credentials(user_id) WHERE introduction IS NOT NULL;
	ALTER TABLE access_points ADD COLUMN unlock_window_ms INTEGER NOT NULL DEFAULT 10000;
	ALTER TABLE access_points ADD COLUMN deadline_ms INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE events ADD COLUMN protocol TEXT NOT NULL DEFAULT '';
	CREATE TABLE site_keys (
		key_id       BLOB PRIMARY KEY,
		public_key   BLOB NOT NULL,
		retired_at   INTEGER NOT NULL,
		successor_id BLOB NOT NULL,
		certificate  BLOB NOT NULL,
		not_after    INTEGER NOT NULL,
		retired_by   TEXT NOT NULL DEFAULT ''
	) STRICT, WITHOUT ROWID;
	CREATE TABLE shares (
		token_id           BLOB PRIMARY KEY,
		credential_id      BLOB NOT NULL REFERENCES credentials(id) ON DELETE CASCADE,
		admin_email        TEXT NOT NULL,
		site_credential_id BLOB NOT NULL,
		first_name         TEXT NOT NULL,
		last_name          TEXT NOT NULL,
		created_at         INTEGER NOT NULL,
		expires_at         INTEGER NOT NULL,
		withdrawn_at       INTEGER,
		withdrawn_by       TEXT NOT NULL DEFAULT '',
		redeemed_at        INTEGER,
		redeemed_by        TEXT NOT NULL DEFAULT ''
	) STRICT, WITHOUT ROWID;
	CREATE INDEX shares_created ON shares(created_at);
	CREATE INDEX shares_credential ON shares(credential_id);`,

	// 16: "open from this phone": whether web keys may open an access
	// point over the network, from which networks (comma separated CIDR
	// prefixes, empty for any), and whether every such open needs the
	// passkey.
	`ALTER TABLE access_points ADD COLUMN phone_open INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE access_points ADD COLUMN phone_networks TEXT NOT NULL DEFAULT '';
	ALTER TABLE access_points ADD COLUMN phone_passkey INTEGER NOT NULL DEFAULT 0;`,

	// 17: the roll call: which way people pass each access point, and the
	// day's grants found by time without reading the whole log.
	`ALTER TABLE access_points ADD COLUMN direction TEXT NOT NULL DEFAULT 'neither' CHECK (direction IN ('entry', 'exit', 'neither'));
	CREATE INDEX events_grants_at ON events(at, user_id, access_point_id) WHERE kind = 'access.granted' AND user_id IS NOT NULL;`,

	// 18: CSV imports of users: the job, and each line with what the
	// preview planned and what the run did, written in the same
	// transaction as the user, so a run resumed after a reload or a
	// restart neither repeats nor skips a line.
	`CREATE TABLE import_jobs (
		id          TEXT PRIMARY KEY,
		created_at  INTEGER NOT NULL,
		created_by  TEXT NOT NULL,
		file_name   TEXT NOT NULL DEFAULT '',
		invite      INTEGER NOT NULL DEFAULT 0,
		status      TEXT NOT NULL DEFAULT 'preview' CHECK (status IN ('preview', 'running', 'done')),
		started_at  INTEGER,
		finished_at INTEGER
	) STRICT;
	CREATE INDEX import_jobs_running ON import_jobs(status) WHERE status = 'running';
	CREATE TABLE import_rows (
		job_id      TEXT NOT NULL REFERENCES import_jobs(id) ON DELETE CASCADE,
		line        INTEGER NOT NULL,
		first_name  TEXT NOT NULL,
		last_name   TEXT NOT NULL,
		email       TEXT NOT NULL,
		groups      TEXT NOT NULL DEFAULT '',
		valid_from  INTEGER,
		valid_until INTEGER,
		plan        TEXT NOT NULL CHECK (plan IN ('create', 'update', 'refuse')),
		reason      TEXT NOT NULL DEFAULT '',
		result      TEXT NOT NULL DEFAULT '' CHECK (result IN ('', 'created', 'updated', 'refused')),
		user_id     INTEGER,
		invited     INTEGER NOT NULL DEFAULT 0,
		PRIMARY KEY (job_id, line)
	) STRICT, WITHOUT ROWID;`,

	// 19: administrators and API tokens have roles. Every admin there was
	// could do everything, so each becomes an owner, and so do their tokens.
	`ALTER TABLE admins ADD COLUMN role TEXT NOT NULL DEFAULT 'owner' CHECK (role IN ('owner', 'admin', 'reception', 'viewer'));
	ALTER TABLE api_tokens ADD COLUMN role TEXT NOT NULL DEFAULT 'owner' CHECK (role IN ('owner', 'admin', 'reception', 'viewer'));`,

	// 20: visitors are users with a window and a profile (a group of
	// doors), a host to tell, and when they first got in.
	`CREATE TABLE visitors (
		id           INTEGER PRIMARY KEY,
		user_id      INTEGER NOT NULL UNIQUE REFERENCES users(id) ON DELETE CASCADE,
		host_user_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
		group_id     INTEGER REFERENCES groups(id) ON DELETE SET NULL,
		created_at   INTEGER NOT NULL,
		first_in_at  INTEGER
	) STRICT;`,

	// 21: one-time links by email that set an administrator's password:
	// an invitation (makes the admin, with a role) or a reset.
	`CREATE TABLE admin_links (
		token_hash BLOB PRIMARY KEY,
		kind       TEXT NOT NULL CHECK (kind IN ('invite', 'reset')),
		email      TEXT NOT NULL COLLATE NOCASE,
		role       TEXT NOT NULL CHECK (role IN ('owner', 'admin', 'reception', 'viewer')),
		created_at INTEGER NOT NULL,
		expires_at INTEGER NOT NULL
	) STRICT, WITHOUT ROWID;`,

	// 22: two-factor sign-in. An admin's TOTP secret (pending until a code
	// confirms it), the last time step a code was used at (so a code works
	// once), their one-time recovery codes (hashed), and sign-ins that
	// passed the password and wait for the second factor.
	`ALTER TABLE admins ADD COLUMN totp_secret TEXT NOT NULL DEFAULT '';
	ALTER TABLE admins ADD COLUMN totp_pending TEXT NOT NULL DEFAULT '';
	ALTER TABLE admins ADD COLUMN totp_last_step INTEGER NOT NULL DEFAULT 0;
	CREATE TABLE admin_recovery_codes (
		admin_id  INTEGER NOT NULL REFERENCES admins(id) ON DELETE CASCADE,
		code_hash BLOB NOT NULL,
		PRIMARY KEY (admin_id, code_hash)
	) STRICT, WITHOUT ROWID;
	CREATE TABLE admin_logins (
		token_hash BLOB PRIMARY KEY,
		admin_id   INTEGER NOT NULL REFERENCES admins(id) ON DELETE CASCADE,
		expires_at INTEGER NOT NULL
	) STRICT, WITHOUT ROWID;
	CREATE INDEX admin_logins_admin ON admin_logins(admin_id);`,

	// 23: remote readers follow the site's protocol settings as its own
	// readers do: whether version 1 is still accepted, and the keys rolled
	// out with their certificates of their successors. A hub queues every
	// change to them, and queues them once now, since its policy stream
	// was seeded without them.
	`DROP TRIGGER policy_settings_insert;
	DROP TRIGGER policy_settings_update;
	DROP TRIGGER policy_settings_delete;
	CREATE TRIGGER policy_settings_insert AFTER INSERT ON settings WHEN NEW.key IN ('time_zone', 'offline_lease_days', 'protocol_v1_accepted') AND EXISTS (SELECT 1 FROM fleet_state WHERE key = 'policy_hub') BEGIN
		INSERT INTO policy_outbox (entity, key) VALUES ('setting', NEW.key);
	END;
	CREATE TRIGGER policy_settings_update AFTER UPDATE ON settings WHEN NEW.key IN ('time_zone', 'offline_lease_days', 'protocol_v1_accepted') AND EXISTS (SELECT 1 FROM fleet_state WHERE key = 'policy_hub') BEGIN
		INSERT INTO policy_outbox (entity, key) VALUES ('setting', NEW.key);
	END;
	CREATE TRIGGER policy_settings_delete AFTER DELETE ON settings WHEN OLD.key IN ('time_zone', 'offline_lease_days', 'protocol_v1_accepted') AND EXISTS (SELECT 1 FROM fleet_state WHERE key = 'policy_hub') BEGIN
		INSERT INTO policy_outbox (entity, key) VALUES ('setting', OLD.key);
	END;
	CREATE TRIGGER policy_site_keys_insert AFTER INSERT ON site_keys WHEN EXISTS (SELECT 1 FROM fleet_state WHERE key = 'policy_hub') BEGIN
		INSERT INTO policy_outbox (entity, key) VALUES ('site_key', hex(NEW.key_id));
	END;
	CREATE TRIGGER policy_site_keys_update AFTER UPDATE ON site_keys WHEN EXISTS (SELECT 1 FROM fleet_state WHERE key = 'policy_hub') BEGIN
		INSERT INTO policy_outbox (entity, key) VALUES ('site_key', hex(NEW.key_id));
	END;
	CREATE TRIGGER policy_site_keys_delete AFTER DELETE ON site_keys WHEN EXISTS (SELECT 1 FROM fleet_state WHERE key = 'policy_hub') BEGIN
		INSERT INTO policy_outbox (entity, key) VALUES ('site_key', hex(OLD.key_id));
	END;
	INSERT INTO policy_outbox (entity, key) SELECT 'site_key', hex(key_id) FROM site_keys WHERE EXISTS (SELECT 1 FROM fleet_state WHERE key = 'policy_hub');
	INSERT INTO policy_outbox (entity, key) SELECT 'setting', key FROM settings WHERE key = 'protocol_v1_accepted' AND EXISTS (SELECT 1 FROM fleet_state WHERE key = 'policy_hub');`,

	// 24: a credential's protocol version (the version its device
	// speaks) is in the row a remote reader copies and in its policy, so
	// a change to it alone is queued too. Every change so far set it
	// with the keys, which were watched, so nothing is queued again now.
	`DROP TRIGGER policy_credentials_update;
	CREATE TRIGGER policy_credentials_update AFTER UPDATE OF user_id, kind, status, tap_key, uv_key, protocol, device_info, issuer_site_id, issuer_site_name, issuer_site_url, issuer_site_key, created_at, registered_at, revoked_at ON credentials WHEN EXISTS (SELECT 1 FROM fleet_state WHERE key = 'policy_hub') BEGIN
		INSERT INTO policy_outbox (entity, key) VALUES ('credential', hex(NEW.id));
	END;`,

	// 25: remote readers check web keys' passkeys against the hub's public
	// URL, which the hub keeps in its settings at start-up, after
	// migrating. A hub queues every change to it, and queues it once now
	// should the database already hold it.
	`DROP TRIGGER policy_settings_insert;
	DROP TRIGGER policy_settings_update;
	DROP TRIGGER policy_settings_delete;
	CREATE TRIGGER policy_settings_insert AFTER INSERT ON settings WHEN NEW.key IN ('time_zone', 'offline_lease_days', 'protocol_v1_accepted', 'public_url') AND EXISTS (SELECT 1 FROM fleet_state WHERE key = 'policy_hub') BEGIN
		INSERT INTO policy_outbox (entity, key) VALUES ('setting', NEW.key);
	END;
	CREATE TRIGGER policy_settings_update AFTER UPDATE ON settings WHEN NEW.key IN ('time_zone', 'offline_lease_days', 'protocol_v1_accepted', 'public_url') AND EXISTS (SELECT 1 FROM fleet_state WHERE key = 'policy_hub') BEGIN
		INSERT INTO policy_outbox (entity, key) VALUES ('setting', NEW.key);
	END;
	CREATE TRIGGER policy_settings_delete AFTER DELETE ON settings WHEN OLD.key IN ('time_zone', 'offline_lease_days', 'protocol_v1_accepted', 'public_url') AND EXISTS (SELECT 1 FROM fleet_state WHERE key = 'policy_hub') BEGIN
		INSERT INTO policy_outbox (entity, key) VALUES ('setting', OLD.key);
	END;
	INSERT INTO policy_outbox (entity, key) SELECT 'setting', key FROM settings WHERE key = 'public_url' AND EXISTS (SELECT 1 FROM fleet_state WHERE key = 'policy_hub');`,
})

// SchemaVersion is the version a migrated database has.
func SchemaVersion() int { return len(migrations) }

// SchemaID names the schema exactly: its version and SchemaHash, so a
// cache keyed by it (the benchmarks' seeded databases) is never shared
// between builds whose migrations differ at one version.
func SchemaID() string {
	return fmt.Sprintf("%d-%s", len(migrations), SchemaHash())
}

// SchemaHash names the schema by the text of every migration, so two
// builds whose schemas differ at the same version get different names
// (a file cached by version alone would be read by the wrong one).
func SchemaHash() string {
	h := sha256.New()
	for _, m := range migrations {
		// The length first: no two lists of migrations hash alike by
		// moving text from one migration into the next.
		fmt.Fprintf(h, "%d:%s", len(m), m)
	}
	return hex.EncodeToString(h.Sum(nil)[:8])
}

func (s *Store) migrate(ctx context.Context) error {
	return migrateTo(ctx, s.db, len(migrations))
}

// migrateTo runs the migrations after the database's user_version up to
// target, each in its own transaction.
func migrateTo(ctx context.Context, db *sql.DB, target int) error {
	var have int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&have); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if have > len(migrations) {
		return fmt.Errorf("database schema version %d is newer than this postern (%d): upgrade postern", have, len(migrations))
	}
	for v := have; v < target; v++ {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("migration %d: %w", v+1, err)
		}
		if _, err := tx.ExecContext(ctx, migrations[v]); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", v+1, err)
		}
		if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", v+1)); err != nil {
			tx.Rollback()
			return fmt.Errorf("migration %d: %w", v+1, err)
		}
		if err := tx.Commit(); err != nil {
			return fmt.Errorf("migration %d: %w", v+1, err)
		}
	}
	return nil
}
