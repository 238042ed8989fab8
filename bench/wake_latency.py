#!/usr/bin/env python3
"""Wake-up latency of parked lockgen waiters, at fleet scale.

    bench/wake_latency.py [--bin PATH] [--rounds 5] [--scenarios 200x1,1000x1,10000x100]

For each scenario WAITERSxKEYS: one holder takes a generation lease on each key, WAITERS sockets
(one per waiter, spread evenly over the keys) park on `lockgen`, then the holder stores every key
with pipelined `setgen`s. The clock of a key starts when the holder reads that key's `STORED` and
stops, per waiter, when its `HIT` has been read; one C process (bench/wake_latency.c, compiled
here with cc) drives every socket through epoll, so the client adds microseconds, not the
milliseconds an interpreter would.
Prints p50 / p99 / max over all waiters, per round and the median round. Every waiter must be
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


def one_round(client: Path, port: int, waiters: int, keys: int, round_id: int) -> tuple[float, float, float]:
    """Runs the epoll client for one round; returns (p50, p99, max) in milliseconds."""
    result = subprocess.run([str(client), str(port), str(waiters), str(keys), str(round_id)],
                            capture_output=True, text=True, timeout=180)
    if result.returncode != 0:
        raise SystemExit(result.stderr.strip() or f"client failed: {result.returncode}")
    p50, p99, worst = (float(x) for x in result.stdout.split())
    return p50, p99, worst


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
    proc, port = start(args.bin, most + 100, args.threads)
    print(f"dogpiled {args.bin} on port {port} (-t {args.threads or 'default'}); {args.rounds} rounds per scenario; latency in ms "
          "(holder reads STORED -> waiter has read HIT)")
    try:
        for waiters, keys in scenarios:
            rows = []
            for r in range(args.rounds):
                rows.append(one_round(client, port, waiters, keys, r * 100000 + waiters))
                print(f"  {waiters:6d} waiters / {keys:3d} keys, round {r + 1}: "
                      f"p50 {rows[-1][0]:7.2f}  p99 {rows[-1][1]:7.2f}  max {rows[-1][2]:7.2f}", flush=True)
            med = [statistics.median(col) for col in zip(*rows)]
            print(f"{waiters:6d} waiters / {keys:3d} keys: median round p50 {med[0]:.2f} ms, p99 {med[1]:.2f} ms, "
                  f"max {med[2]:.2f} ms (p99 spread {min(r[1] for r in rows):.2f}..{max(r[1] for r in rows):.2f})")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    return 0


if __name__ == "__main__":
    sys.exit(main())
