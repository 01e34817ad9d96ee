package ble

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"postern/access"
)

// TestManagerCloseStopsFollowingFirst: a poll in flight when Close is called
// ends before any reader stops, Close waits for it, and nothing is synced
// once Close has begun. Closing the readers first (and the poll after, or
// never) would let a tick at that moment sync a closed manager.
func TestManagerCloseStopsFollowingFirst(t *testing.T) {
	sim := newFakeRadio()
	var log bytes.Buffer
	m := NewManager(ManagerOptions{
		Radios:    map[string]Radio{RadioSim: sim},
		Exchanger: echoExchanger,
		Logger:    slog.New(slog.NewTextHandler(&log, nil)),
	})
	front := []ReaderConfig{{ID: 1, Name: "Front", Binding: "sim:front"}}

	// Plain variables: under -race, a Close that returns without waiting
	// for the poll is a data race on them.
	var polls int
	var finished, readerStoppedFirst bool
	inFlight := make(chan struct{})
	// A ticker always due: a tick is ready the moment Close begins.
	m.Follow(time.Nanosecond, func(ctx context.Context) ([]ReaderConfig, error) {
		polls++
		if polls == 2 {
			close(inFlight)
			<-ctx.Done()
			select {
			case <-sim.stopped:
				readerStoppedFirst = true
			default:
			}
			finished = true
		}
		return front, nil
	})
	if got := recv(t, sim.listening, "the reader Follow starts"); got != "front" {
		t.Fatalf("listening %q, want front", got)
	}
	<-inFlight
	m.Close()

	if !finished {
		t.Fatal("Close returned while a poll was still running")
	}
	if readerStoppedFirst {
		t.Error("a reader stopped while a poll was in flight: Close must stop following first")
	}
	if polls != 2 {
		t.Errorf("got %d polls, want 2: none after Close began", polls)
	}
	if got := recv(t, sim.stopped, "the reader to stop"); got != "front" {
		t.Errorf("stopped %q, want front", got)
	}
	if bytes.Contains(log.Bytes(), []byte("level=ERROR")) {
		t.Errorf("errors logged while closing:\n%s", log.String())
	}
}

func TestManagerSync(t *testing.T) {
	sim, hci := newFakeRadio(), newFakeRadio()
	m := NewManager(ManagerOptions{Radios: map[string]Radio{RadioSim: sim, "hci0": hci}, Exchanger: echoExchanger})
	t.Cleanup(func() { m.Close() })

	if err := m.Sync([]ReaderConfig{
		{ID: 1, Name: "Front", Binding: "sim:front"},
		{ID: 2, Name: "Back", Binding: "sim:back"},
		{ID: 9, Name: "Unbound"},
	}); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	started := []string{recv(t, sim.listening, "a reader"), recv(t, sim.listening, "a reader")}
	slices.Sort(started)
	if want := []string{"back", "front"}; !slices.Equal(started, want) {
		t.Fatalf("listening %v, want %v", started, want)
	}
	back := m.Reader(2)

	// Front removed, back edited, an adapter added; bad ones reported.
	err := m.Sync([]ReaderConfig{
		{ID: 2, Name: "Back", Binding: "sim:back", RSSIThreshold: -72},
		{ID: 3, Name: "Barrier", Binding: "hci0", Mode: access.ModeLongRange},
		{ID: 4, Name: "Twin", Binding: "sim:back"},
		{ID: 5, Name: "Elsewhere", Binding: "hci1"},
		{ID: 6, Name: "Typo", Binding: "sim:"},
	})
	for _, want := range []string{`"Twin"`, `"Elsewhere"`, `"Typo"`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Sync error %v does not mention %s", err, want)
		}
	}
	if got := recv(t, sim.stopped, "front to stop"); got != "front" {
		t.Fatalf("stopped %q, want front", got)
	}
	if got := recv(t, hci.listening, "the barrier reader"); got != "hci0" {
		t.Fatalf("listening %q, want hci0", got)
	}
	if m.Reader(2) != back {
		t.Fatal("editing an access point restarted its reader")
	}
	if got := back.Config().RSSIThreshold; got != -72 {
		t.Fatalf("edited threshold: got %d, want -72", got)
	}
	if m.Reader(1) != nil {
		t.Fatal("removed access point still has a reader")
	}

	// Rebinding moves the reader.
	if err := m.Sync([]ReaderConfig{{ID: 2, Name: "Back", Binding: "sim:yard"}}); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	stopped := []string{recv(t, sim.stopped, "back to stop"), recv(t, hci.stopped, "hci0 to stop")}
	if want := []string{"back", "hci0"}; !slices.Equal(stopped, want) {
		t.Fatalf("stopped %v, want %v", stopped, want)
	}
	if got := recv(t, sim.listening, "the moved reader"); got != "yard" {
		t.Fatalf("listening %q, want yard", got)
	}
	running := m.Running()
	if len(running) != 1 || running[0].Binding != "sim:yard" {
		t.Fatalf("running %+v, want only sim:yard", running)
	}

	if err := m.Sync(nil); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	if got := recv(t, sim.stopped, "yard to stop"); got != "yard" {
		t.Fatalf("stopped %q, want yard", got)
	}
}

