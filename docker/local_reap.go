package docker

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// instancePrefix starts the name of every instance directory; the owner's
// process id follows, so that the next Provision can remove directories of
// a harness that was killed.
const instancePrefix = "ghostbench-"

// ownerFile marks an instance directory and holds the owner's process id.
const ownerFile = "ghostbench-owner"

// memoryDir is a tmpfs present on most Linux systems.
const memoryDir = "/dev/shm"

// instanceBases are the directories that may hold instance directories.
func instanceBases() []string { return []string{os.TempDir(), memoryDir} }

// reapStale removes instance directories whose owning harness is gone (it
// was killed before it could clean up; its servers died with it), and
// template builds abandoned for more than ten minutes.
func reapStale(logf func(string, ...any)) {
	var dirs []string
	for _, base := range instanceBases() {
		m, _ := filepath.Glob(filepath.Join(base, instancePrefix+"*"))
		dirs = append(dirs, m...)
	}
	for _, d := range dirs {
		base := filepath.Base(d)
		if strings.HasPrefix(base, templatePrefix) {
			if strings.Contains(base, ".tmp-") || strings.Contains(base, ".stale-") {
				if fi, err := os.Stat(d); err == nil && time.Since(fi.ModTime()) > 10*time.Minute {
					_ = os.RemoveAll(d)
				}
			}
			continue
		}
		b, err := os.ReadFile(filepath.Join(d, ownerFile))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid == os.Getpid() || ownerAlive(pid) {
			continue
		}
		releasePostgresShm(context.Background(), filepath.Join(d, "pgdata"))
		if err := os.RemoveAll(d); err == nil {
			logf("removed %s, left by process %d which is gone", d, pid)
		}
	}
}

// ownerAlive reports whether the process that owns an instance directory
// still runs (EPERM means it does, under another user).
func ownerAlive(pid int) bool {
	err := syscall.Kill(pid, 0)
	return (err == nil || errors.Is(err, syscall.EPERM)) && !isZombie(pid)
}
