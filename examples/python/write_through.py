#!/usr/bin/python3
"""Strict write-through, as the write-up shows it in Python:

    with db.transaction():
        db.update(...)
        redis_client.set(key, value)   # a failed SET rolls the transaction back

BEGIN, UPDATE, SET key, COMMIT; if the SET fails, ROLLBACK and fail the
write. A SET applied whose reply was lost, followed by the rollback, leaves a
value PostgreSQL never committed in the cache (a ghost). Reads: cache-aside.
"""

import redis

import ghostproto
from ghostproto import Fail, FillRead


class WriteThrough(FillRead):
    points = FillRead.points + ["before-commit"]

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
                conn.rollback()
                raise Fail(ghostproto.redis_class(e), "SET (transaction rolled back): %s" % e, version=v["version"])
            req.point("before-commit", key)
            sent, ack = self.commit(conn, v["version"])
            return v["version"], sent, ack
        except Fail:
            if conn.info.transaction_status != ghostproto.psycopg.pq.TransactionStatus.IDLE:
                try:
                    conn.rollback()
                except Exception:
                    pass
            raise
        finally:
            self.env.db.put(conn)


if __name__ == "__main__":
    ghostproto.main(WriteThrough, "python-write-through")
