package web_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"postern/access"
	"postern/web"
)

// Every kind Postern logs has words of its own, and the events page and the
// dashboard show those words, never the kind.
func TestEventWordsCoverEveryKind(t *testing.T) {
	t.Parallel()
	for _, kind := range access.EventKinds {
		if w, ok := web.EventWords(kind); !ok || w == "" || strings.Contains(w, kind) {
			t.Errorf("%q has no words of its own (got %q): add it to eventWords", kind, w)
		}
	}
	env := newLoggedInEnv(t)
	for _, kind := range access.EventKinds {
		if err := env.s.AppendEvent(t.Context(), &access.Event{Kind: kind, Actor: "system"}); err != nil {
			t.Fatal(err)
		}
	}
	for _, url := range []string{fmt.Sprintf("/events?limit=%d", len(access.EventKinds)), "/?show=all"} {
		seen := 0
		byTestID(parse(t, env.get(url).Body.String()), "event-row").Each(func(_ int, s *goquery.Selection) {
			kind := s.AttrOr("data-kind", "")
			want, _ := web.EventWords(kind)
			if got := strings.TrimSpace(s.Find(`td[data-label="What"]`).Text()); got != want {
				t.Errorf("%s: %q reads %q, want %q", url, kind, got, want)
			}
			seen++
		})
		if seen == 0 {
			t.Errorf("%s shows no events", url)
		}
	}
}
