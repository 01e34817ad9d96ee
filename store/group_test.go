package store_test

import (
	"fmt"
	"slices"
	"testing"

	"postern/access"
	"postern/store"
)

func TestGroupRoundTrip(t *testing.T) {
	s := openStore(t)
	ctx := t.Context()
	g := access.Group{Name: " Staff ", Description: " Everyone on the payroll "}
	if err := s.CreateGroup(ctx, actor, &g); err != nil {
		t.Fatal(err)
	}
	setUserGroups(t, s, createUser(t, s, "Ann", "Smith", "").ID, g)
	setUserGroups(t, s, createUser(t, s, "Bob", "Jones", "").ID, g)

	want := access.Group{ID: g.ID, Name: "Staff", Description: "Everyone on the payroll", Members: 2}
	if got, err := s.GroupByID(ctx, g.ID); err != nil || got != want {
		t.Errorf("got %+v, %v, want %+v", got, err, want)
	}

	g.Name, g.Description = "All staff", ""
	if err := s.UpdateGroup(ctx, actor, &g); err != nil {
		t.Fatal(err)
	}
	want.Name, want.Description = "All staff", ""
	if got, err := s.GroupByID(ctx, g.ID); err != nil || got != want {
		t.Errorf("after update: got %+v, %v, want %+v", got, err, want)
	}
}

func TestGroupsListing(t *testing.T) {
	s := openStore(t)
	var want []string
	for i := range 12 {
		name := fmt.Sprintf("Group %02d", i)
		if i%3 == 0 {
			name = fmt.Sprintf("group %02d", i)
		}
		createGroup(t, s, name)
		want = append(want, name)
	}
	var got []string
	o := store.ListOptions{Limit: 5}
	for pages := 0; ; pages++ {
		if pages > 5 {
			t.Fatal("got more than 5 pages, want 3")
		}
		p, err := s.Groups(t.Context(), o)
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range p.Items {
			got = append(got, g.Name)
		}
		if p.Next == "" {
			break
		}
		o.After = p.Next
	}
	if !slices.Equal(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}
