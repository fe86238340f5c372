package docker

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// templatePrefix starts the name of the cached initdb output, which
// os.TempDir()/ghostbench-pgtemplate-<version>-<uid> holds.
const templatePrefix = "ghostbench-pgtemplate-"

// templateStamp is written into a finished template; a template with
// another stamp (an older layout) is rebuilt.
const templateStamp = "ghostbench template v2: initdb -U " + localPostgresUser +
	" -A trust -E UTF8 --locale=C --no-sync; ALTER DATABASE postgres RENAME TO " + localPostgresDB + "\n"

// startLocalPostgres copies the cached template into dir/pgdata and starts
// postgres on a free port.
func startLocalPostgres(ctx context.Context, cfg *Config, bins *localBinaries, run runUser, dir string) (*localServer, error) {
	tmpl, err := postgresTemplate(ctx, bins, run, cfg.Logf)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	data := filepath.Join(dir, "pgdata")
	if err := copyTree(ctx, tmpl, data, run); err != nil {
		return nil, fmt.Errorf("postgres: copy template: %w", err)
	}
	return startWithPortRetry(ctx, func(port int) *localServer {
		pgURL, _ := loopbackURLs(port, 0, localPostgresUser, "", localPostgresDB)
		return &localServer{
			name:    "postgres",
			port:    port,
			logPath: filepath.Join(dir, "postgres.log"),
			spec: procSpec{
				path:    filepath.Join(bins.pgBin, "postgres"),
				args:    postgresArgs(data, port, cfg.Postgres),
				dir:     dir,
				logPath: filepath.Join(dir, "postgres.log"),
				cred:    run.cred,
			},
			stopSignal: syscall.SIGINT, // fast shutdown
			ready:      func(ctx context.Context) error { return pingPostgres(ctx, pgURL) },
			cleanup:    func(ctx context.Context) { releasePostgresShm(ctx, data) },
			logf:       cfg.Logf,
		}
	})
}

// postgresArgs returns the command line of a local postgres: loopback TCP
// only, no Unix socket, dynamic shared memory in files under the data
// directory (removed with it, unlike POSIX segments a killed server leaves
// in /dev/shm), and the settings.
func postgresArgs(data string, port int, s PostgresSettings) []string {
	args := []string{"-D", data, "-p", strconv.Itoa(port),
		"-c", "listen_addresses=127.0.0.1",
		"-c", "unix_socket_directories=",
		"-c", "dynamic_shared_memory_type=mmap",
		"-c", "logging_collector=off",
	}
	for _, kv := range s.args() {
		args = append(args, "-c", kv)
	}
	return args
}

// postgresTemplate returns the data directory of a cluster made by initdb
// once per PostgreSQL version and user, and cached in os.TempDir(). Test
// binaries running in parallel share it: a lock file serialises the build,
// and the finished template appears by an atomic rename.
func postgresTemplate(ctx context.Context, bins *localBinaries, run runUser, logf func(string, ...any)) (string, error) {
	name := filepath.Join(os.TempDir(), fmt.Sprintf("%s%s-%d", templatePrefix, bins.pgVersion, os.Geteuid()))
	if templateValid(name) {
		return filepath.Join(name, "data"), nil
	}
	unlock, err := lockFile(ctx, name+".lock")
	if err != nil {
		return "", err
	}
	defer unlock()
	if templateValid(name) {
		return filepath.Join(name, "data"), nil
	}
	if _, err := os.Stat(name); err == nil {
		stale := fmt.Sprintf("%s.stale-%d-%d", name, os.Getpid(), time.Now().UnixNano())
		if err := os.Rename(name, stale); err != nil {
			return "", fmt.Errorf("move invalid template %s aside: %w", name, err)
		}
		_ = os.RemoveAll(stale)
	}
	start := time.Now()
	tmp, err := os.MkdirTemp(os.TempDir(), filepath.Base(name)+".tmp-")
	if err != nil {
		return "", fmt.Errorf("make template directory: %w", err)
	}
	defer os.RemoveAll(tmp) // a no-op after the rename succeeded
	if err := run.chown(tmp); err != nil {
		return "", fmt.Errorf("give %s to the postgres user: %w", tmp, err)
	}
	data := filepath.Join(tmp, "data")
	logPath := filepath.Join(tmp, "initdb.log")
	steps := []procSpec{{
		path: filepath.Join(bins.pgBin, "initdb"),
		args: []string{"-D", data, "-U", localPostgresUser, "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync"},
	}, {
		path: filepath.Join(bins.pgBin, "postgres"),
		args: []string{"--single", "-D", data, "-F", "-c", "exit_on_error=true", "template1"},
		// Renaming rather than creating the database keeps the template
		// smaller: copying it is most of the time a local start takes.
		stdin: "ALTER DATABASE postgres RENAME TO " + localPostgresDB + ";\n",
	}}
	for _, st := range steps {
		st.dir, st.logPath, st.cred = tmp, logPath, run.cred
		offset := logSize(logPath)
		p, err := startProc(st)
		if err != nil {
			return "", fmt.Errorf("build template: %w", err)
		}
		if !p.wait(ctx, 2*time.Minute) {
			_ = p.kill(context.WithoutCancel(ctx))
			if ctx.Err() != nil {
				return "", fmt.Errorf("build template: %w", ctx.Err())
			}
			return "", fmt.Errorf("build template: %s took more than 2 minutes", filepath.Base(st.path))
		}
		if p.err != nil {
			return "", fmt.Errorf("build template: %s %s: %v; log: %s", filepath.Base(st.path), strings.Join(st.args, " "), p.err, logTail(logPath, offset, 6))
		}
	}
	if err := os.WriteFile(filepath.Join(tmp, "stamp"), []byte(templateStamp), 0o644); err != nil {
		return "", fmt.Errorf("build template: %w", err)
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return "", fmt.Errorf("build template: %w", err)
	}
	if err := os.Rename(tmp, name); err != nil {
		return "", fmt.Errorf("build template: %w", err)
	}
	logf("built PostgreSQL %s template %s in %v", bins.pgVersion, name, time.Since(start).Round(time.Millisecond))
	return filepath.Join(name, "data"), nil
}

