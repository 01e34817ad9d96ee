//go:build unix

package ble

import (
	"os/exec"
	"syscall"
)

// killGroup makes the command's context end kill its whole process group:
// `sh -c` forks the real work, and killing only the shell would leave a hung
// script holding the relay.
func killGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error {
		return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
}
