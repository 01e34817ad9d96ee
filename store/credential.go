package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"postern/access"
)

func lowerHex(s string) string { return strings.ToLower(s) }
func itoa(n int64) string      { return strconv.FormatInt(n, 10) }

// credentialColumns computes "expired" for an invitation whose codes have
// all run out, so the status is right without a sweeper.
const credentialColumns = `c.id, c.user_id, c.kind,
	CASE WHEN c.status = 'invited' AND NOT EXISTS (
		SELECT 1 FROM registration_codes r WHERE r.credential_id = c.id AND r.used_at IS NULL AND r.superseded_at IS NULL AND r.expires_at > ?
	) THEN 'expired' ELSE c.status END,
	c.tap_key, c.uv_key, c.device_info, c.created_at, c.registered_at, c.last_used_at,
	c.issuer_site_id, c.issuer_site_name, c.issuer_site_url, c.issuer_site_key, c.protocol, c.introduction, c.token_id`

func scanCredential(sc scanner) (access.Credential, error) {
	var c access.Credential
	var id, issuerID []byte
	var created int64
	var registered, used sql.NullInt64
	err := sc.Scan(&id, &c.UserID, &c.Kind, &c.Status, &c.TapKey, &c.UVKey, &c.DeviceInfo, &created, &registered, &used,
		&issuerID, &c.Issuer.Name, &c.Issuer.URL, &c.Issuer.Key, &c.Protocol, &c.Introduction, &c.TokenID)
	copy(c.ID[:], id)
	copy(c.Issuer.ID[:], issuerID)
	c.CreatedAt, c.RegisteredAt, c.LastUsedAt = time.UnixMilli(created), fromMS(registered), fromMS(used)
	return c, err
}

// credentialByID reads one credential with q, inside a transaction or
// outside one; now decides whether an invitation has expired.
func credentialByID(ctx context.Context, q querier, id access.CredentialID, now time.Time) (access.Credential, error) {
	c, err := scanCredential(q.QueryRowContext(ctx, `SELECT `+credentialColumns+` FROM credentials c WHERE c.id = ?`, now.UnixMilli(), id[:]))
	return c, notFound("read credential", err)
}

// CredentialByID returns one credential.
func (s *Store) CredentialByID(ctx context.Context, id access.CredentialID) (access.Credential, error) {
	return credentialByID(ctx, s.read, id, s.now())
}

// UserCredentials returns a user's credentials, newest first.
func (s *Store) UserCredentials(ctx context.Context, userID int64) ([]access.Credential, error) {
	return queryAll(ctx, s.read, "list user's credentials", scanCredential, `SELECT `+credentialColumns+` FROM credentials c WHERE c.user_id = ? ORDER BY c.created_at DESC`, s.now().UnixMilli(), userID)
}

// ErrNoEmail is returned when a credential is assigned to a user without
// an email address to send the invitation to.
var ErrNoEmail = access.Invalid("email", "the user needs an email address to receive a Smart credential")

// AssignCredential creates an invited Smart credential for a user with its
// first registration code, and queues the invitation in the same
// transaction: the credential never exists without its email on the way.
// A nil invite means the code is to be printed: no email is sent, and the
// user needs no email address.
func (s *Store) AssignCredential(ctx context.Context, actor string, userID int64, code string, expires time.Time, invite func(access.Credential, access.User) (Mail, error)) (access.Credential, error) {
	var c access.Credential
	err := s.tx(ctx, "assign credential", func(tx *sql.Tx) error {
		var err error
		c, err = s.assignCredential(ctx, tx, actor, userID, code, expires, invite, time.Time{}, nil)
		return err
	})
	return c, err
}

// SharedInvitation is what another site's web key token brings: its id,
// so it is added once, and the site that sent it.
type SharedInvitation struct {
	TokenID  [16]byte
	SiteName string
}

// AssignSharedCredential is AssignCredential for a web key token from
// another site ("Add a credential"): the credential remembers the token,
// which is added once, and invite sends the invitation to the address the
// token carries, so the user here needs none.
func (s *Store) AssignSharedCredential(ctx context.Context, actor string, userID int64, code string, expires time.Time, sh SharedInvitation, invite func(access.Credential, access.User) (Mail, error)) (access.Credential, error) {
	var c access.Credential
	err := s.tx(ctx, "assign shared credential", func(tx *sql.Tx) error {
		var err error
		c, err = s.assignCredential(ctx, tx, actor, userID, code, expires, invite, time.Time{}, &sh)
		return err
	})
	return c, err
}

// assignCredential is AssignCredential inside the caller's transaction;
// the invitation waits in the outbox until notBefore (zero: now). A
// non-nil sh is the web key token it was made for.
func (s *Store) assignCredential(ctx context.Context, tx *sql.Tx, actor string, userID int64, code string, expires time.Time,
	invite func(access.Credential, access.User) (Mail, error), notBefore time.Time, sh *SharedInvitation) (access.Credential, error) {
	now := s.now()
	c := access.Credential{ID: access.NewCredentialID(), UserID: userID, Kind: "smart", Status: access.CredentialInvited, CreatedAt: now}
	var tokenID []byte
	if sh != nil {
		tokenID = sh.TokenID[:]
	}
	err := func() error {
		u, err := userByID(ctx, tx, userID)
		if err != nil {
			return err
		}
		if u.Email == "" && invite != nil && sh == nil {
			return ErrNoEmail
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO credentials (id, user_id, kind, status, created_at, token_id) VALUES (?, ?, 'smart', 'invited', ?, ?)`, c.ID[:], userID, now.UnixMilli(), tokenID)
		if duplicate(err) && sh != nil {
			return access.Conflict("this credential token has already been added here: a token is added once")
		}
		if err != nil {
			return fmt.Errorf("store: assign credential: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO registration_codes (code_hash, credential_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
			access.HashCode(code), c.ID[:], now.UnixMilli(), expires.UnixMilli()); err != nil {
			return fmt.Errorf("store: assign credential: add registration code: %w", err)
		}
		detail := "Smart credential for " + u.Name()
		if invite == nil {
			detail += printedCode
		}
		if sh != nil {
			detail += ", asked for by a web key of " + sh.SiteName
		}
		if err := s.insertEvent(ctx, tx, &access.Event{Kind: "credential.assigned", Actor: actor, UserID: userID, CredentialID: c.ID.String(), Detail: detail}); err != nil {
			return err
		}
		return s.queueInvitation(ctx, tx, actor, sendAfter(invite, notBefore), c, u)
	}()
	return c, err
}

// sendAfter makes invite's mail wait in the outbox until notBefore.
func sendAfter(invite func(access.Credential, access.User) (Mail, error), notBefore time.Time) func(access.Credential, access.User) (Mail, error) {
	if invite == nil || notBefore.IsZero() {
		return invite
	}
	return func(c access.Credential, u access.User) (Mail, error) {
		m, err := invite(c, u)
		m.NotBefore = notBefore
		return m, err
	}
}

// printedCode ends the detail of an event whose code was printed.
const printedCode = " (code printed, no email)"

// queueInvitation writes a new code's invitation to the outbox, inside the
// transaction that made the code; nil invite (a printed code) sends none.
func (s *Store) queueInvitation(ctx context.Context, tx querier, actor string, invite func(access.Credential, access.User) (Mail, error), c access.Credential, u access.User) error {
	if invite == nil {
		return nil
	}
	m, err := invite(c, u)
	if err != nil {
		return fmt.Errorf("store: compose invitation: %w", err)
	}
	m.CredentialID = &c.ID
	_, err = s.insertMail(ctx, tx, actor, m)
	return err
}

// NewRegistrationCode replaces a credential's registration code: every
// earlier code stops working and any invitation still waiting to be sent is
// cancelled, then a new invitation is queued. For an active credential this
// is a reissue: when a device registers with the new code, it replaces the
// old device. why is "reissued" or "resent". A nil invite means the code
// is to be printed: no email is sent, and the user needs no email address.
func (s *Store) NewRegistrationCode(ctx context.Context, actor string, id access.CredentialID, why, code string, expires time.Time, invite func(access.Credential, access.User) (Mail, error)) error {
	now := s.now()
	defer s.checkpoint(ctx)
	return s.tx(ctx, "new registration code", func(tx *sql.Tx) error {
		c, err := credentialByID(ctx, tx, id, now)
		if err != nil {
			return err
		}
		if c.Status == access.CredentialRevoked {
			return access.Conflict("a revoked credential cannot get a new code: assign a new Smart credential")
		}
		if c.Issuer.Name != "" {
			return access.Conflict("this credential was issued by %s: only that site can send it a new code", c.Issuer.Name)
		}
		u, err := userByID(ctx, tx, c.UserID)
		if err != nil {
			return err
		}
		if u.Email == "" && invite != nil {
			return ErrNoEmail
		}
		if err := s.retireCodes(ctx, tx, id, now); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO registration_codes (code_hash, credential_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
			access.HashCode(code), id[:], now.UnixMilli(), expires.UnixMilli()); err != nil {
			return fmt.Errorf("store: new registration code: %w", err)
		}
		detail := "new registration code for " + u.Name()
		if invite == nil {
			detail += printedCode
		}
		if err := s.insertEvent(ctx, tx, &access.Event{Kind: "credential." + why, Actor: actor, UserID: c.UserID, CredentialID: id.String(), Detail: detail}); err != nil {
			return err
		}
		return s.queueInvitation(ctx, tx, actor, invite, c, u)
	})
}

// retireCodes kills a credential's live codes and cancels its unsent
// invitations, forgetting their bodies.
func (s *Store) retireCodes(ctx context.Context, tx querier, id access.CredentialID, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `UPDATE registration_codes SET superseded_at = ? WHERE credential_id = ? AND used_at IS NULL AND superseded_at IS NULL`, now.UnixMilli(), id[:]); err != nil {
		return fmt.Errorf("store: retire registration codes: %w", err)
	}
	return cancelInvitations(ctx, tx, id)
}

// cancelInvitations cancels a credential's invitations not yet sent and
// forgets their bodies: the code in them no longer registers anything.
func cancelInvitations(ctx context.Context, tx querier, id access.CredentialID) error {
	if _, err := tx.ExecContext(ctx, `UPDATE outbox SET status = 'cancelled', message = '' WHERE credential_id = ? AND status IN ('queued', 'failed') AND kind = 'invitation'`, id[:]); err != nil {
		return fmt.Errorf("store: cancel invitations: %w", err)
	}
	return nil
}

// RevokeCredential refuses a credential everywhere from now on.
func (s *Store) RevokeCredential(ctx context.Context, actor string, id access.CredentialID) error {
	now := s.now()
	defer s.checkpoint(ctx)
	return s.tx(ctx, "revoke credential", func(tx *sql.Tx) error {
		var userID int64
		var status string
		if err := tx.QueryRowContext(ctx, `SELECT user_id, status FROM credentials WHERE id = ?`, id[:]).Scan(&userID, &status); err != nil {
			return notFound("revoke credential", err)
		}
		if status == string(access.CredentialRevoked) {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE credentials SET status = 'revoked', revoked_at = ? WHERE id = ?`, now.UnixMilli(), id[:]); err != nil {
			return fmt.Errorf("store: revoke credential: %w", err)
		}
		if err := s.retireCodes(ctx, tx, id, now); err != nil {
			return err
		}
		return s.insertEvent(ctx, tx, &access.Event{Kind: "credential.revoked", Actor: actor, UserID: userID, CredentialID: id.String()})
	})
}