// templateValid reports whether dir holds a finished template of the
// current layout.
func templateValid(dir string) bool {
	b, err := os.ReadFile(filepath.Join(dir, "stamp"))
	if err != nil || string(b) != templateStamp {
		return false
	}
	_, err = os.Stat(filepath.Join(dir, "data", "PG_VERSION"))
	return err == nil
}

// lockFile takes an exclusive flock on path, polling so that ctx can
// cancel the wait, and returns the function that releases it.
func lockFile(ctx context.Context, path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, fmt.Errorf("open lock %s: %w", path, err)
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() {
				_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
				f.Close()
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("wait for lock %s: %w", path, ctx.Err())
		case <-tick.C:
		}
	}
}

// copyTree copies the directory tree src to dst (which must not exist),
// keeping permission bits, giving everything to run's user. The top
// directory gets mode 0700, as PostgreSQL requires of a data directory.
func copyTree(ctx context.Context, src, dst string, run runUser) error {
	return filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			mode := info.Mode().Perm()
			if rel == "." {
				mode = 0o700
			}
			if err := os.Mkdir(target, mode); err != nil {
				return err
			}
		case d.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(path)
			if err != nil {
				return err
			}
			if err := os.Symlink(link, target); err != nil {
				return err
			}
		case d.Type().IsRegular():
			if err := copyFile(path, target, info.Mode().Perm()); err != nil {
				return err
			}
		default:
			return fmt.Errorf("%s: unexpected file type %v", path, d.Type())
		}
		return run.chown(target)
	})
}

// copyFile copies one regular file; on Linux io.Copy between files uses
// copy_file_range, which keeps the copy in the kernel.
func copyFile(src, dst string, perm fs.FileMode) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_CREATE|os.O_EXCL|os.O_WRONLY, perm)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// releasePostgresShm removes the System V shared memory segment that a
// postgres killed with SIGKILL leaves behind, once no process is attached
// to it any more. PostgreSQL records the segment's id in postmaster.pid;
// after a clean or immediate shutdown the file is gone and there is nothing
// to do. It returns an error only for the record (callers go on anyway).
func releasePostgresShm(ctx context.Context, data string) error {
	b, err := os.ReadFile(filepath.Join(data, "postmaster.pid"))
	if err != nil {
		return nil
	}
	lines := strings.Split(string(b), "\n")
	if len(lines) < 7 {
		return nil
	}
	f := strings.Fields(lines[6]) // "key id"
	if len(f) != 2 {
		return nil
	}
	key, err1 := strconv.ParseInt(f[0], 10, 64)
	id, err2 := strconv.Atoi(f[1])
	if err1 != nil || err2 != nil || id < 0 {
		return nil
	}
	var ds unix.SysvShmDesc
	if _, err := unix.SysvShmCtl(id, unix.IPC_STAT, &ds); err != nil || int64(ds.Perm.Key) != key {
		return nil // gone, or the id now belongs to another segment
	}
	deadline := time.Now().Add(5 * time.Second)
	tick := time.NewTicker(2 * time.Millisecond)
	defer tick.Stop()
	for {
		if _, err := unix.SysvShmCtl(id, unix.IPC_STAT, &ds); err != nil {
			return nil // already gone
		}
		if ds.Nattch == 0 || time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
	}
	// IPC_RMID on a segment still attached destroys it when the last
	// process detaches.
	if _, err := unix.SysvShmCtl(id, unix.IPC_RMID, nil); err != nil {
		return fmt.Errorf("remove shared memory segment %d: %w", id, err)
	}
	return nil
}