func TestParseBinding(t *testing.T) {
	tests := []struct {
		in      string
		want    Binding
		wantErr bool
	}{
		{in: "sim:front", want: Binding{Radio: "sim", Reader: "front"}},
		{in: "sim:car-park.2", want: Binding{Radio: "sim", Reader: "car-park.2"}},
		{in: "hci0", want: Binding{Radio: "hci0", Reader: "hci0"}},
		{in: "hci12", want: Binding{Radio: "hci12", Reader: "hci12"}},
		{in: "sim:", wantErr: true},
		{in: "sim:Front", wantErr: true},
		{in: "hci", wantErr: true},
		{in: "usb0", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseBinding(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if got != tt.want {
				t.Fatalf("got %+v, want %+v", got, tt.want)
			}
			if err == nil && got.String() != tt.in {
				t.Fatalf("String() = %q, want %q", got.String(), tt.in)
			}
		})
	}
}

// brokenRadio is a radio whose listening fails at once, like an adapter
// unplugged while the reader starts.
type brokenRadio struct{ failed chan struct{} }

func (b brokenRadio) Listen(ctx context.Context, reader string, found func(Candidate)) error {
	defer close(b.failed)
	return errors.New("adapter gone")
}

// The dashboard asks the manager how each access point's reader is doing.
func TestManagerReaderState(t *testing.T) {
	sim := newFakeRadio()
	broken := brokenRadio{failed: make(chan struct{})}
	m := NewManager(ManagerOptions{Radios: map[string]Radio{RadioSim: sim, "hci0": broken}, Exchanger: echoExchanger})
	t.Cleanup(func() { m.Close() })
	if err := m.Sync([]ReaderConfig{{ID: 1, Name: "Front", Binding: "sim:front"}, {ID: 2, Name: "Gate", Binding: "hci0"}}); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	recv(t, sim.listening, "the front reader")
	<-broken.failed
	// Run returns just after Listen does: wait for the manager to see it.
	for m.Reader(2) != nil {
		time.Sleep(time.Millisecond)
	}

	tests := []struct {
		name string
		ap   access.AccessPoint
		want access.ReaderState
	}{
		{"running", access.AccessPoint{ID: 1, Reader: "sim:front"}, access.ReaderListening},
		{"its radio failed", access.AccessPoint{ID: 2, Reader: "hci0"}, access.ReaderStopped},
		{"no such adapter here", access.AccessPoint{ID: 3, Reader: "hci1"}, access.ReaderNoRadio},
		{"not started yet", access.AccessPoint{ID: 4, Reader: "sim:back"}, access.ReaderStopped},
		{"rebound, not yet moved", access.AccessPoint{ID: 1, Reader: "sim:yard"}, access.ReaderStopped},
		{"no binding", access.AccessPoint{ID: 5}, access.ReaderStopped},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := m.ReaderState(tt.ap); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

// TestManagerRefreshFollowsAtOnce: Refresh brings the readers in line with
// the access points before it returns, without waiting for Follow's poll.
func TestManagerRefreshFollowsAtOnce(t *testing.T) {
	sim := newFakeRadio()
	m := NewManager(ManagerOptions{Radios: map[string]Radio{RadioSim: sim}, Exchanger: echoExchanger})
	t.Cleanup(func() { m.Close() })
	var aps []ReaderConfig // changed only between Refresh calls
	m.Follow(time.Hour, func(context.Context) ([]ReaderConfig, error) { return aps, nil })
	running := func() []int64 {
		var ids []int64
		for _, rc := range m.Running() {
			ids = append(ids, rc.ID)
		}
		return ids
	}

	aps = []ReaderConfig{{ID: 1, Name: "Front", Binding: "sim:front"}}
	m.Refresh()
	if got := running(); !slices.Equal(got, []int64{1}) {
		t.Fatalf("after adding the front door: running %v, want [1]", got)
	}
	aps = []ReaderConfig{{ID: 1, Name: "Front", Binding: "sim:front", Mode: access.ModeTouch}, {ID: 2, Name: "Back", Binding: "sim:back"}}
	m.Refresh()
	if got := running(); !slices.Equal(got, []int64{1, 2}) {
		t.Fatalf("after adding the back door: running %v, want [1 2]", got)
	}
	if mode := m.Reader(1).Config().Mode; mode != access.ModeTouch {
		t.Errorf("front door's mode %q, want touch", mode)
	}
	aps = aps[1:]
	m.Refresh()
	if got := running(); !slices.Equal(got, []int64{2}) {
		t.Fatalf("after removing the front door: running %v, want [2]", got)
	}
}