// RegisterCredential binds a device's keys to the credential its code was
// issued for, using the code up. Exactly one of any number of racing
// registrations with one code wins: the update that spends the code is
// conditional on it being unspent, inside a write transaction. Any failure
// changes nothing and is access.ErrRegistration.
func (s *Store) RegisterCredential(ctx context.Context, reg access.Registration) (access.Credential, access.User, error) {
	var c access.Credential
	var u access.User
	now := reg.At
	if now.IsZero() {
		now = s.now()
	}
	err := s.tx(ctx, "register credential", func(tx *sql.Tx) error {
		var credID []byte
		err := tx.QueryRowContext(ctx, `SELECT credential_id FROM registration_codes WHERE code_hash = ? AND used_at IS NULL AND superseded_at IS NULL AND expires_at > ?`,
			access.HashCode(reg.Code), now.UnixMilli()).Scan(&credID)
		if errors.Is(err, sql.ErrNoRows) {
			return access.ErrRegistration
		}
		if err != nil {
			return fmt.Errorf("store: register credential: %w", err)
		}
		var id access.CredentialID
		copy(id[:], credID)
		if c, err = credentialByID(ctx, tx, id, now); err != nil {
			return err
		}
		if c.Status == access.CredentialRevoked {
			return access.ErrRegistration
		}
		res, err := tx.ExecContext(ctx, `UPDATE registration_codes SET used_at = ? WHERE code_hash = ? AND used_at IS NULL`, now.UnixMilli(), access.HashCode(reg.Code))
		if err != nil {
			return fmt.Errorf("store: register credential: spend code: %w", err)
		}
		if err := affected("register credential: spend code", res); err != nil {
			if errors.Is(err, access.ErrNotFound) {
				return access.ErrRegistration
			}
			return err
		}
		// The code is spent: an invitation still waiting would send it dead.
		if err := cancelInvitations(ctx, tx, id); err != nil {
			return err
		}
		replaced := c.Status == access.CredentialActive
		if replaced {
			// Kept so the old phone is told it was replaced when it comes
			// back, rather than refused as a stranger.
			if _, err := tx.ExecContext(ctx, `INSERT INTO replaced_devices (credential_id, tap_key, uv_key, device_info, replaced_at)
				SELECT id, tap_key, uv_key, device_info, ? FROM credentials WHERE id = ? AND tap_key IS NOT NULL AND uv_key IS NOT NULL`, now.UnixMilli(), id[:]); err != nil {
				return fmt.Errorf("store: register credential: keep the replaced device: %w", err)
			}
		}
		protocol := max(reg.Protocol, 1)
		if _, err := tx.ExecContext(ctx, `UPDATE credentials SET status = 'active', tap_key = ?, uv_key = ?, device_info = ?, registered_at = ?, protocol = ? WHERE id = ?`,
			reg.TapKey, reg.UVKey, reg.DeviceInfo, now.UnixMilli(), protocol, id[:]); err != nil {
			return fmt.Errorf("store: register credential: %w", err)
		}
		c.Status, c.TapKey, c.UVKey, c.DeviceInfo, c.RegisteredAt, c.Protocol = access.CredentialActive, reg.TapKey, reg.UVKey, reg.DeviceInfo, now, protocol
		if u, err = userByID(ctx, tx, c.UserID); err != nil {
			return err
		}
		detail := reg.DeviceInfo
		if replaced {
			detail += " (replaces the previous device)"
		}
		return s.insertEvent(ctx, tx, &access.Event{At: now, Kind: "credential.registered", Actor: "key", UserID: c.UserID, CredentialID: c.ID.String(), Detail: detail})
	})
	return c, u, err
}

