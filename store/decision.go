package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"postern/access"
)

// maxDecisionBatch bounds how many decisions share one commit, so one
// commit's work stays short next to the waits it saves.
const maxDecisionBatch = 256

// ErrClosed matches (errors.Is) a decision recorded after the store began
// to close.
var ErrClosed = errors.New("the store is closed")

var errRecordClosed = fmt.Errorf("store: record decision: %w", ErrClosed)

// pendingDecision is one decision waiting for its commit.
type pendingDecision struct {
	e    *access.Event
	cred *access.CredentialID
	at   time.Time
	done chan error
}

// RecordDecision appends a decision's event and, for a known credential,
// its last use. It returns once both are committed, so the reader tells the
// key and opens the door only for a decision that is on disk.
//
// Decisions ready together share one commit: a writer of their own takes
// every decision queued while the previous commit was being made, writes
// them in one transaction and answers each once it is committed. The commit
// is made with synchronous=FULL: under WAL, NORMAL is safe against a crash
// of the process but may lose the last commits to a power cut, and a door
// decision must survive both.
func (s *Store) RecordDecision(ctx context.Context, e *access.Event, cred *access.CredentialID, at time.Time) error {
	d := &pendingDecision{e: e, cred: cred, at: at, done: make(chan error, 1)}
	select {
	case <-s.closing:
		return errRecordClosed
	default:
	}
	select {
	case s.decisions <- d:
	case <-s.closing:
		return errRecordClosed
	case <-ctx.Done():
		return fmt.Errorf("store: record decision: %w", ctx.Err())
	}
	// Once queued it is written whatever happens to ctx: wait for the
	// answer, which comes within one commit.
	select {
	case err := <-d.done:
		return err
	case <-s.decisionsDone:
		// The writer has stopped; it answered everything it took.
		select {
		case err := <-d.done:
			return err
		default:
			return errRecordClosed
		}
	}
}

// writeDecisions is the decision writer: it runs until the store closes,
// then writes what is still queued.
func (s *Store) writeDecisions() {
	defer close(s.decisionsDone)
	batch := make([]*pendingDecision, 0, maxDecisionBatch)
	for {
		var first *pendingDecision
		select {
		case first = <-s.decisions:
		case <-s.closing:
			// RecordDecision refuses new work once closing is closed;
			// write what made it into the queue before that.
			select {
			case first = <-s.decisions:
			default:
				return
			}
		}
		s.commitDecisions(append(batch[:0], first))
	}
}

// commitDecisions takes the writer's connection, adds to the batch every
// decision queued by then (those that came while an admin's transaction
// held the connection included), writes them in one transaction and
// answers each. When the batch fails as a whole, each is written alone, so
// one bad row cannot cost the others their place in the log.
func (s *Store) commitDecisions(batch []*pendingDecision) {
	// Not the callers' contexts: the batch is theirs together, and a
	// decision once queued is written.
	ctx := context.Background()
	conn, err := s.db.Conn(ctx)
	if err != nil {
		err = fmt.Errorf("store: record decision: %w", err)
	}
fill:
	for len(batch) < maxDecisionBatch {
		select {
		case d := <-s.decisions:
			batch = append(batch, d)
		default:
			break fill
		}
	}
	if err != nil {
		for _, d := range batch {
			d.done <- err
		}
		return
	}
	defer conn.Close()
	err = s.writeDecisionBatch(ctx, conn, batch)
	if err != nil && len(batch) > 1 {
		for _, d := range batch {
			d.done <- s.writeDecisionBatch(ctx, conn, []*pendingDecision{d})
		}
		return
	}
	for _, d := range batch {
		d.done <- err
	}
}

func (s *Store) writeDecisionBatch(ctx context.Context, conn *sql.Conn, batch []*pendingDecision) error {
	// Decisions change no policy: tell the change log, so their writes
	// cost the feed nothing.
	s.changes.setQuiet(true)
	defer s.changes.setQuiet(false)
	if _, err := conn.ExecContext(ctx, `PRAGMA synchronous = FULL`); err != nil {
		return fmt.Errorf("store: record decision: %w", err)
	}
	// Back to NORMAL for everything else, whatever happens here.
	defer conn.ExecContext(ctx, `PRAGMA synchronous = NORMAL`)
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: record decision: begin: %w", err)
	}
	for _, d := range batch {
		if d.cred != nil {
			if err := touchCredential(ctx, tx, *d.cred, d.at); err != nil {
				tx.Rollback()
				return fmt.Errorf("store: record decision: %w", err)
			}
		}
		if err := s.insertEvent(ctx, tx, d.e); err != nil {
			tx.Rollback()
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: record decision: commit: %w", err)
	}
	s.decisionStats.commits.Add(1)
	s.decisionStats.decisions.Add(int64(len(batch)))
	return nil
}

// decisionStats counts the decision writer's work.
type decisionStats struct {
	decisions, commits atomic.Int64
}

// DecisionStats returns how many decisions have been recorded since the
// store opened, and in how many commits.
func (s *Store) DecisionStats() (decisions, commits int64) {
	return s.decisionStats.decisions.Load(), s.decisionStats.commits.Load()
}
