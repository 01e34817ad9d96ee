package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// Size returns the database's size in bytes: its pages, plus the
// write-ahead log where it has not yet been checkpointed into them.
func (s *Store) Size(ctx context.Context) (int64, error) {
	var pages, pageSize int64
	if err := s.read.QueryRowContext(ctx, "PRAGMA page_count").Scan(&pages); err != nil {
		return 0, fmt.Errorf("store: size: %w", err)
	}
	if err := s.read.QueryRowContext(ctx, "PRAGMA page_size").Scan(&pageSize); err != nil {
		return 0, fmt.Errorf("store: size: %w", err)
	}
	var seq int
	var name, file string
	if err := s.read.QueryRowContext(ctx, "PRAGMA database_list").Scan(&seq, &name, &file); err != nil {
		return 0, fmt.Errorf("store: size: %w", err)
	}
	size := pages * pageSize
	if fi, err := os.Stat(file + "-wal"); err == nil {
		size += fi.Size()
	} else if !errors.Is(err, fs.ErrNotExist) {
		return 0, fmt.Errorf("store: size: %w", err)
	}
	return size, nil
}
