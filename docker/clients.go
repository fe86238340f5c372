package docker

import (
	"time"

	"github.com/redis/go-redis/v9"
)

// ClientConfig holds the client settings that decide how fast a client
// notices a dead or frozen server. They are explicit because the libraries'
// defaults hide faults: with go-redis defaults one GET against a dead Redis
// takes 1.7 s of dial retries.
type ClientConfig struct {
	// DialTimeout bounds establishing one connection.
	DialTimeout time.Duration
	// ReadTimeout and WriteTimeout bound one socket read or write (Redis).
	ReadTimeout  time.Duration
	WriteTimeout time.Duration
	// MaxRetries is the number of retries of a failed Redis command; -1
	// disables retries (go-redis treats 0 as "use the default of 3").
	MaxRetries int
	// PoolSize is the maximum number of connections per pool.
	PoolSize int
	// PoolTimeout bounds the wait for a free Redis connection.
	PoolTimeout time.Duration
}

// DefaultClientConfig returns 500 ms dial, read and write timeouts, no
// retries, 128 connections and a 1 s pool timeout.
func DefaultClientConfig() ClientConfig {
	return ClientConfig{
		DialTimeout:  500 * time.Millisecond,
		ReadTimeout:  500 * time.Millisecond,
		WriteTimeout: 500 * time.Millisecond,
		MaxRetries:   -1,
		PoolSize:     128,
		PoolTimeout:  time.Second,
	}
}

// redisProtocol is the RESP version the clients speak, pinned so that
// replies do not change shape with the server version.
const redisProtocol = 2

// RedisClient returns a go-redis client for the Redis server with the
// settings of cc: RESP2, context deadlines honoured, one dial attempt per
// connection (no dial retries) and cc.MaxRetries command retries. The
// caller closes it.
//
// For redis-replica the client follows the Sentinels (a failover client);
// for redis-cluster it is a cluster client.
func (s *Servers) RedisClient(cc ClientConfig) redis.UniversalClient {
	if c := s.topologyRedisClient(cc); c != nil {
		return c
	}
	o := *s.Redis.redisOpts
	o.Protocol = redisProtocol
	o.DialTimeout = cc.DialTimeout
	o.ReadTimeout = cc.ReadTimeout
	o.WriteTimeout = cc.WriteTimeout
	o.MaxRetries = cc.MaxRetries
	o.DialerRetries = 1
	o.PoolSize = cc.PoolSize
	o.PoolTimeout = cc.PoolTimeout
	o.ContextTimeoutEnabled = true
	o.DisableIdentity = true // no CLIENT SETINFO round trip on each new connection
	return redis.NewClient(&o)
}
