package ble

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"postern/access"
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

// recordingHolder remembers every hold and release it is told.
type recordingHolder struct {
	LogDoor
	calls []string
	fail  bool
}

func (r *recordingHolder) Hold(ctx context.Context, ap DoorInfo, open bool) error {
	what := "release " + ap.Name
	if open {
		what = "hold " + ap.Name
	}
	r.calls = append(r.calls, what)
	if r.fail {
		return errors.New("relay not answering")
	}
	return nil
}

func TestHeldDoors(t *testing.T) {
	door := &recordingHolder{}
	h := NewHeldDoors(door, nil)
	ctx := t.Context()
	front := access.AccessPoint{ID: 1, Name: "Front", State: access.StateNormal}
	gate := access.AccessPoint{ID: 2, Name: "Gate", State: access.StateUnlocked}
	steps := []struct {
		name string
		aps  []access.AccessPoint
		fail bool
		want []string
	}{
		{"a held-open gate is held at start", []access.AccessPoint{front, gate}, false, []string{"hold Gate"}},
		{"nothing changes, nothing is sent", []access.AccessPoint{front, gate}, false, nil},
		{"front set to held open", []access.AccessPoint{{ID: 1, Name: "Front", State: access.StateUnlocked}, gate}, false, []string{"hold Front"}},
		{"gate back to normal while the relay fails", []access.AccessPoint{{ID: 1, Name: "Front", State: access.StateUnlocked}, {ID: 2, Name: "Gate", State: access.StateNormal}}, true, []string{"release Gate"}},
		{"the release is tried again", []access.AccessPoint{{ID: 1, Name: "Front", State: access.StateUnlocked}, {ID: 2, Name: "Gate", State: access.StateNormal}}, false, []string{"release Gate"}},
		{"a deleted access point is released", nil, false, []string{"release Front"}},
	}
	for _, st := range steps {
		door.calls, door.fail = nil, st.fail
		h.Apply(ctx, st.aps)
		if !slices.Equal(door.calls, st.want) {
			t.Errorf("%s: got %v, want %v", st.name, door.calls, st.want)
		}
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
