package store

import (
	"context"
	"database/sql/driver"
	"fmt"
	"path/filepath"
	"testing"
)

// openInternal opens a store in a temporary folder for tests inside the
// package.
func openInternal(t testing.TB) *Store {
	t.Helper()
	s, err := OpenFile(t.Context(), filepath.Join(t.TempDir(), FileName))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// Statements kept prepared give the same answers as fresh ones: the same
// query again while its rows are still open (each must walk its own
// rows), more distinct queries than are kept, and a table changed after
// its query was prepared.
func TestKeptStatements(t *testing.T) {
	s := openInternal(t)
	ctx := t.Context()
	if _, err := s.db.ExecContext(ctx, `CREATE TABLE kept (n INTEGER)`); err != nil {
		t.Fatal(err)
	}
	for n := range 5 {
		if _, err := s.db.ExecContext(ctx, `INSERT INTO kept (n) VALUES (?)`, n); err != nil {
			t.Fatal(err)
		}
	}
	const q = `SELECT n FROM kept WHERE n >= ? ORDER BY n`
	count := func(ctx context.Context, from int) int {
		t.Helper()
		var got int
		if err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM kept WHERE n >= ?`, from).Scan(&got); err != nil {
			t.Fatal(err)
		}
		return got
	}

	// One connection, so the inner query meets the outer one's statement.
	conn, err := s.read.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	outer, err := conn.QueryContext(ctx, q, 0)
	if err != nil {
		t.Fatal(err)
	}
	var pairs []string
	for outer.Next() {
		var a int
		if err := outer.Scan(&a); err != nil {
			t.Fatal(err)
		}
		inner, err := conn.QueryContext(ctx, q, a+3)
		if err != nil {
			t.Fatal(err)
		}
		for inner.Next() {
			var b int
			if err := inner.Scan(&b); err != nil {
				t.Fatal(err)
			}
			pairs = append(pairs, fmt.Sprint(a, b))
		}
		if err := inner.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if err := outer.Err(); err != nil {
		t.Fatal(err)
	}
	outer.Close()
	conn.Close()
	if got, want := fmt.Sprint(pairs), "[0 3 0 4 1 4]"; got != want {
		t.Errorf("nested runs of one query gave %s, want %s", got, want)
	}

	// More distinct queries than a connection keeps: each still right.
	for i := range stmtCacheSize + 20 {
		var got int
		if err := s.read.QueryRowContext(ctx, fmt.Sprintf(`SELECT count(*) + %d FROM kept`, i)).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != 5+i {
			t.Fatalf("query %d: got %d, want %d", i, got, 5+i)
		}
	}
	if got := count(ctx, 2); got != 3 {
		t.Errorf("after the cache turned over: %d rows from 2, want 3", got)
	}

	// The table changes shape after its queries were prepared.
	if _, err := s.db.ExecContext(ctx, `ALTER TABLE kept ADD COLUMN m INTEGER DEFAULT 7`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.db.ExecContext(ctx, `INSERT INTO kept (n) VALUES (?)`, 9); err != nil {
		t.Fatal(err)
	}
	if got := count(ctx, 2); got != 4 {
		t.Errorf("after the table changed: %d rows from 2, want 4", got)
	}
	var m int
	if err := s.read.QueryRowContext(ctx, `SELECT m FROM kept WHERE n = ?`, 9).Scan(&m); err != nil || m != 7 {
		t.Errorf("new column: %d, %v; want 7", m, err)
	}
}

// BenchmarkKeptStatements is one indexed read of an event with its
// user's and door's names (as the pages read events) on one connection,
// through a kept statement and through one prepared for the call (as
// every query was before).
func BenchmarkKeptStatements(b *testing.B) {
	s := openInternal(b)
	ctx := b.Context()
	const q = eventSelect + ` WHERE id = ?`
	conn, err := s.read.Conn(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close()
	b.Run("kept", func(b *testing.B) {
		for b.Loop() {
			rows, err := conn.QueryContext(ctx, q, 1)
			if err != nil {
				b.Fatal(err)
			}
			rows.Close()
		}
	})
	b.Run("prepared each time", func(b *testing.B) {
		args := []driver.NamedValue{{Ordinal: 1, Value: int64(1)}}
		for b.Loop() {
			err := conn.Raw(func(dc any) error {
				rows, err := dc.(*cachingConn).sqliteConn.QueryContext(ctx, q, args)
				if err != nil {
					return err
				}
				return rows.Close()
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}
