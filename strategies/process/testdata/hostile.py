#!/usr/bin/python3
"""A hostile strategy process for the tests of package process.

usage: hostile.py MODE [TOKEN]

It speaks just enough of docs/protocol.md to get through init, then
misbehaves as MODE says. Reads are answered with the seed row from the
cache (version 0), writes with a definite error (nothing committed), unless
the mode says otherwise. TOKEN is ignored: it marks the command line, so
that a test can find every process of its own in /proc.

Modes:
  escape-pipes    at init, starts a grandchild that calls setsid() and
                  sleeps 600 s with stdout and stderr still open
  escape-closed   the same, but the grandchild closes its descriptors
  lie-version     answers every write with write_ok and a version, and
                  commits nothing
  negative-read   answers reads with version -3
  spew            writes 10 MiB to stderr at init, between a first and a
                  last line
  quiet           behaves (reads and failed writes only)
"""
import json
import os
import sys
import time


def escape(close_fds):
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            if close_fds:
                fd = os.open(os.devnull, os.O_RDWR)
                for i in (0, 1, 2):
                    os.dup2(fd, i)
                os.close(fd)
            time.sleep(600)
        os._exit(0)


def main():
    mode = sys.argv[1]
    versions = {}
    out = sys.stdout
    for line in sys.stdin:
        m = json.loads(line)
        t, rid = m.get("type"), m.get("id")
        if t == "init":
            if mode == "escape-pipes":
                escape(False)
            elif mode == "escape-closed":
                escape(True)
            elif mode == "spew":
                err = sys.stderr
                err.write("spew: the first line\n")
                line = "x" * 1023 + "\n"
                for _ in range(10 * 1024):
                    err.write(line)
                err.write("spew: the last line\n")
                err.flush()
            r = {"type": "init_ok", "in_reply_to": rid, "protocol": 1, "name": "hostile-" + mode}
        elif t == "read":
            v = -3 if mode == "negative-read" else 0
            r = {"type": "read_ok", "in_reply_to": rid, "hit": True,
                 "value": {"version": v, "token": 0, "balance": 0}}
        elif t == "write":
            if mode == "lie-version":
                k = m["key"]
                versions[k] = versions.get(k, 0) + 1
                r = {"type": "write_ok", "in_reply_to": rid, "version": versions[k]}
            else:
                r = {"type": "error", "in_reply_to": rid, "class": "other", "definite": True,
                     "text": "this process writes nothing"}
        elif t in ("point_ok", "error"):
            continue
        else:
            r = {"type": "error", "in_reply_to": rid, "class": "other", "definite": True, "text": "unsupported"}
        out.write(json.dumps(r) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
