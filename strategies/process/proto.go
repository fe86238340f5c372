package process

import (
	"encoding/json"
	"fmt"
	"strings"

	gb "github.com/ghostbench/ghostbench"
)

// Version is the protocol version this package speaks (docs/protocol.md).
// The init message carries it; a process that answers with another one is
// refused.
const Version = 1

// Message types of docs/protocol.md.
const (
	typeInit    = "init"
	typeInitOK  = "init_ok"
	typeRead    = "read"
	typeReadOK  = "read_ok"
	typeWrite   = "write"
	typeWriteOK = "write_ok"
	typePeek    = "peek"
	typePeekOK  = "peek_ok"
	typeDrain   = "drain"
	typeDrainOK = "drain_ok"
	typePoint   = "point"
	typePointOK = "point_ok"
	typeError   = "error"
)

// msg is every message of the protocol in one struct: fields a type does
// not use are left out when encoding and ignored when decoding.
type msg struct {
	Type      string `json:"type"`
	ID        int64  `json:"id,omitempty"`
	InReplyTo int64  `json:"in_reply_to,omitempty"`

	// init
	Protocol          int               `json:"protocol,omitempty"`
	PostgresDSN       string            `json:"postgres_dsn,omitempty"`
	RedisURL          string            `json:"redis_url,omitempty"`
	RedisAddr         string            `json:"redis_addr,omitempty"`
	Schema            string            `json:"schema,omitempty"`
	Table             string            `json:"table,omitempty"`
	KeyPrefix         string            `json:"key_prefix,omitempty"`
	KeyFormat         string            `json:"key_format,omitempty"`
	TTLMs             *int64            `json:"ttl_ms,omitempty"`
	PostgresTimeoutMs int64             `json:"postgres_timeout_ms,omitempty"`
	RedisTimeoutMs    int64             `json:"redis_timeout_ms,omitempty"`
	Params            map[string]string `json:"params,omitempty"`

	// init_ok
	Name   string   `json:"name,omitempty"`
	Points []string `json:"points,omitempty"`
	Peek   bool     `json:"peek,omitempty"`
	Drain  bool     `json:"drain,omitempty"`

	// read, write, peek, point
	Key   *int64 `json:"key,omitempty"`
	Token int64  `json:"token,omitempty"`
	Delta int64  `json:"delta,omitempty"`

	// read_ok, peek_ok, write_ok
	Value   *gb.Value `json:"value,omitempty"`
	Hit     bool      `json:"hit,omitempty"`
	Present bool      `json:"present,omitempty"`
	TTLLeft *int64    `json:"ttl_left_ms,omitempty"`
	Version *int64    `json:"version,omitempty"`
	// CLOCK_MONOTONIC instants in nanoseconds (optional).
	CommitSentNs *int64 `json:"commit_sent_ns,omitempty"`
	CommitAckNs  *int64 `json:"commit_ack_ns,omitempty"`

	// point
	Point   string `json:"point,omitempty"`
	Request int64  `json:"request,omitempty"`

	// error
	Class    string `json:"class,omitempty"`
	Definite *bool  `json:"definite,omitempty"`
	Text     string `json:"text,omitempty"`
}

func ptr[T any](v T) *T { return &v }

// errClass maps a protocol error class to the harness's.
func errClass(s string) (gb.ErrClass, bool) {
	switch s {
	case "redis":
		return gb.ClassRedis, true
	case "postgres":
		return gb.ClassPostgres, true
	case "timeout":
		return gb.ClassTimeout, true
	case "other":
		return gb.ClassOther, true
	}
	return gb.ClassNone, false
}

// decode parses one line. It returns an error quoting (a prefix of) the
// line when it is not a JSON object with a known type.
func decode(line []byte) (*msg, error) {
	var m msg
	if err := json.Unmarshal(line, &m); err != nil {
		return nil, fmt.Errorf("malformed line %s: %v", quote(line), err)
	}
	switch m.Type {
	case typeInitOK, typeReadOK, typeWriteOK, typePeekOK, typeDrainOK, typeError:
		if m.InReplyTo <= 0 {
			return nil, fmt.Errorf("%s message without in_reply_to: %s", m.Type, quote(line))
		}
	case typePoint:
		if m.ID <= 0 || m.Point == "" || m.Key == nil {
			return nil, fmt.Errorf("point message needs id, point and key: %s", quote(line))
		}
	case "":
		return nil, fmt.Errorf("message without a type: %s", quote(line))
	default:
		return nil, fmt.Errorf("unknown message type %q (allowed from a process: %s)", m.Type,
			strings.Join([]string{typeInitOK, typeReadOK, typeWriteOK, typePeekOK, typeDrainOK, typePoint, typeError}, ", "))
	}
	return &m, nil
}

// quote returns line quoted, cut to 200 bytes.
func quote(line []byte) string {
	if len(line) > 200 {
		return fmt.Sprintf("%q...", line[:200])
	}
	return fmt.Sprintf("%q", line)
}
