// Package assets holds the static files the admin pages use, embedded in
// the binary so the appliance needs nothing beside it.
package assets

import (
	"embed"
	"io/fs"
)

//go:embed static
var files embed.FS

// FS is the static files, rooted so that "htmx-2.0.11.min.js" is at the top.
var FS, _ = fs.Sub(files, "static")

// Pinned file names, referenced by the page layout. The version is in the
// name so browsers may cache them forever.
const (
	HTMX    = "htmx-2.0.11.min.js"
	HTMXSSE = "htmx-ext-sse-2.2.4.min.js"
	CSS     = "postern-2.css"
	JS      = "postern-2.js"
	Reports = "reports-1.js"
	// ReportsCSS styles the reports' pages: the events filter, export
	// progress and the roll call, on a phone and on paper.
	ReportsCSS = "reports-1.css"
	Icon       = "favicon.svg"
)
