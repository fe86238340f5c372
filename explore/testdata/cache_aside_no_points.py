#!/usr/bin/python3
"""The example cache-aside with no interleaving points: it announces none
and never stops at one, as a library run unchanged would. explore still
schedules it at every Redis command and PostgreSQL statement, at the
harness's proxies."""

import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples", "python"))

import cache_aside  # noqa: E402
import ghostproto  # noqa: E402


class NoPoints(cache_aside.CacheAside):
    points = []


class Quiet:
    """A request whose points return at once, without telling the harness."""

    def __init__(self, req):
        self.req = req

    def point(self, name, key):
        pass

    def __getattr__(self, name):
        return getattr(self.req, name)


class Strategy(NoPoints):
    def read(self, req, key):
        return super().read(Quiet(req), key)

    def write(self, req, key, token, delta):
        return super().write(Quiet(req), key, token, delta)


if __name__ == "__main__":
    ghostproto.main(Strategy, "python-cache-aside-no-points")
