package store_test

import (
	"testing"
	"time"

	"postern/access"
	"postern/store"
)

// TestWebhookDeliveries: deliveries are queued with the cursor, handed out
// when due with the webhook's URL and secret, and their outcome is the
// webhook's last error or last success.
func TestWebhookDeliveries(t *testing.T) {
	s := openStore(t)
	ctx := t.Context()
	w := access.Webhook{URL: "https://hooks.example.com/x", Kinds: []string{"door.forced"}}
	if err := s.CreateWebhook(ctx, actor, &w); err != nil {
		t.Fatal(err)
	}
	if len(w.Secret) != 64 {
		t.Fatalf("secret %q", w.Secret)
	}
	if err := s.QueueWebhookDeliveries(ctx, []store.WebhookDelivery{{WebhookID: w.ID, EventID: 7, Kind: "door.forced", Payload: `{"id":7}`}}, 7); err != nil {
		t.Fatal(err)
	}
	if c, err := s.WebhookCursor(ctx); err != nil || c != 7 {
		t.Errorf("cursor: %d, %v", c, err)
	}
	due, err := s.DueWebhookDeliveries(ctx, testNow, 10)
	if err != nil || len(due) != 1 || due[0].URL != w.URL || due[0].Secret != w.Secret || due[0].Payload != `{"id":7}` {
		t.Fatalf("due: %+v, %v", due, err)
	}
	next := testNow.Add(time.Minute)
	if err := s.MarkWebhookFailed(ctx, due[0].ID, testNow, "the receiver answered 503", next, false); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.WebhookByID(ctx, w.ID); got.LastError != "the receiver answered 503" || !got.LastAttemptAt.Equal(testNow) {
		t.Errorf("after a failure: %+v", got)
	}
	if due, _ := s.DueWebhookDeliveries(ctx, testNow, 10); len(due) != 0 {
		t.Errorf("due before its retry: %+v", due)
	}
	due, _ = s.DueWebhookDeliveries(ctx, next, 10)
	if len(due) != 1 || due[0].Attempts != 1 {
		t.Fatalf("due at its retry: %+v", due)
	}
	if err := s.MarkWebhookDelivered(ctx, due[0].ID, next); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.WebhookByID(ctx, w.ID); got.LastError != "" || !got.LastSuccessAt.Equal(next) {
		t.Errorf("after the delivery: %+v", got)
	}
	if due, _ := s.DueWebhookDeliveries(ctx, next.Add(time.Hour), 10); len(due) != 0 {
		t.Errorf("a delivered post is due again: %+v", due)
	}
	if err := s.DeleteWebhook(ctx, actor, w.ID); err != nil {
		t.Fatal(err)
	}
}
