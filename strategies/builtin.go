package strategies

import (
	"context"

	"github.com/jackc/pgx/v5"

	gb "github.com/ghostbench/ghostbench"
)

func registerBuiltins(r *Registry) {
	r.Register(Info{
		Name:        "db-only",
		Description: "no cache: every read is a SELECT (the always-fresh baseline)",
		New:         newDBOnly,
	})
	r.Register(Info{
		Name:        "cache-aside",
		Description: "UPDATE+COMMIT then DEL; reads GET, on miss SELECT then SET with TTL",
		Points:      []gb.Point{gb.PointAfterDBRead, gb.PointBeforeCacheSet, gb.PointAfterCommit, gb.PointBeforeCacheDel, gb.PointAfterCacheDel},
		New:         newCacheAside,
	})
	r.Register(Info{
		Name:        "async-invalidation",
		Description: "UPDATE+COMMIT, DEL queued and applied by a worker after a lag (default 280ms), every due DEL in one pipeline; reads as cache-aside",
		Params: []Param{
			{Name: "lag", Default: "280ms", Help: "delay between COMMIT and the DEL", Check: DurationParam(0)},
			{Name: "workers", Default: "1", Help: "workers (queues sharded by key, so one key's DELs stay in order), each sending pipelines of the DELs due", Check: IntParam(1, asyncWorkersMax)},
			capParam,
		},
		Points: []gb.Point{gb.PointAfterDBRead, gb.PointBeforeCacheSet, gb.PointAfterCommit, gb.PointBeforeApply},
		New:    newAsyncInvalidation,
	})
	r.Register(Info{
		Name:        "write-through",
		Description: "strict: BEGIN, UPDATE, SET, COMMIT; a failed SET rolls back and fails the write",
		Points:      []gb.Point{gb.PointAfterDBRead, gb.PointBeforeCacheSet, gb.PointBeforeCommit},
		New:         newWriteThrough,
	})
	r.Register(Info{
		Name:        "soft-write-through",
		Description: "BEGIN, UPDATE, SET (on error: DEL best-effort), COMMIT; never fails a write for Redis",
		Points:      []gb.Point{gb.PointAfterDBRead, gb.PointBeforeCacheSet, gb.PointBeforeCacheDel, gb.PointBeforeCommit},
		New:         newSoftWriteThrough,
	})
	r.Register(Info{
		Name:        "update-after-commit",
		Description: "UPDATE+COMMIT then SET the new value; reads as cache-aside",
		Points:      []gb.Point{gb.PointAfterDBRead, gb.PointBeforeCacheSet, gb.PointAfterCommit},
		New:         newUpdateAfterCommit,
	})
	r.Register(Info{
		Name:        "delete-before-update",
		Description: "DEL first, then UPDATE+COMMIT; reads as cache-aside",
		Points:      []gb.Point{gb.PointAfterDBRead, gb.PointBeforeCacheSet, gb.PointBeforeCacheDel, gb.PointAfterCacheDel, gb.PointBeforeDBUpdate},
		New:         newDeleteBeforeUpdate,
	})
}

// dbOnly reads and writes the database only.
type dbOnly struct{ env Env }

func newDBOnly(env Env) (gb.Strategy, error) { return &dbOnly{env: env}, nil }

func (s *dbOnly) Read(ctx context.Context, key gb.Key) (gb.ReadResult, error) {
	v, err := s.env.Store.Read(ctx, key)
	return gb.ReadResult{Value: v}, err
}

func (s *dbOnly) Write(ctx context.Context, req gb.WriteRequest) error {
	_, err := s.env.Store.Write(ctx, req, nil)
	return err
}

func (s *dbOnly) Close() error { return nil }

// cacheAside commits, then deletes the key.
type cacheAside struct{ fillRead }

func newCacheAside(env Env) (gb.Strategy, error) {
	return &cacheAside{fillRead{env: env, cache: NewCache(env)}}, nil
}

