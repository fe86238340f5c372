// Package docker provisions the real PostgreSQL and Redis servers that
// ghostbench measures against, and tears them down again.
//
// One call, Provision, hands back a pair of servers from one of three
// providers, tried in this order unless Config.Provider (or
// GHOSTBENCH_PROVIDER) forces one:
//
//   - external: servers the user already runs, named by
//     GHOSTBENCH_POSTGRES_URL and GHOSTBENCH_REDIS_URL. The harness cannot
//     stop or pause them, so their Server.Control is nil.
//   - docker: containers, when a Docker engine answers a ping: the engine
//     is found as the docker CLI finds it (DOCKER_HOST, the current
//     context, the well-known sockets), the images (pinned by default) are
//     pulled first under the caller's context and a deadline, and ports
//     are published on 127.0.0.1 only, so engines whose loopback is not
//     this machine's are refused.
//   - local: server processes started from the binaries installed on this
//     machine (redis-server, initdb and postgres), each in a fresh temporary
//     directory and on a free loopback port.
//
// The package is named after its folder in the design (docker/, next to the
// compose file for people who run the servers by hand), although only one of
// its providers uses Docker.
//
// Settings that change results (PostgreSQL fsync, synchronous_commit,
// wal_level, max_connections; Redis maxmemory and its policy) are explicit
// configuration, and each Server reports the effective values as read back
// from the server itself, so that a run can record them.
//
// Whatever a provider starts, Servers.Close removes: processes, containers
// and temporary directories. Provision removes them itself when it fails
// halfway or its context is cancelled. Local server processes also die with
// the harness (Pdeathsig on Linux), and directories left by a harness that
// was killed are removed by the next Provision.
//
// Passwords in URLs never appear in errors, logs or output: every message
// goes through the same redaction as Server.Redacted.
package docker
