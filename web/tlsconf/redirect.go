package tlsconf

import (
	"net/http"
	"strings"
)

// Redirect sends plain-HTTP visitors to the same path under base (the
// https:// public URL). Only GET and HEAD are redirected: a form posted in
// the clear has already crossed the network, so it is refused, not
// forwarded.
func Redirect(base string) http.Handler {
	base = strings.TrimRight(base, "/")
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			http.Error(w, "Postern answers only over HTTPS: "+base+"\n", http.StatusBadRequest)
			return
		}
		w.Header().Set("Connection", "close")
		http.Redirect(w, r, base+r.URL.RequestURI(), http.StatusMovedPermanently)
	})
}
