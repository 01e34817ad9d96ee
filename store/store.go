// Package store keeps Postern's state in one SQLite file.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"modernc.org/sqlite"

	"postern/access"
)

// FileName is the database file inside the data folder.
const FileName = "postern.db"

// Store is Postern's database. Writes go through one connection so SQLite
// never sees two writers; reads share a pool and run beside them under WAL.
type Store struct {
	db   *sql.DB // writer: one connection
	read *sql.DB // readers
	now  func() time.Time
	path string // the database file

	changes changeLog // what the writer's transactions change
	feed    feed      // publishes committed changes
	policy  atomic.Pointer[access.Policy]
	// published counts publications, so a load can tell one happened
	// while it read; loadMu makes loads take turns.
	published atomic.Uint64
	loadMu    sync.Mutex

	lastDecisions lastDecisions // for the dashboard

	decisions     chan *pendingDecision // to the decision writer
	decisionStats decisionStats
	closing       chan struct{}
	closeOnce     sync.Once
	decisionsDone chan struct{}
	// checkpointsDone is closed when the background checkpoints stop.
	checkpointsDone chan struct{}
}

// Open opens (creating if needed) the database in dir and migrates it. The
// folder is made private first (see PrivateDir).
func Open(ctx context.Context, dir string) (*Store, error) {
	if _, _, err := PrivateDir(dir); err != nil {
		return nil, err
	}
	return OpenFile(ctx, filepath.Join(dir, FileName))
}

// DataSourceName is how the store opens the database at path: the pragmas
// every connection gets. Benchmarks use it to measure a bare write with
// the same settings.
func DataSourceName(path string) string {
	// secure_delete zeroes deleted content, so an invitation's code is
	// gone from the file once its email is sent or cancelled, not left in
	// a free page. The write-ahead log is folded back in the background
	// (see checkpoints), not by whichever commit takes it past a size.
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(NORMAL)&_pragma=foreign_keys(ON)&_pragma=secure_delete(ON)&_pragma=wal_autocheckpoint(0)&_txlock=immediate"
}

// OpenFile opens the database at path and migrates it. The file and its
// WAL are private to this account (0600).
func OpenFile(ctx context.Context, path string) (*Store, error) {
	if err := privateFiles(path); err != nil {
		return nil, err
	}
	connector, err := sqlite.NewConnector(DataSourceName(path))
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	s := &Store{now: time.Now, path: path, decisions: make(chan *pendingDecision, maxDecisionBatch), closing: make(chan struct{}),
		decisionsDone: make(chan struct{}), checkpointsDone: make(chan struct{})}
	// The writer's connection reports every row it changes to the change
	// log; readers change nothing.
	s.db = sql.OpenDB(cachingConnector{hookedConnector{Connector: connector, log: &s.changes}})
	s.db.SetMaxOpenConns(1)
	s.read = sql.OpenDB(cachingConnector{connector})
	s.read.SetMaxOpenConns(4)
	s.read.SetMaxIdleConns(4) // each keeps its prepared statements
	go s.writeDecisions()
	go s.checkpoints()
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// SetClock replaces the clock the store stamps rows with; tests use it.
func (s *Store) SetClock(now func() time.Time) { s.now = now }

// Close closes the database, checkpointing the WAL.
func (s *Store) Close() error {
	// Decisions already queued are written first: each was promised a
	// commit before its key is answered.
	s.closeOnce.Do(func() { close(s.closing) })
	<-s.decisionsDone
	<-s.checkpointsDone
	return errors.Join(s.read.Close(), s.db.Close())
}

// Ping reports whether the database answers a query.
func (s *Store) Ping(ctx context.Context) error {
	var n int
	if err := s.read.QueryRowContext(ctx, "SELECT 1").Scan(&n); err != nil {
		return fmt.Errorf("store: ping: %w", err)
	}
	return nil
}

// querier is what the database and a transaction have in common, so one
// read or write serves both inside a write transaction and outside it, the
// way PocketBase's RunInTransaction hands its whole API to the transaction.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// tx runs fn in a write transaction: committed when fn returns nil, rolled
// back otherwise. op names the operation in a failure to begin or commit;
// fn names it in its own errors, and passes refusals (access.Conflict and
// the like) as they are, since their text is what people read.
func (s *Store) tx(ctx context.Context, op string, fn func(tx *sql.Tx) error) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: %s: begin: %w", op, err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: %s: commit: %w", op, err)
	}
	s.publish(ctx)
	return nil
}

// scanner is one row to read: a *sql.Row or the current row of *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// queryAll runs a query and reads every row with scan; op names the
// operation in its errors. The slice is never nil, so an empty list is []
// in JSON.
func queryAll[T any](ctx context.Context, q querier, op string, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", op, err)
	}
	defer rows.Close()
	items := []T{}
	for rows.Next() {
		it, err := scan(rows)
		if err != nil {
			return nil, fmt.Errorf("store: %s: %w", op, err)
		}
		items = append(items, it)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: %s: %w", op, err)
	}
	return items, nil
}

// ms turns a time into stored unix milliseconds; the zero time is NULL.
func ms(t time.Time) sql.NullInt64 {
	if t.IsZero() {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMilli(), Valid: true}
}

// fromMS reads stored unix milliseconds back.
func fromMS(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMilli(v.Int64)
}

func nullID(id int64) sql.NullInt64 { return sql.NullInt64{Int64: id, Valid: id != 0} }

func nullText(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }
