#!/usr/bin/python3
"""Deliberately broken, for the conform test: cache-aside that forgets to
DEL the key after COMMIT, so a write is not read back (ReadYourWrite)."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "examples", "python"))

import ghostproto  # noqa: E402
from ghostproto import FillRead  # noqa: E402


class NoInvalidation(FillRead):
    def write(self, req, key, token, delta):
        conn = self.env.db.get()
        try:
            v = self.update(conn, key, token, delta)
            sent, ack = self.commit(conn, v["version"])
        finally:
            self.env.db.put(conn)
        return v["version"], sent, ack


if __name__ == "__main__":
    ghostproto.main(NoInvalidation, "broken-cache-aside")
