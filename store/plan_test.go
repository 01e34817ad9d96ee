package store

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

// queryPlan returns the detail lines of EXPLAIN QUERY PLAN for q, as the
// reader pool would run it.
func queryPlan(t *testing.T, s *Store, q string, args ...any) []string {
	t.Helper()
	rows, err := s.read.QueryContext(t.Context(), "EXPLAIN QUERY PLAN "+q, args...)
	if err != nil {
		t.Fatalf("explain: %v", err)
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return lines
}

// planProblems says what in a plan grows with the size of a table:
//   - a SCAN without an index is a full table scan, of any table;
//   - a SCAN of a big table (named as the query names it, alias or table)
//     reads all of it even through an index, unless the query walks that
//     index in ORDER BY order and its LIMIT stops the walk (walkOK);
//   - with ordered, a TEMP B-TREE FOR ORDER BY sorts every matching row to
//     return the first few, where an index should hand them over in order;
//   - every line in want must appear (an index the query should use).
func planProblems(lines, big []string, walkOK, ordered bool, want []string) []string {
	var problems []string
	for _, l := range lines {
		f := strings.Fields(l)
		if len(f) < 2 || f[0] != "SCAN" || f[1] == "CONSTANT" || strings.Contains(l, "VIRTUAL TABLE") {
			if ordered && strings.Contains(l, "USE TEMP B-TREE FOR ORDER BY") {
				problems = append(problems, "sorts every match: "+l)
			}
			continue
		}
		indexed := strings.Contains(l, "USING INDEX") || strings.Contains(l, "USING COVERING INDEX") || strings.Contains(l, "USING INTEGER PRIMARY KEY")
		switch {
		case !indexed:
			problems = append(problems, "full table scan: "+l)
		case slices.Contains(big, f[1]) && !walkOK:
			problems = append(problems, "full index scan of a big table: "+l)
		}
	}
	for _, w := range want {
		if !slices.ContainsFunc(lines, func(l string) bool { return strings.Contains(l, w) }) {
			problems = append(problems, "does not use "+w)
		}
	}
	return problems
}

func TestPlanProblems(t *testing.T) {
	tests := []struct {
		name    string
		lines   []string
		walkOK  bool
		ordered bool
		want    int
	}{
		{"search by key", []string{"SEARCH users USING INTEGER PRIMARY KEY (rowid=?)"}, false, true, 0},
		{"bare scan", []string{"SCAN users"}, true, false, 1},
		{"bare scan of a small table", []string{"SCAN groups"}, false, false, 1},
		{"index scan of a small table", []string{"SCAN groups USING INDEX sqlite_autoindex_groups_1"}, false, false, 0},
		{"index scan of a big table", []string{"SCAN users USING INDEX users_name"}, false, false, 1},
		{"ordered walk with a limit", []string{"SCAN users USING INDEX users_name"}, true, true, 0},
		{"sort when order is wanted", []string{"SEARCH events USING INDEX events_kind (kind>? AND kind<?)", "USE TEMP B-TREE FOR ORDER BY"}, false, true, 1},
		{"sort of matches", []string{"SEARCH users USING INTEGER PRIMARY KEY (rowid=?)", "USE TEMP B-TREE FOR ORDER BY"}, false, false, 0},
		{"full text search", []string{"SCAN users_fts VIRTUAL TABLE INDEX 0:M3"}, false, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := planProblems(tt.lines, []string{"users", "events"}, tt.walkOK, tt.ordered, nil)
			if len(got) != tt.want {
				t.Errorf("got %q, want %d problems", got, tt.want)
			}
		})
	}
}

// The queries below are copies of the ones the methods build; each says
// which method and which branch it mirrors. Keep them in step.
const (
	// Events: the select; conditions are joined with AND as in the method.
	planEventsSelect = `SELECT id, at, kind, reason, actor, ifnull(user_id, 0), ifnull(access_point_id, 0), credential_id, rssi, latency_us, detail,
		ifnull((SELECT first_name || ' ' || last_name FROM users WHERE users.id = events.user_id), ''),
		ifnull((SELECT name FROM access_points WHERE access_points.id = events.access_point_id), '')
		FROM events`
	planEventsOrder = ` ORDER BY id DESC LIMIT ?`
)

