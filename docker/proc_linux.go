package docker

import (
	"bytes"
	"os"
	"strconv"
	"syscall"
)

// sysProcAttr puts the child in a process group of its own, kills it with
// SIGKILL when the harness dies, and runs it as cred when given.
func sysProcAttr(cred *syscall.Credential) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{
		Setpgid:    true,
		Pdeathsig:  syscall.SIGKILL,
		Credential: cred,
	}
}

// procStat returns the state and the parent id of a process from
// /proc/<pid>/stat, and false when it cannot be read.
func procStat(pid int) (state byte, ppid int, ok bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, 0, false
	}
	// The command name is in parentheses and may contain anything; the
	// fields after the last ')' are: state ppid pgrp ...
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, false
	}
	f := bytes.Fields(b[i+1:])
	if len(f) < 2 || len(f[0]) != 1 {
		return 0, 0, false
	}
	pp, err := strconv.Atoi(string(f[1]))
	if err != nil {
		return 0, 0, false
	}
	return f[0][0], pp, true
}

// isZombie reports whether pid is a zombie (or dead) process.
func isZombie(pid int) bool {
	st, _, ok := procStat(pid)
	return ok && (st == 'Z' || st == 'X')
}

// childrenOf returns the ids of the live direct children of pid.
func childrenOf(pid int) []int {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []int
	for _, e := range ents {
		c, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, pp, ok := procStat(c); ok && pp == pid && st != 'Z' && st != 'X' {
			out = append(out, c)
		}
	}
	return out
}

// isTmpfs reports whether dir is a writable directory on a tmpfs.
func isTmpfs(dir string) bool {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return false
	}
	const tmpfsMagic = 0x01021994
	return st.Type == tmpfsMagic && syscall.Access(dir, 0x2 /* W_OK */) == nil
}
