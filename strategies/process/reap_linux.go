package process

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// The harness makes itself a child subreaper (PR_SET_CHILD_SUBREAPER): a
// process that a strategy's process started and that outlived its parent
// (a daemon that called setsid, a double fork) is reparented to the harness
// instead of to init, so that it stays in reach: found, killed and reaped
// at the end of the run.
var subreaperOnce sync.Once

func becomeSubreaper() {
	subreaperOnce.Do(func() {
		_ = unix.Prctl(unix.PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0)
	})
}

// procStat is what /proc/<pid>/stat says of a process.
type procStat struct {
	pid, ppid, pgid int
	state           byte
	start           uint64 // start time in clock ticks since boot: with pid, an identity
}

// readStat reads /proc/<pid>/stat; ok=false when the process is gone.
func readStat(pid int) (procStat, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, false
	}
	// The command name is in parentheses and may hold anything: the
	// fields after the last ')' are fixed.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return procStat{}, false
	}
	f := strings.Fields(string(b[i+2:]))
	// state ppid pgrp session tty_nr tpgid flags minflt cminflt majflt
	// cmajflt utime stime cutime cstime priority nice num_threads
	// itrealvalue starttime: starttime is field 22 of the line, index 19
	// here.
	if len(f) < 20 || len(f[0]) == 0 {
		return procStat{}, false
	}
	ppid, _ := strconv.Atoi(f[1])
	pgid, _ := strconv.Atoi(f[2])
	start, _ := strconv.ParseUint(f[19], 10, 64)
	return procStat{pid: pid, ppid: ppid, pgid: pgid, state: f[0][0], start: start}, true
}

// allProcs lists every process the harness can see.
func allProcs() []procStat {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	out := make([]procStat, 0, len(ents))
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid <= 0 {
			continue
		}
		if st, ok := readStat(pid); ok {
			out = append(out, st)
		}
	}
	return out
}

// holdsMark reports whether pid's environment holds mark (an environment
// variable every process the strategy starts inherits unless it clears
// its environment).
func holdsMark(pid int, mark string) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/environ")
	if err != nil {
		return false
	}
	for _, kv := range bytes.Split(b, []byte{0}) {
		if string(kv) == mark {
			return true
		}
	}
	return false
}

// holdsPipe reports whether pid has one of the pipes (by inode) open.
func holdsPipe(pid int, pipes []string) bool {
	if len(pipes) == 0 {
		return false
	}
	dir := "/proc/" + strconv.Itoa(pid) + "/fd"
	ents, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range ents {
		l, err := os.Readlink(dir + "/" + e.Name())
		if err != nil {
			continue
		}
		for _, p := range pipes {
			if l == p {
				return true
			}
		}
	}
	return false
}

// pipeName returns the link name of f's pipe in /proc/<pid>/fd
// ("pipe:[123]"), "" if unknown.
func pipeName(f *os.File) string {
	if f == nil {
		return ""
	}
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
		return ""
	}
	return fmt.Sprintf("pipe:[%d]", st.Ino)
}

// describeProc names a process for a message: "pid 123 (sleep 600)".
func describeProc(pid int) string {
	b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/cmdline")
	cmd := strings.TrimSpace(strings.ReplaceAll(string(bytes.TrimRight(b, "\x00")), "\x00", " "))
	if cmd == "" {
		if c, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/comm"); err == nil {
			cmd = strings.TrimSpace(string(c))
		}
	}
	if len(cmd) > 160 {
		cmd = cmd[:157] + "..."
	}
	return fmt.Sprintf("pid %d (%s)", pid, cmd)
}

// family finds the processes that belong to a strategy's process root
// (the root itself excluded): its descendants, the members of its process
// group, the processes that hold mark in their environment or one of
// pipes open, the ones in known (pid to start time, remembered while the
// root still had them as descendants), and the descendants of all of
// these. Zombies are left out: they are dead. Only processes started no
// earlier than the root (since, its start time) are looked at closely.
func family(root int, since uint64, mark string, pipes []string, known map[int]uint64) map[int]procStat {
	procs := allProcs()
	self := os.Getpid()
	children := map[int][]procStat{}
	for _, p := range procs {
		children[p.ppid] = append(children[p.ppid], p)
	}
	found := map[int]procStat{}
	var add func(p procStat)
	add = func(p procStat) {
		if p.pid == root || p.pid == self || p.pid == 1 {
			return
		}
		if _, ok := found[p.pid]; ok {
			return
		}
		found[p.pid] = p
		for _, c := range children[p.pid] {
			add(c)
		}
	}
	for _, c := range children[root] {
		add(c)
	}
	for _, p := range procs {
		if _, ok := found[p.pid]; ok {
			continue
		}
		switch {
		case known[p.pid] == p.start && known[p.pid] != 0:
			add(p)
		case p.start < since:
			// Older than the root: not one of its.
		case p.pgid == root:
			add(p)
		case mark != "" && holdsMark(p.pid, mark):
			add(p)
		case holdsPipe(p.pid, pipes):
			add(p)
		}
	}
	for pid, p := range found {
		if p.state == 'Z' || p.state == 'X' {
			delete(found, pid)
			reapOrphan(p)
		}
	}
	return found
}

// reapOrphan collects a dead process that was reparented to the harness
// (its subreaper), so that no zombie of the strategy's is left.
func reapOrphan(p procStat) {
	if p.ppid != os.Getpid() {
		return
	}
	var ws syscall.WaitStatus
	_, _ = syscall.Wait4(p.pid, &ws, syscall.WNOHANG, nil)
}

// killFamily SIGKILLs every process of family(...) until none is left
// (a process may fork while it is being killed), and reaps those that
// were reparented to the harness. It returns the descriptions of the
// processes killed, read before they died.
func killFamily(root int, since uint64, mark string, pipes []string, known map[int]uint64) []string {
	var killed []string
	seen := map[int]bool{}
	for round := 0; round < 20; round++ {
		f := family(root, since, mark, pipes, known)
		if len(f) == 0 {
			break
		}
		for pid := range f {
			if !seen[pid] {
				seen[pid] = true
				killed = append(killed, describeProc(pid))
			}
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
		// SIGKILL is asynchronous: wait for each to be dead (a zombie
		// counts) before looking again.
		for _, p := range f {
			waitDead(p)
		}
	}
	return killed
}

// waitDead polls until p is gone or a zombie (reaping it if it is the
// harness's), for up to about a second.
func waitDead(p procStat) {
	for i := 0; i < 200; i++ {
		st, ok := readStat(p.pid)
		if !ok || st.start != p.start {
			return
		}
		if st.state == 'Z' || st.state == 'X' {
			reapOrphan(st)
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// snapshot returns the processes of root's family now (pid to start
// time), to be recognized later when they have left it (reparented after
// root exited).
func snapshot(root int, since uint64, mark string) map[int]uint64 {
	out := map[int]uint64{}
	for pid, p := range family(root, since, mark, nil, nil) {
		out[pid] = p.start
	}
	return out
}

// knownAlive reports whether any process of known (pid to start time) is
// alive: a cheap poll, no scan of /proc.
func knownAlive(known map[int]uint64) bool {
	for pid, start := range known {
		if st, ok := readStat(pid); ok && st.start == start && st.state != 'Z' && st.state != 'X' {
			return true
		}
	}
	return false
}

// startTime returns pid's start time (0 if unknown).
func startTime(pid int) uint64 {
	st, _ := readStat(pid)
	return st.start
}
