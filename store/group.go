package store

import (
	"context"
	"database/sql"
	"fmt"

	"postern/access"
)

const groupSelect = `SELECT id, name, description, (SELECT count(*) FROM group_members WHERE group_id = groups.id) FROM groups`

func scanGroup(sc scanner) (access.Group, error) {
	var g access.Group
	err := sc.Scan(&g.ID, &g.Name, &g.Description, &g.Members)
	return g, err
}

// CreateGroup stores a new group.
func (s *Store) CreateGroup(ctx context.Context, actor string, g *access.Group) error {
	g.Normalize()
	if err := g.Validate(); err != nil {
		return err
	}
	return s.tx(ctx, "create group", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO groups (name, description) VALUES (?, ?)`, g.Name, g.Description)
		if err != nil {
			return clashErr(ctx, tx, "create group", err, "group", "groups", 0, unique{"name", "name", g.Name})
		}
		if g.ID, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("store: create group: %w", err)
		}
		return s.insertEvent(ctx, tx, &access.Event{Kind: "group.created", Actor: actor, Detail: g.Name})
	})
}

// UpdateGroup saves changes to a group.
func (s *Store) UpdateGroup(ctx context.Context, actor string, g *access.Group) error {
	g.Normalize()
	if err := g.Validate(); err != nil {
		return err
	}
	return s.tx(ctx, "update group", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE groups SET name = ?, description = ? WHERE id = ?`, g.Name, g.Description, g.ID)
		if err != nil {
			return clashErr(ctx, tx, "update group", err, "group", "groups", g.ID, unique{"name", "name", g.Name})
		}
		if err := affected("update group", res); err != nil {
			return err
		}
		return s.insertEvent(ctx, tx, &access.Event{Kind: "group.updated", Actor: actor, Detail: g.Name})
	})
}

// DeleteGroup removes a group, its memberships and its permissions.
func (s *Store) DeleteGroup(ctx context.Context, actor string, id int64) error {
	return s.tx(ctx, "delete group", func(tx *sql.Tx) error {
		var name string
		if err := tx.QueryRowContext(ctx, `SELECT name FROM groups WHERE id = ?`, id).Scan(&name); err != nil {
			return notFound("delete group", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM groups WHERE id = ?`, id); err != nil {
			return fmt.Errorf("store: delete group: %w", err)
		}
		return s.insertEvent(ctx, tx, &access.Event{Kind: "group.deleted", Actor: actor, Detail: name})
	})
}

// groupsFrom returns the query for groups and what fills in their member
// counts: the loaded policy knows them, where SQL would count every
// member of every group listed.
func (s *Store) groupsFrom() (string, func([]access.Group)) {
	p := s.policy.Load()
	if p == nil {
		return groupSelect, func([]access.Group) {}
	}
	return `SELECT id, name, description, 0 FROM groups`, func(gs []access.Group) {
		for i := range gs {
			gs[i].Members = p.GroupSize(gs[i].ID)
		}
	}
}

// GroupByID returns one group with its member count.
func (s *Store) GroupByID(ctx context.Context, id int64) (access.Group, error) {
	q, count := s.groupsFrom()
	g, err := scanGroup(s.read.QueryRowContext(ctx, q+` WHERE id = ?`, id))
	if err != nil {
		return g, notFound("read group", err)
	}
	gs := []access.Group{g}
	count(gs)
	return gs[0], nil
}

// Groups returns a page of groups sorted by name.
func (s *Store) Groups(ctx context.Context, o ListOptions) (Page[access.Group], error) {
	limit := o.limit()
	c, _ := decodeCursor(o.After)
	q, count := s.groupsFrom()
	groups, err := queryAll(ctx, s.read, "list groups", scanGroup, q+` WHERE (name, id) > (?, ?) ORDER BY name, id LIMIT ?`, c.A, c.ID, limit+1)
	if err != nil {
		return Page[access.Group]{}, err
	}
	count(groups)
	return paginate(groups, limit, func(g access.Group) nameCursor { return nameCursor{A: g.Name, ID: g.ID} }), nil
}
