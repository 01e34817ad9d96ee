package web_test

import (
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// walk pages through an API listing limit items at a time, following next
// as after, and returns the ids in the order they came.
func walk(t *testing.T, env *env, path, key string, limit int) []int64 {
	t.Helper()
	var ids []int64
	after := ""
	for page := 1; ; page++ {
		if page > 50 {
			t.Fatalf("%s: still a next page after 50 pages", path)
		}
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		target := path + sep + "limit=" + strconv.Itoa(limit)
		if after != "" {
			target += "&after=" + url.QueryEscape(after)
		}
		m := env.mustAPI(t, "GET", target, "", 200)
		items, ok := m[key].([]any)
		if !ok {
			t.Fatalf("GET %s: no list %q in %v", target, key, m)
		}
		if len(items) > limit {
			t.Fatalf("GET %s: got %d items, want at most %d", target, len(items), limit)
		}
		for _, it := range items {
			ids = append(ids, int64(it.(map[string]any)["id"].(float64)))
		}
		next, _ := m["next"].(string)
		if next == "" {
			return ids
		}
		if len(items) < limit {
			t.Errorf("GET %s: got a short page of %d with a next cursor", target, len(items))
		}
		after = next
	}
}

// TestAPIPagination creates more items than a page holds, in an order that
// is not their sort order and with names that differ only in case, then
// walks the pages: every item must come exactly once, in name order.
func TestAPIPagination(t *testing.T) {
	t.Parallel()
	env := newAdminEnv(t)
	// Created out of order; index in this list is the sort position.
	names := []string{"alpha", "Bravo", "charlie", "Delta", "echo", "Foxtrot", "golf"}
	createOrder := []int{3, 0, 6, 2, 5, 1, 4}
	want := map[string][]int64{}
	sorted := func(collection string, body func(i int) string) {
		ids := make([]int64, len(names))
		for _, i := range createOrder {
			ids[i] = env.create(t, collection, body(i))
		}
		want[collection] = ids
	}
	sorted("groups", func(i int) string { return `{"name":"` + names[i] + `"}` })
	sorted("access-points", func(i int) string {
		return `{"name":"` + names[i] + `","reader":"sim:r` + strconv.Itoa(i) + `","mode":"direct"}`
	})
	sorted("time-profiles", func(i int) string { return `{"name":"` + names[i] + `","windows":` + officeHoursJSON + `}` })
	// Users sort by last name then first name; two share a last name that
	// differs only in case.
	users := [][2]string{{"x", "alpha"}, {"Amy", "bravo"}, {"zed", "Bravo"}, {"x", "Delta"}, {"x", "echo"}, {"x", "Foxtrot"}, {"x", "golf"}}
	sorted("users", func(i int) string {
		return `{"first_name":"` + users[i][0] + `","last_name":"` + users[i][1] + `"}`
	})
	ap := want["access-points"][0]
	var perms []int64 // permissions list in creation order
	for _, u := range want["users"] {
		perms = append(perms, env.create(t, "permissions", `{"user_id":`+itoa(u)+`,"access_point_id":`+itoa(ap)+`}`))
	}
	slices.Sort(perms)
	want["permissions"] = perms

	lists := []struct{ collection, key string }{
		{"users", "users"}, {"groups", "groups"}, {"access-points", "access_points"},
		{"time-profiles", "time_profiles"}, {"permissions", "permissions"},
	}
	for _, l := range lists {
		for _, limit := range []int{1, 3, 6, 7, 8, 500, 10000} {
			t.Run(l.collection+"/limit "+strconv.Itoa(limit), func(t *testing.T) {
				got := walk(t, env, "/api/v1/"+l.collection, l.key, limit)
				if !slices.Equal(got, want[l.collection]) {
					t.Errorf("got ids %v, want %v", got, want[l.collection])
				}
			})
		}
	}

	t.Run("users search pages", func(t *testing.T) {
		got := walk(t, env, "/api/v1/users?q=bravo", "users", 1)
		if w := want["users"][1:3]; !slices.Equal(got, w) {
			t.Errorf("got ids %v, want %v", got, w)
		}
	})
}
