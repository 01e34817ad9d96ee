package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"postern/access"
)

const webhookColumns = `id, url, secret, kinds, last_error, last_attempt_at, last_success_at`

func scanWebhook(sc scanner) (access.Webhook, error) {
	var w access.Webhook
	var kinds string
	var attempt, success sql.NullInt64
	if err := sc.Scan(&w.ID, &w.URL, &w.Secret, &kinds, &w.LastError, &attempt, &success); err != nil {
		return w, err
	}
	w.LastAttemptAt, w.LastSuccessAt = fromMS(attempt), fromMS(success)
	return w, json.Unmarshal([]byte(kinds), &w.Kinds)
}

// CreateWebhook stores a webhook with a new random signing secret.
func (s *Store) CreateWebhook(ctx context.Context, actor string, w *access.Webhook) error {
	if err := w.Validate(); err != nil {
		return err
	}
	b := make([]byte, 32)
	rand.Read(b)
	w.Secret = hex.EncodeToString(b)
	kinds, _ := json.Marshal(w.Kinds)
	return s.tx(ctx, "create webhook", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO webhooks (url, secret, kinds, created_at) VALUES (?, ?, ?, ?)`, w.URL, w.Secret, string(kinds), s.now().UnixMilli())
		if err != nil {
			return fmt.Errorf("store: create webhook: %w", err)
		}
		if w.ID, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("store: create webhook: %w", err)
		}
		return s.insertEvent(ctx, tx, &access.Event{Kind: "webhook.created", Actor: actor, Detail: w.URL})
	})
}

// Webhooks returns every webhook, oldest first.
func (s *Store) Webhooks(ctx context.Context) ([]access.Webhook, error) {
	return queryAll(ctx, s.read, "list webhooks", scanWebhook, `SELECT `+webhookColumns+` FROM webhooks ORDER BY id`)
}

// WebhookByID returns one webhook.
func (s *Store) WebhookByID(ctx context.Context, id int64) (access.Webhook, error) {
	w, err := scanWebhook(s.read.QueryRowContext(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE id = ?`, id))
	return w, notFound("read webhook", err)
}

// DeleteWebhook removes a webhook and the deliveries still queued for it.
func (s *Store) DeleteWebhook(ctx context.Context, actor string, id int64) error {
	return s.tx(ctx, "delete webhook", func(tx *sql.Tx) error {
		var u string
		if err := tx.QueryRowContext(ctx, `SELECT url FROM webhooks WHERE id = ?`, id).Scan(&u); err != nil {
			return notFound("delete webhook", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM webhooks WHERE id = ?`, id); err != nil {
			return fmt.Errorf("store: delete webhook: %w", err)
		}
		return s.insertEvent(ctx, tx, &access.Event{Kind: "webhook.deleted", Actor: actor, Detail: u})
	})
}

// WebhookDelivery is one event to post to one webhook.
type WebhookDelivery struct {
	ID          int64
	WebhookID   int64
	EventID     int64
	Kind        string
	Payload     string // the JSON body
	Attempts    int
	NextAttempt time.Time
	// The webhook's, filled by DueWebhookDeliveries.
	URL    string
	Secret string
}

// QueueWebhookDeliveries queues deliveries and moves the webhooks' cursor
// to cursor, in one transaction, so each event is posted once.
func (s *Store) QueueWebhookDeliveries(ctx context.Context, ds []WebhookDelivery, cursor int64) error {
	now := s.now().UnixMilli()
	return s.tx(ctx, "queue webhook deliveries", func(tx *sql.Tx) error {
		for _, d := range ds {
			if _, err := tx.ExecContext(ctx, `INSERT INTO webhook_deliveries (webhook_id, event_id, kind, payload, next_attempt) VALUES (?, ?, ?, ?, ?)`,
				d.WebhookID, d.EventID, d.Kind, d.Payload, now); err != nil {
				return fmt.Errorf("store: queue webhook delivery: %w", err)
			}
		}
		return setSetting(ctx, tx, cursorWebhooks, strconv.FormatInt(cursor, 10))
	})
}

// DueWebhookDeliveries returns queued deliveries due by now, oldest first.
func (s *Store) DueWebhookDeliveries(ctx context.Context, now time.Time, limit int) ([]WebhookDelivery, error) {
	return queryAll(ctx, s.read, "list due webhook deliveries", func(sc scanner) (WebhookDelivery, error) {
		var d WebhookDelivery
		var next int64
		err := sc.Scan(&d.ID, &d.WebhookID, &d.EventID, &d.Kind, &d.Payload, &d.Attempts, &next, &d.URL, &d.Secret)
		d.NextAttempt = time.UnixMilli(next)
		return d, err
	}, `SELECT d.id, d.webhook_id, d.event_id, d.kind, d.payload, d.attempts, d.next_attempt, w.url, w.secret
		FROM webhook_deliveries d JOIN webhooks w ON w.id = d.webhook_id
		WHERE d.status = 'queued' AND d.next_attempt <= ? ORDER BY d.next_attempt, d.id LIMIT ?`, now.UnixMilli(), limit)
}

// MarkWebhookDelivered records a delivery the receiver accepted.
func (s *Store) MarkWebhookDelivered(ctx context.Context, id int64, at time.Time) error {
	return s.tx(ctx, "mark webhook delivered", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET status = 'sent', attempts = attempts + 1, sent_at = ?, last_error = '' WHERE id = ?`, at.UnixMilli(), id); err != nil {
			return fmt.Errorf("store: mark webhook delivered: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE webhooks SET last_attempt_at = ?1, last_success_at = ?1, last_error = '' WHERE id = (SELECT webhook_id FROM webhook_deliveries WHERE id = ?2)`, at.UnixMilli(), id); err != nil {
			return fmt.Errorf("store: mark webhook delivered: %w", err)
		}
		return nil
	})
}

// MarkWebhookFailed records a failed attempt: retried at next, or given up
// when permanent. The webhook keeps the error for the admin to see.
func (s *Store) MarkWebhookFailed(ctx context.Context, id int64, at time.Time, errText string, next time.Time, permanent bool) error {
	status := "queued"
	if permanent {
		status = "failed"
	}
	return s.tx(ctx, "mark webhook failed", func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET status = ?, attempts = attempts + 1, next_attempt = ?, last_error = ? WHERE id = ?`,
			status, next.UnixMilli(), errText, id); err != nil {
			return fmt.Errorf("store: mark webhook failed: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE webhooks SET last_attempt_at = ?, last_error = ? WHERE id = (SELECT webhook_id FROM webhook_deliveries WHERE id = ?)`, at.UnixMilli(), errText, id); err != nil {
			return fmt.Errorf("store: mark webhook failed: %w", err)
		}
		return nil
	})
}
