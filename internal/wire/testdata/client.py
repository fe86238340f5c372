#!/usr/bin/python3
"""Talks to Redis with redis-py and to PostgreSQL with psycopg 3 through
the proxies under test; prints one JSON line of what it saw. Usage:
client.py REDIS_URL POSTGRES_DSN TABLE. The Go test decides, at the
proxies' gates, that SET wire:py:refused is refused, that the reply to
SET wire:py:lost is lost and that the second COMMIT is refused."""

import json
import sys

import psycopg
import redis

redis_url, dsn, table = sys.argv[1:4]
out = {}

r = redis.Redis.from_url(redis_url, socket_timeout=0.5, socket_connect_timeout=5)
r.set("wire:py:a", "x" * 52, px=60000)
out["get"] = r.get("wire:py:a").decode()
p = r.pipeline(transaction=False)
p.set("wire:py:b", "1")
p.incr("wire:py:b")
p.get("wire:py:b")
out["pipeline"] = [str(v) for v in p.execute()]
try:
    r.set("wire:py:refused", "x")
    out["refused"] = "no error"
except redis.exceptions.ResponseError as e:
    out["refused"] = str(e)
try:
    r.set("wire:py:lost", "applied")
    out["lost"] = "no error"
except redis.exceptions.TimeoutError:
    out["lost"] = "timeout"
except redis.exceptions.RedisError as e:
    out["lost"] = "%s: %s" % (type(e).__name__, e)
out["after_lost"] = r.get("wire:py:a").decode()

with psycopg.connect(dsn) as conn:
    with conn.cursor() as cur:
        for _ in range(7):  # psycopg prepares the statement from the 6th time on
            cur.execute("SELECT v FROM %s WHERE id = %%s" % table, (1,))
            out["select"] = cur.fetchone()[0]
        cur.execute("SELECT count(*) FROM pg_prepared_statements")
        out["prepared"] = cur.fetchone()[0]
        conn.commit()
        cur.execute("UPDATE %s SET v = %%s WHERE id = %%s" % table, (100, 1))
        try:
            conn.commit()
            out["commit"] = "no error"
        except psycopg.Error as e:
            out["commit"] = "%s %s" % (e.sqlstate, type(e).__name__)
        out["status_after_commit"] = conn.info.transaction_status.name
        cur.execute("UPDATE %s SET v = %%s WHERE id = %%s" % table, (200, 2))
        conn.commit()
print(json.dumps(out))