func TestHotQueryPlans(t *testing.T) {
	s, err := Open(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()

	events := func(conds ...string) string {
		return planEventsSelect + " WHERE " + strings.Join(conds, " AND ") + planEventsOrder
	}
	tests := []struct {
		name    string
		query   string
		args    []any
		big     []string // big tables as the query names them
		walkOK  bool
		ordered bool
		want    []string
	}{
		{
			name: "UserByID", query: `SELECT ` + userColumns + ` FROM users WHERE id = ?`, args: []any{7},
			big: []string{"users"},
		},
		{
			name: "TimeProfilePermissions", query: timeProfilePermissionsQuery, args: []any{3, MaxLimit},
			big: []string{"p"},
		},
		{
			name: "UsersByEmail", query: usersByEmailQuery, args: []any{"ann@example.com", MaxLimit},
			big: []string{"users"},
		},
		{
			name: "UserGroups", query: `SELECT g.id, g.name, g.description FROM group_members m JOIN groups g ON g.id = m.group_id WHERE m.user_id = ? ORDER BY g.name`, args: []any{7},
			big: []string{"m", "group_members"},
		},
		{
			name: "GroupByID", query: `SELECT id, name, description, (SELECT count(*) FROM group_members WHERE group_id = groups.id) FROM groups WHERE id = ?`, args: []any{3},
			big: []string{"group_members"},
		},
		{
			name: "Grants", query: grantsQuery, args: []any{7, 2, 2, 7},
			big:  []string{"p", "m"},
			want: []string{"permissions_user (user_id=? AND access_point_id=?)", "group_members_user (user_id=?)"},
		},
		{
			name: "Permissions of a user", query: permissionSelect + ` WHERE p.id > ? AND p.user_id = ? ORDER BY p.id LIMIT ?`, args: []any{0, 7, 51},
			big: []string{"p", "u"},
		},
		{
			name: "Events before a cursor", query: events("id < ?"), args: []any{1000, 51},
			big: []string{"events"}, ordered: true,
		},
		{
			name: "Events by user", query: events("user_id = ?"), args: []any{7, 51},
			big: []string{"events"}, ordered: true,
		},
		{
			name: "Events by user before a cursor", query: events("id < ?", "user_id = ?"), args: []any{1000, 7, 51},
			big: []string{"events"}, ordered: true,
		},
		{
			name: "Events by access point", query: events("access_point_id = ?"), args: []any{2, 51},
			big: []string{"events"}, ordered: true,
		},
		{
			name: "Events by access point before a cursor", query: events("id < ?", "access_point_id = ?"), args: []any{1000, 2, 51},
			big: []string{"events"}, ordered: true,
		},
		{
			name: "Events by exact kind", query: events("kind = ?"), args: []any{"access.granted", 51},
			big: []string{"events"}, ordered: true,
		},
		{
			name: "Events by exact kind before a cursor", query: events("id < ?", "kind = ?"), args: []any{1000, "access.granted", 51},
			big: []string{"events"}, ordered: true,
		},
		{
			name: "Events by kind prefix", query: events("family = ?"), args: []any{"access.", 51},
			big: []string{"events"}, ordered: true,
		},
		{
			name: "Events by kind prefix before a cursor", query: events("id < ?", "family = ?"), args: []any{1000, "access.", 51},
			big: []string{"events"}, ordered: true,
		},
		{
			name: "SessionByToken", query: `SELECT s.admin_id, a.email, s.csrf, s.expires_at FROM sessions s JOIN admins a ON a.id = s.admin_id
		WHERE s.token_hash = ? AND s.expires_at > ?`, args: []any{hashToken("x"), 1000},
			big: []string{"s", "a"},
		},
		{
			name: "APITokenByToken", query: `SELECT ` + apiTokenColumns + ` FROM api_tokens t JOIN admins a ON a.id = t.admin_id
		WHERE t.token_hash = ? AND (t.expires_at IS NULL OR t.expires_at > ?)`, args: []any{hashToken("x"), 1000},
			big: []string{"t", "a"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lines := queryPlan(t, s, tt.query, tt.args...)
			problems := planProblems(lines, tt.big, tt.walkOK, tt.ordered, tt.want)
			if len(problems) == 0 {
				return
			}
			msg := strings.Join(problems, "\n") + "\nplan:\n  " + strings.Join(lines, "\n  ")
			t.Errorf("got a plan that grows with the table:\n%s", msg)
		})
	}
}

// Every order of the users list, either way, from the top or either
// cursor, with or without a search, walks an index: the queries are the
// ones Users builds.
func TestUsersQueryPlans(t *testing.T) {
	s, err := Open(t.Context(), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	cursor := nameCursor{A: "smith\x01ann", N: 1700000000000, ID: 7}.encode()
	for _, sort := range []string{SortName, SortEmail, SortLastUsed} {
		for _, desc := range []bool{false, true} {
			for _, from := range []string{"top", "after", "before"} {
				for _, search := range []string{"", "smi"} {
					o := ListOptions{Sort: sort, Desc: desc, Query: search}
					switch from {
					case "after":
						o.After = cursor
					case "before":
						o.Before = cursor
					}
					name := fmt.Sprintf("%s desc=%v from %s search=%q", sort, desc, from, search)
					t.Run(name, func(t *testing.T) {
						q, args := usersQuery(o, DefaultLimit)
						lines := queryPlan(t, s, q, args...)
						var want []string
						if search == "" {
							want = []string{"USING INDEX " + userSorts[sort].index}
						}
						// From the top without a search, the walk in index order
						// stops at the limit; every other case seeks first.
						walkOK := from == "top" && search == ""
						if problems := planProblems(lines, []string{"users"}, walkOK, search == "", want); len(problems) > 0 {
							t.Errorf("got a plan that grows with the table:\n  %s\nplan:\n  %s", strings.Join(problems, "\n  "), strings.Join(lines, "\n  "))
						}
					})
				}
			}
		}
	}
}
