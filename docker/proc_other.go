//go:build !linux

package docker

import "syscall"

// sysProcAttr puts the child in a process group of its own and runs it as
// cred when given. Outside Linux there is no parent-death signal: a harness
// killed with SIGKILL leaves its servers running until the next Provision
// reaps their directories.
func sysProcAttr(cred *syscall.Credential) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Credential: cred}
}

// isZombie cannot tell outside Linux; it reports false.
func isZombie(pid int) bool { return false }

// childrenOf cannot list children outside Linux; signals reach the process
// group only.
func childrenOf(pid int) []int { return nil }

// isTmpfs reports false outside Linux: instance directories go to
// os.TempDir().
func isTmpfs(dir string) bool { return false }
