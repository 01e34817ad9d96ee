package ble

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseDoor(t *testing.T) {
	tests := []struct {
		spec    string
		want    Door
		wantErr bool
	}{
		{spec: "", want: LogDoor{}},
		{spec: "log", want: LogDoor{}},
		{spec: "exec:/usr/local/bin/strike --pulse", want: ExecDoor{Command: "/usr/local/bin/strike --pulse"}},
		{spec: "exec:", wantErr: true},
		{spec: "exec:   ", wantErr: true},
		{spec: "gpio:17", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.spec, func(t *testing.T) {
			got, err := ParseDoor(tt.spec, nil)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Fatalf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

func TestLogDoor(t *testing.T) {
	var buf bytes.Buffer
	d := LogDoor{Logger: slog.New(slog.NewTextHandler(&buf, nil))}
	if err := d.Pulse(context.Background(), DoorInfo{ID: 3, Name: "Front door"}, 5*time.Second); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"door released", `access_point="Front door"`, "access_point_id=3", "seconds=5"} {
		if !strings.Contains(buf.String(), want) {
			t.Errorf("log %q lacks %q", buf.String(), want)
		}
	}
}

func TestExecDoorEnvironment(t *testing.T) {
	out := filepath.Join(t.TempDir(), "env")
	d := ExecDoor{Command: `printf '%s|%s|%s' "$POSTERN_ACCESS_POINT" "$POSTERN_ACCESS_POINT_ID" "$POSTERN_UNLOCK_SECONDS" > ` + out}
	if err := d.Pulse(guardCtx(t), DoorInfo{ID: 42, Name: "Car park barrier"}, 1500*time.Millisecond); err != nil {
		t.Fatalf("Pulse: %v", err)
	}
	got, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if want := "Car park barrier|42|1.5"; string(got) != want {
		t.Fatalf("command saw %q, want %q", got, want)
	}
}

func TestExecDoorFailures(t *testing.T) {
	tests := []struct {
		name    string
		door    ExecDoor
		wantMsg string
		wantIs  error
	}{
		{name: "command fails", door: ExecDoor{Command: "echo relay jammed >&2; exit 3"}, wantMsg: "relay jammed"},
		// The shell's child must die too, or the pulse would hang on it.
		{name: "hung command is killed", door: ExecDoor{Command: "sleep 600; echo done", Limit: 200 * time.Millisecond}, wantIs: context.DeadlineExceeded, wantMsg: "killed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			done := make(chan error, 1)
			go func() { done <- tt.door.Pulse(context.Background(), DoorInfo{ID: 1, Name: "Front"}, time.Second) }()
			err := recv(t, done, "the door command to end")
			if err == nil || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Fatalf("got %v, want an error mentioning %q", err, tt.wantMsg)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Fatalf("got %v, want it to match %v", err, tt.wantIs)
			}
		})
	}
}

func TestExecDoorHold(t *testing.T) {
	out := filepath.Join(t.TempDir(), "door")
	d := ExecDoor{Command: `echo "$POSTERN_DOOR $POSTERN_ACCESS_POINT" >> ` + out}
	if err := d.Hold(t.Context(), DoorInfo{ID: 3, Name: "Gate"}, true); err != nil {
		t.Fatal(err)
	}
	if err := d.Hold(t.Context(), DoorInfo{ID: 3, Name: "Gate"}, false); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(out)
	if string(got) != "hold Gate\nrelease Gate\n" {
		t.Errorf("got %q, want hold then release", got)
	}
}

// TestExecDoorKilledGoesSafe: a door command that hangs is killed, and
// the command is run once more to put its relay in the safe state.
// The limit is generous because the safe run gets the same limit, and a
// shell on a loaded machine can take longer than a short one to start.
func TestExecDoorKilledGoesSafe(t *testing.T) {
	out := filepath.Join(t.TempDir(), "door")
	d := ExecDoor{Command: `if [ "$POSTERN_DOOR" = safe ]; then echo "safe $POSTERN_ACCESS_POINT" >> ` + out + `; else sleep 600; fi`, Limit: 2 * time.Second}
	for _, call := range []struct {
		name string
		run  func() error
	}{
		{"a hold", func() error { return d.Hold(t.Context(), DoorInfo{ID: 3, Name: "Gate"}, true) }},
		{"a pulse", func() error { return d.Pulse(t.Context(), DoorInfo{ID: 3, Name: "Gate"}, time.Second) }},
	} {
		os.Remove(out)
		if err := call.run(); err == nil || !strings.Contains(err.Error(), "killed") {
			t.Fatalf("%s: got %v, want the hung command killed", call.name, err)
		}
		if got, _ := os.ReadFile(out); string(got) != "safe Gate\n" {
			t.Errorf("%s: the command was told %q, want safe once", call.name, got)
		}
	}
}
