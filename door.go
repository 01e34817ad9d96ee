package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"time"

	"postern/ble"
)

// door reports a simulated door input on the simulated air: the door
// contact opening or closing, or the exit button pressed, at the door of
// the access point bound to sim:READER. It stands in for the wiring of a
// site without a board, so a forced or held-open door can be shown.
func door(ctx context.Context, args []string, std stdio) error {
	fs := flag.NewFlagSet("door", flag.ContinueOnError)
	fs.SetOutput(std.err)
	air := fs.String("air", ble.DefaultAirAddr, "the simulated air's address")
	reader := fs.String("reader", "", "the reader's name on the air (sim:NAME without sim:)")
	fs.Usage = func() {
		fmt.Fprintln(std.err, "usage: postern door [--air ADDR] --reader NAME open|close|exit")
		fs.PrintDefaults()
	}
	if err := parseFlags(fs, args); err != nil {
		return exitQuiet(2)
	}
	if *reader == "" || fs.NArg() != 1 {
		fs.Usage()
		return exitQuiet(2)
	}
	in := ble.DoorInput(fs.Arg(0))
	if !in.Valid() {
		return exitf(2, "postern door: unknown input %q: want open, close or exit", in)
	}
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := ble.SendDoorInput(ctx, *air, *reader, in); err != nil {
		if errors.Is(err, ble.ErrNoReader) {
			return exitf(1, "postern door: %v", err)
		}
		return exitf(2, "postern door: %v", err)
	}
	fmt.Fprintf(std.out, "Door at %s: %s\n", *reader, in)
	return nil
}
