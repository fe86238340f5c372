package wire

import (
	"bytes"
	"strconv"
	"strings"
)

// keySpec gives a command's key positions as COMMAND INFO does: first and
// last argument index (negative: counted from the end, -1 the last) and
// step.
type keySpec struct{ first, last, step int }

var redisKeySpecs = func() map[string]keySpec {
	m := map[string]keySpec{}
	add := func(ks keySpec, names string) {
		for _, n := range strings.Fields(names) {
			m[n] = ks
		}
	}
	add(keySpec{1, 1, 1}, `GET SET SETNX SETEX PSETEX GETSET GETDEL GETEX APPEND STRLEN SETRANGE GETRANGE
		INCR DECR INCRBY DECRBY INCRBYFLOAT EXPIRE PEXPIRE EXPIREAT PEXPIREAT EXPIRETIME PEXPIRETIME
		TTL PTTL PERSIST TYPE DUMP RESTORE SORT SORT_RO SETBIT GETBIT BITCOUNT BITPOS BITFIELD PFADD
		HGET HSET HSETNX HDEL HGETALL HMGET HMSET HINCRBY HINCRBYFLOAT HKEYS HVALS HLEN HEXISTS HSTRLEN HSCAN HRANDFIELD
		LPUSH RPUSH LPUSHX RPUSHX LPOP RPOP LRANGE LLEN LINDEX LREM LSET LTRIM LINSERT LPOS
		SADD SREM SMEMBERS SISMEMBER SMISMEMBER SCARD SPOP SRANDMEMBER SSCAN
		ZADD ZREM ZRANGE ZREVRANGE ZSCORE ZMSCORE ZCARD ZCOUNT ZINCRBY ZRANK ZREVRANK ZRANGEBYSCORE
		ZREVRANGEBYSCORE ZRANGEBYLEX ZREMRANGEBYSCORE ZREMRANGEBYRANK ZREMRANGEBYLEX ZPOPMIN ZPOPMAX ZSCAN ZRANDMEMBER
		XADD XLEN XRANGE XREVRANGE XDEL XTRIM XACK XCLAIM XAUTOCLAIM XPENDING XSETID
		GEOADD GEOPOS GEODIST GEOSEARCH GEORADIUS`)
	add(keySpec{1, -1, 1}, `DEL UNLINK EXISTS MGET WATCH TOUCH SINTER SUNION SDIFF SINTERSTORE SUNIONSTORE
		SDIFFSTORE PFCOUNT PFMERGE`)
	add(keySpec{1, -2, 1}, `BLPOP BRPOP BZPOPMIN BZPOPMAX`)
	add(keySpec{1, -1, 2}, `MSET MSETNX`)
	add(keySpec{1, 2, 1}, `RENAME RENAMENX COPY SMOVE LMOVE RPOPLPUSH BLMOVE BRPOPLPUSH ZRANGESTORE LCS`)
	add(keySpec{2, -1, 1}, `BITOP`)
	add(keySpec{2, 2, 1}, `XGROUP OBJECT`)
	return m
}()

// numkeysAt names the commands whose keys follow a count: the count's
// argument index.
var numkeysAt = map[string]int{
	"EVAL": 2, "EVALSHA": 2, "EVAL_RO": 2, "EVALSHA_RO": 2, "FCALL": 2, "FCALL_RO": 2,
	"ZUNION": 1, "ZINTER": 1, "ZDIFF": 1, "SINTERCARD": 1, "ZINTERCARD": 1, "LMPOP": 1, "ZMPOP": 1,
	"BLMPOP": 2, "BZMPOP": 2,
}

// valueArgs lists, per command, the arguments that carry values (and
// secrets): they are shown as their length only.
var valueArgs = map[string]keySpec{
	"SET": {2, 2, 1}, "SETNX": {2, 2, 1}, "GETSET": {2, 2, 1}, "APPEND": {2, 2, 1},
	"SETEX": {3, 3, 1}, "PSETEX": {3, 3, 1}, "SETRANGE": {3, 3, 1}, "LSET": {3, 3, 1},
	"MSET": {2, -1, 2}, "MSETNX": {2, -1, 2}, "HSET": {3, -1, 2}, "HMSET": {3, -1, 2}, "HSETNX": {3, 3, 1},
	"LPUSH": {2, -1, 1}, "RPUSH": {2, -1, 1}, "SADD": {2, -1, 1}, "PUBLISH": {2, 2, 1}, "SPUBLISH": {2, 2, 1},
	"EVAL": {1, 1, 1}, "EVAL_RO": {1, 1, 1}, "RESTORE": {3, 3, 1}, "AUTH": {1, -1, 1},
}

