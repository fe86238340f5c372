package docker

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// startPostgresTopology starts what the topology adds to PostgreSQL once
// the primary runs.
func (p *localPair) startPostgresTopology(ctx context.Context, cfg *Config, bins *localBinaries, run runUser) error {
	if cfg.Topology != TopologyPGReplica {
		return nil
	}
	return p.startStandby(ctx, cfg, bins, run)
}

// startStandby makes a streaming standby of the primary: pg_basebackup
// through a relay in front of the primary, then postgres in standby mode
// with the relay as primary_conninfo, ready once its WAL receiver streams.
func (p *localPair) startStandby(ctx context.Context, cfg *Config, bins *localBinaries, run runUser) error {
	relay, err := startRelay("postgres-replication", fmt.Sprintf("127.0.0.1:%d", p.postgres.port))
	if err != nil {
		return err
	}
	p.addRelay(relay)
	_, rport, _ := net.SplitHostPort(relay.Addr())
	data := filepath.Join(p.dir, "pgreplica")
	logPath := filepath.Join(p.dir, "pg_basebackup.log")
	bb := procSpec{
		path: filepath.Join(bins.pgBin, "pg_basebackup"),
		args: []string{"-h", "127.0.0.1", "-p", rport, "-U", localPostgresUser, "-D", data,
			"-X", "stream", "-c", "fast", "--no-sync", "-w"},
		dir: p.dir, logPath: logPath, cred: run.cred,
	}
	proc, err := startProc(bb)
	if err != nil {
		return fmt.Errorf("postgres replica: %w", err)
	}
	if !proc.wait(ctx, 2*time.Minute) {
		_ = proc.kill(context.WithoutCancel(ctx))
		if ctx.Err() != nil {
			return fmt.Errorf("postgres replica: pg_basebackup: %w", ctx.Err())
		}
		return errors.New("postgres replica: pg_basebackup took more than 2 minutes")
	}
	if proc.err != nil {
		return fmt.Errorf("postgres replica: pg_basebackup: %v; log: %s", proc.err, logTail(logPath, 0, 6))
	}
	signal := filepath.Join(data, "standby.signal")
	if err := os.WriteFile(signal, nil, 0o600); err != nil {
		return fmt.Errorf("postgres replica: %w", err)
	}
	if err := run.chown(signal); err != nil {
		return fmt.Errorf("postgres replica: %w", err)
	}
	conninfo := fmt.Sprintf("host=127.0.0.1 port=%s user=%s application_name=ghostbench-standby", rport, localPostgresUser)
	srv, err := startWithPortRetry(ctx, func(port int) *localServer {
		pgURL, _ := loopbackURLs(port, 0, localPostgresUser, "", localPostgresDB)
		args := append(postgresArgs(data, port, cfg.Postgres),
			"-c", "primary_conninfo="+conninfo, "-c", "hot_standby=on", "-c", "wal_receiver_status_interval=1s")
		return &localServer{
			name:    "postgres-replica",
			port:    port,
			logPath: filepath.Join(p.dir, "postgres-replica.log"),
			spec: procSpec{
				path: filepath.Join(bins.pgBin, "postgres"), args: args, dir: p.dir,
				logPath: filepath.Join(p.dir, "postgres-replica.log"), cred: run.cred,
			},
			stopSignal: syscall.SIGINT,
			ready:      func(ctx context.Context) error { return standbyStreaming(ctx, pgURL) },
			cleanup:    func(ctx context.Context) { releasePostgresShm(ctx, data) },
			logf:       cfg.Logf,
		}
	})
	if err != nil {
		return err
	}
	p.addExtra(srv)
	pgURL, _ := loopbackURLs(srv.port, 0, localPostgresUser, "", localPostgresDB)
	p.topo.PostgresReplica = &Server{Name: "postgres-replica", Addr: fmt.Sprintf("127.0.0.1:%d", srv.port), URL: pgURL, Control: srv}
	p.topo.PostgresLink = relay
	// Clients reach the primary through a relay of their own, as they
	// would through a virtual IP or a proxy: pg-failover points it at
	// the promoted standby, and clients that reconnect follow.
	front, err := startRelay("postgres-clients", fmt.Sprintf("127.0.0.1:%d", p.postgres.port))
	if err != nil {
		return err
	}
	p.addRelay(front)
	p.topo.PostgresFront = front
	return nil
}

// standbyStreaming returns nil once the standby at url answers and its WAL
// receiver streams from the primary.
func standbyStreaming(ctx context.Context, url string) error {
	var n int
	if err := queryOnce(ctx, url, "SELECT count(*) FROM pg_stat_wal_receiver WHERE status = 'streaming'", &n); err != nil {
		return err
	}
	if n == 0 {
		return errors.New("WAL receiver not streaming yet")
	}
	return nil
}
