package ghostbench

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Key identifies one row of the data table, and the cache entry that mirrors
// it. Keys are dense: a scenario with N keys uses 0..N-1.
type Key int64

// Token identifies one write attempt. Every attempt gets a fresh token, so a
// value written by an aborted transaction and a value written by the
// committed one are told apart even when their versions are equal. Token 0 is
// the seed row written before the run starts.
type Token int64

// Value is one version of a row, as the database stores it and as a cache
// entry mirrors it.
type Value struct {
	// Version counts the committed writes of the row; every write
	// transaction bumps it by exactly one.
	Version int64 `json:"version"`
	// Token is the write attempt that produced this version.
	Token Token `json:"token"`
	// Balance is the payload.
	Balance int64 `json:"balance"`
}

// String returns the value as "v7/t42/b1300".
func (v Value) String() string {
	return fmt.Sprintf("v%d/t%d/b%d", v.Version, v.Token, v.Balance)
}

// MarshalCache returns the compact encoding stored in a cache entry:
// "version:token:balance" in decimal.
func (v Value) MarshalCache() string {
	b := make([]byte, 0, 48)
	b = strconv.AppendInt(b, v.Version, 10)
	b = append(b, ':')
	b = strconv.AppendInt(b, int64(v.Token), 10)
	b = append(b, ':')
	b = strconv.AppendInt(b, v.Balance, 10)
	return string(b)
}

// ErrBadCacheValue is returned (wrapped) by ParseCache for an entry that is
// not in the encoding of MarshalCache.
var ErrBadCacheValue = errors.New("malformed cache value")

// ParseCache decodes an entry written by MarshalCache. It returns an error
// wrapping ErrBadCacheValue that quotes the entry when it is malformed.
func ParseCache(s string) (Value, error) {
	a, rest, ok1 := strings.Cut(s, ":")
	b, c, ok2 := strings.Cut(rest, ":")
	if !ok1 || !ok2 {
		return Value{}, fmt.Errorf("%w %q: want version:token:balance", ErrBadCacheValue, s)
	}
	ver, err1 := strconv.ParseInt(a, 10, 64)
	tok, err2 := strconv.ParseInt(b, 10, 64)
	bal, err3 := strconv.ParseInt(c, 10, 64)
	if err := errors.Join(err1, err2, err3); err != nil {
		return Value{}, fmt.Errorf("%w %q: %v", ErrBadCacheValue, s, err)
	}
	return Value{Version: ver, Token: Token(tok), Balance: bal}, nil
}
