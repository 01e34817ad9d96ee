package web

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"postern/access"
	"postern/mail"
	"postern/store"
	"postern/web/webhook"
)

// Repeated denials: this many denials of one credential within the window
// raise an alarm. A phone presented five times in ten minutes and refused
// each time is someone trying, or someone locked out.
const (
	denialsAlarmCount  = 5
	denialsAlarmWindow = 10 * time.Minute
)

// DefaultDigestGap is the least time between two alarm emails: the first
// alarm goes at once, those that follow within the gap go together in
// one digest when it has passed.
const DefaultDigestGap = time.Minute

// AlarmsConfig is what the alarm worker reads from and writes to.
type AlarmsConfig struct {
	Store     *store.Store
	Mailer    *mail.Mailer    // woken when alarm emails are queued; nil: they wait for its poll
	Webhooks  *webhook.Worker // woken when deliveries are queued; nil: they wait for its poll
	PublicURL string
	Now       func() time.Time // nil: time.Now
	Poll      time.Duration    // how often the log is read (default 1 s)
	DigestGap time.Duration    // until an admin sets one; default DefaultDigestGap
	Log       *slog.Logger
}

// Alarms follows the event log: it queues each event for the webhooks that
// want its kind, emails the alarm rules' recipients through the outbox, and
// raises the repeated-denials alarm. Its place in the log is stored with
// what it queues, so nothing is sent twice or lost across a restart.
type Alarms struct {
	cfg     AlarmsConfig
	denials map[string][]time.Time // credential → its recent denials
}

