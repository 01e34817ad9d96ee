//go:build unix

package ble

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestExecDoorKillsTheScriptsChildren(t *testing.T) {
	pidFile := filepath.Join(t.TempDir(), "pid")
	d := ExecDoor{Command: "sleep 600 & echo $! > " + pidFile + "; wait", Limit: 300 * time.Millisecond}
	if err := d.Pulse(context.Background(), DoorInfo{ID: 1, Name: "Front"}, time.Second); err == nil {
		t.Fatal("a hung script finished without error")
	}
	b, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	// The child is killed with the group; until something reaps it, it is
	// a zombie, which is as dead as we need.
	deadline := time.Now().Add(guard)
	for alive(pid) {
		if time.Now().After(deadline) {
			syscall.Kill(pid, syscall.SIGKILL)
			t.Fatalf("the script's child %d outlived the door command", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func alive(pid int) bool {
	if syscall.Kill(pid, 0) != nil {
		return false
	}
	stat, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true // no /proc: trust kill
	}
	// pid (comm) state ...: the state follows the last ')'.
	s := string(stat)
	i := strings.LastIndexByte(s, ')')
	return i < 0 || i+2 >= len(s) || s[i+2] != 'Z'
}
