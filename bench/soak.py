#!/usr/bin/env python3
"""Soak: mixed classic and lock traffic with hang-ups, RSTs, slow readers and SIGHUPs.

    bench/soak.py [--seconds 600] [--bin PATH] [--workers 24] [--report-every 30]

Starts dogpiled (from --bin, DOGPILED_BIN or .build/debug/dogpiled) on a free loopback port with a
config file (so SIGHUP has something to re-read), drives it for --seconds, and prints RSS, open
descriptors, connections and the lock table over time. At the end, after the clients are gone, it
checks that what the clients could make the server hold went back: the lock table is empty, the
descriptors are back to their idle count, no protocol error was seen. Exits 1 if not.

This is a report, not a test: CI runs it only briefly, under ThreadSanitizer (scripts/tsan.sh).
Every loop is bounded in time and talks only to 127.0.0.1.
"""

from __future__ import annotations

import argparse
import os
import random
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parent.parent

CONFIG = """
port = {port}
listen = ["127.0.0.1"]
threads = 4
max_connections = 4000
memory = "{memory}"
verbosity = 0
max_locks = 20000
lock_wait_ms = 800

[regions.default]
stale_ttl = 60

[regions.soak]
memory = "{region_memory}"
exptime = 2
stale_ttl = 30
lock_wait_ms = 800
"""


class ProtocolError(Exception):
    pass


