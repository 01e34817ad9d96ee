//go:build !unix

package ble

import "os/exec"

// killGroup leaves the default (kill the shell only) where there are no
// process groups.
func killGroup(cmd *exec.Cmd) {}
