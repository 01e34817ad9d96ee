package web_test

import (
	"encoding/csv"
	"strings"
	"testing"

	"postern/access"
)

// readCSV parses a download, failing the test when it is not CSV.
func readCSV(t *testing.T, body string) [][]string {
	t.Helper()
	rows, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatalf("not CSV: %v\n%s", err, body)
	}
	return rows
}

func TestEventExport(t *testing.T) {
	t.Parallel()
	env := newLoggedInEnv(t)
	ann := env.create(t, "users", `{"first_name":"=cmd","last_name":"Lee"}`)
	front := env.create(t, "access-points", `{"name":"Front door","reader":"sim:front","mode":"direct"}`)
	for _, e := range []access.Event{
		{Kind: "access.granted", UserID: ann, AccessPointID: front, RSSI: -58},
		{Kind: "access.denied", Reason: "no_permission", UserID: ann, AccessPointID: front},
		{Kind: "access.granted", UserID: ann, AccessPointID: front, Detail: "line one\nline two, with a comma"},
	} {
		if err := env.s.AppendEvent(t.Context(), &e); err != nil {
			t.Fatal(err)
		}
	}
	w := env.get("/events/export.csv?result=granted&user=" + itoa(ann))
	if w.Code != 200 {
		t.Fatalf("got status %d, want 200\n%s", w.Code, w.Body)
	}
	for h, want := range map[string]string{"Content-Type": "text/csv", "X-Total-Count": "2", "Content-Disposition": `attachment; filename="events-2026-03-11.csv"`} {
		if got := w.Header().Get(h); !strings.HasPrefix(got, want) {
			t.Errorf("%s: got %q, want %q", h, got, want)
		}
	}
	rows := readCSV(t, w.Body.String())
	if len(rows) != 3 {
		t.Fatalf("got %d lines, want a header and 2 rows:\n%s", len(rows), w.Body)
	}
	col := map[string]int{}
	for i, h := range rows[0] {
		col[h] = i
	}
	first, second := rows[1], rows[2]
	tests := []struct{ name, got, want string }{
		{"kind", first[col["kind"]], "access.granted"},
		{"a formula-like name is text", first[col["user"]], "'=cmd Lee"},
		{"access point", first[col["access_point"]], "Front door"},
		{"rssi", first[col["rssi_dbm"]], "-58"},
		{"time in the site's zone", first[col["time"]][:10], "2026-03-11"},
		{"a detail with a newline survives", second[col["detail"]], "line one\nline two, with a comma"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, tt.got, tt.want)
		}
	}
	env.runPages(t, []scenario{
		{name: "the page links the export of its filter", method: "GET", url: "/events?result=denied&who=lee", wantStatus: 200,
			wantContains: []string{`href="/events/export.csv?result=denied&amp;who=lee"`}},
		{name: "a bad filter is refused before any row", method: "GET", url: "/events/export.csv?from=soon", wantStatus: 400},
	})
	if w := env.api("GET", "/events/export.csv", ""); w.Code == 200 {
		t.Errorf("an export without a session: got 200, want it refused")
	}
}

func TestUserExport(t *testing.T) {
	t.Parallel()
	env := newLoggedInEnv(t)
	staff := env.create(t, "groups", `{"name":"Staff"}`)
	night := env.create(t, "groups", `{"name":"Night shift"}`)
	ann := env.create(t, "users", `{"first_name":"Ann","last_name":"Lee","email":"ann@example.com","valid_from":"2026-01-01T00:00:00Z","valid_until":"2026-07-01T00:00:00Z"}`)
	env.create(t, "users", `{"first_name":"Bob","last_name":"Ray","enabled":false}`)
	if err := env.s.SetUserGroups(t.Context(), "test", ann, []int64{staff, night}); err != nil {
		t.Fatal(err)
	}
	w := env.get("/users/export.csv")
	if w.Code != 200 || w.Header().Get("X-Total-Count") != "2" {
		t.Fatalf("got status %d, total %q; want 200 and 2\n%s", w.Code, w.Header().Get("X-Total-Count"), w.Body)
	}
	rows := readCSV(t, w.Body.String())
	want := [][]string{
		{"id", "first_name", "last_name", "email", "groups", "valid_from", "valid_until", "enabled"},
		{itoa(ann), "Ann", "Lee", "ann@example.com", "Night shift; Staff", "2026-01-01", "2026-06-30", "true"},
	}
	for i, row := range want {
		if strings.Join(rows[i], "|") != strings.Join(row, "|") {
			t.Errorf("line %d: got %q, want %q", i, rows[i], row)
		}
	}
	if len(rows) != 3 || rows[2][1] != "Bob" || rows[2][7] != "false" {
		t.Errorf("got %q, want Bob disabled on the last line", rows)
	}
}
