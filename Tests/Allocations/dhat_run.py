"""Counts the heap allocations a real dogpiled makes per request, under valgrind's DHAT.

The binary is copied without its debug sections (valgrind 3.19 cannot read Swift 6's DWARF;
the symbol table stays, so stacks keep their names), started under
``valgrind --tool=dhat`` on a free loopback port, sent a workload, and stopped with SIGTERM
(a graceful exit writes the profile).  Every allocation of the run is then classified by its
stack: made under libevent's ``evbuffer_*`` (the reply's buffer chains, which libevent owns
and recycles) or by dogpiled's own code (everything else).

Per-request counts come from two runs whose workloads differ only in the number of requests:
``(allocations(2N) - allocations(N)) / N``, so start-up, the connection and timers cancel out.
Allocations made while answering ``stats`` (a workload may poll it a varying number of times to
know when waiters are parked) are left out of both.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from typing import Callable

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


@dataclass
class Counts:
    """Allocation calls of one run, split by who asked."""

    dogpiled: int
    libevent: int
    stacks: dict            # dogpiled's own allocation stacks -> calls (for failure messages)


def stripped_copy(binary: str, folder: str) -> str:
    path = os.path.join(folder, "dogpiled")
    subprocess.run(["strip", "--strip-debug", "-o", path, binary], check=True)
    return path


def run(binary: str, workload: Callable[[socket.socket, int], None], extra=()) -> Counts:
    """One daemon under DHAT: ``workload`` gets a connected socket and the port; returns the
    run's counts."""
    folder = tempfile.mkdtemp(prefix="dogpiled-dhat-")
    try:
        copy = stripped_copy(binary, folder)
        out = os.path.join(folder, "dhat.json")
        port = free_port()
        argv = ["valgrind", "--tool=dhat", f"--dhat-out-file={out}", copy, "-l", HOST,
                "-p", str(port), "-t", "1", *extra]
        if os.geteuid() == 0:
            argv += ["-u", "root"]
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            conn = connect(port, proc)
            workload(conn, port)
            conn.close()
        finally:
            proc.send_signal(signal.SIGTERM)
            _, err = proc.communicate(timeout=120)
        if not os.path.exists(out):
            raise RuntimeError(f"no DHAT profile; valgrind said:\n{err.decode(errors='replace')[-2000:]}")
        return classify(json.load(open(out)))
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def connect(port: int, proc: subprocess.Popen = None) -> socket.socket:
    deadline = time.monotonic() + 90          # valgrind starts a Swift binary slowly
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"dogpiled under valgrind exited: {proc.stderr.read().decode()[-2000:]}")
        try:
            conn = socket.create_connection((HOST, port), timeout=60)
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return conn
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("dogpiled under valgrind did not start listening")


def classify(profile: dict) -> Counts:
    frames = profile["ftbl"]
    ours = libevent = 0
    stacks: dict = {}
    for point in profile["pps"]:
        calls = point["tbk"]
        names = [frames[i] for i in point["fs"]]
        if any("evbuffer_" in name for name in names):
            libevent += calls
            continue
        if any("StatsReport" in name for name in names):
            continue                          # polling `stats`, not the workload under test
        ours += calls
        key = " <- ".join(short(n) for n in names[1:6])
        stacks[key] = stacks.get(key, 0) + calls
    return Counts(ours, libevent, stacks)


def short(frame: str) -> str:
    # "0x1234: symbol (in /path)" -> "symbol"
    text = frame.split(": ", 1)[-1]
    return text.split(" (in ", 1)[0][:110]


def read_exactly(conn: socket.socket, total: int) -> bytes:
    chunks, got = [], 0
    while got < total:
        data = conn.recv(min(1 << 20, total - got))
        if not data:
            raise RuntimeError(f"connection closed after {got} of {total} bytes")
        chunks.append(data)
        got += len(data)
    return b"".join(chunks)


def exchange(conn: socket.socket, request: bytes, reply: bytes, times: int) -> None:
    """Sends ``request`` ``times`` times (in batches) and checks every reply is ``reply``."""
    batch = 500
    left = times
    while left > 0:
        n = min(batch, left)
        conn.sendall(request * n)
        got = read_exactly(conn, len(reply) * n)
        if got != reply * n:
            raise AssertionError(f"unexpected reply: {got[:200]!r}")
        left -= n


def per_request(binary: str, setup: Callable[[socket.socket], None],
                step: Callable[[socket.socket, int, int], None], n: int = 1000, extra=()):
    """Allocations per request of ``step(conn, port, times)`` (dogpiled's own, libevent's), and
    the stacks that grew between the N and 2N runs."""
    def workload(times):
        def go(conn, port):
            setup(conn)
            step(conn, port, times)
        return go
    small = run(binary, workload(n), extra)
    large = run(binary, workload(2 * n), extra)
    grown = {k: large.stacks.get(k, 0) - small.stacks.get(k, 0) for k in large.stacks}
    grown = {k: v for k, v in sorted(grown.items(), key=lambda kv: -kv[1]) if v > 0}
    return ((large.dogpiled - small.dogpiled) / n, (large.libevent - small.libevent) / n, grown)
