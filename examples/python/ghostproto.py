"""A small helper for ghostbench's process protocol, version 1.

docs/protocol.md is the contract; this module is one way to speak it from
Python with Debian's python3-psycopg and python3-redis. A strategy is a class
with read(req, key), write(req, key, token, delta) and peek(key); ghostbench
starts the script, and this module reads requests from stdin, runs them on a
thread pool (several are in flight at once) and writes the replies, one JSON
object per line, to stdout. Logs go to stderr (ghostbench keeps them in the
results folder).
"""

import json
import math
import os
import queue
import sys
import threading
import time
import traceback
from concurrent.futures import ThreadPoolExecutor

import psycopg
import redis

PROTOCOL = 1


def log(*args):
    print(*args, file=sys.stderr, flush=True)


def mono_ns():
    return time.clock_gettime_ns(time.CLOCK_MONOTONIC)


class Fail(Exception):
    """A failed request: class is redis, postgres, timeout or other;
    definite says the write certainly did not commit."""

    def __init__(self, cls, text, definite=True, version=None):
        super().__init__(text)
        self.cls, self.text, self.definite, self.version = cls, text, definite, version


def redis_class(e):
    return "timeout" if isinstance(e, redis.exceptions.TimeoutError) else "redis"


class Pool:
    """A minimal PostgreSQL connection pool (psycopg_pool is another
    package): connections are made on demand and dropped when broken."""

    def __init__(self, dsn, timeout_ms):
        self.dsn, self.free = dsn, queue.LifoQueue()
        self.kwargs = {}
        if timeout_ms > 0:
            self.kwargs["connect_timeout"] = max(1, math.ceil(timeout_ms / 1000))
            self.kwargs["options"] = "-c statement_timeout=%d" % timeout_ms

    def get(self):
        try:
            return self.free.get_nowait()
        except queue.Empty:
            try:
                return psycopg.connect(self.dsn, **self.kwargs)
            except psycopg.Error as e:
                raise Fail("postgres", "connect: %s" % e)

    def put(self, conn):
        if conn.closed or conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            try:
                conn.close()
            except Exception:
                pass
            return
        self.free.put(conn)


class Request:
    """One request in flight; point() stops at an interleaving point until
    the harness lets it go on."""

    def __init__(self, harness, rid):
        self.h, self.id = harness, rid

    def point(self, name, key):
        self.h.point(name, key, self.id)


class Env:
    """What init handed over, with the clients built from it."""

    def __init__(self, m):
        self.schema = m["schema"]
        self.table = m["table"]
        self.prefix = m["key_prefix"]
        self.ttl_ms = m.get("ttl_ms", 0)
        self.params = m.get("params") or {}
        rt = m.get("redis_timeout_ms", 0) / 1000 or None
        self.redis = redis.Redis.from_url(m["redis_url"], socket_timeout=rt, socket_connect_timeout=rt)
        self.db = Pool(m["postgres_dsn"], m.get("postgres_timeout_ms", 0))

    def key(self, k):
        return "%srow:%d" % (self.prefix, k)

    def set(self, k, value):
        px = self.ttl_ms if self.ttl_ms > 0 else None
        self.redis.set(self.key(k), "%d:%d:%d" % (value["version"], value["token"], value["balance"]), px=px)


def decode(s):
    v, t, b = s.decode().split(":")
    return {"version": int(v), "token": int(t), "balance": int(b)}


class FillRead:
    """The cache-aside read path the three examples share: GET; on a miss
    SELECT, then SET with the TTL. A cache error on GET falls back to the
    database without filling; a failed fill is logged."""

    points = ["after-db-read", "before-cache-set"]

    def __init__(self, env):
        self.env = env

    def select(self, key):
        conn = self.env.db.get()
        try:
            with conn.cursor() as cur:
                cur.execute("SELECT version, token, balance FROM %s WHERE id = %%s" % self.env.table, (key,))
                row = cur.fetchone()
            conn.rollback()
            return {"version": row[0], "token": row[1], "balance": row[2]}
        except psycopg.Error as e:
            raise Fail("postgres", "SELECT: %s" % e)
        finally:
            self.env.db.put(conn)

    def read(self, req, key):
        try:
            s = self.env.redis.get(self.env.key(key))
        except redis.exceptions.RedisError as e:
            log("GET key %d: %s (read from the database)" % (key, e))
            return self.select(key), False
        if s is not None:
            return decode(s), True
        v = self.select(key)
        req.point("after-db-read", key)
        req.point("before-cache-set", key)
        try:
            self.env.set(key, v)
        except redis.exceptions.RedisError as e:
            log("fill key %d: %s" % (key, e))
        return v, False

    def peek(self, key):
        p = self.env.redis.pipeline(transaction=False)
        p.get(self.env.key(key))
        p.pttl(self.env.key(key))
        s, ttl = p.execute()
        if s is None:
            return None, -1
        return decode(s), ttl if ttl >= 0 else -1

    def update(self, conn, key, token, delta):
        """The plain UPDATE: the schema's triggers bump the version and
        write the ledger row in the same transaction."""
        with conn.cursor() as cur:
            cur.execute("UPDATE %s SET balance = balance + %%s, token = %%s WHERE id = %%s RETURNING version, token, balance"
                        % self.env.table, (delta, token, key))
            row = cur.fetchone()
        return {"version": row[0], "token": row[1], "balance": row[2]}

    def commit(self, conn, version):
        """COMMIT, with its CLOCK_MONOTONIC instants. A server error proves
        a rollback (definite); anything else (connection lost, timeout) is
        indefinite: the ledger decides."""
        sent = mono_ns()
        try:
            conn.commit()
        except psycopg.Error as e:
            definite = getattr(e, "sqlstate", None) is not None and not isinstance(e, psycopg.OperationalError)
            raise Fail("postgres", "COMMIT: %s" % e, definite=definite, version=version)
        return sent, mono_ns()


