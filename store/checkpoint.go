package store

import (
	"context"
	"time"
)

// checkpointEvery is how often the store folds the write-ahead log into
// the database file, in the background.
const checkpointEvery = time.Second

// checkpoints folds the log into the database every checkpointEvery until
// the store closes, on a reader's connection. The store's connections do
// not do it themselves (wal_autocheckpoint is off): SQLite would make the
// commit that takes the log past a thousand pages copy it, and fsync the
// database file, inside a decision's commit, and again in each commit
// after while admins' reads keep part of the log in use.
func (s *Store) checkpoints() {
	defer close(s.checkpointsDone)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-s.closing:
			return
		case <-t.C:
			// PASSIVE waits for no one; what readers still use is
			// copied next time.
			s.read.ExecContext(context.Background(), `PRAGMA wal_checkpoint(PASSIVE)`)
		}
	}
}
