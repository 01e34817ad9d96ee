package store

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"postern/access"
)

// Mail is an email to queue: the message itself is the mail package's
// JSON, which the store keeps without reading.
type Mail struct {
	Kind         string // "invitation", "share", "test"
	Recipient    string
	Subject      string
	Message      string // JSON
	CredentialID *access.CredentialID
	// NotBefore holds the mail back until then, to spread a batch of
	// invitations out. Zero: send now.
	NotBefore time.Time
}

// OutboxItem is one queued, sent or failed email.
type OutboxItem struct {
	ID           int64
	CreatedAt    time.Time
	Kind         string
	Recipient    string
	Subject      string
	Message      string // JSON; emptied once sent, so codes do not linger
	Status       string // queued, sent, failed, cancelled
	Attempts     int
	NextAttempt  time.Time
	LastError    string
	SentAt       time.Time
	CredentialID string
}

func (s *Store) insertMail(ctx context.Context, tx querier, actor string, m Mail) (int64, error) {
	var cred []byte
	if m.CredentialID != nil {
		cred = m.CredentialID[:]
	}
	now := s.now().UnixMilli()
	res, err := tx.ExecContext(ctx, `INSERT INTO outbox (created_at, kind, recipient, subject, message, next_attempt, credential_id) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		now, m.Kind, m.Recipient, m.Subject, m.Message, max(now, m.NotBefore.UnixMilli()), cred)
	if err != nil {
		return 0, fmt.Errorf("store: queue %s email: %w", m.Kind, err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("store: queue %s email: %w", m.Kind, err)
	}
	e := &access.Event{Kind: m.Kind + ".queued", Actor: actor, Detail: "to " + m.Recipient}
	if m.CredentialID != nil {
		e.CredentialID = m.CredentialID.String()
	}
	return id, s.insertEvent(ctx, tx, e)
}

// QueueMail puts an email in the outbox.
func (s *Store) QueueMail(ctx context.Context, actor string, m Mail) (int64, error) {
	var id int64
	err := s.tx(ctx, "queue "+m.Kind+" email", func(tx *sql.Tx) error {
		var err error
		id, err = s.insertMail(ctx, tx, actor, m)
		return err
	})
	return id, err
}

const outboxColumns = `id, created_at, kind, recipient, subject, message, status, attempts, next_attempt, last_error, sent_at, ifnull(hex(credential_id), '')`

func scanOutbox(sc scanner) (OutboxItem, error) {
	var o OutboxItem
	var created, next int64
	var sent sql.NullInt64
	err := sc.Scan(&o.ID, &created, &o.Kind, &o.Recipient, &o.Subject, &o.Message, &o.Status, &o.Attempts, &next, &o.LastError, &sent, &o.CredentialID)
	o.CreatedAt, o.NextAttempt, o.SentAt = time.UnixMilli(created), time.UnixMilli(next), fromMS(sent)
	return o, err
}

// DueOutbox returns queued emails whose next attempt is due, oldest first.
func (s *Store) DueOutbox(ctx context.Context, now time.Time, limit int) ([]OutboxItem, error) {
	return queryAll(ctx, s.read, "list due email", scanOutbox, `SELECT `+outboxColumns+` FROM outbox WHERE status = 'queued' AND next_attempt <= ? ORDER BY next_attempt, id LIMIT ?`, now.UnixMilli(), limit)
}

// Outbox returns emails newest first, before the id cursor (0: from the
// newest), and the cursor of the next page.
func (s *Store) Outbox(ctx context.Context, before int64, limit int) ([]OutboxItem, int64, error) {
	if limit <= 0 || limit > MaxLimit {
		limit = DefaultLimit
	}
	if before <= 0 {
		before = 1<<63 - 1
	}
	items, err := queryAll(ctx, s.read, "list outbox", scanOutbox, `SELECT `+outboxColumns+` FROM outbox WHERE id < ? ORDER BY id DESC LIMIT ?`, before, limit+1)
	if err != nil {
		return nil, 0, err
	}
	items, next := trimByID(items, limit, func(o OutboxItem) int64 { return o.ID })
	return items, next, nil
}

// OutboxStatus returns an email's status: queued, sent, failed or
// cancelled.
func (s *Store) OutboxStatus(ctx context.Context, id int64) (string, error) {
	var status string
	err := s.read.QueryRowContext(ctx, `SELECT status FROM outbox WHERE id = ?`, id).Scan(&status)
	return status, notFound("read email status", err)
}

// CountQueuedMail returns how many emails wait to be sent.
func (s *Store) CountQueuedMail(ctx context.Context) (int, error) {
	var n int
	if err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM outbox WHERE status = 'queued'`).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: count queued email: %w", err)
	}
	return n, nil
}