func (s *cacheAside) Write(ctx context.Context, req gb.WriteRequest) error {
	if _, err := s.env.Store.Write(ctx, req, nil); err != nil {
		return err
	}
	if s.afterCommit(ctx, req.Key) {
		s.del(ctx, req.Key)
	}
	return nil
}

// writeThrough sets the key inside the transaction and rolls back when the
// SET fails.
type writeThrough struct{ fillRead }

func newWriteThrough(env Env) (gb.Strategy, error) {
	return &writeThrough{fillRead{env: env, cache: NewCache(env)}}, nil
}

func (s *writeThrough) Write(ctx context.Context, req gb.WriteRequest) error {
	_, err := s.env.Store.Write(ctx, req, func(ctx context.Context, _ pgx.Tx, v gb.Value) error {
		if err := s.env.Hooks.At(ctx, gb.PointBeforeCacheSet, req.Key); err != nil {
			return err
		}
		return s.cache.Set(ctx, req.Key, v)
	})
	return err
}

// softWriteThrough sets the key inside the transaction; when the SET fails
// it deletes the key best-effort and commits anyway.
type softWriteThrough struct{ fillRead }

func newSoftWriteThrough(env Env) (gb.Strategy, error) {
	return &softWriteThrough{fillRead{env: env, cache: NewCache(env)}}, nil
}

func (s *softWriteThrough) Write(ctx context.Context, req gb.WriteRequest) error {
	_, err := s.env.Store.Write(ctx, req, func(ctx context.Context, _ pgx.Tx, v gb.Value) error {
		if err := s.env.Hooks.At(ctx, gb.PointBeforeCacheSet, req.Key); err != nil {
			return err
		}
		if err := s.cache.Set(ctx, req.Key, v); err != nil {
			s.env.warn(req.Key, err)
			if err := s.env.Hooks.At(ctx, gb.PointBeforeCacheDel, req.Key); err != nil {
				return err
			}
			if err := s.cache.Del(ctx, req.Key); err != nil {
				s.env.warn(req.Key, err)
			}
		}
		return nil
	})
	return err
}

// updateAfterCommit commits, then sets the new value.
type updateAfterCommit struct{ fillRead }

func newUpdateAfterCommit(env Env) (gb.Strategy, error) {
	return &updateAfterCommit{fillRead{env: env, cache: NewCache(env)}}, nil
}

func (s *updateAfterCommit) Write(ctx context.Context, req gb.WriteRequest) error {
	v, err := s.env.Store.Write(ctx, req, nil)
	if err != nil {
		return err
	}
	if !s.afterCommit(ctx, req.Key) {
		return nil
	}
	if err := s.env.Hooks.At(ctx, gb.PointBeforeCacheSet, req.Key); err != nil {
		s.env.warn(req.Key, err)
		return nil
	}
	if err := s.cache.Set(ctx, req.Key, v); err != nil {
		s.env.warn(req.Key, err)
	}
	return nil
}

// deleteBeforeUpdate deletes the key, then commits.
type deleteBeforeUpdate struct{ fillRead }

func newDeleteBeforeUpdate(env Env) (gb.Strategy, error) {
	return &deleteBeforeUpdate{fillRead{env: env, cache: NewCache(env)}}, nil
}

func (s *deleteBeforeUpdate) Write(ctx context.Context, req gb.WriteRequest) error {
	if err := s.env.Hooks.At(ctx, gb.PointBeforeCacheDel, req.Key); err != nil {
		return err
	}
	if err := s.cache.Del(ctx, req.Key); err != nil {
		// The DEL is the strategy's only invalidation: without it the
		// write would leave the old value cached, so it fails the write
		// before anything is committed.
		return err
	}
	if err := s.env.Hooks.At(ctx, gb.PointAfterCacheDel, req.Key); err != nil {
		return err
	}
	if err := s.env.Hooks.At(ctx, gb.PointBeforeDBUpdate, req.Key); err != nil {
		return err
	}
	_, err := s.env.Store.Write(ctx, req, nil)
	return err
}