// maxText bounds a command's Text.
const maxText = 160

// describeRedis names a request: its upper-case command name, its keys
// and a short text.
func describeRedis(args [][]byte) Command {
	name := strings.ToUpper(string(args[0]))
	c := Command{Name: name}
	keyIdx := map[int]bool{}
	for _, i := range redisKeys(name, args) {
		keyIdx[i] = true
		c.Keys = append(c.Keys, string(args[i]))
	}
	vs, hasValues := valueArgs[name]
	secret := map[int]bool{}
	if name == "HELLO" {
		for i := 2; i+2 < len(args)+1; i++ {
			if strings.EqualFold(string(args[i]), "AUTH") {
				secret[i+1], secret[i+2] = true, true
			}
		}
	}
	var b strings.Builder
	b.WriteString(name)
	for i := 1; i < len(args); i++ {
		if b.Len() > maxText {
			b.WriteString(" … (" + strconv.Itoa(len(args)-i) + " more)")
			break
		}
		b.WriteByte(' ')
		a := args[i]
		switch {
		case keyIdx[i]:
			b.WriteString(shortArg(a, 64))
		case secret[i] || hasValues && inSpec(vs, i, len(args)):
			b.WriteString("<" + strconv.Itoa(len(a)) + " bytes>")
		case (name == "EVALSHA" || name == "EVALSHA_RO") && i == 1 && len(a) > 8:
			b.WriteString(string(a[:8]) + "…")
		default:
			b.WriteString(shortArg(a, 32))
		}
	}
	c.Text = b.String()
	return c
}

func inSpec(s keySpec, i, n int) bool {
	last := s.last
	if last < 0 {
		last = n + last
	}
	return i >= s.first && i <= last && (i-s.first)%s.step == 0
}

// shortArg prints an argument as is when it is printable, has no blank
// and is at most limit bytes; otherwise as its length.
func shortArg(a []byte, limit int) string {
	if len(a) == 0 {
		return `""`
	}
	if len(a) > limit {
		return "<" + strconv.Itoa(len(a)) + " bytes>"
	}
	for _, c := range a {
		if c <= ' ' || c >= 0x7f || c == '"' {
			return strconv.Quote(string(a))
		}
	}
	return string(a)
}

// redisKeys returns the argument indexes of the keys a request names, for
// the commands whose key positions the proxy knows; nil otherwise.
func redisKeys(name string, args [][]byte) []int {
	n := len(args)
	var idx []int
	if ks, ok := redisKeySpecs[name]; ok {
		last := ks.last
		if last < 0 {
			last = n + last
		}
		for i := ks.first; i <= last && i < n; i += ks.step {
			idx = append(idx, i)
		}
		return idx
	}
	count := func(at int) (int, bool) {
		if at >= n {
			return 0, false
		}
		k, err := strconv.Atoi(string(args[at]))
		return k, err == nil && k >= 0
	}
	if at, ok := numkeysAt[name]; ok {
		k, ok := count(at)
		if !ok {
			return nil
		}
		for i := at + 1; i <= at+k && i < n; i++ {
			idx = append(idx, i)
		}
		return idx
	}
	switch name {
	case "ZUNIONSTORE", "ZINTERSTORE", "ZDIFFSTORE":
		k, ok := count(2)
		if !ok {
			return nil
		}
		idx = append(idx, 1)
		for i := 3; i < 3+k && i < n; i++ {
			idx = append(idx, i)
		}
		return idx
	case "XREAD", "XREADGROUP":
		for i := 1; i < n; i++ {
			if bytes.EqualFold(args[i], []byte("STREAMS")) {
				for j := i + 1; j < i+1+(n-i-1)/2; j++ {
					idx = append(idx, j)
				}
				return idx
			}
		}
	case "MEMORY":
		if n >= 3 && bytes.EqualFold(args[1], []byte("USAGE")) {
			return []int{2}
		}
	}
	return nil
}

// subscribeKind returns the lower-case reply kind of a (un)subscribe
// command ("subscribe", "punsubscribe", ...) or "".
func subscribeKind(name string) string {
	switch name {
	case "SUBSCRIBE", "UNSUBSCRIBE", "PSUBSCRIBE", "PUNSUBSCRIBE", "SSUBSCRIBE", "SUNSUBSCRIBE":
		return strings.ToLower(name)
	}
	return ""
}
