"""Fixtures: real dogpiled daemons for the Python client's tests.

TCP daemons are the locking suite's ``Daemon`` (Tests/Locking/lockclient.py: a
free loopback port, the binary from ``DOGPILED_BIN``, a missing binary FAILS the
test).  Every daemon declares the regions the tests use, and gets ``-u root`` when
the tests run as root and the binary knows ``-u`` (memcached refuses root without it).
"""

from __future__ import annotations

import functools
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[2]
sys.path.insert(0, str(REPO_ROOT / "Tests" / "Locking"))
sys.path.insert(0, str(HERE))

from lockclient import Daemon, dogpiled_bin  # noqa: E402

REGIONS = ["user:memory=16m,stale_ttl=60", "other:memory=8m"]


@functools.lru_cache(maxsize=None)
def root_args() -> tuple:
    """``("-u", "root")`` when running as root and the binary takes ``-u``."""
    if os.geteuid() != 0:
        return ()
    path = dogpiled_bin()
    if not os.path.exists(path):
        return ()
    out = subprocess.run([path, "-h"], capture_output=True, text=True, timeout=30)
    return ("-u", "root") if "-u, --user" in (out.stdout + out.stderr) else ()


def region_args(regions=REGIONS) -> list:
    args = []
    for region in regions:
        args += ["--region", region]
    return args


def start_daemon(*extra) -> Daemon:
    return Daemon([*region_args(), *root_args(), *extra]).start()


class UnixDaemon:
    """A dogpiled listening on a Unix socket only (``-s``)."""

    def __init__(self, extra=()):
        self.dir = tempfile.mkdtemp(prefix="dogpiled-py-")
        self.path = os.path.join(self.dir, "sock")
        path = dogpiled_bin()
        if not os.path.exists(path):
            pytest.fail(f"dogpiled binary not found at {path}", pytrace=False)
        self.proc = subprocess.Popen([path, "-s", self.path, "-t", "2", "-m", "32",
                                      *region_args(), *root_args(), *extra],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     start_new_session=True)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            try:
                with socket.socket(socket.AF_UNIX) as s:
                    s.connect(self.path)
                return
            except OSError:
                if self.proc.poll() is not None:
                    break
                time.sleep(0.02)
        self.stop()
        pytest.fail(f"dogpiled did not start on {self.path}", pytrace=False)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)


@pytest.fixture
def daemons():
    """``daemons(n, *extra)`` starts n daemons; all are stopped after the test."""
    started = []

    def make(n=1, *extra):
        new = [start_daemon(*extra) for _ in range(n)]
        started.extend(new)
        return new

    yield make
    for d in started:
        d.stop()


@pytest.fixture
def daemon(daemons) -> Daemon:
    return daemons(1)[0]


def url(d: Daemon, weight: int = 1) -> str:
    return f"127.0.0.1:{d.port}:{weight}"
