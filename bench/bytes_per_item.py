#!/usr/bin/env python3
"""Resident memory per item, side by side: what a cache's layout costs in hit ratio per gigabyte.

    bench/bytes_per_item.py [--bin PATH] [--items 1000000] [--rounds 5] [--servers dogpiled,memcached]
                            [--dogpiled-args "-C"] [--json results.json]

For each round and server (fresh process, -m 1024 -t 2, alternating which goes first): RSS after
start, then `--items` sets of 16-byte keys and 100-byte values (pipelined, noreply, one round trip
at the end), then RSS again. Prints (RSS growth) / items per round, and the median and spread per
server (--json: every round and the medians). memcached preallocates nothing at -m 1024 without
-L, so both grow from their idle RSS.
A report, not a test (Tests/Locking/test_memory_bounds.py keeps a short version with margins).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import socket
import statistics
import subprocess
import sys
import time

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def rss_bytes(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def start(argv: list[str]) -> tuple[subprocess.Popen, int]:
    port = free_port()
    argv = argv + ["-l", HOST, "-p", str(port), "-t", "2", "-m", "1024"]
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


def round_trip(conn: socket.socket) -> None:
    conn.sendall(b"version\r\n")
    reply = b""
    while not reply.endswith(b"\r\n"):
        reply += conn.recv(4096)


def fill(port: int, items: int) -> None:
    conn = socket.create_connection((HOST, port))
    value = b"v" * 100
    batch = []
    for i in range(items):
        batch.append(b"set k:%014d 0 0 100 noreply\r\n%s\r\n" % (i, value))   # 16-byte key
        if len(batch) == 2000:
            conn.sendall(b"".join(batch))
            batch.clear()
    conn.sendall(b"".join(batch))
    round_trip(conn)
    conn.close()


def measure(argv: list[str], items: int) -> float:
    proc, port = start(argv)
    try:
        time.sleep(1)
        before = rss_bytes(proc.pid)
        fill(port, items)
        time.sleep(1)
        after = rss_bytes(proc.pid)
        with socket.create_connection((HOST, port)) as conn:
            conn.sendall(b"stats\r\n")
            reply = b""
            while not reply.endswith(b"END\r\n"):
                reply += conn.recv(65536)
        current = int(reply.split(b"STAT curr_items ")[1].split(b"\r\n")[0])
        if current != items:
            raise SystemExit(f"{argv[0]} holds {current} of {items} items: raise -m")
        return (after - before) / items
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bin", default=os.environ.get("DOGPILED_BIN", ".build/release/dogpiled"))
    parser.add_argument("--items", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--servers", default="dogpiled,memcached")
    parser.add_argument("--dogpiled-args", default="", help="extra dogpiled arguments, e.g. -C")
    parser.add_argument("--memcached-args", default="", help="extra memcached arguments, e.g. -C")
    parser.add_argument("--json", help="write every round and the medians here")
    args = parser.parse_args()
    commands = {"dogpiled": [args.bin, *shlex.split(args.dogpiled_args)],
                "memcached": ["memcached", "-U", "0", *shlex.split(args.memcached_args)]}
    names = args.servers.split(",")
    results: dict[str, list[float]] = {name: [] for name in names}
    for round_index in range(args.rounds):
        order = names if round_index % 2 == 0 else list(reversed(names))
        for name in order:
            per_item = measure(commands[name], args.items)
            results[name].append(per_item)
            print(f"  round {round_index + 1}  {name:10s} {per_item:6.1f} B/item", flush=True)
    print(f"\n{args.items:,} items, 16-byte keys, 100-byte values (payload 116 B):")
    for name in names:
        values = results[name]
        print(f"  {name:10s} median {statistics.median(values):6.1f} B/item  "
              f"(spread {min(values):.1f}..{max(values):.1f}, {len(values)} rounds)")
    if args.json:
        summary = {"items": args.items, "key_bytes": 16, "value_bytes": 100, "rounds": args.rounds,
                   "servers": {name: {"bytes_per_item": values, "median": statistics.median(values),
                                      "min": min(values), "max": max(values)}
                               for name, values in results.items()}}
        with open(args.json, "w") as f:
            json.dump(summary, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
