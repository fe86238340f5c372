package explore

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/redis/go-redis/v9"
)

// wirePoint is a scheduling point in front of one server command: the
// actor is parked before the command is sent.
type wirePoint struct {
	server string // "redis" or "postgres"
	name   string // upper-case verb: GET, SET, BEGIN, UPDATE, COMMIT
	text   string // short text for steps and timelines
	pid    uint32 // PostgreSQL backend of the statement's connection
}

func (w *wirePoint) String() string { return w.server + " " + w.text }

// redisHook makes every Redis command of a scheduled actor a point, and
// applies the fault the scheduler chose for it. Commands without an actor
// (the harness's own, a background worker's) pass.
type redisHook struct{ e *engine }

func (h redisHook) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h redisHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		name := strings.ToUpper(cmd.Name())
		wp := &wirePoint{server: "redis", name: name, text: redisText(cmd.Args())}
		r, parked := h.e.wire(ctx, wp)
		if !parked {
			return next(ctx, cmd)
		}
		if err := r.redisError(); err != nil {
			if r.fault == FaultLostReply {
				_ = next(ctx, cmd) // it takes effect; the reply is lost
			}
			cmd.SetErr(err)
			return err
		}
		return next(ctx, cmd)
	}
}

func (h redisHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		names := make([]string, 0, len(cmds))
		var texts []string
		for _, c := range cmds {
			names = append(names, strings.ToUpper(c.Name()))
			texts = append(texts, redisText(c.Args()))
		}
		name := "PIPELINE"
		if len(names) > 0 && (names[0] == "MULTI" || names[0] == "EXEC") && len(names) > 1 {
			name = names[1]
		} else if len(names) == 1 {
			name = names[0]
		}
		wp := &wirePoint{server: "redis", name: name, text: strings.Join(texts, "; ")}
		r, parked := h.e.wire(ctx, wp)
		if !parked {
			return next(ctx, cmds)
		}
		if err := r.redisError(); err != nil {
			if r.fault == FaultLostReply {
				_ = next(ctx, cmds)
			}
			for _, c := range cmds {
				c.SetErr(err)
			}
			return err
		}
		return next(ctx, cmds)
	}
}

// redisText abbreviates a command's arguments for a timeline: values
// longer than a key are replaced by their size.
func redisText(args []any) string {
	var b strings.Builder
	for i, a := range args {
		if i > 0 {
			b.WriteByte(' ')
		}
		var s string
		switch v := a.(type) {
		case string:
			s = v
		case []byte:
			s = string(v)
		default:
			s = strings.TrimSpace(strings.ReplaceAll(strings.ReplaceAll(fmt.Sprint(v), "\n", " "), "\t", " "))
		}
		if i == 0 {
			s = strings.ToUpper(s)
		}
		if len(s) > 40 {
			s = "<" + strconv.Itoa(len(s)) + " bytes>"
		}
		b.WriteString(s)
		if b.Len() > 120 {
			b.WriteString(" ...")
			break
		}
	}
	return b.String()
}

// pgTracer makes every PostgreSQL statement of a scheduled actor a point.
// pgx calls TraceQueryStart before it sends the statement, on the
// caller's goroutine, so parking there holds the statement back.
type pgTracer struct{ e *engine }

func (t pgTracer) TraceQueryStart(ctx context.Context, conn *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	verb, text := sqlText(data.SQL)
	wp := &wirePoint{server: "postgres", name: verb, text: text}
	if conn != nil && conn.PgConn() != nil {
		wp.pid = conn.PgConn().PID()
	}
	t.e.wire(ctx, wp)
	return ctx
}

func (t pgTracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

// sqlText returns a statement's verb and a one-line abbreviation.
func sqlText(sql string) (verb, text string) {
	s := strings.Join(strings.Fields(sql), " ")
	verb = strings.ToUpper(s)
	if i := strings.IndexAny(verb, " ;("); i >= 0 {
		verb = verb[:i]
	}
	if verb == "SELECT" && strings.Contains(s, "set_config('ghostbench.fail_commit'") {
		return "ARM", "arm the commit failure"
	}
	if len(s) > 72 {
		s = s[:69] + "..."
	}
	return verb, s
}
