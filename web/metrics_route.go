package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"postern/access"
)

// metricsRoutes serves GET /metrics when the appliance keeps metrics. It is
// never public: the scraper's address must be allow-listed, or it must
// send an API token.
func (h *handler) metricsRoutes(e *echo.Echo) {
	if h.metrics == nil {
		return
	}
	serve := echo.WrapHandler(promhttp.HandlerFor(h.metrics.reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError}))
	e.GET("/metrics", serve, h.requireMetricsAccess)
}

// requireMetricsAccess lets through an allow-listed address (the client's,
// as trusted proxies report it) or a valid API token.
func (h *handler) requireMetricsAccess(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if h.metricsAllow.contains(c.RealIP()) {
			return next(c)
		}
		token, ok := strings.CutPrefix(c.Request().Header.Get("Authorization"), "Bearer ")
		if !ok || strings.TrimSpace(token) == "" {
			c.Response().Header().Set("WWW-Authenticate", `Bearer realm="postern"`)
			return echo.NewHTTPError(http.StatusUnauthorized, "metrics need an API token, or the scraper's address in --metrics-allow")
		}
		if _, err := h.store.AdminByAPIToken(c.Request().Context(), strings.TrimSpace(token)); err != nil {
			if errors.Is(err, access.ErrNotFound) {
				c.Response().Header().Set("WWW-Authenticate", `Bearer realm="postern", error="invalid_token"`)
				return echo.NewHTTPError(http.StatusUnauthorized, "the bearer token is not valid")
			}
			return err
		}
		return next(c)
	}
}

// countRequests counts every answered request by its route pattern, so a
// scan of random paths adds one series (the catch-all's), not one per path.
func (h *handler) countRequests(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if err := next(c); err != nil {
			// Write the error now, as the server would after us, to see
			// its status.
			c.Error(err)
		}
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		h.metrics.request(route, c.Request().Method, c.Response().Status)
		return nil
	}
}