class Client:
    """A small blocking client: one request, one reply."""

    def __init__(self, port: int, timeout: float = 5.0):
        self.sock = socket.create_connection((HOST, port), timeout=timeout)
        self.buf = b""

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def reset(self) -> None:
        """Closes with an RST (SO_LINGER 0) instead of a FIN."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close()

    def _line(self) -> bytes:
        while b"\r\n" not in self.buf:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed by server")
            self.buf += chunk
        line, _, self.buf = self.buf.partition(b"\r\n")
        return line

    def _exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            chunk = self.sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed by server")
            self.buf += chunk
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def request(self, line: bytes, data: bytes | None = None) -> tuple[list[bytes], bytes]:
        """Sends a request; returns (values, final line)."""
        self.sock.sendall(line + b"\r\n" + (data + b"\r\n" if data is not None else b""))
        values = []
        while True:
            reply = self._line()
            if reply.startswith(b"VALUE "):
                size = int(reply.split()[3])
                values.append(self._exact(size + 2)[:-2])
                continue
            return values, reply


def expect(reply: bytes, *allowed: bytes) -> None:
    if not any(reply == a or (a.endswith(b" ") and reply.startswith(a)) for a in allowed):
        raise ProtocolError(reply.decode("latin-1")[:120])


def classic(c: Client, rng: random.Random) -> None:
    key = b"k%d" % rng.randrange(2000)
    size = rng.choice((10, 100, 1000, 20000, 200000))
    expect(c.request(b"set %s 0 %d %d" % (key, rng.randrange(60), size), b"x" * size)[1], b"STORED")
    values, end = c.request(b"get " + b" ".join(b"k%d" % rng.randrange(2000) for _ in range(rng.randrange(1, 40))))
    expect(end, b"END")
    expect(c.request(b"delete " + key)[1], b"DELETED", b"NOT_FOUND")
    reply = c.request(b"incr counter 1")[1]
    if not (reply == b"NOT_FOUND" or reply.isdigit()):
        raise ProtocolError(reply.decode("latin-1")[:120])
    expect(c.request(b"set counter 0 0 1", b"1")[1], b"STORED")


def lockgen_cycle(c: Client, rng: random.Random) -> None:
    key = b"soak:g%d" % rng.randrange(50)
    values, reply = c.request(b"lockgen %s 2000 500" % key)
    expect(reply, b"HIT", b"STALE", b"BUSY", b"GEN ")
    if reply.startswith(b"GEN "):
        token = reply.split()[1]
        time.sleep(rng.random() * 0.02)
        if rng.random() < 0.1:
            expect(c.request(b"unlockgen %s %s" % (key, token))[1], b"RELEASED", b"NOT_OWNER")
        else:
            body = b"v" * rng.randrange(1, 3000)
            expect(c.request(b"setgen %s %s 0 2 %d" % (key, token, len(body)), body)[1], b"STORED", b"NOT_OWNER")


def mutex_cycle(c: Client, rng: random.Random) -> None:
    name = b"m%d" % rng.randrange(20)
    verb = b"rlock" if rng.random() < 0.6 else b"lock"
    _, reply = c.request(b"%s %s 1000 300" % (verb, name))
    expect(reply, b"LOCKED ", b"BUSY")
    if reply.startswith(b"LOCKED "):
        token = reply.split()[1]
        if rng.random() < 0.3:
            expect(c.request(b"renew %s %s 1000" % (name, token))[1], b"RENEWED", b"NOT_OWNER")
        expect(c.request(b"unlock %s %s" % (name, token))[1], b"UNLOCKED", b"NOT_OWNER")


def hang_up_while_parked(port: int, rng: random.Random) -> None:
    """Takes a lease, parks a second client on it, then both vanish (FIN or RST)."""
    key = b"soak:p%d" % rng.randrange(1000000)
    holder, waiter = Client(port), Client(port)
    try:
        _, reply = holder.request(b"lockgen %s 5000 0" % key)
        expect(reply, b"GEN ")
        waiter.sock.sendall(b"lockgen %s 5000 5000\r\nget x\r\n" % key)
        time.sleep(0.01)
    finally:
        (waiter.reset if rng.random() < 0.5 else waiter.close)()
        (holder.reset if rng.random() < 0.5 else holder.close)()


def partial_request(port: int, rng: random.Random) -> None:
    c = Client(port)
    c.sock.sendall(rng.choice((b"set half 0 0 100000\r\nabc", b"get ab", b"lockgen soak:x 100")))
    (c.reset if rng.random() < 0.5 else c.close)()


def slow_reader(port: int, rng: random.Random) -> None:
    c = Client(port)
    try:
        c.request(b"set slow 0 0 100000", b"s" * 100000)
        c.sock.sendall(b"get" + b" slow" * 200 + b"\r\n")
        for _ in range(5):
            c.sock.recv(4096)
            time.sleep(0.05)
    finally:
        (c.reset if rng.random() < 0.5 else c.close)()


def worker(port: int, seed: int, stop: float, errors: list, counts: dict, lock: threading.Lock) -> None:
    rng = random.Random(seed)
    c = None
    done = 0
    while time.monotonic() < stop:
        try:
            if c is None:
                c = Client(port)
            roll = rng.random()
            if roll < 0.45:
                classic(c, rng)
            elif roll < 0.75:
                lockgen_cycle(c, rng)
            elif roll < 0.90:
                mutex_cycle(c, rng)
            elif roll < 0.95:
                hang_up_while_parked(port, rng)
            elif roll < 0.98:
                partial_request(port, rng)
            else:
                slow_reader(port, rng)
            done += 1
            if done % 200 == 0:
                with lock:
                    counts["operations"] = counts.get("operations", 0) + 200
        except ProtocolError as error:
            with lock:
                errors.append(str(error))
            c.close()
            c = None
        except (OSError, ConnectionError) as error:
            with lock:
                errors.append(f"connection: {error}")
            if c:
                c.close()
            c = None
    if c:
        c.close()
    with lock:
        counts["operations"] = counts.get("operations", 0) + done % 200


def stats(port: int, sub: bytes = b"") -> dict[str, str]:
    c = Client(port)
    try:
        c.sock.sendall(b"stats " + sub + b"\r\n")
        result = {}
        while True:
            line = c._line()
            if line == b"END":
                return result
            _, name, value = line.decode().split(" ", 2)
            result[name] = value
    finally:
        c.close()


def rss_mib(pid: int) -> float:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def descriptors(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--bin", default=os.environ.get("DOGPILED_BIN", str(ROOT / ".build/debug/dogpiled")))
    parser.add_argument("--workers", type=int, default=24)
    parser.add_argument("--report-every", type=float, default=30)
    parser.add_argument("--memory", default="64m")
    parser.add_argument("--log", help="write the daemon's stderr here (default: a temp file)")
    args = parser.parse_args()

    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix="dogpiled-soak-"))
    config = workdir / "dogpiled.toml"
    config.write_text(CONFIG.format(port=port, memory=args.memory, region_memory="8m"))
    log_path = Path(args.log) if args.log else workdir / "dogpiled.log"
    argv = [args.bin, "--config", str(config)]
    if os.geteuid() == 0:
        argv += ["-u", "root"]
    log = open(log_path, "wb")
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection((HOST, port), timeout=0.5).close()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                print(f"dogpiled did not start ({' '.join(argv)}); log: {log_path}")
                return 1
            time.sleep(0.05)
    time.sleep(0.5)
    idle_fds = descriptors(proc.pid)
    print(f"dogpiled pid {proc.pid} on port {port}; idle RSS {rss_mib(proc.pid):.1f} MiB, {idle_fds} descriptors")
    print(f"{'t(s)':>6} {'RSS MiB':>8} {'fds':>5} {'conns':>6} {'lock entries':>12} {'waiters':>8} {'ops':>9} {'errors':>6}")

    stop = time.monotonic() + args.seconds
    errors: list[str] = []
    counts: dict = {}
    lock = threading.Lock()
    threads = [threading.Thread(target=worker, args=(port, seed, stop, errors, counts, lock), daemon=True)
               for seed in range(args.workers)]
    for t in threads:
        t.start()
    started = time.monotonic()
    next_report = started
    next_hup = started + 5
    while any(t.is_alive() for t in threads):
        now = time.monotonic()
        if now >= next_hup:
            proc.send_signal(signal.SIGHUP)
            next_hup = now + 5
        if now >= next_report:
            try:
                general, locks = stats(port), stats(port, b"locks")
                print(f"{now - started:6.0f} {rss_mib(proc.pid):8.1f} {descriptors(proc.pid):5d} "
                      f"{general.get('curr_connections', '?'):>6} {locks.get('entries', '?'):>12} "
                      f"{int(locks.get('generation_waiters', 0)) + int(locks.get('mutex_waiters', 0)):8d} "
                      f"{counts.get('operations', 0):9d} {len(errors):6d}", flush=True)
            except OSError as error:
                errors.append(f"stats: {error}")
            next_report = now + args.report_every
        time.sleep(0.2)

    # Leases last 2-5 s and waits 0.5-5 s: give them time to run out, then check nothing is left.
    time.sleep(6)
    alive = proc.poll() is None
    final_locks = stats(port, b"locks") if alive else {}
    final_general = stats(port) if alive else {}
    final_fds = descriptors(proc.pid) if alive else -1
    print(f"end: RSS {rss_mib(proc.pid) if alive else 0:.1f} MiB, {final_fds} descriptors (idle {idle_fds}), "
          f"connections {final_general.get('curr_connections')}, lock entries {final_locks.get('entries')}, "
          f"operations {counts.get('operations', 0)}, errors {len(errors)}")
    for error in errors[:10]:
        print("  error:", error)
    proc.send_signal(signal.SIGTERM)
    try:
        code = proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        code = "killed after SIGTERM timeout"
    print(f"dogpiled exited: {code}; log: {log_path}")
    ok = alive and not errors and final_locks.get("entries") == "0" and final_fds <= idle_fds + 1 and code == 0
    print("soak: OK" if ok else "soak: FAILED")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
