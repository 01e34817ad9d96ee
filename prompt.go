package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// terminal returns stdin's file descriptor when stdin is a terminal.
func terminal(stdin io.Reader) (int, bool) {
	f, ok := stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return 0, false
	}
	return int(f.Fd()), true
}

// askSecret prompts on stderr and reads a line from the terminal fd
// without echo. An interrupt (ctx ending) gives up the read and puts the
// terminal back as it was, which being killed mid-read would not.
func askSecret(ctx context.Context, fd int, stderr io.Writer, prompt string) (string, error) {
	state, err := term.GetState(fd)
	if err != nil {
		return "", err
	}
	fmt.Fprint(stderr, prompt)
	line, err := interruptible(ctx, func() (string, error) {
		b, err := term.ReadPassword(fd)
		return string(b), err
	})
	if ctx.Err() != nil {
		term.Restore(fd, state)
	}
	fmt.Fprintln(stderr)
	return line, err
}

// interruptible returns what read returns, or ctx's error as soon as ctx
// ends: a read of a terminal or a pipe does not end with the signal that
// ends ctx, and the command is about to exit anyway.
func interruptible(ctx context.Context, read func() (string, error)) (string, error) {
	type result struct {
		s   string
		err error
	}
	got := make(chan result, 1)
	go func() {
		s, err := read()
		got <- result{s, err}
	}()
	select {
	case r := <-got:
		return r.s, r.err
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// readPassword reads a password from the terminal without echo, or the
// first line of stdin when it is not a terminal.
func readPassword(ctx context.Context, std stdio) (string, error) {
	if fd, ok := terminal(std.in); ok {
		return askSecret(ctx, fd, std.err, "Password: ")
	}
	line, err := readLine(ctx, std.in)
	if err != nil && ctx.Err() == nil {
		return "", errors.New("give the password on standard input")
	}
	return line, err
}

// readLine reads the first line of in, without its line ending; a last
// line without one counts.
func readLine(ctx context.Context, in io.Reader) (string, error) {
	return interruptible(ctx, func() (string, error) {
		line, err := bufio.NewReader(in).ReadString('\n')
		if err != nil && !(errors.Is(err, io.EOF) && line != "") {
			return "", err
		}
		return strings.TrimRight(line, "\r\n"), nil
	})
}
