#!/usr/bin/env python3
"""Wake-up latency of parked lockgen waiters, at fleet scale.

    bench/wake_latency.py [--bin PATH] [--rounds 5] [--scenarios 200x1,1000x1,10000x100]

For each scenario WAITERSxKEYS: one holder takes a generation lease on each key, WAITERS sockets
(one per waiter, spread evenly over the keys) park on `lockgen`, then the holder stores every key
with pipelined `setgen`s. The clock of a key starts when the holder reads that key's `STORED` and
stops, per waiter, when its `HIT` has been read; one C process (bench/wake_latency.c, compiled
here with cc) drives every socket through epoll, so the client adds microseconds, not the
milliseconds an interpreter would.
For one-key scenarios each round is followed by a round of bench/wake_floor.c: the same number of
loopback sockets waiting in one epoll set, written to by as many plain C threads as dogpiled has
workers, with no server at all: what the kernel charges for this fan-out at this moment, printed
beside dogpiled's (arrival times on both sides).
Prints p50 / p99 / max over all waiters, per round and the median round, twice: by the times
the client read the replies, and by the kernel's receive timestamps (SO_TIMESTAMPNS), which leave
out the client's own serial reading of a thousand sockets. Every waiter must be
answered HIT with the stored value, or the run fails. A report, not a test.
"""

from __future__ import annotations

import argparse
import os
import resource
import socket
import tempfile
import statistics
import subprocess
import sys
import time
from pathlib import Path

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def start(binary: str, connections: int, threads: int | None) -> tuple[subprocess.Popen, int]:
    port = free_port()
    argv = [binary, "-l", HOST, "-p", str(port), "-c", str(connections), "--max-locks", "100000"]
    if threads:
        argv += ["-t", str(threads)]
    if os.geteuid() == 0:
        argv += ["-u", "root"]
    # The daemon needs a descriptor per waiter: raise the limit it inherits.
    def raise_limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (connections + 200, connections + 200))
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, preexec_fn=raise_limit)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection((HOST, port), timeout=0.5).close()
            return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit("dogpiled did not start")


def one_round(client: Path, port: int, waiters: int, keys: int, round_id: int) -> tuple[float, ...]:
    """Runs the epoll client for one round; returns (p50, p99, max) of read times, then of
    kernel arrival times, in milliseconds."""
    result = subprocess.run([str(client), str(port), str(waiters), str(keys), str(round_id)],
                            capture_output=True, text=True, timeout=180)
    if result.returncode != 0:
        raise SystemExit(result.stderr.strip() or f"client failed: {result.returncode}")
    return tuple(float(x) for x in result.stdout.split())


def floor_round(floor: Path, waiters: int, writers: int) -> tuple[float, ...]:
    """One round of the no-server reference (bench/wake_floor.c) for `waiters` sockets."""
    result = subprocess.run([str(floor), str(waiters), str(writers), "1"],
                            capture_output=True, text=True, timeout=180)
    if result.returncode != 0:
        raise SystemExit(result.stderr.strip() or f"floor failed: {result.returncode}")
    return tuple(float(x) for x in result.stdout.split())


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default=os.environ.get("DOGPILED_BIN", str(ROOT / ".build/release/dogpiled")))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--scenarios", default="200x1,1000x1,10000x100")
    parser.add_argument("--threads", type=int, help="dogpiled -t (default: the daemon's own, 4)")
    args = parser.parse_args()
    scenarios = [tuple(int(n) for n in s.split("x")) for s in args.scenarios.split(",")]
    most = max(w for w, _ in scenarios)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, most + 500), max(hard, most + 500)))
    client = Path(tempfile.mkdtemp(prefix="wake-latency-")) / "wake_latency"
    subprocess.run(["cc", "-O2", "-o", str(client), str(ROOT / "bench" / "wake_latency.c")], check=True)
    floor = client.parent / "wake_floor"
    subprocess.run(["cc", "-O2", "-pthread", "-o", str(floor), str(ROOT / "bench" / "wake_floor.c")], check=True)
    proc, port = start(args.bin, most + 100, args.threads)
    print(f"dogpiled {args.bin} on port {port} (-t {args.threads or 'default'}); {args.rounds} rounds per scenario; latency in ms, "
          "read: holder reads STORED -> waiter has read HIT; arrival: the same by the kernel's receive timestamps")
    try:
        for waiters, keys in scenarios:
            rows, floors = [], []
            for r in range(args.rounds):
                rows.append(one_round(client, port, waiters, keys, r * 100000 + waiters))
                if keys == 1:
                    floors.append(floor_round(floor, waiters, args.threads or 4))
                row = rows[-1]
                print(f"  {waiters:6d} waiters / {keys:3d} keys, round {r + 1}: read p50 {row[0]:7.2f}  p99 {row[1]:7.2f}  "
                      f"max {row[2]:7.2f} | arrival p50 {row[3]:7.2f}  p99 {row[4]:7.2f}  max {row[5]:7.2f}"
                      + (f" | plain C p50 {floors[-1][0]:7.2f}  p99 {floors[-1][1]:7.2f}" if floors else ""),
                      flush=True)
            med = [statistics.median(col) for col in zip(*rows)]
            for name, at in (("read", 0), ("arrival", 3)):
                print(f"{waiters:6d} waiters / {keys:3d} keys, {name:7s}: median round p50 {med[at]:.2f} ms, "
                      f"p99 {med[at + 1]:.2f} ms, max {med[at + 2]:.2f} ms (p99 spread "
                      f"{min(r[at + 1] for r in rows):.2f}..{max(r[at + 1] for r in rows):.2f})")
            if floors:
                fmed = [statistics.median(col) for col in zip(*floors)]
                print(f"{waiters:6d} waiters / {keys:3d} keys, plain C: median round p50 {fmed[0]:.2f} ms, "
                      f"p99 {fmed[1]:.2f} ms, max {fmed[2]:.2f} ms ({args.threads or 4} writer threads, "
                      f"no server); dogpiled arrival p99 / plain C p99 = {med[4] / fmed[1]:.2f}")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
