// Package wire puts a gate on every Redis command and every PostgreSQL
// statement a client process sends: a proxy on a loopback port holds each
// one until the Gate decides, then forwards it, forwards it and loses its
// reply, refuses it as the server would, or drops the connection. It lets
// a scheduler order the commands of a strategy that runs in another
// process (ghostbench explore -exec), and inject a fault on one chosen
// command, without any help from the process: the process is pointed at
// the proxies' addresses instead of the servers'.
//
// # Contracts
//
//   - One Gate call per command, before any byte of it reaches the
//     server. A connection's calls come one at a time, in the order of its
//     requests; pipelined requests are gated one by one.
//   - A command let go is written to the server before the proxy reads the
//     connection's next request, so commands reach the server in the order
//     their gate calls returned, as long as the gate lets one go only
//     after the previous one's connection came back to the gate (or its
//     client finished): the way a scheduler that runs one actor at a time
//     does. Two commands let go at the same moment on two connections race
//     as they would on the network.
//   - Nothing in flight is dropped silently: every reply is delivered,
//     byte for byte, except those LoseReply drops (and everything after
//     them on that connection), and a connection ends only when its client
//     or its server closes it, on Unreachable, on the StallLimit of a lost
//     reply, or on Close.
//   - Every blocking call honours Close and the context given to Listen:
//     pending Gate calls see their context done, and Close waits for them
//     and every goroutine of the proxy.
//
// # Redis
//
// Requests are RESP arrays of bulk strings or inline commands; each is a
// Command named by its upper-case verb, with the keys of the commands
// whose key positions are known (Redis's key specs for the common
// commands, numkeys for EVAL, EVALSHA, FCALL and the like, STREAMS for
// XREAD). Connection setup (HELLO, AUTH, CLIENT, SELECT, PING) is gated
// too, under its own names, so a gate can let it pass. Replies are framed
// (RESP2 and RESP3) only to know which command each answers: RESP3 push
// frames, such as client-tracking invalidations, and RESP2 pub/sub
// messages are forwarded as they come and answer no command; the
// confirmations of SUBSCRIBE and the like (arrays in RESP2, pushes in
// RESP3) answer theirs, one per channel. A frame that answers no pending
// command (after MONITOR or CLIENT REPLY OFF) is forwarded as is. A
// command refused inside MULTI makes its EXEC fail with EXECABORT, as
// Redis does.
//
// # PostgreSQL
//
// The proxy speaks the v3 protocol without encryption: it answers 'N' to
// SSLRequest and GSSENCRequest (the client goes on in plain text, as
// sslmode=prefer allows), passes the startup message and authentication
// through, and passes CancelRequest connections through ungated. A simple
// Query is one Command. In the extended protocol the messages up to an
// Execute, with the Sync behind it when the client sent it along, are one
// Command named by the SQL of the Parse that prepared the statement
// executed: the proxy remembers statements and portals per connection, so
// the Bind and Execute of a statement prepared long before (pgx's
// statement cache, psycopg's prepared statements) is named by its SQL. A
// batch of several Executes before one Sync is several Commands, each
// held until its gate call returns. Messages that run no statement
// (Parse, Describe and Sync of a prepare; Flush; COPY data) pass ungated.
// Command.Backend is the server process of the session, from the
// BackendKeyData of its startup: a statement let go that does not come
// back can be looked up in pg_stat_activity (waiting for a lock, or
// running) instead of being guessed blocked by a timer.
//
// A refused COMMIT is refused by the server itself: the proxy first sends
// a query of its own (its responses are never delivered) that opens a
// transaction if none is open and leaves a deferred unique violation in
// it (constraint ghostbench_refused_commit on a temporary table), then the
// client's COMMIT, unchanged, which fails with SQLSTATE 23505 and rolls
// the transaction back; the client sees exactly what a deferred
// constraint failing at COMMIT produces. A COMMIT in a transaction that
// already failed answers ROLLBACK, as it would anyway. A COMMIT refused in
// the middle of an unsynced batch closes the connection instead (the
// server rolls back), since no query can go first there.
//
// Command.Text is for timelines: Redis values and secrets are shown as
// their length (`SET gb:x:0 <52 bytes> PX 60000`), SQL as its verb and
// table (`UPDATE ghostbench.rows ...`).
package wire
