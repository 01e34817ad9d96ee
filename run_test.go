package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRun runs commands in-process: the dispatch and the exit codes each
// kind of failure gets.
func TestRun(t *testing.T) {
	state := filepath.Join(t.TempDir(), "k.json")
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
		wantErr  string
	}{
		{name: "no command", wantCode: 2, wantErr: "Usage:"},
		{name: "unknown command", args: []string{"frobnicate"}, wantCode: 2, wantErr: `postern: unknown command "frobnicate"`},
		{name: "version", args: []string{"version"}, wantOut: "postern "},
		{name: "help", args: []string{"--help"}, wantOut: "Usage:"},
		{name: "serve listens on this machine only by default", args: []string{"serve", "-h"}, wantCode: 1, wantErr: `(default "127.0.0.1:8080")`},
		{name: "admin without an action", args: []string{"admin"}, wantCode: 1, wantErr: "postern: admin: give create, list, remove, token, tokens, revoke-token or two-factor-off"},
		{name: "admin flag help", args: []string{"admin", "create", "-h"}, wantCode: 1, wantErr: "-email"},
		{name: "key without a state file", args: []string{"key", "status"}, wantCode: 2, wantErr: "usage: postern key --state FILE"},
		{name: "key unknown action", args: []string{"key", "--state", state, "fly"}, wantCode: 2, wantErr: `postern key: unknown command "fly"`},
		{name: "key bad flag", args: []string{"key", "--state", state, "present", "--nope"}, wantCode: 2, wantErr: "flag provided but not defined: -nope"},
		{name: "key status without a credential", args: []string{"key", "--state", state, "status"}, wantCode: 1, wantOut: "No credential"},
		{name: "key delete without a credential", args: []string{"key", "--state", state, "delete"}, wantCode: 1, wantErr: "No credential to delete"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(tt.args, stdio{in: strings.NewReader(""), out: &out, err: &errb})
			if code != tt.wantCode || !strings.Contains(out.String(), tt.wantOut) || !strings.Contains(errb.String(), tt.wantErr) {
				t.Errorf("got exit %d, stdout %q, stderr %q; want exit %d, stdout with %q, stderr with %q",
					code, out.String(), errb.String(), tt.wantCode, tt.wantOut, tt.wantErr)
			}
			if tt.wantCode != 0 && strings.Contains(errb.String(), "exit status") {
				t.Errorf("stderr %q shows the exit code's error instead of a message", errb.String())
			}
		})
	}
}

func TestReadPassword(t *testing.T) {
	got, err := readPassword(t.Context(), stdio{in: strings.NewReader("correct horse\r\nsecond line\n")})
	if err != nil || got != "correct horse" {
		t.Errorf("got %q, %v; want the first line", got, err)
	}
	if _, err := readPassword(t.Context(), stdio{in: strings.NewReader("")}); err == nil || !strings.Contains(err.Error(), "standard input") {
		t.Errorf("empty stdin: got %v, want an error asking for the password", err)
	}
}

// TestReadPasswordInterrupted: an interrupt ends a wait on a stdin that
// never says anything, now that run catches the signal.
func TestReadPasswordInterrupted(t *testing.T) {
	r, w := io.Pipe()
	defer w.Close()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := readPassword(ctx, stdio{in: r}); !errors.Is(err, context.Canceled) {
		t.Errorf("got %v, want context.Canceled", err)
	}
}

// TestKeyEnvDefaults: every key action reads its flags from POSTERN_<FLAG>
// as well, and a flag on the command line wins.
func TestKeyEnvDefaults(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "k.json")
	pin := filepath.Join(dir, "pin")
	if err := os.WriteFile(pin, []byte("correct horse 4321"), 0o600); err != nil {
		t.Fatal(err)
	}
	const code = "12345678901234567890123456789012"
	unreachable := "http://" + freeAddr(t)
	tests := []struct {
		name     string
		env      map[string]string
		args     []string
		wantCode int
		wantErr  string
	}{
		{name: "state", env: map[string]string{"POSTERN_STATE": state}, args: []string{"status"}, wantCode: 1},
		{name: "register site and pin file", env: map[string]string{"POSTERN_SITE": unreachable, "POSTERN_PIN_FILE": pin},
			args: []string{"--state", state, "register", code}, wantCode: 2, wantErr: "cannot be reached"},
		{name: "register flag wins", env: map[string]string{"POSTERN_SITE": "http://127.0.0.1:1", "POSTERN_PIN_FILE": pin},
			args: []string{"--state", state, "register", code, "--site", "not a url"}, wantCode: 1, wantErr: `--site "not a url"`},
		{name: "share names and address", env: map[string]string{"POSTERN_FIRST": "Ann", "POSTERN_ADMIN_EMAIL": "admin@other.example"},
			args: []string{"--state", state, "share"}, wantCode: 2, wantErr: "holds no credential"},
		{name: "present reader", env: map[string]string{"POSTERN_READER": "front"},
			args: []string{"--state", state, "present"}, wantCode: 2, wantErr: "holds no credential"},
		{name: "a bad value is named", env: map[string]string{"POSTERN_RSSI": "loud"},
			args: []string{"--state", state, "present", "--reader", "front"}, wantCode: 2, wantErr: "POSTERN_RSSI"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			var out, errb bytes.Buffer
			code := run(append([]string{"key"}, tt.args...), stdio{in: strings.NewReader(""), out: &out, err: &errb})
			if code != tt.wantCode || !strings.Contains(errb.String(), tt.wantErr) || strings.Contains(errb.String(), "usage:") {
				t.Errorf("got exit %d, stderr %q; want exit %d with %q and no usage line", code, errb.String(), tt.wantCode, tt.wantErr)
			}
		})
	}
}

// TestKeyInterrupted: an action cut short by an interrupt says so and
// exits 2, whatever it was waiting for.
func TestKeyInterrupted(t *testing.T) {
	pin := filepath.Join(t.TempDir(), "pin")
	if err := os.WriteFile(pin, []byte("correct horse 4321"), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	var errb bytes.Buffer
	err := key(ctx, []string{"--state", filepath.Join(t.TempDir(), "k.json"), "register", "12345678901234567890123456789012", "--site", "http://" + freeAddr(t), "--pin-file", pin}, stdio{err: &errb})
	if code := exitCode(err, &errb); code != 2 || strings.TrimSpace(errb.String()) != "Interrupted." {
		t.Errorf("got exit %d %q, want 2 and Interrupted.", code, errb.String())
	}
}
