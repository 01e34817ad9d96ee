package main

import (
	"context"
	"flag"
	"path/filepath"
	"strings"
	"text/template"
)

// service prints the systemd unit that runs the appliance as a service.
// docs/postern.service is its output with the defaults.
func service(_ context.Context, args []string, std stdio) error {
	if len(args) == 0 || args[0] != "print" {
		return exitf(2, "usage: postern service print [--binary PATH] [--user NAME] [--data DIR] [--env-file FILE]")
	}
	fs := flag.NewFlagSet("service print", flag.ContinueOnError)
	fs.SetOutput(std.err)
	var u unitConfig
	fs.StringVar(&u.Binary, "binary", "/usr/local/bin/postern", "where the postern binary is installed")
	fs.StringVar(&u.User, "user", "postern", "the system user the service runs as (create it with useradd --system)")
	fs.StringVar(&u.Data, "data", "/var/lib/postern", "the data folder")
	fs.StringVar(&u.EnvFile, "env-file", "/etc/postern/postern.env", "file of POSTERN_<FLAG>=value lines: serve's settings")
	if err := parseFlags(fs, args[1:]); err != nil {
		return exitQuiet(2)
	}
	for name, p := range map[string]string{"--binary": u.Binary, "--data": u.Data, "--env-file": u.EnvFile} {
		if !filepath.IsAbs(p) || strings.ContainsAny(p, " \t\n\"'\\%$") {
			return exitf(2, "%s %q: want an absolute path without spaces, quotes or %% (systemd reads them)", name, p)
		}
	}
	if u.User == "" || strings.ContainsAny(u.User, " \t\n") {
		return exitf(2, "--user %q: want a user name", u.User)
	}
	// systemd makes and owns a folder under /var/lib itself; elsewhere the
	// folder must exist and is only opened for writing.
	if rest, ok := strings.CutPrefix(filepath.Clean(u.Data), "/var/lib/"); ok {
		u.StateDirectory = rest
	}
	return unitTemplate.Execute(std.out, u)
}

// unitConfig fills the unit's template.
type unitConfig struct {
	Binary, User, Data, EnvFile string
	StateDirectory              string // set when Data is under /var/lib
}

var unitTemplate = template.Must(template.New("unit").Parse(`# Postern, the access-control appliance, as a systemd service.
# Written by "postern service print"; install and upgrade as docs/deploy.md says:
#   useradd --system --home-dir {{.Data}} --shell /usr/sbin/nologin {{.User}}
#   postern service print > /etc/systemd/system/postern.service
#   systemctl daemon-reload && systemctl enable --now postern
# Settings are POSTERN_<FLAG>=value lines in {{.EnvFile}}, such as
# POSTERN_RADIO=hci0 (an explicit adapter: auto would fall back to the
# simulated air) and POSTERN_LISTEN=:443.

[Unit]
Description=Postern access control
Wants=network-online.target
After=network-online.target
# BlueZ must not hold the adapters Postern uses (docs/hardware.md). Where
# BlueZ serves another adapter, remove this and keep it off Postern's.
Conflicts=bluetooth.service

[Service]
Type=exec
User={{.User}}
Group={{.User}}
Environment=POSTERN_DATA={{.Data}}
EnvironmentFile=-{{.EnvFile}}
ExecStart={{.Binary}} serve
Restart=on-failure
RestartSec=5s
# Shutdown finishes requests, stops the readers and closes the database.
TimeoutStopSec=30s
{{- if .StateDirectory}}
StateDirectory={{.StateDirectory}}
StateDirectoryMode=0700
{{- else}}
ReadWritePaths={{.Data}}
{{- end}}
UMask=0077

# The Bluetooth adapter needs CAP_NET_ADMIN and CAP_NET_RAW (raw HCI
# sockets), ports 80 and 443 CAP_NET_BIND_SERVICE; nothing else.
AmbientCapabilities=CAP_NET_ADMIN CAP_NET_RAW CAP_NET_BIND_SERVICE
CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW CAP_NET_BIND_SERVICE
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
# A door command that drives a USB relay or GPIO needs its device:
# PrivateDevices=no and DeviceAllow=/dev/ttyUSB0 rw (for example).
PrivateDevices=yes
ProtectKernelTunables=yes
ProtectKernelModules=yes
ProtectKernelLogs=yes
ProtectControlGroups=yes
ProtectClock=yes
ProtectHostname=yes
ProtectProc=invisible
RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK AF_BLUETOOTH
RestrictNamespaces=yes
RestrictRealtime=yes
RestrictSUIDSGID=yes
LockPersonality=yes
MemoryDenyWriteExecute=yes
SystemCallArchitectures=native
SystemCallFilter=@system-service
SystemCallErrorNumber=EPERM

[Install]
WantedBy=multi-user.target
`))
