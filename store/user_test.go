package store_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"postern/access"
	"postern/store"
)

// sameUser compares users field by field, times by instant.
func sameUser(got, want access.User) bool {
	return got.ID == want.ID && got.FirstName == want.FirstName && got.LastName == want.LastName &&
		got.Email == want.Email && got.Enabled == want.Enabled &&
		got.ValidFrom.Equal(want.ValidFrom) && got.ValidUntil.Equal(want.ValidUntil) &&
		got.CreatedAt.Equal(want.CreatedAt) && got.UpdatedAt.Equal(want.UpdatedAt)
}

func TestUserRoundTrip(t *testing.T) {
	s := openStore(t)
	ctx := t.Context()
	from := time.Date(2026, 1, 1, 8, 0, 0, 0, time.UTC)
	until := time.Date(2026, 12, 31, 18, 30, 0, 0, time.UTC)
	tests := []struct {
		name string
		in   access.User
		want access.User // without ID and stamps
	}{
		{"plain", access.User{FirstName: "Ann", LastName: "Smith", Email: "ann@example.com", Enabled: true},
			access.User{FirstName: "Ann", LastName: "Smith", Email: "ann@example.com", Enabled: true}},
		{"disabled", access.User{FirstName: "Bob", Enabled: false},
			access.User{FirstName: "Bob", Enabled: false}},
		{"valid from and until", access.User{FirstName: "Cy", Enabled: true, ValidFrom: from, ValidUntil: until},
			access.User{FirstName: "Cy", Enabled: true, ValidFrom: from, ValidUntil: until}},
		{"valid from only", access.User{LastName: "Dee", Enabled: true, ValidFrom: from},
			access.User{LastName: "Dee", Enabled: true, ValidFrom: from}},
		{"valid until only, other zone", access.User{LastName: "Eve", Enabled: true, ValidUntil: until.In(time.FixedZone("X", 5*3600))},
			access.User{LastName: "Eve", Enabled: true, ValidUntil: until}},
		{"text is trimmed", access.User{FirstName: "  Fay ", LastName: " Wray  ", Email: " fay@example.com ", Enabled: true},
			access.User{FirstName: "Fay", LastName: "Wray", Email: "fay@example.com", Enabled: true}},
		{"non-ASCII names", access.User{FirstName: "Zoë", LastName: "Ødegård", Enabled: true},
			access.User{FirstName: "Zoë", LastName: "Ødegård", Enabled: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := tt.in
			if err := s.CreateUser(ctx, actor, &u); err != nil {
				t.Fatalf("create: %v", err)
			}
			want := tt.want
			want.ID, want.CreatedAt, want.UpdatedAt = u.ID, testNow, testNow
			if u.ID == 0 {
				t.Fatal("got id 0, want the new id")
			}
			got, err := s.UserByID(ctx, u.ID)
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			if !sameUser(got, want) {
				t.Errorf("got %+v, want %+v", got, want)
			}
		})
	}

	t.Run("update", func(t *testing.T) {
		u := createUser(t, s, "Gus", "Grey", "gus@example.com")
		later := testNow.Add(time.Hour)
		s.SetClock(func() time.Time { return later })
		defer s.SetClock(func() time.Time { return testNow })

		u.FirstName, u.LastName, u.Email = "Gustav", "Gray", ""
		u.Enabled, u.ValidFrom, u.ValidUntil = false, from, until
		if err := s.UpdateUser(ctx, actor, &u); err != nil {
			t.Fatalf("update: %v", err)
		}
		want := access.User{ID: u.ID, FirstName: "Gustav", LastName: "Gray", Enabled: false, ValidFrom: from, ValidUntil: until, CreatedAt: testNow, UpdatedAt: later}
		got, err := s.UserByID(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !sameUser(got, want) {
			t.Errorf("got %+v, want %+v", got, want)
		}

		// Clearing the dates stores no start and no end again.
		u.ValidFrom, u.ValidUntil, u.Enabled = time.Time{}, time.Time{}, true
		if err := s.UpdateUser(ctx, actor, &u); err != nil {
			t.Fatal(err)
		}
		got, err = s.UserByID(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !got.ValidFrom.IsZero() || !got.ValidUntil.IsZero() || !got.Enabled {
			t.Errorf("got %+v, want enabled with no dates", got)
		}
	})

	t.Run("count", func(t *testing.T) {
		n, err := s.CountUsers(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want := len(tests) + 1; n != want {
			t.Errorf("got %d, want %d", n, want)
		}
	})
}

// userOrder sorts as the Users listing does: last name, first name, id, with
// ASCII case folded.
func userOrder(a, b access.User) int {
	if c := strings.Compare(strings.ToLower(a.LastName), strings.ToLower(b.LastName)); c != 0 {
		return c
	}
	if c := strings.Compare(strings.ToLower(a.FirstName), strings.ToLower(b.FirstName)); c != 0 {
		return c
	}
	return int(a.ID - b.ID)
}

func ids(users []access.User) []int64 {
	out := make([]int64, len(users))
	for i, u := range users {
		out[i] = u.ID
	}
	return out
}

// allPages walks a Users listing to its end and returns every row and the
// number of pages.
func allPages(t *testing.T, s *store.Store, o store.ListOptions) ([]access.User, int) {
	t.Helper()
	var all []access.User
	pages := 0
	for {
		p, err := s.Users(t.Context(), o)
		if err != nil {
			t.Fatalf("page %d: %v", pages+1, err)
		}
		pages++
		if len(p.Items) > o.Limit {
			t.Fatalf("page %d: got %d rows, want at most %d", pages, len(p.Items), o.Limit)
		}
		all = append(all, p.Items...)
		if p.Next == "" {
			return all, pages
		}
		if pages > 1000 {
			t.Fatal("got more than 1000 pages, want the listing to end")
		}
		o.After = p.Next
	}
}

func TestUsersPagination(t *testing.T) {
	s := openStore(t)
	lasts := []string{"smith", "Smith", "SMITH", "adams", "Baker", "baker", "Young", "o'Neil", "McDonald", "mcdonald", ""}
	firsts := []string{"ann", "Ann", "Bob", "bob", "Cy", "zed", ""}
	var users []access.User
	for i := range 120 {
		first, last := firsts[i%len(firsts)], lasts[(i/3)%len(lasts)]
		if first == "" && last == "" {
			first = "Solo"
		}
		users = append(users, createUser(t, s, first, last, fmt.Sprintf("u%d@example.com", i)))
	}
	slices.SortFunc(users, userOrder)
	want := ids(users)

	tests := []struct {
		limit     int
		wantPages int
	}{
		{25, 5},
		{24, 5}, // an exact multiple ends without an empty page
		{1, 120},
		{7, 18},
		{120, 1},
		{500, 1},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("limit %d", tt.limit), func(t *testing.T) {
			got, pages := allPages(t, s, store.ListOptions{Limit: tt.limit})
			if !slices.Equal(ids(got), want) {
				t.Errorf("got %v, want %v", ids(got), want)
			}
			if pages != tt.wantPages {
				t.Errorf("pages: got %d, want %d", pages, tt.wantPages)
			}
		})
	}

	t.Run("default limit", func(t *testing.T) {
		p, err := s.Users(t.Context(), store.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(p.Items) != store.DefaultLimit || p.Next == "" {
			t.Errorf("got %d rows and next %q, want %d and a cursor", len(p.Items), p.Next, store.DefaultLimit)
		}
	})
	t.Run("malformed cursor starts over", func(t *testing.T) {
		p, err := s.Users(t.Context(), store.ListOptions{After: "!!not-a-cursor", Limit: 3})
		if err != nil {
			t.Fatal(err)
		}
		if got := ids(p.Items); !slices.Equal(got, want[:3]) {
			t.Errorf("got %v, want %v", got, want[:3])
		}
	})
	t.Run("empty listing", func(t *testing.T) {
		p, err := openStore(t).Users(t.Context(), store.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if p.Items == nil || len(p.Items) != 0 || p.Next != "" {
			t.Errorf("got %#v, want an empty non-nil page without next", p)
		}
	})
}

func TestUsersSearch(t *testing.T) {
	s := openStore(t)
	ann := createUser(t, s, "Ann", "Smith", "ann@example.com")
	annabel := createUser(t, s, "Annabel", "Jones", "bel@corp.org")
	bob := createUser(t, s, "Bob", "Annan", "bob@example.com")
	carl := createUser(t, s, "Carl", "Smithers", "carl@smith.io")
	dana := createUser(t, s, "Dana", "O'Neil", "dana.oneil@example.com")
	jean := createUser(t, s, "Jean-Luc", "Picard", "")
	zoe := createUser(t, s, "Zoë", "Ødegård", "")
	everyone := []access.User{ann, annabel, bob, carl, dana, jean, zoe}
	slices.SortFunc(everyone, userOrder)

	tests := []struct {
		query string
		want  []access.User // nil: no check of the rows, only that it does not fail
	}{
		{"ann", []access.User{bob, annabel, ann}}, // Annan, Jones, Smith
		{"Ann", []access.User{bob, annabel, ann}},
		{"smith", []access.User{ann, carl}}, // last names and carl@smith.io
		{"ANN smi", []access.User{ann}},     // every word must match
		{"bel@corp", []access.User{annabel}},
		{"example.com", []access.User{bob, dana, ann}},
		{"o'neil", []access.User{dana}},
		{"jean-luc", []access.User{jean}},
		{"luc", []access.User{jean}},
		{"zoë", []access.User{zoe}},
		{"nobody", []access.User{}},
		{"", everyone},
		{"   ", everyone},
		{`"ann"`, []access.User{bob, annabel, ann}},
		{`"ann`, []access.User{bob, annabel, ann}},
		{`ann*`, []access.User{bob, annabel, ann}},
		{`-ann`, []access.User{bob, annabel, ann}}, // not a negation
		{`*`, everyone},
		{`"`, everyone},
		{`ann NEAR smith`, []access.User{}}, // NEAR is a word to look for
		{`NEAR(ann smith)`, []access.User{}},
		{`ann OR bob`, []access.User{}},
		{`ann AND`, []access.User{}},
		{`NOT ann`, []access.User{}},
		{`first_name:ann`, []access.User{}},
		{`{first_name last_name}: ann`, []access.User{}},
		{`^ann`, []access.User{bob, annabel, ann}},
		{`ann + smith`, []access.User{ann}},
		{`(ann)`, []access.User{bob, annabel, ann}},
		{`'; DROP TABLE users; --`, nil},
		{`\x00 ann`, nil},
		{strings.Repeat("word ", 50), []access.User{}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			p, err := s.Users(t.Context(), store.ListOptions{Query: tt.query})
			if err != nil {
				t.Fatalf("got %v, want no error", err)
			}
			if tt.want != nil && !slices.Equal(ids(p.Items), ids(tt.want)) {
				t.Errorf("got %v, want %v", names(p.Items), names(tt.want))
			}
		})
	}
	if n, err := s.CountUsers(t.Context()); err != nil || n != len(everyone) {
		t.Errorf("users after searching: got %d, %v, want %d", n, err, len(everyone))
	}
}

func names(users []access.User) []string {
	out := []string{}
	for _, u := range users {
		out = append(out, u.Name())
	}
	return out
}

func TestUsersSearchFollowsUpdatesAndDeletes(t *testing.T) {
	s := openStore(t)
	ctx := t.Context()
	u := createUser(t, s, "Ann", "Smith", "")
	u.LastName = "Jones"
	if err := s.UpdateUser(ctx, actor, &u); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		query string
		want  int
	}{
		{"smith", 0},
		{"jones", 1},
	}
	for _, tt := range tests {
		p, err := s.Users(ctx, store.ListOptions{Query: tt.query})
		if err != nil || len(p.Items) != tt.want {
			t.Errorf("%q after rename: got %d, %v, want %d", tt.query, len(p.Items), err, tt.want)
		}
	}
	if err := s.DeleteUser(ctx, actor, u.ID); err != nil {
		t.Fatal(err)
	}
	if p, err := s.Users(ctx, store.ListOptions{Query: "jones"}); err != nil || len(p.Items) != 0 {
		t.Errorf("after delete: got %d, %v, want 0", len(p.Items), err)
	}
}

func TestUsersSearchWithPagination(t *testing.T) {
	s := openStore(t)
	var match []access.User
	for i := range 100 {
		switch i % 5 {
		case 0:
			match = append(match, createUser(t, s, "Smith", fmt.Sprintf("Zed%02d", i), ""))
		case 1:
			match = append(match, createUser(t, s, "Ann", fmt.Sprintf("smithson%02d", i), ""))
		case 2:
			match = append(match, createUser(t, s, "Bob", "Jones", fmt.Sprintf("smith%d@example.com", i)))
		default:
			createUser(t, s, "Carl", fmt.Sprintf("Other%02d", i), fmt.Sprintf("carl%d@example.com", i))
		}
	}
	slices.SortFunc(match, userOrder)

	for _, limit := range []int{1, 7, 60, 61} {
		t.Run(fmt.Sprintf("limit %d", limit), func(t *testing.T) {
			got, _ := allPages(t, s, store.ListOptions{Query: "smi", Limit: limit})
			if !slices.Equal(ids(got), ids(match)) {
				t.Errorf("got %v, want %v", names(got), names(match))
			}
		})
	}
}

func TestUserGroups(t *testing.T) {
	s := openStore(t)
	ctx := t.Context()
	ann := createUser(t, s, "Ann", "Smith", "")
	bob := createUser(t, s, "Bob", "Jones", "")
	staff := createGroup(t, s, "Staff")
	admins := createGroup(t, s, "Admins")
	night := createGroup(t, s, "Night")
	createGroup(t, s, "Empty")

	groupNames := func(t *testing.T, userID int64) []string {
		t.Helper()
		gs, err := s.UserGroups(ctx, userID)
		if err != nil {
			t.Fatal(err)
		}
		out := []string{}
		for _, g := range gs {
			out = append(out, g.Name)
		}
		return out
	}
	members := func(t *testing.T) map[string]int {
		t.Helper()
		p, err := s.Groups(ctx, store.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]int{}
		for _, g := range p.Items {
			out[g.Name] = g.Members
			one, err := s.GroupByID(ctx, g.ID)
			if err != nil || one.Members != g.Members {
				t.Errorf("GroupByID(%s): got %+v, %v, want %d members as listed", g.Name, one, err, g.Members)
			}
		}
		return out
	}

	tests := []struct {
		name        string
		user        access.User
		set         []int64
		wantGroups  []string
		wantMembers map[string]int
	}{
		{"ann joins three, listed by name", ann, []int64{staff.ID, night.ID, admins.ID}, []string{"Admins", "Night", "Staff"},
			map[string]int{"Admins": 1, "Empty": 0, "Night": 1, "Staff": 1}},
		{"bob joins staff twice", bob, []int64{staff.ID, staff.ID}, []string{"Staff"},
			map[string]int{"Admins": 1, "Empty": 0, "Night": 1, "Staff": 2}},
		{"ann's groups are replaced", ann, []int64{night.ID}, []string{"Night"},
			map[string]int{"Admins": 0, "Empty": 0, "Night": 1, "Staff": 1}},
		{"bob leaves all", bob, nil, []string{},
			map[string]int{"Admins": 0, "Empty": 0, "Night": 1, "Staff": 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := s.SetUserGroups(ctx, actor, tt.user.ID, tt.set); err != nil {
				t.Fatal(err)
			}
			if got := groupNames(t, tt.user.ID); !slices.Equal(got, tt.wantGroups) {
				t.Errorf("groups: got %v, want %v", got, tt.wantGroups)
			}
			got := members(t)
			for name, want := range tt.wantMembers {
				if got[name] != want {
					t.Errorf("members of %s: got %d, want %d", name, got[name], want)
				}
			}
		})
	}
}

// Several people may share an address; UsersByEmail finds them all,
// whatever the case, so the pages can warn of the second.
func TestUsersByEmail(t *testing.T) {
	s := openStore(t)
	ann := createUser(t, s, "Ann", "Lee", "Family@Example.com")
	bob := createUser(t, s, "Bob", "Lee", "family@example.com")
	cat := createUser(t, s, "Cat", "Moss", "cat@example.com")
	createUser(t, s, "Dan", "Roe", "")
	tests := []struct {
		email string
		want  []int64
	}{
		{"family@example.com", []int64{ann.ID, bob.ID}},
		{"FAMILY@EXAMPLE.COM", []int64{ann.ID, bob.ID}},
		{"cat@example.com", []int64{cat.ID}},
		{"nobody@example.com", nil},
		{"", nil},
	}
	for _, tt := range tests {
		t.Run(tt.email, func(t *testing.T) {
			got, err := s.UsersByEmail(t.Context(), tt.email)
			if err != nil {
				t.Fatal(err)
			}
			var ids []int64
			for _, u := range got {
				ids = append(ids, u.ID)
			}
			if !slices.Equal(ids, tt.want) {
				t.Errorf("got %v, want %v", ids, tt.want)
			}
		})
	}
}

// A user made in groups is made with them, or not at all.
func TestCreateUserInGroups(t *testing.T) {
	s := openStore(t)
	staff := access.Group{Name: "Staff"}
	if err := s.CreateGroup(t.Context(), actor, &staff); err != nil {
		t.Fatal(err)
	}
	ann := access.User{FirstName: "Ann", Enabled: true}
	if err := s.CreateUserInGroups(t.Context(), actor, &ann, []int64{staff.ID}); err != nil {
		t.Fatal(err)
	}
	if got, err := s.UserGroups(t.Context(), ann.ID); err != nil || len(got) != 1 || got[0].ID != staff.ID {
		t.Errorf("Ann's groups: got %v (%v), want Staff", got, err)
	}
	bob := access.User{FirstName: "Bob", Enabled: true}
	if err := s.CreateUserInGroups(t.Context(), actor, &bob, []int64{staff.ID, 999}); err == nil {
		t.Fatal("made a user in a group that does not exist")
	}
	if n, _ := s.CountUsers(t.Context()); n != 1 {
		t.Errorf("got %d users after the refusal, want 1: no Bob without his groups", n)
	}
}

// Every order of the users list pages forward to its end and back to its
// start, each page the same both ways.
func TestUsersSortedBothWays(t *testing.T) {
	s := openStore(t)
	var all []access.User
	for i := range 23 {
		email := fmt.Sprintf("t%d@example.com", 23-i)
		if i%5 == 0 {
			email = ""
		}
		all = append(all, createUser(t, s, "Temp", fmt.Sprintf("Worker%d", i), email))
	}
	// Some used, at different times; the rest never.
	for i, u := range all[:9] {
		code := access.NewRegistrationCode()
		c, err := s.AssignCredential(t.Context(), actor, u.ID, code, testNow.Add(time.Hour), nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.TouchCredential(t.Context(), c.ID, testNow.Add(time.Duration(i*7%9)*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	byName := func(a, b access.User) int {
		var x, y int
		fmt.Sscanf(a.LastName, "Worker%d", &x)
		fmt.Sscanf(b.LastName, "Worker%d", &y)
		return x - y
	}
	byEmail := func(a, b access.User) int {
		switch {
		case a.Email == "" && b.Email == "":
			return int(a.ID - b.ID)
		case a.Email == "":
			return 1
		case b.Email == "":
			return -1
		}
		var x, y int
		fmt.Sscanf(a.Email, "t%d@", &x)
		fmt.Sscanf(b.Email, "t%d@", &y)
		return x - y
	}
	users, _ := s.Users(t.Context(), store.ListOptions{Limit: store.MaxLimit})
	byUse := func(a, b access.User) int {
		if c := a.LastUsedAt.Compare(b.LastUsedAt); c != 0 {
			return c
		}
		return int(a.ID - b.ID)
	}
	for _, tt := range []struct {
		sort  string
		order func(a, b access.User) int
	}{{store.SortName, byName}, {store.SortEmail, byEmail}, {store.SortLastUsed, byUse}} {
		for _, desc := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s desc %v", tt.sort, desc), func(t *testing.T) {
				want := slices.Clone(users.Items)
				slices.SortStableFunc(want, tt.order)
				if desc {
					slices.Reverse(want)
				}
				o := store.ListOptions{Sort: tt.sort, Desc: desc, Limit: 5}
				var forward [][]int64
				var p store.Page[access.User]
				for {
					var err error
					if p, err = s.Users(t.Context(), o); err != nil {
						t.Fatal(err)
					}
					if len(forward) == 0 && p.Prev != "" {
						t.Error("the first page has a previous page")
					}
					forward = append(forward, ids(p.Items))
					if p.Next == "" {
						break
					}
					o.After = p.Next
				}
				if got := slices.Concat(forward...); !slices.Equal(got, ids(want)) {
					t.Fatalf("forward: got %v, want %v", got, ids(want))
				}
				// And back from the last page, page by page.
				for i := len(forward) - 2; i >= 0; i-- {
					if p.Prev == "" {
						t.Fatalf("page %d has no previous page", i+2)
					}
					o.After, o.Before = "", p.Prev
					var err error
					if p, err = s.Users(t.Context(), o); err != nil {
						t.Fatal(err)
					}
					if !slices.Equal(ids(p.Items), forward[i]) {
						t.Errorf("back to page %d: got %v, want %v", i+1, ids(p.Items), forward[i])
					}
					if p.Next == "" {
						t.Errorf("back on page %d: no next page", i+1)
					}
				}
				if p.Prev != "" {
					t.Error("back on the first page, there is still a previous page")
				}
			})
		}
	}
	if all[0].LastUsedAt.IsZero() {
		got, _ := s.UserByID(t.Context(), all[0].ID)
		if got.LastUsedAt.IsZero() {
			t.Error("a use of a user's credential did not reach the user")
		}
	}
}
