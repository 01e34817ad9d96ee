package web

import (
	"io/fs"
	"net/http"
	"strconv"

	"github.com/labstack/echo/v4"

	"postern/assets"
)

// keyPageView is the key page before its script reads the phone's key.
type keyPageView struct {
	Site string
	Door int64 // the door's own link puts it first; 0: none
}

func (h *handler) webKeyPage(c echo.Context) error {
	site, err := h.store.Site(c.Request().Context())
	if err != nil {
		return err
	}
	v := keyPageView{Site: site.Name}
	if v.Site == "" {
		v.Site = "Postern"
	}
	if id, err := strconv.ParseInt(c.QueryParam("door"), 10, 64); err == nil && id > 0 {
		v.Door = id
	}
	return render(c, http.StatusOK, webKeyPage(v))
}

// webKeyManifest lets the phone add the key page to its home screen.
func (h *handler) webKeyManifest(c echo.Context) error {
	site, err := h.store.Site(c.Request().Context())
	if err != nil {
		return err
	}
	name := site.Name
	if name == "" {
		name = "Postern"
	}
	c.Response().Header().Set(echo.HeaderContentType, "application/manifest+json")
	return c.JSON(http.StatusOK, map[string]any{
		"name":             name + " key",
		"short_name":       "Door key",
		"start_url":        "/key",
		"scope":            "/key",
		"display":          "standalone",
		"background_color": "#f6f7f9",
		"theme_color":      "#1f5fbf",
		"icons": []map[string]string{
			{"src": "/assets/key/icon-192.png", "sizes": "192x192", "type": "image/png"},
			{"src": "/assets/key/icon-512.png", "sizes": "512x512", "type": "image/png", "purpose": "any maskable"},
		},
	})
}

// webKeyServiceWorker serves the service worker from /key/, so it may
// look after the key page (a worker controls only pages under its own
// path unless the server allows more).
func (h *handler) webKeyServiceWorker(c echo.Context) error {
	b, err := fs.ReadFile(assets.FS, "key/sw.js")
	if err != nil {
		return err
	}
	hd := c.Response().Header()
	hd.Set("Service-Worker-Allowed", "/key")
	hd.Set("Cache-Control", "no-cache")
	return c.Blob(http.StatusOK, "text/javascript; charset=utf-8", b)
}
