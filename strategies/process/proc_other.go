//go:build unix && !linux

package process

import "syscall"

func sysProcAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

// monotonicNs: commit instants from a process are used on Linux only.
func monotonicNs() (int64, bool) { return 0, false }

func waitStopped(int) {}
