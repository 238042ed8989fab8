#!/usr/bin/env python3
"""Regenerates weights-1-2-3.tsv: where pylibmc (libmemcached's weighted ketama)
puts keys key-0 .. key-9999 over 127.0.0.1:21001:1, :21002:2, :21003:3.

The answer is taken from where each key really LANDS, not from a re-implementation:
three real daemons are started on exactly those ports (the ports are part of the
hashed point names, so no others will do), every key is set through pylibmc, and
each daemon is then asked directly which keys it holds.

Needs pylibmc (built against libmemcached-dev) and a daemon binary: memcached by
default, or dogpiled with --daemon "$DOGPILED_BIN" (placement is client-side, any
memcached-protocol server gives the same file).

    python3 Tests/Fixtures/ketama/generate.py [--daemon /path/to/binary] > weights-1-2-3.tsv
"""

import argparse
import os
import shutil
import socket
import subprocess
import sys
import time

import pylibmc

SERVERS = [("127.0.0.1", 21001, 1), ("127.0.0.1", 21002, 2), ("127.0.0.1", 21003, 3)]
KEYS = [f"key-{i}" for i in range(10000)]


def start(binary: str, port: int) -> subprocess.Popen:
    argv = [binary, "-l", "127.0.0.1", "-p", str(port), "-U", "0", "-m", "64"]
    if os.geteuid() == 0:
        argv += ["-u", "root"]          # memcached refuses to run as root without it
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.05)
    proc.kill()
    sys.exit(f"{binary} did not start on port {port} (is the port in use?)")


def keys_held(port: int) -> set:
    """The keys of KEYS that the daemon on ``port`` holds, asked with plain `get`s."""
    held = set()
    with socket.create_connection(("127.0.0.1", port)) as sock:
        reader = sock.makefile("rb")
        for start_at in range(0, len(KEYS), 100):
            batch = KEYS[start_at:start_at + 100]
            sock.sendall(("get " + " ".join(batch) + "\r\n").encode())
            while True:
                line = reader.readline().rstrip(b"\r\n")
                if line == b"END":
                    break
                _, key, _flags, size = line.split()[:4]
                reader.read(int(size) + 2)
                held.add(key.decode())
    return held


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--daemon", default=shutil.which("memcached") or "memcached")
    args = parser.parse_args()
    procs = [start(args.daemon, port) for _, port, _ in SERVERS]
    try:
        client = pylibmc.Client([f"{h}:{p}:{w}" for h, p, w in SERVERS],
                                behaviors={"ketama_weighted": True})
        for key in KEYS:
            client.set(key, b"x")
        where = {}
        for host, port, _ in SERVERS:
            for key in keys_held(port):
                if key in where:
                    sys.exit(f"{key} landed on two daemons")
                where[key] = f"{host}:{port}"
        missing = [k for k in KEYS if k not in where]
        if missing:
            sys.exit(f"{len(missing)} keys landed nowhere, e.g. {missing[:3]}")
        for key in KEYS:
            print(f"{key}\t{where[key]}")
    finally:
        for proc in procs:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    main()