// RegistrationCodeState returns what a registration code can still do at
// now and, for a valid one, when it expires. It looks the code up by its
// hash, as registration does.
func (s *Store) RegistrationCodeState(ctx context.Context, code string, now time.Time) (access.CodeState, time.Time, error) {
	var used, superseded sql.NullInt64
	var expires int64
	var status string
	err := s.read.QueryRowContext(ctx, `SELECT r.used_at, r.superseded_at, r.expires_at, c.status FROM registration_codes r
		JOIN credentials c ON c.id = r.credential_id WHERE r.code_hash = ?`, access.HashCode(code)).Scan(&used, &superseded, &expires, &status)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return access.CodeUnknown, time.Time{}, nil
	case err != nil:
		return "", time.Time{}, fmt.Errorf("store: read registration code: %w", err)
	case used.Valid:
		return access.CodeUsed, time.Time{}, nil
	case superseded.Valid || status == string(access.CredentialRevoked):
		return access.CodeReplaced, time.Time{}, nil
	case expires <= now.UnixMilli():
		return access.CodeExpired, time.Time{}, nil
	}
	return access.CodeValid, time.UnixMilli(expires), nil
}

// ReplacedDevices returns the keys of the devices that newer ones replaced
// on a credential, newest first. It is on the reader's path (a key whose
// signature fails), so it reads the in-memory policy.
func (s *Store) ReplacedDevices(ctx context.Context, id access.CredentialID) ([]access.DeviceKeys, error) {
	p, err := s.Policy(ctx)
	if err != nil {
		return nil, err
	}
	return p.ReplacedDevices(id), nil
}

// TouchCredential records that a credential was just used at a reader.
func (s *Store) TouchCredential(ctx context.Context, id access.CredentialID, at time.Time) error {
	if err := touchCredential(ctx, s.db, id, at); err != nil {
		return fmt.Errorf("store: touch credential: %w", err)
	}
	return nil
}

// touchCredential writes a use of a credential, and of its user, whom the
// users list sorts by last use: two writes by primary key.
func touchCredential(ctx context.Context, x querier, id access.CredentialID, at time.Time) error {
	if _, err := x.ExecContext(ctx, `UPDATE credentials SET last_used_at = ? WHERE id = ?`, at.UnixMilli(), id[:]); err != nil {
		return err
	}
	_, err := x.ExecContext(ctx, `UPDATE users SET last_used_at = ? WHERE id = (SELECT user_id FROM credentials WHERE id = ?)`, at.UnixMilli(), id[:])
	return err
}