// MarkOutboxSent records a delivery and forgets the body: an invitation's
// code must not outlive its sending in the database.
func (s *Store) MarkOutboxSent(ctx context.Context, id int64, at time.Time) error {
	defer s.checkpoint(ctx)
	return s.tx(ctx, "mark email sent", func(tx *sql.Tx) error {
		var kind, to string
		var cred sql.NullString
		if err := tx.QueryRowContext(ctx, `SELECT kind, recipient, hex(credential_id) FROM outbox WHERE id = ?`, id).Scan(&kind, &to, &cred); err != nil {
			return notFound("mark email sent", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE outbox SET status = 'sent', sent_at = ?, attempts = attempts + 1, last_error = '', message = '' WHERE id = ?`, at.UnixMilli(), id); err != nil {
			return fmt.Errorf("store: mark email sent: %w", err)
		}
		return s.insertEvent(ctx, tx, &access.Event{At: at, Kind: kind + ".sent", Actor: "system", CredentialID: lowerHex(cred.String), Detail: "to " + to})
	})
}

// MarkOutboxFailed records a failed attempt: retried at next, or given up
// for good when permanent. An email cancelled while it was being sent (its
// code replaced) stays cancelled.
func (s *Store) MarkOutboxFailed(ctx context.Context, id int64, at time.Time, errText string, next time.Time, permanent bool) error {
	return s.tx(ctx, "mark email failed", func(tx *sql.Tx) error {
		var kind, to, was string
		var cred sql.NullString
		if err := tx.QueryRowContext(ctx, `SELECT kind, recipient, hex(credential_id), status FROM outbox WHERE id = ?`, id).Scan(&kind, &to, &cred, &was); err != nil {
			return notFound("mark email failed", err)
		}
		if was == "cancelled" {
			return nil
		}
		status := "queued"
		if permanent {
			status = "failed"
		}
		if _, err := tx.ExecContext(ctx, `UPDATE outbox SET status = ?, attempts = attempts + 1, last_error = ?, next_attempt = ? WHERE id = ?`,
			status, errText, next.UnixMilli(), id); err != nil {
			return fmt.Errorf("store: mark email failed: %w", err)
		}
		detail := "to " + to + ": " + errText
		if !permanent {
			detail += " (will retry)"
		}
		return s.insertEvent(ctx, tx, &access.Event{At: at, Kind: kind + ".failed", Reason: errText, Actor: "system", CredentialID: lowerHex(cred.String), Detail: detail})
	})
}

// RetryMail puts a failed email back in the queue, due now.
func (s *Store) RetryMail(ctx context.Context, actor string, id int64) error {
	return s.tx(ctx, "retry email", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE outbox SET status = 'queued', next_attempt = ? WHERE id = ? AND status = 'failed'`, s.now().UnixMilli(), id)
		if err != nil {
			return fmt.Errorf("store: retry email: %w", err)
		}
		if err := affected("retry email", res); err != nil {
			return err
		}
		return s.insertEvent(ctx, tx, &access.Event{Kind: "mail.retried", Actor: actor, Detail: "outbox " + itoa(id)})
	})
}

// checkpoint folds the write-ahead log back into the database and empties
// it, so an emailed code that was just forgotten does not linger in the
// log file either. Best effort: with readers active it may do part of it,
// and the next one finishes the job.
func (s *Store) checkpoint(ctx context.Context) {
	s.db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`)
}
