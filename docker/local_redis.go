package docker

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// startLocalRedis starts redis-server on a free port, with its working
// directory in dir/redis.
func startLocalRedis(ctx context.Context, cfg *Config, bins *localBinaries, dir string) (*localServer, error) {
	rdir := filepath.Join(dir, "redis")
	if err := os.Mkdir(rdir, 0o700); err != nil {
		return nil, fmt.Errorf("redis: %w", err)
	}
	return startWithPortRetry(ctx, func(port int) *localServer {
		addr := fmt.Sprintf("127.0.0.1:%d", port)
		return &localServer{
			name:    "redis",
			port:    port,
			logPath: filepath.Join(dir, "redis.log"),
			spec: procSpec{
				path:    bins.redisServer,
				args:    redisArgs(rdir, port, cfg.Redis),
				dir:     rdir,
				logPath: filepath.Join(dir, "redis.log"),
			},
			stopSignal: syscall.SIGTERM,
			ready:      func(ctx context.Context) error { return PingRedis(ctx, addr) },
			// Redis has no persistence here; removing any dump makes sure a
			// restarted server starts empty whatever the configuration.
			prepare: func() error {
				for _, f := range []string{"dump.rdb", "appendonly.aof", "appendonlydir"} {
					if err := os.RemoveAll(filepath.Join(rdir, f)); err != nil {
						return err
					}
				}
				return nil
			},
			logf: cfg.Logf,
		}
	})
}

// redisArgs returns the command line of a local redis-server: loopback
// only, protected mode, no persistence, no Unix socket, log to standard
// output (the log file), and the settings.
func redisArgs(dir string, port int, s RedisSettings) []string {
	args := []string{
		"--port", strconv.Itoa(port),
		"--bind", "127.0.0.1",
		"--protected-mode", "yes",
		"--save", "",
		"--appendonly", "no",
		"--dir", dir,
		"--daemonize", "no",
		"--logfile", "",
	}
	return append(args, s.args()...)
}
