package docker

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// localBinaries are the server binaries found on this machine.
type localBinaries struct {
	redisServer string // path of redis-server
	pgBin       string // directory holding initdb and postgres
	pgVersion   string // e.g. "15.18", from postgres --version
}

func (b *localBinaries) String() string {
	return fmt.Sprintf("found %s and PostgreSQL %s in %s", b.redisServer, b.pgVersion, b.pgBin)
}

// findLocal finds redis-server in PATH, and initdb and postgres in PATH, in
// `pg_config --bindir`, or in the highest version of
// /usr/lib/postgresql/*/bin. The error says what is missing and how to fix
// it.
func findLocal() (*localBinaries, error) {
	var missing []string
	b := &localBinaries{}
	if p, err := exec.LookPath("redis-server"); err == nil {
		b.redisServer = p
	} else {
		missing = append(missing, "redis-server not found in PATH: run `make deps`, or set "+EnvRedisURL+" (with "+EnvPostgresURL+")")
	}
	if dir, ok := findPostgresBin(); ok {
		b.pgBin = dir
		v, err := postgresVersion(dir)
		if err != nil {
			missing = append(missing, err.Error())
		}
		b.pgVersion = v
	} else {
		missing = append(missing, "PostgreSQL server (initdb, postgres) not found in PATH, `pg_config --bindir` or /usr/lib/postgresql/*/bin: run `make deps`, or set "+EnvPostgresURL+" (with "+EnvRedisURL+")")
	}
	if len(missing) > 0 {
		return nil, errors.New(strings.Join(missing, "; "))
	}
	return b, nil
}

// findPostgresBin returns the directory holding both initdb and postgres.
func findPostgresBin() (string, bool) {
	hasBoth := func(dir string) bool {
		for _, name := range []string{"initdb", "postgres"} {
			if fi, err := os.Stat(filepath.Join(dir, name)); err != nil || fi.IsDir() || fi.Mode()&0o111 == 0 {
				return false
			}
		}
		return true
	}
	// PATH: follow symlinks, since Debian links /usr/lib/postgresql/N/bin
	// binaries elsewhere and postgres finds its files relative to itself.
	if p, err := exec.LookPath("postgres"); err == nil {
		if real, err := filepath.EvalSymlinks(p); err == nil && hasBoth(filepath.Dir(real)) {
			return filepath.Dir(real), true
		}
		if hasBoth(filepath.Dir(p)) {
			return filepath.Dir(p), true
		}
	}
	if p, err := exec.LookPath("pg_config"); err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		out, err := exec.CommandContext(ctx, p, "--bindir").Output()
		cancel()
		if dir := strings.TrimSpace(string(out)); err == nil && dir != "" && hasBoth(dir) {
			return dir, true
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return versionLess(dirs[j], dirs[i]) })
	for _, d := range dirs {
		if hasBoth(d) {
			return d, true
		}
	}
	return "", false
}

// versionLess orders /usr/lib/postgresql/N/bin paths by the number N.
func versionLess(a, b string) bool {
	na, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(a)), 64)
	nb, _ := strconv.ParseFloat(filepath.Base(filepath.Dir(b)), 64)
	return na < nb
}

var (
	pgVersionRE    = regexp.MustCompile(`\(PostgreSQL\) ([0-9][0-9A-Za-z.]*)`)
	pgVersionCache sync.Map // bin dir -> version
)

// postgresVersion returns the version printed by bindir/postgres --version.
func postgresVersion(bindir string) (string, error) {
	if v, ok := pgVersionCache.Load(bindir); ok {
		return v.(string), nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, filepath.Join(bindir, "postgres"), "--version").Output()
	if err != nil {
		return "", fmt.Errorf("%s --version: %w", filepath.Join(bindir, "postgres"), err)
	}
	m := pgVersionRE.FindSubmatch(out)
	if m == nil {
		return "", fmt.Errorf("%s --version: unexpected output %q", filepath.Join(bindir, "postgres"), strings.TrimSpace(string(out)))
	}
	pgVersionCache.Store(bindir, string(m[1]))
	return string(m[1]), nil
}
