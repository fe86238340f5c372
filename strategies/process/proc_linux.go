package process

import (
	"syscall"

	"golang.org/x/sys/unix"
)

func sysProcAttr() *syscall.SysProcAttr {
	// Pdeathsig: the child dies with the harness even when the harness is
	// killed without a chance to clean up.
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// monotonicNs reads CLOCK_MONOTONIC, the clock a process reports its commit
// instants on; ok=false when it cannot be read.
func monotonicNs() (int64, bool) {
	var ts unix.Timespec
	if err := unix.ClockGettime(unix.CLOCK_MONOTONIC, &ts); err != nil {
		return 0, false
	}
	return ts.Nano(), true
}
