package web

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"postern/access"
)

type alarmRuleJSON struct {
	Kind       string   `json:"kind"`
	Label      string   `json:"label,omitempty"`
	Recipients []string `json:"recipients"`
}

// apiAlarmRules lists who is emailed of each alarm.
func (h *handler) apiAlarmRules(c echo.Context) error {
	ctx := c.Request().Context()
	rules, err := h.store.AlarmRules(ctx)
	if err != nil {
		return err
	}
	gap, err := h.store.AlarmDigestGap(ctx, DefaultDigestGap)
	if err != nil {
		return err
	}
	out := make([]alarmRuleJSON, len(rules))
	for i, r := range rules {
		out[i] = alarmRuleJSON{Kind: r.Kind, Label: access.AlarmKinds[i].Label, Recipients: r.Recipients}
		if out[i].Recipients == nil {
			out[i].Recipients = []string{}
		}
	}
	return c.JSON(http.StatusOK, map[string]any{"rules": out, "digest_seconds": int(gap / time.Second)})
}

// apiAlarmRulesSet sets who is emailed of the alarms it names (the others
// stay as they are) and, when given, the least seconds between two alarm
// emails.
func (h *handler) apiAlarmRulesSet(c echo.Context) error {
	var in struct {
		Rules         []alarmRuleJSON `json:"rules"`
		DigestSeconds *int            `json:"digest_seconds"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	if in.DigestSeconds != nil {
		if err := h.store.SetAlarmDigestGap(c.Request().Context(), actor(c), time.Duration(*in.DigestSeconds)*time.Second); err != nil {
			return err
		}
	}
	rules := make([]access.AlarmRule, len(in.Rules))
	for i, r := range in.Rules {
		rules[i] = access.AlarmRule{Kind: r.Kind, Recipients: r.Recipients}
	}
	if err := h.store.SetAlarmRules(c.Request().Context(), actor(c), rules); err != nil {
		return err
	}
	return h.apiAlarmRules(c)
}

type webhookJSON struct {
	ID            int64      `json:"id"`
	URL           string     `json:"url"`
	Kinds         []string   `json:"kinds"`
	Secret        string     `json:"secret"`
	LastError     string     `json:"last_error"`
	LastAttemptAt *time.Time `json:"last_attempt_at"`
	LastSuccessAt *time.Time `json:"last_success_at"`
}

func toWebhookJSON(w access.Webhook) webhookJSON {
	return webhookJSON{ID: w.ID, URL: w.URL, Kinds: w.Kinds, Secret: w.Secret, LastError: w.LastError,
		LastAttemptAt: apiTime(w.LastAttemptAt), LastSuccessAt: apiTime(w.LastSuccessAt)}
}

func (h *handler) apiWebhookList(c echo.Context) error {
	hooks, err := h.store.Webhooks(c.Request().Context())
	if err != nil {
		return err
	}
	out := make([]webhookJSON, len(hooks))
	for i, w := range hooks {
		out[i] = toWebhookJSON(w)
	}
	return c.JSON(http.StatusOK, map[string]any{"webhooks": out})
}

// apiWebhookCreate registers a URL for the event kinds chosen; the answer
// carries the secret its signatures are made with.
func (h *handler) apiWebhookCreate(c echo.Context) error {
	var in struct {
		URL   string   `json:"url"`
		Kinds []string `json:"kinds"`
	}
	if err := decodeJSON(c, &in); err != nil {
		return err
	}
	w := access.Webhook{URL: in.URL, Kinds: in.Kinds}
	if err := h.store.CreateWebhook(c.Request().Context(), actor(c), &w); err != nil {
		return err
	}
	return created(c, toWebhookJSON(w))
}

func (h *handler) apiWebhookDelete(c echo.Context) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	if err := h.store.DeleteWebhook(c.Request().Context(), actor(c), id); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
