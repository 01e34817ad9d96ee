//go:build unix

package ble

import (
	"syscall"
	"time"
)

// cpuTime is the CPU time this process has used, user and system: what a
// benchmark on a machine shared with other work can compare fairly.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
