#!/usr/bin/env python3
"""RSS under item sizes that keep changing: the allocator's fragmentation, side by side.

    bench/drift.py [--bin PATH] [--memory 16] [--seconds 60] [--servers dogpiled,memcached]
                   [--interval 5] [--csv rss.csv] [--json summary.json]

For each server (same -m, -t 2): a client sets keys from a space of 20,000 with value sizes
drawn in three phases of equal length: uniform 10 B..500 KB, log-uniform 10 B..500 KB, then
log-uniform windows that shift every few seconds (small values, then large, then small...).
Prints the server's RSS (VmRSS) every --interval seconds and, at the end, its maximum, the final
value, the memory limit and RSS / (-m + idle RSS). --csv writes the time series (server, seconds,
phase, rss_mib: one row per sample, from 0 s at the idle RSS to the final value after the load),
--json the summary. A report, not a test (Tests/ keeps a short version).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import random
import socket
import subprocess
import sys
import time

HOST = "127.0.0.1"
KEYS = 20_000
SMALLEST, LARGEST = 10, 500 * 1024


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def start(argv: list[str]) -> tuple[subprocess.Popen, int]:
    port = free_port()
    argv = argv + ["-l", HOST, "-p", str(port), "-t", "2"]
    if os.geteuid() == 0:
        argv += ["-u", "root"]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            socket.create_connection((HOST, port), timeout=0.5).close()
            return proc, port
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise SystemExit(f"{argv[0]} did not start")


def size_for(phase: str, elapsed: float, rng: random.Random) -> int:
    if phase == "uniform":
        return rng.randint(SMALLEST, LARGEST)
    if phase == "log-uniform":
        return int(math.exp(rng.uniform(math.log(SMALLEST), math.log(LARGEST))))
    # shifting windows: a decade-wide log-uniform window whose centre moves every 3 s
    centres = [100, 300_000, 1_000, 100_000, 10_000, 30]
    centre = centres[int(elapsed / 3) % len(centres)]
    low, high = max(SMALLEST, centre / 3), min(LARGEST, centre * 3)
    return int(math.exp(rng.uniform(math.log(low), math.log(high))))


def round_trip(conn: socket.socket) -> None:
    """A `version` round trip: the server has handled everything sent before it."""
    conn.sendall(b"version\r\n")
    reply = b""
    while not reply.endswith(b"\r\n"):
        reply += conn.recv(4096)


def drive(port: int, pid: int, seconds: float, label: str, interval: float,
          samples: list[tuple[float, str, float]], seed: int = 7) -> tuple[float, float]:
    """Sets drifting sizes for `seconds`; appends (seconds, phase, RSS MiB) to `samples`
    every `interval` seconds and once more at the end. Returns (peak, final) RSS."""
    rng = random.Random(seed)
    conn = socket.create_connection((HOST, port))
    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    blob = os.urandom(LARGEST)
    phases = ["uniform", "log-uniform", "shifting"]
    start_at = time.monotonic()
    last_print = start_at
    peak = 0.0
    sent = 0
    while (now := time.monotonic()) - start_at < seconds:
        elapsed = now - start_at
        phase = phases[min(2, int(elapsed / (seconds / 3)))]
        batch = []
        for _ in range(16):
            size = size_for(phase, elapsed, rng)
            key = f"drift:{rng.randrange(KEYS)}".encode()
            batch.append(b"set " + key + b" 0 0 %d noreply\r\n" % size + blob[:size] + b"\r\n")
        conn.sendall(b"".join(batch))
        sent += len(batch)
        if now - last_print >= interval:
            round_trip(conn)            # the server has caught up with what was sent
            rss = rss_mib(pid)
            peak = max(peak, rss)
            samples.append((elapsed, phase, rss))
            print(f"  {label:10s} {elapsed:5.0f} s  {phase:11s} RSS {rss:7.1f} MiB", flush=True)
            last_print = now
    round_trip(conn)
    time.sleep(2)
    final = rss_mib(pid)
    samples.append((time.monotonic() - start_at, "end", final))
    conn.close()
    return max(peak, final), final


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bin", default=os.environ.get("DOGPILED_BIN", ".build/release/dogpiled"))
    parser.add_argument("--memory", type=int, default=16, help="-m in megabytes")
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--servers", default="dogpiled,memcached")
    parser.add_argument("--interval", type=float, default=5, help="seconds between RSS samples")
    parser.add_argument("--csv", help="write the RSS time series here (server,seconds,phase,rss_mib)")
    parser.add_argument("--json", help="write the summary here")
    args = parser.parse_args()
    commands = {"dogpiled": [args.bin, "-m", str(args.memory), "-I", "1m"],
                "memcached": ["memcached", "-m", str(args.memory), "-U", "0", "-I", "1m"]}
    rows = []
    series: list[tuple[str, float, str, float]] = []
    for name in args.servers.split(","):
        proc, port = start(commands[name])
        try:
            time.sleep(2)
            idle = rss_mib(proc.pid)
            samples = [(0.0, "idle", idle)]
            peak, final = drive(port, proc.pid, args.seconds, name, args.interval, samples)
            series += [(name, *sample) for sample in samples]
            bound = args.memory * 1.1 + idle
            rows.append((name, idle, peak, final, bound))
        finally:
            proc.terminate()
            proc.wait(timeout=10)
    print(f"\n-m {args.memory}, {args.seconds:.0f} s of drifting sizes ({SMALLEST} B..{LARGEST // 1024} KB):")
    for name, idle, peak, final, bound in rows:
        print(f"  {name:10s} idle {idle:6.1f} MiB  peak {peak:7.1f} MiB  end {final:7.1f} MiB  "
              f"bound (-m + 10% + idle) {bound:6.1f} MiB  peak/bound {peak / bound:.2f}")
    if args.csv:
        with open(args.csv, "w", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["server", "seconds", "phase", "rss_mib"])
            writer.writerows((name, f"{at:.2f}", phase, f"{rss:.2f}") for name, at, phase, rss in series)
    if args.json:
        summary = {"memory_mb": args.memory, "seconds": args.seconds, "smallest": SMALLEST, "largest": LARGEST,
                   "servers": [{"server": name, "idle_mib": idle, "peak_mib": peak, "end_mib": final,
                                "bound_mib": bound} for name, idle, peak, final, bound in rows]}
        with open(args.json, "w") as f:
            json.dump(summary, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
