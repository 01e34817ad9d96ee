package web

import (
	"github.com/labstack/echo/v4"

	"postern/access"
)

// ctxEmergency holds the site's lockdown or evacuation for the page layout.
const ctxEmergency = "emergency"

// withEmergency reads the site's emergency state for every admin page, so
// a lockdown or evacuation is on every page until it is ended. A failure
// to read it shows no banner rather than no page.
func (h *handler) withEmergency(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		ctx := c.Request().Context()
		if e, err := h.store.Emergency(ctx); err != nil {
			h.log.Warn("reading the site's emergency state", "err", err)
		} else {
			e.StartedAt = e.StartedAt.In(h.location(ctx))
			c.Set(ctxEmergency, e)
		}
		return next(c)
	}
}

func (h *handler) siteModeRoutes(g *echo.Group) {
	g.POST("/site/lockdown", h.siteModeSave(access.SiteLockdown, "lockdown"))
	g.POST("/site/evacuation", h.siteModeSave(access.SiteEvacuation, "evacuate"))
	g.POST("/site/normal", h.siteModeSave(access.SiteNormal, "normal"))
}

// siteModeSave starts or ends a lockdown or evacuation from a page: one
// confirmed click (the form asks before it posts).
func (h *handler) siteModeSave(mode access.SiteMode, flash string) echo.HandlerFunc {
	return func(c echo.Context) error {
		if _, err := h.setSiteMode(c, mode); err != nil {
			return err
		}
		return redirect(c, "/?flash="+flash)
	}
}
