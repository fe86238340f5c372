// Package faults injects the faults a scenario schedules into a run against
// real servers: Redis stopped, out of memory, slow, losing replies,
// partitioned, crashed or frozen; PostgreSQL slow, losing its sessions or
// failing at COMMIT; a strategy delayed or held at an interleaving point.
//
// Every fault is a fault.Fault (the contract package runner and this
// package share): Inject returns once the fault is in effect
// (the process is gone, the toxic is on every connection, a probe SET got
// the OOM error, the killed sessions are gone) and Heal returns once its
// absence is confirmed (Redis answers PING at the server, through the proxy
// and through the run's own client; a probe SET succeeds; held actors are
// released), so the window the runner records between the two is the real
// one, not the scheduled one. The run's own client matters: after a Redis
// outage go-redis keeps failing new connections for up to a second after
// the server is back (its pool retries dials once a second), and the window
// closes only when the run can use Redis again.
//
// Faults are one file each: redis_down.go, redis_oom.go, redis_latency.go,
// redis_lost_replies.go, redis_partition.go, redis_restart.go,
// redis_pause.go, pg_latency.go, pg_conn_kill.go, pg_commit_fail.go,
// app_delay.go and app_barrier.go; "ghostbench list" prints them with their
// parameters.
//
// # Using it
//
// Prepare validates a scenario's whole schedule before anything runs, starts
// the in-process TCP proxies (Toxiproxy used as a library) that network
// faults need, and returns a Setup: the servers the runner must connect to
// (the proxies, when there are any), the fault.Schedule runner.Config
// takes as Faults, and a Close that heals whatever is left and stops the
// proxies:
//
//	setup, err := faults.Prepare(ctx, sc, srv, faults.Options{})
//	if err != nil { ... }          // unknown fault, bad parameter, refused fault
//	defer setup.Close()
//	res, err := runner.Run(ctx, runner.Config{
//		Scenario: sc, Strategy: "write-through",
//		Servers: setup.Servers(), Faults: setup,
//	})
//
// Check runs the same validation without servers, for a command line that
// wants to reject a schedule before it provisions anything.
//
// # Safety
//
// With servers the harness does not own (external URLs, whose
// docker.Server.Control is nil) a fault may not change the server for
// others: faults that stop, crash or pause the process are refused, and
// redis-oom (CONFIG SET maxmemory) is refused unless Options.
// AllowServerChanges is set (the -allow-server-changes flag of ghostbench
// run). pg-conn-kill terminates only the run's own sessions: the backend
// pids of the run's pool, recorded as each connection was made
// (fault.Env.Backends), never sessions chosen by name. On external servers
// the faults that act on a whole server (Kind.WholeServer: pg-conn-kill,
// redis-oom, redis-pause) make the run take that server exclusively, so
// they never start beside another ghostbench run (runner.WholeServer).
// A harness killed with SIGKILL during redis-oom cannot restore maxmemory:
// that is the risk the flag names.
//
// # Writing a fault (the contract, after Toxiproxy's CREATING_TOXICS)
//
// A fault kind is a Kind in a Registry: a name, a one-line description, the
// parameters it declares (with defaults and a check each) and a New that
// builds the fault from an Env and the validated parameters. The fault
//
//   - returns from Inject only when the fault is in effect, and from Heal
//     only when its absence is confirmed, each bounded by its context;
//   - makes Heal idempotent and safe when Inject failed halfway or never
//     ran: the runner calls Heal exactly once per step, also on cancel and
//     panic, and Setup.Close calls it again for any fault not yet healed;
//   - retries inside Heal until its context ends rather than giving up on
//     the first error (a server that is still starting);
//   - honours interruption in every blocking call, and leaves nothing it
//     started running after Heal (goroutines, connections, toxics);
//   - touches only what it declares in Kind.Needs, so that Check can refuse
//     it on servers it must not touch.
//
// Application faults (app-delay, app-barrier) share one hook, installed on
// the run's Hooks by BuildFaults when the schedule has any: it replaces a
// hook set there before (ghostbench.Hooks holds one). A load run sets none;
// a scripted Session installs its own Barriers, so do not schedule
// application faults through a Session's hooks.
package faults