// NewAlarms returns the alarm worker; Run starts it.
func NewAlarms(cfg AlarmsConfig) *Alarms {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Poll <= 0 {
		cfg.Poll = time.Second
	}
	if cfg.DigestGap <= 0 {
		cfg.DigestGap = DefaultDigestGap
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	return &Alarms{cfg: cfg, denials: map[string][]time.Time{}}
}

// Run follows the log until ctx ends.
func (a *Alarms) Run(ctx context.Context) {
	t := time.NewTicker(a.cfg.Poll)
	defer t.Stop()
	for {
		if err := a.Round(ctx); err != nil && ctx.Err() == nil {
			a.cfg.Log.Error("alarms and webhooks", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Round reads what is new in the log once: webhooks first, then visitors'
// arrivals, then alarms.
func (a *Alarms) Round(ctx context.Context) error {
	if err := a.webhooks(ctx); err != nil {
		return err
	}
	if err := a.arrivals(ctx); err != nil {
		return err
	}
	return a.alarms(ctx)
}

// logBatch bounds one read of the log.
const logBatch = 500

// webhooks queues each new event for the webhooks that want it.
func (a *Alarms) webhooks(ctx context.Context) error {
	st := a.cfg.Store
	cursor, err := st.WebhookCursor(ctx)
	if err != nil {
		return err
	}
	evs, err := st.EventsAfter(ctx, cursor, logBatch)
	if err != nil || len(evs) == 0 {
		return err
	}
	hooks, err := st.Webhooks(ctx)
	if err != nil {
		return err
	}
	site, err := st.Site(ctx)
	if err != nil {
		return err
	}
	var ds []store.WebhookDelivery
	for _, e := range evs {
		a.countDenial(ctx, e)
		for _, h := range hooks {
			if h.Wants(e.Kind) {
				ds = append(ds, store.WebhookDelivery{WebhookID: h.ID, EventID: e.ID, Kind: e.Kind, Payload: hookPayload(site.Name, e)})
			}
		}
	}
	if err := st.QueueWebhookDeliveries(ctx, ds, evs[len(evs)-1].ID); err != nil {
		return err
	}
	if len(ds) > 0 && a.cfg.Webhooks != nil {
		a.cfg.Webhooks.Wake()
	}
	return nil
}

// countDenial notes a denial of a credential, and raises the alarm when
// there have been too many in the window. The alarm is an event of its
// own, so the log, the emails and the webhooks all see it.
func (a *Alarms) countDenial(ctx context.Context, e access.Event) {
	if e.Kind != "access.denied" || e.CredentialID == "" {
		return
	}
	recent := a.denials[e.CredentialID][:0]
	for _, at := range a.denials[e.CredentialID] {
		if e.At.Sub(at) < denialsAlarmWindow {
			recent = append(recent, at)
		}
	}
	recent = append(recent, e.At)
	if len(recent) < denialsAlarmCount {
		a.denials[e.CredentialID] = recent
		return
	}
	delete(a.denials, e.CredentialID) // the next alarm takes as many again
	alarm := &access.Event{Kind: access.AlarmDenials, Actor: "system", Reason: e.Reason, UserID: e.UserID, AccessPointID: e.AccessPointID,
		CredentialID: e.CredentialID, Detail: fmt.Sprintf("%d denials within %v", len(recent), denialsAlarmWindow)}
	if err := a.cfg.Store.AppendEvent(ctx, alarm); err != nil {
		a.cfg.Log.Error("raising the repeated-denials alarm", "err", err)
	}
}

// alarms emails the new alarms to the rules' recipients: at once when the
// last alarm email is older than the digest gap, else all together once it
// is.
func (a *Alarms) alarms(ctx context.Context) error {
	st := a.cfg.Store
	cursor, mailedAt, err := st.AlarmCursor(ctx)
	if err != nil {
		return err
	}
	gap, err := st.AlarmDigestGap(ctx, a.cfg.DigestGap)
	if err != nil {
		return err
	}
	now := a.cfg.Now()
	if now.Sub(mailedAt) < gap {
		return nil
	}
	evs, err := st.EventsAfter(ctx, cursor, logBatch)
	if err != nil || len(evs) == 0 {
		return err
	}
	rules, err := st.AlarmRules(ctx)
	if err != nil {
		return err
	}
	who := map[string][]string{}
	for _, r := range rules {
		who[r.Kind] = r.Recipients
	}
	lines := map[string][]mail.AlarmLine{}
	var order []string
	for _, e := range evs {
		for _, to := range who[access.AlarmOf(e.Kind)] {
			key := strings.ToLower(to)
			if _, ok := lines[key]; !ok {
				order = append(order, to)
			}
			lines[key] = append(lines[key], alarmLine(e))
		}
	}
	last := evs[len(evs)-1].ID
	if len(order) == 0 {
		return st.QueueAlarms(ctx, nil, last, time.Time{})
	}
	site, err := st.Site(ctx)
	if err != nil {
		return err
	}
	from := a.cfg.PublicURL
	if a.cfg.Mailer != nil {
		from = a.cfg.Mailer.From(ctx, a.cfg.PublicURL)
	}
	mails := make([]store.Mail, 0, len(order))
	for _, to := range order {
		msg := mail.Alarm(mail.AlarmData{SiteName: site.Name, SiteURL: a.cfg.PublicURL, To: []string{to}, From: from,
			Alarms: lines[strings.ToLower(to)], Location: st.SiteLocation(ctx)})
		m, err := encodeMail("alarm", msg)
		if err != nil {
			return err
		}
		mails = append(mails, m)
	}
	if err := st.QueueAlarms(ctx, mails, last, now); err != nil {
		return err
	}
	if a.cfg.Mailer != nil {
		a.cfg.Mailer.Wake()
	}
	return nil
}

func alarmLine(e access.Event) mail.AlarmLine {
	detail := e.Detail
	if strings.HasPrefix(e.Kind, "site.") && e.Actor != "" {
		detail = strings.TrimSpace(detail + " by " + e.Actor)
	}
	if e.UserName != "" {
		detail = strings.TrimSpace(e.UserName + ": " + detail)
	}
	return mail.AlarmLine{At: e.At, What: access.KindLabel(e.Kind), Where: e.AccessPointName, Detail: detail}
}

// hookPayload is the JSON body a webhook is posted: the event, named.
func hookPayload(site string, e access.Event) string {
	type named struct {
		ID   int64  `json:"id"`
		Name string `json:"name,omitempty"`
	}
	p := struct {
		ID           int64     `json:"id"`
		Kind         string    `json:"kind"`
		At           time.Time `json:"at"`
		Site         string    `json:"site"`
		AccessPoint  *named    `json:"access_point,omitempty"`
		User         *named    `json:"user,omitempty"`
		CredentialID string    `json:"credential_id,omitempty"`
		Reason       string    `json:"reason,omitempty"`
		Actor        string    `json:"actor,omitempty"`
		Detail       string    `json:"detail,omitempty"`
	}{ID: e.ID, Kind: e.Kind, At: e.At.UTC(), Site: site, CredentialID: e.CredentialID, Reason: e.Reason, Actor: e.Actor, Detail: e.Detail}
	if e.AccessPointID != 0 {
		p.AccessPoint = &named{e.AccessPointID, e.AccessPointName}
	}
	if e.UserID != 0 {
		p.User = &named{e.UserID, e.UserName}
	}
	b, _ := json.Marshal(p)
	return string(b)
}

// WebhookQueue returns st's webhook deliveries as the webhook worker
// drains them.
func WebhookQueue(st *store.Store) webhook.Queue { return webhookQueue{st} }

type webhookQueue struct{ st *store.Store }

func (q webhookQueue) DueDeliveries(ctx context.Context, now time.Time, limit int) ([]webhook.Delivery, error) {
	ds, err := q.st.DueWebhookDeliveries(ctx, now, limit)
	if err != nil {
		return nil, err
	}
	out := make([]webhook.Delivery, len(ds))
	for i, d := range ds {
		out[i] = webhook.Delivery{ID: d.ID, URL: d.URL, Secret: d.Secret, Kind: d.Kind, Payload: []byte(d.Payload), Attempts: d.Attempts}
	}
	return out, nil
}

func (q webhookQueue) MarkDelivered(ctx context.Context, id int64, at time.Time) error {
	return q.st.MarkWebhookDelivered(ctx, id, at)
}

func (q webhookQueue) MarkFailed(ctx context.Context, id int64, at time.Time, errText string, next time.Time, permanent bool) error {
	return q.st.MarkWebhookFailed(ctx, id, at, errText, next, permanent)
}
