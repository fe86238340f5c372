#!/usr/bin/python3
"""Cache-aside: UPDATE and COMMIT, then DEL the key; reads GET, and on a
miss SELECT, then SET with the TTL. A reader's fill of an old version can
land after the writer's DEL (stale until TTL), and a crash between COMMIT
and DEL leaves the old entry in place.
"""

import redis

import ghostproto
from ghostproto import Fail, FillRead, log


class CacheAside(FillRead):
    points = FillRead.points + ["after-commit", "before-cache-del", "after-cache-del"]

    def write(self, req, key, token, delta):
        conn = self.env.db.get()
        try:
            try:
                v = self.update(conn, key, token, delta)
            except ghostproto.psycopg.Error as e:
                conn.rollback()
                raise Fail("postgres", "UPDATE: %s" % e)
            sent, ack = self.commit(conn, v["version"])
        except Fail:
            if not conn.closed and conn.info.transaction_status != ghostproto.psycopg.pq.TransactionStatus.IDLE:
                try:
                    conn.rollback()
                except Exception:
                    pass
            raise
        finally:
            self.env.db.put(conn)
        # Committed: nothing below fails the write.
        try:
            req.point("after-commit", key)
            req.point("before-cache-del", key)
            self.env.redis.delete(self.env.key(key))
            req.point("after-cache-del", key)
        except (Fail, redis.exceptions.RedisError) as e:
            log("after COMMIT of key %d: %s" % (key, e))
        return v["version"], sent, ack


if __name__ == "__main__":
    ghostproto.main(CacheAside, "python-cache-aside")
