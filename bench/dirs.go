package bench

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// NewDir creates a folder of its own in parent, named name or, when that
// exists (another run or bench of the same second, in this process or
// another), name with a random suffix ("name-3f9a1c"). The folder is made
// with an exclusive create (mkdir fails when it exists), so two callers
// never get the same one. It returns the folder's name (not its path).
func NewDir(parent, name string) (string, error) {
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return "", err
	}
	try := name
	for range 20 {
		err := os.Mkdir(filepath.Join(parent, try), 0o755)
		if err == nil {
			return try, nil
		}
		if !errors.Is(err, os.ErrExist) {
			return "", err
		}
		try = name + "-" + randomSuffix()
	}
	return "", fmt.Errorf("no new folder %s-* could be made in %s", name, parent)
}

func randomSuffix() string {
	var b [3]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// LockFile is the file in a results folder a live bench holds locked.
const LockFile = ".ghostbench.lock"

// BusyError is a results folder another live bench holds.
type BusyError struct {
	Dir string
	PID int // the holder's process id, 0 if unknown
}

func (e *BusyError) Error() string {
	who := "another ghostbench"
	if e.PID > 0 {
		who = fmt.Sprintf("ghostbench pid %d", e.PID)
	}
	return fmt.Sprintf("%s is writing a bench in %s; give another folder or wait for it", who, e.Dir)
}

// LockDir takes dir (created when missing) for one bench: an exclusive
// advisory lock (flock) on LockFile inside it, held until unlock is called
// or the process ends, however it ends (the file stays; its lock goes). It returns a *BusyError when
// another live bench holds the folder. Take it before clearing or writing
// anything in the folder.
func LockDir(dir string) (unlock func(), err error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	path := filepath.Join(dir, LockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|syscall.O_NOFOLLOW, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		b := make([]byte, 32)
		n, _ := f.ReadAt(b, 0)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			pid, _ := strconv.Atoi(strings.TrimSpace(string(b[:n])))
			return nil, &BusyError{Dir: dir, PID: pid}
		}
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	_ = f.Truncate(0)
	_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	return func() { f.Close() }, nil
}
