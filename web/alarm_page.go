package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"postern/access"
)

func (h *handler) alarmRoutes(g *echo.Group) {
	g.GET("/alarms", h.alarmPage)
	g.POST("/alarms/rules", h.alarmRulesSave)
	g.POST("/webhooks", h.webhookCreate)
	g.POST("/webhooks/:id/delete", h.webhookDelete)
}

type alarmPageView struct {
	Rules    []access.AlarmRule
	Digest   string // seconds between two alarm emails
	Webhooks []access.Webhook
	Loc      *time.Location
	// A refused form keeps what was typed.
	Typed      map[string]string // alarm kind → recipients as typed
	HookURL    string
	HookKinds  []string
	RuleErrors fieldErrors
	HookErrors fieldErrors
}

func (h *handler) alarmView(c echo.Context) (alarmPageView, error) {
	ctx := c.Request().Context()
	v := alarmPageView{Loc: h.location(ctx), RuleErrors: fieldErrors{}, HookErrors: fieldErrors{}}
	var err error
	if v.Rules, err = h.store.AlarmRules(ctx); err != nil {
		return v, err
	}
	gap, err := h.store.AlarmDigestGap(ctx, DefaultDigestGap)
	if err != nil {
		return v, err
	}
	v.Digest = strconv.Itoa(int(gap / time.Second))
	v.Webhooks, err = h.store.Webhooks(ctx)
	return v, err
}

func (h *handler) alarmPage(c echo.Context) error {
	v, err := h.alarmView(c)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, alarmsPage(pageFor(c, "Alarms"), v))
}

func (h *handler) alarmRulesSave(c echo.Context) error {
	rules := make([]access.AlarmRule, len(access.AlarmKinds))
	typed := map[string]string{}
	for i, k := range access.AlarmKinds {
		typed[k.Kind] = c.FormValue(k.Kind)
		rules[i] = access.AlarmRule{Kind: k.Kind, Recipients: access.ParseRecipients(typed[k.Kind])}
	}
	ctx := c.Request().Context()
	digest := strings.TrimSpace(c.FormValue("digest_seconds"))
	var errs access.ValidationErrors
	n, nerr := strconv.Atoi(digest)
	if nerr != nil {
		errs.Add("digest_seconds", "must be a whole number of seconds")
	} else if err := h.store.SetAlarmDigestGap(ctx, actor(c), time.Duration(n)*time.Second); err != nil && !errs.Merge(err) {
		return err
	}
	err := h.store.SetAlarmRules(ctx, actor(c), rules)
	if err == nil && len(errs) == 0 {
		return redirect(c, "/alarms?flash=saved")
	}
	if err != nil && !errs.Merge(err) {
		return err
	}
	err = errs.Err()
	v, verr := h.alarmView(c)
	if verr != nil {
		return verr
	}
	v.Typed, v.Digest = typed, digest
	if err := formError(err, v.RuleErrors); err != nil {
		return err
	}
	return render(c, http.StatusUnprocessableEntity, alarmsPage(pageFor(c, "Alarms"), v))
}

func (h *handler) webhookCreate(c echo.Context) error {
	form, err := c.FormParams()
	if err != nil {
		return err
	}
	w := access.Webhook{URL: c.FormValue("url"), Kinds: form["kinds"]}
	err = h.store.CreateWebhook(c.Request().Context(), actor(c), &w)
	if err == nil {
		return redirect(c, "/alarms?flash=created")
	}
	v, verr := h.alarmView(c)
	if verr != nil {
		return verr
	}
	v.HookURL, v.HookKinds = w.URL, w.Kinds
	if err := formError(err, v.HookErrors); err != nil {
		return err
	}
	return render(c, http.StatusUnprocessableEntity, alarmsPage(pageFor(c, "Alarms"), v))
}

func (h *handler) webhookDelete(c echo.Context) error {
	id, err := paramID(c)
	if err != nil {
		return err
	}
	if err := h.store.DeleteWebhook(c.Request().Context(), actor(c), id); err != nil {
		return err
	}
	return redirect(c, "/alarms?flash=deleted")
}

func webhookAction(id int64) string { return "/webhooks/" + strconv.FormatInt(id, 10) + "/delete" }
