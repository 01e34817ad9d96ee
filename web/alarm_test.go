package web_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"postern/access"
	"postern/store"
	"postern/web"
)

// TestAlarms: the first alarm is mailed at once, those that follow within
// the digest gap go together when it has passed; five denials of one
// credential raise their own alarm; webhooks get the kinds they chose, once.
func TestAlarms(t *testing.T) {
	t.Parallel()
	st, err := store.Open(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var mu sync.Mutex
	now := time.Date(2026, 3, 11, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); now = now.Add(d); mu.Unlock() }
	st.SetClock(clock)
	ctx := t.Context()
	ap := access.AccessPoint{Name: "Back door", Reader: "sim:back"}
	if err := st.CreateAccessPoint(ctx, "setup", &ap); err != nil {
		t.Fatal(err)
	}
	if err := st.SetAlarmRules(ctx, "setup", []access.AlarmRule{
		{Kind: access.AlarmForced, Recipients: []string{"ops@example.com"}},
		{Kind: access.AlarmDenials, Recipients: []string{"ops@example.com"}},
	}); err != nil {
		t.Fatal(err)
	}
	hook := access.Webhook{URL: "http://127.0.0.1:1/hook", Kinds: []string{"credential.denied_repeatedly"}}
	if err := st.CreateWebhook(ctx, "setup", &hook); err != nil {
		t.Fatal(err)
	}
	a := web.NewAlarms(web.AlarmsConfig{Store: st, PublicURL: "http://doors.example", Now: clock, DigestGap: time.Minute})
	round := func() {
		t.Helper()
		if err := a.Round(ctx); err != nil {
			t.Fatal(err)
		}
	}
	alarmMails := func() []store.OutboxItem {
		items, _, err := st.Outbox(ctx, 0, 50)
		if err != nil {
			t.Fatal(err)
		}
		var out []store.OutboxItem
		for _, it := range items {
			if it.Kind == "alarm" {
				out = append(out, it)
			}
		}
		return out
	}
	event := func(kind, cred string) {
		t.Helper()
		if err := st.AppendEvent(ctx, &access.Event{Kind: kind, AccessPointID: ap.ID, CredentialID: cred, Actor: "door"}); err != nil {
			t.Fatal(err)
		}
	}
	round() // the first look starts at the newest event: history is no alarm

	event("door.forced", "")
	round()
	if got := alarmMails(); len(got) != 1 || got[0].Subject != "Alarm at Postern: Door forced open at Back door" {
		t.Fatalf("after the first alarm: %+v", got)
	}
	event("door.forced", "")
	event("door.opened", "")
	event("door.forced", "")
	advance(30 * time.Second)
	round()
	if got := alarmMails(); len(got) != 1 {
		t.Fatalf("within the gap: %d alarm mails, want still 1", len(got))
	}
	advance(30 * time.Second)
	round()
	got := alarmMails()
	if len(got) != 2 || got[0].Subject != "2 alarms at Postern" {
		t.Fatalf("after the gap: %+v, want a digest of two", got)
	}

	// Four denials of one credential are no alarm; the fifth is.
	for range 4 {
		event("access.denied", "c0ffee")
	}
	event("access.denied", "other")
	advance(time.Minute)
	round()
	if n := len(alarmMails()); n != 2 {
		t.Fatalf("four denials: %d alarm mails, want still 2", n)
	}
	event("access.denied", "c0ffee")
	round() // raises the alarm as an event
	advance(time.Minute)
	round() // mails it and queues its webhook
	got = alarmMails()
	if len(got) != 3 || !strings.Contains(got[0].Subject, "Repeated denials of one credential") {
		t.Fatalf("after the fifth denial: %+v", got)
	}
	due, err := st.DueWebhookDeliveries(ctx, clock(), 10)
	if err != nil || len(due) != 1 || due[0].Kind != "credential.denied_repeatedly" || !strings.Contains(due[0].Payload, `"credential_id":"c0ffee"`) {
		t.Fatalf("webhook deliveries: %+v, %v", due, err)
	}
	round()
	if due, _ := st.DueWebhookDeliveries(ctx, clock(), 10); len(due) != 1 {
		t.Errorf("another round queued the event again: %d deliveries", len(due))
	}
}
