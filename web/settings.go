package web

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"postern/access"
	"postern/mail"
	"postern/store"
)

func (h *handler) settingsRoutes(g *echo.Group) {
	g.GET("/settings", h.settingsShow)
	g.POST("/settings", h.settingsSave)
	g.POST("/settings/test-email", h.settingsTestEmail)
	g.POST("/settings/protocol", h.protocolSave)
	g.POST("/settings/site-key/roll", h.siteKeyRoll)
}

type settingsView struct {
	SiteName     string
	TimeZone     string
	CodeDays     string
	SMTP         string // redacted
	SMTPTyped    string // a refused save's SMTP URL, shown back so it need not be typed again
	SMTPSource   string
	MailFrom     string
	Fingerprint  string
	SiteID       string
	PublicURL    string
	TestTo       string
	Errors       fieldErrors
	QueuedEmails int
	TLS          TLSStatus
	Secure       bool // this page came over HTTPS
	Protocol     protocolView
}

func (h *handler) settingsView(c echo.Context) (settingsView, error) {
	ctx := c.Request().Context()
	site, err := h.store.Site(ctx)
	if err != nil {
		return settingsView{}, err
	}
	v := settingsView{SiteName: site.Name, TimeZone: h.location(ctx).String(), CodeDays: strconv.Itoa(int(h.codeLifetime(ctx) / (24 * time.Hour))),
		MailFrom: h.mailer.From(ctx, h.publicURL), SiteID: hexID(site.ID), PublicURL: h.publicURL, Errors: fieldErrors{}}
	v.Fingerprint = siteFingerprint(site)
	v.TLS, v.Secure = h.tls, h.secure(c)
	u, src := h.mailer.SMTPURL(ctx)
	if u != "" {
		if cfg, err := mail.ParseURL(u); err == nil {
			v.SMTP = cfg.Redacted()
		} else {
			v.SMTP = "(does not parse: " + err.Error() + ")"
		}
		v.SMTPSource = src
	}
	if s, ok := c.Get(ctxSession).(store.Session); ok {
		v.TestTo = s.Email
	}
	if v.QueuedEmails, err = h.store.CountQueuedMail(ctx); err != nil {
		return v, err
	}
	v.Protocol, err = h.protocolView(ctx)
	return v, err
}

func (h *handler) settingsShow(c echo.Context) error {
	v, err := h.settingsView(c)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, settingsPage(pageFor(c, "Settings"), v))
}

func (h *handler) settingsSave(c echo.Context) error {
	ctx := c.Request().Context()
	v, err := h.settingsView(c)
	if err != nil {
		return err
	}
	name := strings.TrimSpace(c.FormValue("site_name"))
	tz := strings.TrimSpace(c.FormValue("time_zone"))
	days := strings.TrimSpace(c.FormValue("code_days"))
	smtpURL := strings.TrimSpace(c.FormValue("smtp"))
	from := strings.TrimSpace(c.FormValue("mail_from"))
	v.SiteName, v.TimeZone, v.CodeDays, v.MailFrom = name, tz, days, from
	if _, err := time.LoadLocation(tz); err != nil || tz == "" {
		v.Errors["time_zone"] = "is not a time zone name such as Europe/London"
	}
	if n, err := strconv.Atoi(days); err != nil || n < 1 || n > 90 {
		v.Errors["code_days"] = "must be a whole number of days from 1 to 90"
	}
	if from != "" {
		if err := access.ValidateEmail(from); err != nil {
			v.Errors["mail_from"] = err.Error()
		}
	}
	if smtpURL != "" {
		if _, err := mail.ParseURL(smtpURL); err != nil {
			v.Errors["smtp"] = err.Error()
		} else {
			v.SMTPTyped = smtpURL
		}
	}
	addFieldErrors(v.Errors, access.ValidateSiteName(name))
	if len(v.Errors) > 0 {
		// A URL that parsed goes back into its field, password and all, so a
		// bad time zone does not cost the admin the SMTP details; one that did
		// not parse is left out, so its password is never on a page. The
		// answer is for this request only.
		if v.SMTPTyped != "" {
			c.Response().Header().Set("Cache-Control", "no-store")
		}
		return render(c, http.StatusUnprocessableEntity, settingsPage(pageFor(c, "Settings"), v))
	}
	a := actor(c)
	if err := h.store.SetSiteName(ctx, a, name); err != nil {
		return err
	}
	// A field left as the page showed it is not pinned as a setting: the
	// sender and zone shown may come from a flag or the machine, and
	// should keep following them.
	shown, err := h.settingsView(c)
	if err != nil {
		return err
	}
	for _, kv := range [][3]string{{settingSiteTZ, tz, shown.TimeZone}, {settingCodeDays, days, shown.CodeDays}, {mail.SettingFrom, from, shown.MailFrom}} {
		if kv[1] == kv[2] {
			continue
		}
		if err := h.store.SetSetting(ctx, a, kv[0], kv[1]); err != nil {
			return err
		}
	}
	// The SMTP URL holds a password: an empty field keeps the one stored,
	// since the page never shows it back; "clear" removes it.
	if checked(c, "smtp_clear") {
		smtpURL = ""
	}
	if smtpURL != "" || checked(c, "smtp_clear") {
		if err := h.store.SetSetting(ctx, a, mail.SettingSMTP, smtpURL); err != nil {
			return err
		}
		h.mailer.Wake()
	}
	return redirect(c, "/settings?flash=saved")
}

func (h *handler) settingsTestEmail(c echo.Context) error {
	ctx := c.Request().Context()
	to := strings.TrimSpace(c.FormValue("to"))
	if err := access.ValidateEmail(to); err != nil {
		v, verr := h.settingsView(c)
		if verr != nil {
			return verr
		}
		v.TestTo = to
		v.Errors["to"] = err.Error()
		return render(c, http.StatusUnprocessableEntity, settingsPage(pageFor(c, "Settings"), v))
	}
	site, err := h.store.Site(ctx)
	if err != nil {
		return err
	}
	m, err := encodeMail("test", mail.Test(to, h.mailer.From(ctx, h.publicURL), site.Name))
	if err != nil {
		return err
	}
	if _, err := h.store.QueueMail(ctx, actor(c), m); err != nil {
		return err
	}
	h.mailer.Wake()
	return redirect(c, "/outbox?flash=test")
}
