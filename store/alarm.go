package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"time"

	"postern/access"
)

// AlarmRules returns who is told of each alarm, in access.AlarmKinds'
// order; an alarm nobody is told of has no recipients.
func (s *Store) AlarmRules(ctx context.Context) ([]access.AlarmRule, error) {
	stored := map[string]string{}
	rows, err := queryAll(ctx, s.read, "read alarm rules", func(sc scanner) ([2]string, error) {
		var kv [2]string
		err := sc.Scan(&kv[0], &kv[1])
		return kv, err
	}, `SELECT kind, recipients FROM alarm_rules`)
	if err != nil {
		return nil, err
	}
	for _, kv := range rows {
		stored[kv[0]] = kv[1]
	}
	out := make([]access.AlarmRule, len(access.AlarmKinds))
	for i, k := range access.AlarmKinds {
		out[i] = access.AlarmRule{Kind: k.Kind, Recipients: access.ParseRecipients(stored[k.Kind])}
	}
	return out, nil
}

// SetAlarmRules replaces who is told of the alarms the rules name.
func (s *Store) SetAlarmRules(ctx context.Context, actor string, rules []access.AlarmRule) error {
	var errs access.ValidationErrors
	for _, r := range rules {
		errs.Merge(r.Validate())
	}
	if err := errs.Err(); err != nil {
		return err
	}
	return s.tx(ctx, "set alarm rules", func(tx *sql.Tx) error {
		for _, r := range rules {
			if _, err := tx.ExecContext(ctx, `INSERT INTO alarm_rules (kind, recipients) VALUES (?, ?) ON CONFLICT (kind) DO UPDATE SET recipients = excluded.recipients`,
				r.Kind, strings.Join(r.Recipients, ", ")); err != nil {
				return fmt.Errorf("store: set alarm rules: %w", err)
			}
		}
		return s.insertEvent(ctx, tx, &access.Event{Kind: "alarm_rules.changed", Actor: actor})
	})
}

// Setting keys of the alarm and webhook workers' progress through the log.
const (
	cursorAlarms   = "cursor_alarms"
	cursorWebhooks = "cursor_webhooks"
	alarmMailedAt  = "alarm_mailed_at"
)

// AlarmCursor returns the id of the last event the alarm emails have
// covered, and when the last alarm email was queued. A site that never
// ran them starts at its newest event: history raises no alarm.
func (s *Store) AlarmCursor(ctx context.Context) (cursor int64, mailedAt time.Time, err error) {
	if cursor, err = s.cursor(ctx, cursorAlarms); err != nil {
		return 0, time.Time{}, err
	}
	v, err := s.Setting(ctx, alarmMailedAt, "")
	if err != nil {
		return 0, time.Time{}, err
	}
	if ms, perr := strconv.ParseInt(v, 10, 64); perr == nil {
		mailedAt = time.UnixMilli(ms)
	}
	return cursor, mailedAt, nil
}

// WebhookCursor returns the id of the last event queued for webhooks.
func (s *Store) WebhookCursor(ctx context.Context) (int64, error) {
	return s.cursor(ctx, cursorWebhooks)
}

func (s *Store) cursor(ctx context.Context, key string) (int64, error) {
	v, err := s.Setting(ctx, key, "")
	if err != nil {
		return 0, err
	}
	if v == "" {
		// The first look: start at the newest event, and remember it, so
		// the events that follow are the ones covered.
		n, err := s.LastEventID(ctx)
		if err != nil {
			return 0, err
		}
		return n, setSetting(ctx, s.db, key, strconv.FormatInt(n, 10))
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("store: read %s: %w", key, err)
	}
	return n, nil
}

// QueueAlarms puts alarm emails in the outbox and moves the alarm cursor
// to cursor, in one transaction: an alarm is mailed once, and a crash
// before the commit mails it after the restart. mailed is when the mails
// were made; zero when there were none and only the cursor moves.
func (s *Store) QueueAlarms(ctx context.Context, mails []Mail, cursor int64, mailed time.Time) error {
	return s.tx(ctx, "queue alarms", func(tx *sql.Tx) error {
		for _, m := range mails {
			if _, err := s.insertMail(ctx, tx, "system", m); err != nil {
				return err
			}
		}
		if err := setSetting(ctx, tx, cursorAlarms, strconv.FormatInt(cursor, 10)); err != nil {
			return err
		}
		if mailed.IsZero() {
			return nil
		}
		return setSetting(ctx, tx, alarmMailedAt, strconv.FormatInt(mailed.UnixMilli(), 10))
	})
}

func setSetting(ctx context.Context, q querier, key, value string) error {
	if _, err := q.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, key, value); err != nil {
		return fmt.Errorf("store: set %s: %w", key, err)
	}
	return nil
}

// alarmDigestKey holds the least seconds between two alarm emails.
const alarmDigestKey = "alarm_digest_seconds"

// AlarmDigestGap returns the least time between two alarm emails: def
// until an admin sets it.
func (s *Store) AlarmDigestGap(ctx context.Context, def time.Duration) (time.Duration, error) {
	v, err := s.Setting(ctx, alarmDigestKey, "")
	if err != nil || v == "" {
		return def, err
	}
	n, err := strconv.Atoi(v)
	if err != nil {
		return def, nil
	}
	return time.Duration(n) * time.Second, nil
}

// SetAlarmDigestGap sets the least time between two alarm emails, from no
// wait (every round of alarms its own email) to an hour.
func (s *Store) SetAlarmDigestGap(ctx context.Context, actor string, d time.Duration) error {
	if d < 0 || d > time.Hour {
		return access.Invalid("digest_seconds", "must be between 0 and 3600 seconds")
	}
	return s.SetSetting(ctx, actor, alarmDigestKey, strconv.Itoa(int(d/time.Second)))
}
