package web_test

import (
	"strconv"
	"strings"

	"github.com/chromedp/cdproto/accessibility"
	"github.com/chromedp/chromedp"
)

// controlRoles are the roles of what a person operates: each needs a name
// a screen reader can say.
var controlRoles = map[string]bool{
	"button": true, "link": true, "textbox": true, "checkbox": true, "radio": true,
	"combobox": true, "listbox": true, "searchbox": true, "spinbutton": true, "slider": true,
	"switch": true, "menuitem": true, "tab": true, "DisclosureTriangle": true,
}

// wantLabelled checks, in the browser's own accessibility tree, that every
// control the page shows has an accessible name, and that there are at
// least min of them (so a page that failed to draw does not pass).
func (b *browser) wantLabelled(page string, min int) {
	b.t.Helper()
	tree, err := chromedp.Call(b.ctx, accessibility.GetFullAXTree, accessibility.GetFullAXTreeParams{})
	if err != nil {
		b.t.Fatalf("reading the accessibility tree of %s: %v", page, err)
	}
	n := 0
	for _, node := range tree.Nodes {
		if node.Ignored || node.Role == nil {
			continue
		}
		role := axString(node.Role.Value)
		if !controlRoles[role] {
			continue
		}
		n++
		if node.Name == nil || strings.TrimSpace(axString(node.Name.Value)) == "" {
			b.t.Errorf("on the %s page (%s), a %s has no accessible name: a screen reader cannot say what it does", page, b.location(), role)
		}
	}
	if n < min {
		b.t.Errorf("on the %s page (%s), the accessibility tree has %d controls, want at least %d", page, b.location(), n, min)
	}
}

// axString reads an accessibility value that is a JSON string.
func axString(raw []byte) string {
	if s, err := strconv.Unquote(string(raw)); err == nil {
		return s
	}
	return string(raw)
}
