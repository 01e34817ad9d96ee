package main

import (
	"bytes"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"postern/store"
)

func printUnit(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(append([]string{"service", "print"}, args...), stdio{in: strings.NewReader(""), out: &out, err: &errb})
	return out.String(), errb.String(), code
}

// unitValues returns every value of key in a unit file, in order.
func unitValues(unit, key string) []string {
	var out []string
	for line := range strings.Lines(unit) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), key+"="); ok {
			out = append(out, v)
		}
	}
	return out
}

// TestServiceUnitMatchesDocs: the unit in docs/ is what the command prints,
// so neither drifts from the other.
func TestServiceUnitMatchesDocs(t *testing.T) {
	got, errs, code := printUnit(t)
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	want, err := os.ReadFile("docs/postern.service")
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("docs/postern.service differs from `postern service print`; regenerate it with\n  go run . service print > docs/postern.service")
	}
}

// TestServiceUnitHardening: a dedicated user, the data folder, a read-only
// system, no new privileges, and exactly the capabilities the Bluetooth
// adapter and the low ports need.
func TestServiceUnitHardening(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want map[string]string // key → its one value
	}{
		{name: "defaults", want: map[string]string{
			"User": "postern", "Group": "postern", "ExecStart": "/usr/local/bin/postern serve",
			"Environment": "POSTERN_DATA=/var/lib/postern", "StateDirectory": "postern", "StateDirectoryMode": "0700",
			"ProtectSystem": "strict", "NoNewPrivileges": "yes", "ProtectHome": "yes", "PrivateTmp": "yes",
			"CapabilityBoundingSet": "CAP_NET_ADMIN CAP_NET_RAW CAP_NET_BIND_SERVICE",
			"AmbientCapabilities":   "CAP_NET_ADMIN CAP_NET_RAW CAP_NET_BIND_SERVICE",
			"EnvironmentFile":       "-/etc/postern/postern.env", "Restart": "on-failure", "Conflicts": "bluetooth.service",
		}},
		{name: "a data folder elsewhere", args: []string{"--data", "/srv/postern", "--user", "doors", "--binary", "/opt/postern/bin/postern"}, want: map[string]string{
			"User": "doors", "ExecStart": "/opt/postern/bin/postern serve", "Environment": "POSTERN_DATA=/srv/postern",
			"ReadWritePaths": "/srv/postern", "ProtectSystem": "strict",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			unit, errs, code := printUnit(t, tt.args...)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errs)
			}
			for k, v := range tt.want {
				if got := unitValues(unit, k); !slices.Equal(got, []string{v}) {
					t.Errorf("%s: got %q, want [%q]", k, got, v)
				}
			}
			if tt.want["ReadWritePaths"] != "" && len(unitValues(unit, "StateDirectory")) != 0 {
				t.Error("StateDirectory outside /var/lib")
			}
		})
	}
}

func TestServiceRefusesBadArguments(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr string
	}{
		{nil, "usage: postern service print"},
		{[]string{"install"}, "usage: postern service print"},
		{[]string{"print", "--data", "postern-data"}, "absolute path"},
		{[]string{"print", "--binary", "/opt/my postern"}, "without spaces"},
		{[]string{"print", "--user", ""}, "want a user name"},
	}
	for _, tt := range tests {
		var out, errb bytes.Buffer
		code := run(append([]string{"service"}, tt.args...), stdio{in: strings.NewReader(""), out: &out, err: &errb})
		if code != 2 || !strings.Contains(errb.String(), tt.wantErr) || out.Len() != 0 {
			t.Errorf("%v: got exit %d, %q; want exit 2 with %q and no unit", tt.args, code, errb.String(), tt.wantErr)
		}
	}
}

// TestServeRefusesNewerDatabase: going back to an older binary after an
// upgrade stops at start with a message, and leaves the database as it was,
// as docs/deploy.md's upgrade path says.
func TestServeRefusesNewerDatabase(t *testing.T) {
	data := t.TempDir()
	if _, errs, code := postern(t, "correct horse battery\n", "admin", "create", "--data", data, "--email", "ann@example.com"); code != 0 {
		t.Fatalf("admin create: %s", errs)
	}
	db, err := sql.Open("sqlite", filepath.Join(data, store.FileName))
	if err != nil {
		t.Fatal(err)
	}
	newer := store.SchemaVersion() + 1
	if _, err := db.Exec(fmt.Sprintf("PRAGMA user_version = %d", newer)); err != nil {
		t.Fatal(err)
	}
	db.Close()

	_, errs, code := postern(t, "", "serve", "--data", data, "--listen", freeAddr(t), "--radio", "sim", "--air", freeAddr(t))
	if code != 1 || !strings.Contains(errs, fmt.Sprintf("schema version %d is newer than this postern", newer)) {
		t.Errorf("got exit %d, %q; want exit 1 naming the newer schema", code, errs)
	}
	db, _ = sql.Open("sqlite", filepath.Join(data, store.FileName))
	defer db.Close()
	var v int
	if err := db.QueryRow("PRAGMA user_version").Scan(&v); err != nil || v != newer {
		t.Errorf("user_version after the refusal: %d, %v; want %d untouched", v, err, newer)
	}
}
