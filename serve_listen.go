package main

import (
	"errors"
	"fmt"
	"net"
)

// listeners are every socket serve listens on, bound before it says it is
// running, so a port already taken stops it before it prints a link that
// would point at nothing.
type listeners struct {
	http net.Listener
	air  net.Listener // nil without the simulated air
}

// bindListeners binds the web server's address and, when air is not
// empty, the simulated air's; on any failure it closes what it bound.
func bindListeners(listen, air string) (*listeners, error) {
	var l listeners
	var err error
	if l.http, err = net.Listen("tcp", listen); err != nil {
		return nil, fmt.Errorf("--listen %s: %w", listen, err)
	}
	if air != "" {
		if l.air, err = net.Listen("tcp", air); err != nil {
			l.close()
			return nil, fmt.Errorf("the simulated air (--air %s): %w", air, err)
		}
	}
	return &l, nil
}

// close closes every listener still open; the servers that took them over
// close them themselves.
func (l *listeners) close() error {
	var errs []error
	for _, ln := range []net.Listener{l.http, l.air} {
		if ln != nil {
			if err := ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
				errs = append(errs, err)
			}
		}
	}
	return errors.Join(errs...)
}
