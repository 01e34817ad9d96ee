package store

// firstMigrations are migrations 1 to 14, the start of migrations (see
// there); shipped, so never edited.
var firstMigrations = []string{
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
}