class Harness:
    def __init__(self, make_strategy, name):
        self.make, self.name = make_strategy, name
        self.out_lock = threading.Lock()
        self.pool = ThreadPoolExecutor(max_workers=96)
        self.points_lock = threading.Lock()
        self.waiting = {}
        self.next_point = 1 << 40
        self.strategy = None

    def send(self, m):
        line = json.dumps(m, separators=(",", ":")) + "\n"
        with self.out_lock:
            sys.stdout.write(line)
            sys.stdout.flush()

    def point(self, name, key, rid):
        with self.points_lock:
            self.next_point += 1
            pid = self.next_point
            ev = [threading.Event(), None]
            self.waiting[pid] = ev
        self.send({"type": "point", "id": pid, "point": name, "key": key, "request": rid})
        ev[0].wait()
        m = ev[1]
        if m.get("type") != "point_ok":
            raise Fail("other", "point %s: %s" % (name, m.get("text", "refused")))

    def handle(self, m):
        rid, t = m["id"], m["type"]
        req = Request(self, rid)
        try:
            if t == "read":
                v, hit = self.strategy.read(req, m["key"])
                self.send({"type": "read_ok", "in_reply_to": rid, "value": v, "hit": hit})
            elif t == "write":
                version, sent, ack = self.strategy.write(req, m["key"], m["token"], m["delta"])
                r = {"type": "write_ok", "in_reply_to": rid, "version": version}
                if sent is not None:
                    r["commit_sent_ns"], r["commit_ack_ns"] = sent, ack
                self.send(r)
            elif t == "peek":
                v, ttl = self.strategy.peek(m["key"])
                r = {"type": "peek_ok", "in_reply_to": rid, "present": v is not None, "ttl_left_ms": ttl}
                if v is not None:
                    r["value"] = v
                self.send(r)
            else:
                self.send({"type": "error", "in_reply_to": rid, "class": "other", "definite": True,
                           "text": "unsupported request %s" % t})
        except Fail as e:
            r = {"type": "error", "in_reply_to": rid, "class": e.cls, "definite": e.definite, "text": e.text}
            if e.version is not None:
                r["version"] = e.version
            self.send(r)
        except redis.exceptions.RedisError as e:
            self.send({"type": "error", "in_reply_to": rid, "class": redis_class(e), "definite": t != "write",
                       "text": str(e)})
        except Exception as e:
            log(traceback.format_exc())
            self.send({"type": "error", "in_reply_to": rid, "class": "other", "definite": False, "text": repr(e)})

    def run(self):
        for line in sys.stdin:
            if not line.strip():
                continue
            m = json.loads(line)
            t = m.get("type")
            if t == "init":
                if m.get("protocol") != PROTOCOL:
                    self.send({"type": "error", "in_reply_to": m["id"], "class": "other", "definite": True,
                               "text": "protocol %s, want %d" % (m.get("protocol"), PROTOCOL)})
                    continue
                self.strategy = self.make(Env(m))
                self.send({"type": "init_ok", "in_reply_to": m["id"], "protocol": PROTOCOL, "name": self.name,
                           "points": self.strategy.points, "peek": True})
            elif t in ("point_ok", "error") and m.get("in_reply_to", 0) > (1 << 40):
                with self.points_lock:
                    ev = self.waiting.pop(m["in_reply_to"], None)
                if ev is not None:
                    ev[1] = m
                    ev[0].set()
            else:
                self.pool.submit(self.handle, m)
        # stdin closed: the harness is done with us.
        sys.stdout.flush()
        os._exit(0)


def main(make_strategy, name):
    Harness(make_strategy, name).run()
