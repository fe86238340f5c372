package explore

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
)

// The faults the scheduler may choose, each on one step of one actor.
const (
	// FaultLostReply: the Redis command reaches Redis and takes effect,
	// its reply never comes back (the client sees a timeout).
	FaultLostReply = "lost-reply"
	// FaultRefused: Redis refuses the write command as a server out of
	// memory does (maxmemory with noeviction): nothing changes.
	FaultRefused = "refused"
	// FaultUnreachable: Redis cannot be reached from this command to the
	// end of the actor's operation (a partition that lasts the operation):
	// nothing is sent.
	FaultUnreachable = "unreachable"
	// FaultCommitFail: the write's COMMIT fails (a deferred constraint
	// raises at COMMIT): the transaction rolls back, and the strategy is
	// told so. Chosen where the write starts; it acts at COMMIT.
	FaultCommitFail = "commit-fail"
	// FaultAppCrash: the application process (-exec) is killed at the
	// point the actor is parked at.
	FaultAppCrash = "app-crash"
)

// FaultKinds returns every fault the scheduler knows.
func FaultKinds() []string {
	return []string{FaultLostReply, FaultRefused, FaultUnreachable, FaultCommitFail, FaultAppCrash}
}

func isFault(s string) bool { return slices.Contains(FaultKinds(), s) }

// ParseFaults parses a comma-separated list of fault kinds ("" is none,
// "all" every kind).
func ParseFaults(s string) ([]string, error) {
	s = strings.TrimSpace(s)
	switch s {
	case "", "none":
		return nil, nil
	case "all":
		return FaultKinds(), nil
	}
	var out []string
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if !isFault(f) {
			return nil, fmt.Errorf("fault %q: unknown; allowed: %s, all, none", f, strings.Join(FaultKinds(), ", "))
		}
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out, nil
}

// redisWriteCommands are the commands a Redis out of memory refuses (the
// ones that may grow memory, as Redis flags them "denyoom"); DEL and GET
// are served.
var redisWriteCommands = map[string]bool{
	"SET": true, "SETEX": true, "PSETEX": true, "SETNX": true, "MSET": true, "GETSET": true,
	"HSET": true, "HMSET": true, "EVAL": true, "EVALSHA": true, "FCALL": true, "APPEND": true,
	"INCR": true, "INCRBY": true, "LPUSH": true, "RPUSH": true, "SADD": true, "ZADD": true,
}

// redisMutating are the commands whose lost reply differs from a
// command never sent: they change the cache. A read whose reply is lost
// changes nothing, which unreachable already covers.
var redisMutating = map[string]bool{
	"DEL": true, "UNLINK": true, "EXPIRE": true, "PEXPIRE": true, "GETDEL": true, "PIPELINE": true, "MULTI": true, "EXEC": true,
}

// redisFaults returns the faults that apply to a Redis command.
func redisFaults(cmd string, kinds []string) []string {
	var out []string
	for _, k := range kinds {
		switch k {
		case FaultUnreachable:
			out = append(out, k)
		case FaultLostReply:
			if redisWriteCommands[cmd] || redisMutating[cmd] {
				out = append(out, k)
			}
		case FaultRefused:
			if redisWriteCommands[cmd] {
				out = append(out, k)
			}
		}
	}
	return out
}

// errLostReply is what a client sees when a reply never comes: a network
// timeout, as go-redis reports one.
var errLostReply error = &net.OpError{Op: "read", Net: "tcp", Err: timeoutError{}}

type timeoutError struct{}

func (timeoutError) Error() string {
	return "i/o timeout (explore: reply lost after the command took effect)"
}
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

// errUnreachable is a refused connection.
var errUnreachable error = &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused (explore: Redis unreachable)")}

// oomError is Redis's refusal of a write command when out of memory; it
// satisfies go-redis's redis.Error, as a server's error reply does.
type oomError struct{}

func (oomError) Error() string {
	return "OOM command not allowed when used memory > 'maxmemory'. (explore: refused)"
}
func (oomError) RedisError() {}
