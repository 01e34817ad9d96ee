package web

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"postern/access"
	"postern/mail"
	"postern/store"
)

// encodeMail turns a message into an outbox row.
func encodeMail(kind string, msg mail.Message) (store.Mail, error) {
	b, err := json.Marshal(msg)
	if err != nil {
		return store.Mail{}, err
	}
	return store.Mail{Kind: kind, Recipient: strings.Join(msg.To, ", "), Subject: msg.Subject, Message: string(b)}, nil
}

// MailOutbox returns st's outbox as the mail worker drains it: the rows
// that encodeMail wrote, read back as messages. It lives here, beside
// encodeMail, because the row's JSON is written here and mail does not
// know the store.
func MailOutbox(st *store.Store) mail.Outbox { return outboxAdapter{st} }

// outboxAdapter lets the mail worker drain the store's outbox.
type outboxAdapter struct{ st *store.Store }

func (a outboxAdapter) DueOutbox(ctx context.Context, now time.Time, limit int) ([]mail.Outgoing, error) {
	items, err := a.st.DueOutbox(ctx, now, limit)
	if err != nil {
		return nil, err
	}
	out := make([]mail.Outgoing, 0, len(items))
	for _, it := range items {
		var msg mail.Message
		if err := json.Unmarshal([]byte(it.Message), &msg); err != nil {
			// A row that cannot be read can never be sent: say so once.
			if err := a.st.MarkOutboxFailed(ctx, it.ID, now, "the stored message is damaged: "+err.Error(), time.Time{}, true); err != nil {
				return nil, err
			}
			continue
		}
		out = append(out, mail.Outgoing{ID: it.ID, Message: msg, Attempts: it.Attempts, NextAttempt: it.NextAttempt})
	}
	return out, nil
}

func (a outboxAdapter) StillQueued(ctx context.Context, id int64) (bool, error) {
	status, err := a.st.OutboxStatus(ctx, id)
	if errors.Is(err, access.ErrNotFound) {
		return false, nil
	}
	return status == "queued", err
}

func (a outboxAdapter) MarkOutboxSent(ctx context.Context, id int64, at time.Time) error {
	return a.st.MarkOutboxSent(ctx, id, at)
}

func (a outboxAdapter) MarkOutboxFailed(ctx context.Context, id int64, at time.Time, errText string, next time.Time, permanent bool) error {
	return a.st.MarkOutboxFailed(ctx, id, at, errText, next, permanent)
}
