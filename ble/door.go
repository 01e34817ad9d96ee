package ble

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DoorInfo names the access point whose door is pulsed.
type DoorInfo struct {
	ID   int64
	Name string
}

// Door releases a lock, strike or barrier after a grant: the side effect
// leaves the appliance through this one small interface.
type Door interface {
	// Pulse releases the door for open. It returns when the release has been
	// handed to the hardware (for ExecDoor: when the command has finished).
	Pulse(ctx context.Context, ap DoorInfo, open time.Duration) error
}

// LogDoor only logs the pulse: the default when no door output is wired,
// and what the simulated air's sites use.
type LogDoor struct {
	Logger *slog.Logger
}

// Pulse logs the release.
func (d LogDoor) Pulse(ctx context.Context, ap DoorInfo, open time.Duration) error {
	log := d.Logger
	if log == nil {
		log = slog.Default()
	}
	log.InfoContext(ctx, "door released", "access_point", ap.Name, "access_point_id", ap.ID, "seconds", open.Seconds())
	return nil
}

// DefaultDoorSlack is how long an ExecDoor command may run beyond the
// unlock time before it is killed: a script that holds the relay for the
// unlock time and then releases it is normal, one that hangs is not.
const DefaultDoorSlack = 10 * time.Second

// ExecDoor runs a shell command per pulse (`exec:COMMAND` on the command
// line), with the access point and unlock time in its environment:
// POSTERN_ACCESS_POINT, POSTERN_ACCESS_POINT_ID, POSTERN_UNLOCK_SECONDS.
// A command that outlives its limit is killed with its children, and the
// command is run once more with POSTERN_DOOR=safe.
type ExecDoor struct {
	Command string
	// Limit is how long the command may run; zero means the unlock time
	// plus DefaultDoorSlack. The command and its children are killed then.
	Limit  time.Duration
	Logger *slog.Logger
}

// maxDoorOutput bounds what a command's output costs us; it is for the log.
const maxDoorOutput = 4 << 10

// Pulse runs the command and waits for it, killing it at its limit.
func (d ExecDoor) Pulse(ctx context.Context, ap DoorInfo, open time.Duration) error {
	limit := d.Limit
	if limit <= 0 {
		limit = open + DefaultDoorSlack
	}
	err := d.run(ctx, limit, ap, "POSTERN_UNLOCK_SECONDS="+strconv.FormatFloat(open.Seconds(), 'f', -1, 64))
	if d.Logger != nil {
		if err != nil {
			d.Logger.Error("door command failed", "access_point", ap.Name, "err", err)
		} else {
			d.Logger.Info("door released", "access_point", ap.Name, "access_point_id", ap.ID, "seconds", open.Seconds())
		}
	}
	return err
}

// ParseDoor turns the --door setting into a Door: "" or "log" for LogDoor,
// "exec:COMMAND" for ExecDoor.
func ParseDoor(spec string, log *slog.Logger) (Door, error) {
	switch {
	case spec == "" || spec == "log":
		return LogDoor{Logger: log}, nil
	case strings.HasPrefix(spec, "exec:"):
		command := strings.TrimSpace(strings.TrimPrefix(spec, "exec:"))
		if command == "" {
			return nil, errors.New("door: exec: needs a command, as in exec:/usr/local/bin/strike")
		}
		return ExecDoor{Command: command, Logger: log}, nil
	}
	return nil, fmt.Errorf("door: unknown output %q (want log or exec:COMMAND)", spec)
}

// limitedBuffer keeps the first max bytes written and discards the rest.
type limitedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
	max int
}

func (b *limitedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if room := b.max - b.buf.Len(); room > 0 {
		b.buf.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}

func (b *limitedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Holder is a Door that can also be held open, for an access point set to
// "held open" in the browser, and closed again when it is set back.
type Holder interface {
	Hold(ctx context.Context, ap DoorInfo, open bool) error
}

var (
	_ Holder = LogDoor{}
	_ Holder = ExecDoor{}
)

// Hold logs the door held open or locked again.
func (d LogDoor) Hold(ctx context.Context, ap DoorInfo, open bool) error {
	log := d.Logger
	if log == nil {
		log = slog.Default()
	}
	if open {
		log.InfoContext(ctx, "door held unlocked", "access_point", ap.Name, "access_point_id", ap.ID)
	} else {
		log.InfoContext(ctx, "door locked", "access_point", ap.Name, "access_point_id", ap.ID)
	}
	return nil
}

// Hold runs the command with POSTERN_DOOR set to "hold" or "release"
// (a pulse leaves it unset), limited to Limit or else DefaultDoorSlack.
func (d ExecDoor) Hold(ctx context.Context, ap DoorInfo, open bool) error {
	what := "release"
	if open {
		what = "hold"
	}
	limit := d.Limit
	if limit <= 0 {
		limit = DefaultDoorSlack
	}
	return d.run(ctx, limit, ap, "POSTERN_DOOR="+what)
}

// doorSafe is the environment of the command run after one was killed:
// the script puts its relay in the lock's safe state.
const doorSafe = "POSTERN_DOOR=safe"

// run runs the command for ap with extra environment, killing it and its
// children at limit, and says what went wrong with its output.
func (d ExecDoor) run(ctx context.Context, limit time.Duration, ap DoorInfo, env ...string) error {
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c", d.Command)
	cmd.Env = append(append(os.Environ(),
		"POSTERN_ACCESS_POINT="+ap.Name,
		"POSTERN_ACCESS_POINT_ID="+strconv.FormatInt(ap.ID, 10)), env...)
	out := &limitedBuffer{max: maxDoorOutput}
	cmd.Stdout, cmd.Stderr = out, out
	killGroup(cmd)
	// Children that keep the output pipe open must not keep us waiting.
	cmd.WaitDelay = time.Second
	err := cmd.Run()
	if ctx.Err() == context.DeadlineExceeded {
		err = fmt.Errorf("door command for %q killed after %v: %w", ap.Name, limit, ctx.Err())
		if !slices.Contains(env, doorSafe) {
			// A hung command may have left the relay anywhere: give the
			// script one bounded chance to put it in its safe state.
			if serr := d.run(context.WithoutCancel(ctx), min(limit, DefaultDoorSlack), ap, doorSafe); serr != nil {
				err = errors.Join(err, serr)
			}
		}
		return err
	}
	if err != nil {
		return fmt.Errorf("door command for %q: %w: %s", ap.Name, err, strings.TrimSpace(out.String()))
	}
	return nil
}
