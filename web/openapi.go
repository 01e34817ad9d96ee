package web

import (
	_ "embed"
	"net/http"

	"github.com/labstack/echo/v4"
)

// openAPI describes /api/v1 in OpenAPI 3. It is written by hand beside the
// handlers; TestOpenAPIMatchesRoutes fails when a route is missing from it
// or it names one that does not exist, and the API scenarios validate
// every answer against it.
//
//go:embed openapi.json
var openAPI []byte

// openAPIRoutes serves the description without a token: it holds nothing
// about the site, and tools (code generators, API explorers) fetch it
// before they have one.
func (h *handler) openAPIRoutes(e *echo.Echo) {
	e.GET("/api/v1/openapi.json", func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "no-cache")
		return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, openAPI)
	})
}
