#!/usr/bin/python3
"""Soft write-through, the write-up's variant: BEGIN, UPDATE, SET key; when
the SET fails, log the error, DEL the key best-effort, and let the
transaction commit. A write never fails for Redis. Reads: cache-aside.
"""

import redis

import ghostproto
from ghostproto import Fail, FillRead, log


class SoftWriteThrough(FillRead):
    points = FillRead.points + ["before-cache-del", "before-commit"]

    def write(self, req, key, token, delta):
        conn = self.env.db.get()
        try:
            try:
                v = self.update(conn, key, token, delta)
            except ghostproto.psycopg.Error as e:
                conn.rollback()
                raise Fail("postgres", "UPDATE: %s" % e)
            req.point("before-cache-set", key)
            try:
                self.env.set(key, v)
            except redis.exceptions.RedisError as e:
                log("SET key %d failed (%s): invalidating and committing anyway" % (key, e))
                req.point("before-cache-del", key)
                try:
                    self.env.redis.delete(self.env.key(key))
                except redis.exceptions.RedisError as e2:
                    log("DEL key %d failed too: %s" % (key, e2))
            req.point("before-commit", key)
            sent, ack = self.commit(conn, v["version"])
            return v["version"], sent, ack
        except Fail:
            if not conn.closed and conn.info.transaction_status != ghostproto.psycopg.pq.TransactionStatus.IDLE:
                try:
                    conn.rollback()
                except Exception:
                    pass
            raise
        finally:
            self.env.db.put(conn)


if __name__ == "__main__":
    ghostproto.main(SoftWriteThrough, "python-soft-write-through")
