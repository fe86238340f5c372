//go:build unix

package process

import (
	"os/exec"
	"syscall"
)

// setGroup puts the child in a process group of its own, so that killing
// the group kills what it started too.
func setGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = sysProcAttr()
}

// signalGroup sends sig to the child's process group.
func signalGroup(pid int, sig syscall.Signal) error {
	return syscall.Kill(-pid, sig)
}
