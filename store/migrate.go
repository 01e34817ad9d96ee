package store

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"fmt"
)

// migrations is append-only: the schema version is how many have run. Never
// edit one that has shipped; add a new one.
var migrations = []string{
	// 1: the site's admins, their sessions and API tokens, settings.
	`CREATE TABLE settings (
		key   TEXT PRIMARY KEY,
		value TEXT NOT NULL
	) STRICT;
	CREATE TABLE admins (
		id            INTEGER PRIMARY KEY,
		email         TEXT NOT NULL UNIQUE COLLATE NOCASE,
		password_hash TEXT NOT NULL,
		created_at    INTEGER NOT NULL
	) STRICT;
	CREATE TABLE sessions (
		token_hash BLOB PRIMARY KEY,
		admin_id   INTEGER NOT NULL REFERENCES admins(id) ON DELETE CASCADE,
		csrf       TEXT NOT NULL,
		created_at INTEGER NOT NULL,
		expires_at INTEGER NOT NULL
	) STRICT;
	CREATE INDEX sessions_expires ON sessions(expires_at);
	CREATE TABLE api_tokens (
		id           INTEGER PRIMARY KEY,
		admin_id     INTEGER NOT NULL REFERENCES admins(id) ON DELETE CASCADE,
		name         TEXT NOT NULL,
		token_hash   BLOB NOT NULL UNIQUE,
		created_at   INTEGER NOT NULL,
		last_used_at INTEGER
	) STRICT;`,

	// 2: people, groups, doors, schedules and who may go where.
	`CREATE TABLE users (
		id          INTEGER PRIMARY KEY,
		first_name  TEXT NOT NULL,
		last_name   TEXT NOT NULL,
		email       TEXT NOT NULL,
		enabled     INTEGER NOT NULL DEFAULT 1,
		valid_from  INTEGER,
		valid_until INTEGER,
		created_at  INTEGER NOT NULL,
		updated_at  INTEGER NOT NULL
	) STRICT;
	CREATE INDEX users_email ON users(email COLLATE NOCASE);
	CREATE VIRTUAL TABLE users_fts USING fts5(first_name, last_name, email, content='users', content_rowid='id', tokenize='unicode61');
	CREATE TRIGGER users_ai AFTER INSERT ON users BEGIN
		INSERT INTO users_fts(rowid, first_name, last_name, email) VALUES (new.id, new.first_name, new.last_name, new.email);
	END;
	CREATE TRIGGER users_ad AFTER DELETE ON users BEGIN
		INSERT INTO users_fts(users_fts, rowid, first_name, last_name, email) VALUES ('delete', old.id, old.first_name, old.last_name, old.email);
	END;
	CREATE TRIGGER users_au AFTER UPDATE ON users BEGIN
		INSERT INTO users_fts(users_fts, rowid, first_name, last_name, email) VALUES ('delete', old.id, old.first_name, old.last_name, old.email);
		INSERT INTO users_fts(rowid, first_name, last_name, email) VALUES (new.id, new.first_name, new.last_name, new.email);
	END;
	CREATE TABLE groups (
		id          INTEGER PRIMARY KEY,
		name        TEXT NOT NULL UNIQUE COLLATE NOCASE,
		description TEXT NOT NULL DEFAULT ''
	) STRICT;
	CREATE TABLE group_members (
		group_id INTEGER NOT NULL REFERENCES groups(id) ON DELETE CASCADE,
		user_id  INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
		PRIMARY KEY (group_id, user_id)
	) STRICT, WITHOUT ROWID;
	CREATE INDEX group_members_user ON group_members(user_id, group_id);
	CREATE TABLE access_points (
		id              INTEGER PRIMARY KEY,
		name            TEXT NOT NULL UNIQUE COLLATE NOCASE,
		reader          TEXT NOT NULL UNIQUE,
		mode            TEXT NOT NULL CHECK (mode IN ('direct', 'touch', 'long-range')),
		rssi_threshold  INTEGER NOT NULL,
		require_unlock  INTEGER NOT NULL DEFAULT 0,
		unlock_ms       INTEGER NOT NULL,
		state           TEXT NOT NULL DEFAULT 'normal' CHECK (state IN ('normal', 'lockdown', 'unlocked')),
		created_at      INTEGER NOT NULL,
		updated_at      INTEGER NOT NULL
	) STRICT;
	CREATE TABLE time_profiles (
		id       INTEGER PRIMARY KEY,
		name     TEXT NOT NULL UNIQUE COLLATE NOCASE,
		windows  TEXT NOT NULL,
		holidays TEXT NOT NULL
	) STRICT;
	CREATE TABLE permissions (
		id              INTEGER PRIMARY KEY,
		user_id         INTEGER REFERENCES users(id) ON DELETE CASCADE,
		group_id        INTEGER REFERENCES groups(id) ON DELETE CASCADE,
		access_point_id INTEGER NOT NULL REFERENCES access_points(id) ON DELETE CASCADE,
		time_profile_id INTEGER REFERENCES time_profiles(id) ON DELETE RESTRICT,
		CHECK ((user_id IS NULL) != (group_id IS NULL))
	) STRICT;
	CREATE UNIQUE INDEX permissions_user ON permissions(user_id, access_point_id, ifnull(time_profile_id, 0)) WHERE user_id IS NOT NULL;
	CREATE UNIQUE INDEX permissions_group ON permissions(group_id, access_point_id, ifnull(time_profile_id, 0)) WHERE group_id IS NOT NULL;
	CREATE INDEX permissions_access_point ON permissions(access_point_id);
	CREATE INDEX permissions_time_profile ON permissions(time_profile_id);`,

	// 3: the append-only event log: decisions, registrations, admin changes.
	`CREATE TABLE events (
		id              INTEGER PRIMARY KEY AUTOINCREMENT,
		at              INTEGER NOT NULL,
		kind            TEXT NOT NULL,
		reason          TEXT NOT NULL DEFAULT '',
		actor           TEXT NOT NULL DEFAULT '',
		user_id         INTEGER,
		access_point_id INTEGER,
		credential_id   TEXT NOT NULL DEFAULT '',
		rssi            INTEGER NOT NULL DEFAULT 0,
		latency_us      INTEGER NOT NULL DEFAULT 0,
		detail          TEXT NOT NULL DEFAULT ''
	) STRICT;
	CREATE INDEX events_user ON events(user_id, id) WHERE user_id IS NOT NULL;
	CREATE INDEX events_access_point ON events(access_point_id, id) WHERE access_point_id IS NOT NULL;
	CREATE INDEX events_kind ON events(kind, id);
	CREATE TRIGGER events_no_update BEFORE UPDATE ON events BEGIN
		SELECT RAISE(ABORT, 'events are append-only');
	END;
	CREATE TRIGGER events_no_delete BEFORE DELETE ON events BEGIN
		SELECT RAISE(ABORT, 'events are append-only');
	END;`,

	// 4: the site's identity, Smart credentials, registration codes and
	// the outbox of emails.
	`CREATE TABLE site (
		one         INTEGER PRIMARY KEY CHECK (one = 1),
		site_id     BLOB NOT NULL,
		name        TEXT NOT NULL,
		signing_key BLOB NOT NULL,
		created_at  INTEGER NOT NULL
	) STRICT;
	CREATE TABLE credentials (
		id               BLOB PRIMARY KEY,
		user_id          INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
		kind             TEXT NOT NULL DEFAULT 'smart',
		status           TEXT NOT NULL CHECK (status IN ('invited', 'active', 'revoked')),
		tap_key          BLOB,
		uv_key           BLOB,
		device_info      TEXT NOT NULL DEFAULT '',
		issuer_site_id   BLOB,
		issuer_site_name TEXT NOT NULL DEFAULT '',
		issuer_site_url  TEXT NOT NULL DEFAULT '',
		issuer_site_key  BLOB,
		created_at       INTEGER NOT NULL,
		registered_at    INTEGER,
		last_used_at     INTEGER,
		revoked_at       INTEGER
	) STRICT, WITHOUT ROWID;
	CREATE INDEX credentials_user ON credentials(user_id);
	CREATE TABLE registration_codes (
		code_hash     BLOB PRIMARY KEY,
		credential_id BLOB NOT NULL REFERENCES credentials(id) ON DELETE CASCADE,
		created_at    INTEGER NOT NULL,
		expires_at    INTEGER NOT NULL,
		used_at       INTEGER,
		superseded_at INTEGER
	) STRICT, WITHOUT ROWID;
	CREATE INDEX registration_codes_credential ON registration_codes(credential_id, expires_at);
	CREATE TABLE outbox (
		id            INTEGER PRIMARY KEY,
		created_at    INTEGER NOT NULL,
		kind          TEXT NOT NULL,
		recipient     TEXT NOT NULL,
		subject       TEXT NOT NULL,
		message       TEXT NOT NULL,
		status        TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed', 'cancelled')),
		attempts      INTEGER NOT NULL DEFAULT 0,
		next_attempt  INTEGER NOT NULL,
		last_error    TEXT NOT NULL DEFAULT '',
		sent_at       INTEGER,
		credential_id BLOB
	) STRICT;
	CREATE INDEX outbox_due ON outbox(next_attempt) WHERE status = 'queued';
	CREATE INDEX outbox_credential ON outbox(credential_id) WHERE credential_id IS NOT NULL;`,

	// 5: indexes for the listings that grow: users by name, and events by
	// the family of their kind ("access." for every decision).
	`CREATE INDEX users_name ON users(last_name COLLATE NOCASE, first_name COLLATE NOCASE, id);
	ALTER TABLE events ADD COLUMN family TEXT GENERATED ALWAYS AS (substr(kind, 1, instr(kind, '.'))) VIRTUAL;
	CREATE INDEX events_family ON events(family, id);`,

	// 6: "Add credential to new site": when a credential last asked to be
	// shared, so a replayed request is refused.
	`ALTER TABLE credentials ADD COLUMN last_share_at INTEGER;`,

	// 7: a reader's calibration: dB added to every signal it measures, set
	// by an installer at the door (Calibrate) or by hand.
	`ALTER TABLE access_points ADD COLUMN rssi_offset INTEGER NOT NULL DEFAULT 0;`,

	// 8: doors: unlock now, unlock schedules, exits, the held-open limit
	// and the door's GPIO lines per access point; users allowed in during
	// a lockdown; the site's lockdowns and evacuations; and an index to
	// find a door's newest grant (first person in) or door event.
	`ALTER TABLE access_points ADD COLUMN exit_door INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE access_points ADD COLUMN unlock_profile_id INTEGER REFERENCES time_profiles(id);
	ALTER TABLE access_points ADD COLUMN first_person_in INTEGER NOT NULL DEFAULT 0;
	ALTER TABLE access_points ADD COLUMN unlocked_until INTEGER;
	ALTER TABLE access_points ADD COLUMN held_open_ms INTEGER NOT NULL DEFAULT 30000;
	ALTER TABLE access_points ADD COLUMN door_io TEXT NOT NULL DEFAULT '{}';
	CREATE INDEX access_points_unlock_profile ON access_points(unlock_profile_id) WHERE unlock_profile_id IS NOT NULL;
	ALTER TABLE users ADD COLUMN lockdown_exempt INTEGER NOT NULL DEFAULT 0;
	CREATE TABLE emergencies (
		id         INTEGER PRIMARY KEY,
		mode       TEXT NOT NULL CHECK (mode IN ('lockdown', 'evacuation')),
		started_at INTEGER NOT NULL,
		started_by TEXT NOT NULL,
		ended_at   INTEGER,
		ended_by   TEXT NOT NULL DEFAULT ''
	) STRICT;
	CREATE UNIQUE INDEX emergencies_current ON emergencies(ifnull(ended_at, 0)) WHERE ended_at IS NULL;
	CREATE INDEX events_access_point_kind ON events(access_point_id, kind, id) WHERE access_point_id IS NOT NULL;`,

	// 9: alarms and webhooks: who is emailed of which alarm; the URLs
	// events are posted to, and the durable queue of those posts.
	`CREATE TABLE alarm_rules (
		kind       TEXT PRIMARY KEY,
		recipients TEXT NOT NULL
	) STRICT;
	CREATE TABLE webhooks (
		id              INTEGER PRIMARY KEY,
		url             TEXT NOT NULL,
		secret          TEXT NOT NULL,
		kinds           TEXT NOT NULL,
		created_at      INTEGER NOT NULL,
		last_error      TEXT NOT NULL DEFAULT '',
		last_attempt_at INTEGER,
		last_success_at INTEGER
	) STRICT;
	CREATE TABLE webhook_deliveries (
		id           INTEGER PRIMARY KEY,
		webhook_id   INTEGER NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
		event_id     INTEGER NOT NULL,
		kind         TEXT NOT NULL,
		payload      TEXT NOT NULL,
		status       TEXT NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'sent', 'failed')),
		attempts     INTEGER NOT NULL DEFAULT 0,
		next_attempt INTEGER NOT NULL,
		last_error   TEXT NOT NULL DEFAULT '',
		sent_at      INTEGER
	) STRICT;
	CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_attempt) WHERE status = 'queued';
	CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries(webhook_id, id);`,

	// 10: rate limits that outlive a restart (token buckets, by the hash of
	// what they limit), and the browsers each admin has signed in from, so
	// a guesser cannot lock the owner out.
	`CREATE TABLE throttle (
		key        BLOB PRIMARY KEY,
		tokens     REAL NOT NULL,
		updated_at INTEGER NOT NULL,
		full_at    INTEGER NOT NULL
	) STRICT, WITHOUT ROWID;
	CREATE INDEX throttle_full ON throttle(full_at);
	CREATE TABLE admin_devices (
		token_hash   BLOB PRIMARY KEY,
		admin_id     INTEGER NOT NULL REFERENCES admins(id) ON DELETE CASCADE,
		created_at   INTEGER NOT NULL,
		last_used_at INTEGER NOT NULL
	) STRICT, WITHOUT ROWID;
	CREATE INDEX admin_devices_admin ON admin_devices(admin_id, last_used_at);`,

	// 11: API tokens may expire; sessions are found by admin, to end an
	// admin's other sessions.
	`ALTER TABLE api_tokens ADD COLUMN expires_at INTEGER;
	CREATE INDEX api_tokens_admin ON api_tokens(admin_id);
	CREATE INDEX sessions_admin ON sessions(admin_id);`,

	// 12: the keys of devices a reissue replaced, so a replaced phone is
	// told so, with its user named in the log, instead of being refused
	// as a stranger.
	`CREATE TABLE replaced_devices (
		credential_id BLOB NOT NULL REFERENCES credentials(id) ON DELETE CASCADE,
		tap_key       BLOB NOT NULL,
		uv_key        BLOB NOT NULL,
		device_info   TEXT NOT NULL,
		replaced_at   INTEGER NOT NULL
	) STRICT;
	CREATE INDEX replaced_devices_credential ON replaced_devices(credential_id);`,

	// 13: the users list sorts by name or email as people read them ("Temp5"
	// before "Temp49") and by last use, in either direction, each by an
	// index (sortkey.go). The search index follows only the columns it
	// holds, so a presentation's write of last_used_at does not touch it.
	`ALTER TABLE users ADD COLUMN sort_name TEXT NOT NULL DEFAULT '';
	ALTER TABLE users ADD COLUMN sort_email TEXT NOT NULL DEFAULT '';
	ALTER TABLE users ADD COLUMN last_used_at INTEGER NOT NULL DEFAULT 0;
	DROP TRIGGER users_au;
	CREATE TRIGGER users_au AFTER UPDATE OF first_name, last_name, email ON users BEGIN
		INSERT INTO users_fts(users_fts, rowid, first_name, last_name, email) VALUES ('delete', old.id, old.first_name, old.last_name, old.email);
		INSERT INTO users_fts(rowid, first_name, last_name, email) VALUES (new.id, new.first_name, new.last_name, new.email);
	END;
	UPDATE users SET sort_name = postern_name_sort_key(first_name, last_name), sort_email = postern_email_sort_key(email),
		last_used_at = ifnull((SELECT max(c.last_used_at) FROM credentials c WHERE c.user_id = users.id), 0);
	DROP INDEX users_name;
	CREATE INDEX users_sort_name ON users(sort_name, id);
	CREATE INDEX users_sort_email ON users(sort_email, id);
	CREATE INDEX users_last_used ON users(last_used_at, id);`,

	// 14: remote readers. Events get a globally unique id, so an event that
	// reaches the hub twice is stored once; users may be let in by a reader
	// whose copy of the policy is past its offline lease; the hub keeps its
	// readers; and, once the site has been a hub, every change to what a
	// decision reads queues, in the same transaction, a row for the policy
	// publisher (triggers, so no write method can forget it and cascades
	// are caught too). last_used_at is
	// left out: it changes on every presentation and decides nothing. The
	// outbox's ids are never reused: each is its change's Nats-Msg-Id.
	`ALTER TABLE events ADD COLUMN uid TEXT;
	CREATE UNIQUE INDEX events_uid ON events(uid) WHERE uid IS NOT NULL;
	ALTER TABLE users ADD COLUMN allowed_offline INTEGER NOT NULL DEFAULT 0;
	CREATE TABLE fleet_readers (
		id             INTEGER PRIMARY KEY,
		name           TEXT NOT NULL UNIQUE,
		token_hash     BLOB,
		token_expires  INTEGER,
		secret_hash    BLOB,
		created_at     INTEGER NOT NULL,
		enrolled_at    INTEGER,
		last_seen      INTEGER,
		policy_seq     INTEGER NOT NULL DEFAULT 0,
		policy_lag     INTEGER NOT NULL DEFAULT 0,
		events_waiting INTEGER NOT NULL DEFAULT 0,
		version        TEXT NOT NULL DEFAULT ''
	) STRICT;
	CREATE TABLE fleet_state (
		key   TEXT PRIMARY KEY,
		value TEXT NOT NULL
	) STRICT;
	CREATE TABLE policy_outbox (
		id     INTEGER PRIMARY KEY AUTOINCREMENT,
		entity TEXT NOT NULL,
		key    TEXT NOT NULL
	) STRICT;
	` + policyTriggers,

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
}

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
