#!/usr/bin/env python3
"""Stampede comparison: dogpile.cache's distributed lock on memcached vs dogpiled's lockgen.

A report, not a test.  Set up once, from the repository root:

    python3 -m venv .venv-bench && .venv-bench/bin/pip install dogpile.cache pymemcache
    .venv-bench/bin/python bench/stampede.py --rounds 3

Each round, N workers (default 200) ask for one missing key at the same moment:

(a) dogpile.cache: N threads, each with its own CacheRegion (backend
    "dogpile.cache.pymemcache", distributed_lock=True, so its own pymemcache
    client, as N processes would have), all calling get_or_create() on a missing
    key whose creator sleeps --create-ms (100 ms), against a real memcached this
    script starts (memcached -u root -l 127.0.0.1 -p PORT -U 0).
    dogpile.cache's distributed lock is a memcached `add` of "_lock<key>"; a
    waiter that fails the add sleeps ((i+1)*random()+2**i)/2.5 s (0.4-0.8 s at
    first, doubling) and tries again, and every waiter takes the lock in turn
    (get_or_create re-reads the value under the lock), so waiters poll.
(b) dogpiled: N raw-socket clients send `lockgen KEY 10000 10000` at the same
    moment (8 sender threads behind a barrier); the one that gets GEN sleeps
    --create-ms and then `setgen`s; the others are parked on the server and
    answered when the value is stored.

Reported per round and as the median over rounds:
  regens   creator calls (dogpile.cache) / GEN grants (dogpiled)
  p50/p99/max  time from the store completing to each waiter holding its value:
           (a) from the backend set() returning in the creator's thread to each
               waiter's get_or_create() returning (time.time() in each thread);
           (b) from the holder's STORED reply reaching its socket to each waiter's
               HIT reply reaching its socket, both kernel receive timestamps
               (SO_TIMESTAMPNS), so the client's Python overhead is left out; the
               "app" columns give the same measured when the (single-threaded,
               epoll) client loop had read each reply.
  wall     from the workers' release to the last worker holding the value.
(c) "loopback floor": no server; one Python thread writes the same HIT reply to
    N-1 loopback sockets in a row (kernel receive timestamps): the cost of the
    fan-out itself on this machine, a floor for (b)'s p99 from one thread.

Servers are started on free loopback ports and stopped on exit.  Environment:
DOGPILED_BIN (default: the newer of .build/release/dogpiled and .build/debug/dogpiled),
MEMCACHED_BIN (default: memcached on PATH).
"""

from __future__ import annotations

import argparse
import atexit
import os
import select
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
SCM_TIMESTAMPNS = SO_TIMESTAMPNS

_procs: list[subprocess.Popen] = []


def _cleanup() -> None:
    for p in _procs:
        if p.poll() is None:
            p.terminate()
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(timeout=5)


atexit.register(_cleanup)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def start_server(argv_for_port, name: str) -> tuple[subprocess.Popen, int]:
    for _ in range(3):
        port = free_port()
        argv = argv_for_port(port)
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, start_new_session=True)
        _procs.append(p)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and p.poll() is None:
            try:
                socket.create_connection((HOST, port), timeout=0.5).close()
                return p, port
            except OSError:
                time.sleep(0.02)
        p.kill()
        p.wait()
    sys.exit(f"{name} did not start: {' '.join(argv)}")


def stop_server(p: subprocess.Popen) -> None:
    if p.poll() is None:
        p.terminate()
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


def pct(values, p: float) -> float:
    s = sorted(values)
    if not s:
        return float("nan")
    return s[min(len(s) - 1, max(0, int(round(p / 100.0 * (len(s) - 1)))))]


def summary(lat_s) -> dict:
    return {"p50": pct(lat_s, 50) * 1000, "p99": pct(lat_s, 99) * 1000,
            "max": max(lat_s) * 1000 if lat_s else float("nan")}


# ---------------------------------------------------------------------------
# (a) dogpile.cache + memcached
# ---------------------------------------------------------------------------

def run_dogpile_cache(port: int, n: int, create_s: float, key: str) -> dict:
    from dogpile.cache import make_region
    from dogpile.cache.proxy import ProxyBackend

    store_done = {}
    creator_calls = []
    lock = threading.Lock()

    class StoreClock(ProxyBackend):
        def set(self, k, value):
            self.proxied.set(k, value)
            with lock:
                store_done.setdefault(k, time.time())

        def set_serialized(self, k, value):
            self.proxied.set_serialized(k, value)
            with lock:
                store_done.setdefault(k, time.time())

    def creator():
        with lock:
            creator_calls.append(threading.get_ident())
        time.sleep(create_s)
        return f"value-of-{key}"

    regions = []
    for _ in range(n):
        r = make_region().configure(
            "dogpile.cache.pymemcache",
            expiration_time=3600,
            arguments={"url": f"{HOST}:{port}", "distributed_lock": True},
            wrap=[StoreClock],
        )
        regions.append(r)

    done = [None] * n
    idents = [None] * n
    values = [None] * n
    errors = []
    barrier = threading.Barrier(n + 1)

    def worker(i):
        try:
            idents[i] = threading.get_ident()
            regions[i].get("warm-up-connection")  # connect before the stampede
            barrier.wait(timeout=60)
            values[i] = regions[i].get_or_create(key, creator)
            done[i] = time.time()
        except Exception as e:  # pragma: no cover - reported
            errors.append(repr(e))

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(n)]
    for t in threads:
        t.start()
    barrier.wait(timeout=60)
    t0 = time.time()
    for t in threads:
        t.join(timeout=600)
    if errors:
        raise RuntimeError(f"dogpile.cache workers failed: {errors[:3]}")
    t_store = store_done[key]
    # the workers whose creator ran are not waiters
    waiters = [t for t, ident in zip(done, idents) if ident not in creator_calls]
    lat = [max(0.0, t - t_store) for t in waiters]
    assert all(v == f"value-of-{key}" for v in values)
    for r in regions:
        try:
            r.backend.client.close()
        except Exception:
            pass
    return {"regens": len(creator_calls), "waiters": len(waiters), **summary(lat),
            "wall": (max(done) - t0) * 1000}


# ---------------------------------------------------------------------------
# (b) dogpiled lockgen
# ---------------------------------------------------------------------------

class TsConn:
    """A raw socket whose reads carry the kernel receive timestamp."""

    def __init__(self, port: int):
        self.sock = socket.create_connection((HOST, port), timeout=10)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        self.sock.setblocking(False)
        self.buf = b""
        self.kernel_ts = None  # realtime seconds of the latest segment read
        self.app_ts = None

    def read(self) -> bool:
        try:
            data, anc, _flags, _addr = self.sock.recvmsg(65536, socket.CMSG_SPACE(16))
        except BlockingIOError:
            return True
        if not data:
            return False
        for level, typ, cdata in anc:
            if level == socket.SOL_SOCKET and typ == SCM_TIMESTAMPNS and len(cdata) >= 16:
                sec, nsec = struct.unpack("qq", cdata[:16])
                self.kernel_ts = sec + nsec / 1e9
        self.app_ts = time.time()
        self.buf += data
        return True

    def reply_complete(self) -> bool:
        b = self.buf
        if b.startswith(b"VALUE "):
            nl = b.find(b"\r\n")
            if nl < 0:
                return False
            size = int(b[:nl].split()[3])
            rest = b[nl + 2 + size + 2:]
            return rest.endswith(b"\r\n")
        return b.endswith(b"\r\n")


def run_dogpiled(port: int, n: int, create_s: float, key: str) -> dict:
    conns = [TsConn(port) for _ in range(n)]
    line = f"lockgen {key} 10000 10000\r\n".encode()
    senders = 8
    barrier = threading.Barrier(senders + 1)

    def send(part):
        barrier.wait(timeout=30)
        for c in part:
            c.sock.sendall(line)

    threads = [threading.Thread(target=send, args=(conns[i::senders],)) for i in range(senders)]
    for t in threads:
        t.start()
    barrier.wait(timeout=30)
    t0 = time.time()
    for t in threads:
        t.join()

    ep = select.epoll()
    by_fd = {c.sock.fileno(): c for c in conns}
    for fd in by_fd:
        ep.register(fd, select.EPOLLIN)
    pending = set(conns)
    holder = token = store_at = None
    stored_kernel = stored_app = None
    gens = 0
    hits = {}
    value = f"value-of-{key}".encode()
    deadline = time.monotonic() + 60
    try:
        while pending and time.monotonic() < deadline:
            timeout = 0.5
            if store_at is not None:
                timeout = max(0.0, min(timeout, store_at - time.monotonic()))
            for fd, _ev in ep.poll(timeout):
                c = by_fd[fd]
                if not c.read():
                    raise RuntimeError("dogpiled closed a connection")
                if not c.reply_complete():
                    continue
                reply, c.buf = c.buf, b""
                if reply.startswith(b"GEN "):
                    gens += 1
                    holder, token = c, int(reply.split()[1])
                    store_at = time.monotonic() + create_s  # the "creator" runs for create_s
                elif reply == b"STORED\r\n" and c is holder:
                    stored_kernel, stored_app = c.kernel_ts, c.app_ts
                    pending.discard(c)
                elif reply.endswith(b"HIT\r\n") and value in reply:
                    hits[c] = (c.kernel_ts, c.app_ts)
                    pending.discard(c)
                else:
                    raise RuntimeError(f"unexpected reply {reply!r}")
            if store_at is not None and time.monotonic() >= store_at:
                store_at = None
                holder.sock.sendall(f"setgen {key} {token} 0 0 {len(value)}\r\n".encode()
                                    + value + b"\r\n")
    finally:
        ep.close()
        for c in conns:
            c.sock.close()
    if pending:
        raise RuntimeError(f"{len(pending)} dogpiled clients got no reply within 60 s")
    if stored_kernel is None:
        stored_kernel = stored_app  # no kernel timestamp available: fall back
    lat_k = [(k if k is not None else a) - stored_kernel for k, a in hits.values()]
    lat_a = [a - stored_app for _, a in hits.values()]
    last = max(a for _, a in hits.values())
    app = summary(lat_a)
    return {"regens": gens, "waiters": len(hits), **summary(lat_k),
            "app_p50": app["p50"], "app_p99": app["p99"], "app_max": app["max"],
            "min": min(lat_k) * 1000, "wall": (last - t0) * 1000}


# ---------------------------------------------------------------------------
# (c) the loopback floor: no server logic at all
# ---------------------------------------------------------------------------

def run_floor(n: int) -> dict:
    """One Python thread writes a pre-built HIT reply to n-1 accepted loopback
    sockets in a row; latency is each client's kernel receive timestamp minus the
    time the first write started. What any server pays just to put n-1 replies
    onto loopback TCP from one thread on this machine."""
    srv = socket.socket()
    srv.bind((HOST, 0))
    srv.listen(1024)
    clients, servers = [], []
    try:
        for _ in range(n - 1):
            c = socket.create_connection(srv.getsockname(), timeout=10)
            c.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
            s, _ = srv.accept()
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            clients.append(c)
            servers.append(s)
        msg = b"VALUE stampede-dp-0 0 22 1\r\nvalue-of-stampede-dp-0\r\nHIT\r\n"
        t0 = time.time()
        for s in servers:
            s.send(msg)
        lat = []
        for c in clients:
            _data, anc, _f, _a = c.recvmsg(4096, socket.CMSG_SPACE(16))
            ts = time.time()
            for level, typ, cdata in anc:
                if level == socket.SOL_SOCKET and typ == SCM_TIMESTAMPNS:
                    sec, nsec = struct.unpack("qq", cdata[:16])
                    ts = sec + nsec / 1e9
            lat.append(ts - t0)
        return {"regens": 0, "waiters": len(lat), **summary(lat), "wall": max(lat) * 1000}
    finally:
        for x in clients + servers + [srv]:
            x.close()


# ---------------------------------------------------------------------------
# driver
# ---------------------------------------------------------------------------

def dogpiled_bin() -> str:
    env = os.environ.get("DOGPILED_BIN")
    if env:
        return env
    # the newer of the release and debug builds (a stale release build may lack lockgen)
    found = [p for p in (REPO / ".build" / k / "dogpiled" for k in ("release", "debug")) if p.exists()]
    if found:
        return str(max(found, key=lambda p: p.stat().st_mtime))
    sys.exit("dogpiled not built: swift build -c release --product dogpiled (or set DOGPILED_BIN)")


def memcached_bin() -> str:
    m = os.environ.get("MEMCACHED_BIN") or shutil.which("memcached") or "/usr/bin/memcached"
    if not os.path.exists(m):
        sys.exit("memcached not found (apt-get install memcached, or set MEMCACHED_BIN)")
    return m


def fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.3f}" if abs(v) < 10 else f"{v:.1f}"
    return str(v)


COLS = ["regens", "waiters", "p50", "p99", "max", "wall"]


def print_table(results: dict[str, list[dict]]) -> None:
    header = f"{'system':<28}{'round':>6}" + "".join(f"{c + ('' if c in ('regens', 'waiters') else ' ms'):>12}" for c in COLS)
    print(header)
    print("-" * len(header))
    for name, rows in results.items():
        for i, r in enumerate(rows, 1):
            print(f"{name:<28}{i:>6}" + "".join(f"{fmt(r[c]):>12}" for c in COLS))
        med = {c: statistics.median(r[c] for r in rows) for c in COLS}
        print(f"{name:<28}{'median':>6}" + "".join(f"{fmt(med[c]):>12}" for c in COLS))
        print()


def main() -> int:
    ap = argparse.ArgumentParser(description="Stampede: dogpile.cache distributed_lock on "
                                 "memcached vs dogpiled lockgen (see the module docstring).")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("-n", "--workers", type=int, default=200)
    ap.add_argument("--create-ms", type=float, default=100.0, help="the creator's duration")
    ap.add_argument("--only", choices=["dogpile.cache", "dogpiled"], default=None)
    ap.add_argument("-t", "--threads", type=int, default=4, help="server worker threads (both)")
    args = ap.parse_args()
    create_s = args.create_ms / 1000.0
    results: dict[str, list[dict]] = {}
    extra: list[dict] = []

    if args.only in (None, "dogpile.cache"):
        try:
            import dogpile.cache  # noqa: F401
            import pymemcache  # noqa: F401
        except ImportError:
            sys.exit("needs dogpile.cache and pymemcache: python3 -m venv .venv-bench && "
                     ".venv-bench/bin/pip install dogpile.cache pymemcache")
        mc = memcached_bin()
        user = ["-u", "root"] if os.geteuid() == 0 else []
        proc, port = start_server(lambda p: [mc, *user, "-l", HOST, "-p", str(p), "-U", "0",
                                             "-t", str(args.threads), "-c", "4096"], "memcached")
        name = "dogpile.cache+memcached"
        print(f"(a) {name}: {' '.join(proc.args)}", flush=True)
        try:
            for r in range(args.rounds):
                res = run_dogpile_cache(port, args.workers, create_s, f"stampede-dc-{r}")
                results.setdefault(name, []).append(res)
                print(f"    round {r + 1}: {res['regens']} regen(s), p99 {res['p99']:.1f} ms, "
                      f"wall {res['wall']:.0f} ms", flush=True)
        finally:
            stop_server(proc)

    if args.only in (None, "dogpiled"):
        binary = dogpiled_bin()
        # As root, dogpiled (like memcached) refuses to start without -u.
        user = ["-u", "root"] if os.geteuid() == 0 else []
        proc, port = start_server(lambda p: [binary, *user, "-l", HOST, "-p", str(p),
                                             "-t", str(args.threads), "-c", "4096"], "dogpiled")
        name = "dogpiled lockgen"
        print(f"(b) {name}: {' '.join(proc.args)}", flush=True)
        try:
            for r in range(args.rounds):
                res = run_dogpiled(port, args.workers, create_s, f"stampede-dp-{r}")
                results.setdefault(name, []).append(res)
                extra.append(res)
                print(f"    round {r + 1}: {res['regens']} regen(s), p99 {res['p99']:.3f} ms, "
                      f"wall {res['wall']:.0f} ms", flush=True)
        finally:
            stop_server(proc)

    if args.only is None:
        results["loopback floor (no server)"] = [run_floor(args.workers) for _ in range(args.rounds)]

    print()
    print(f"{args.workers} workers, one missing key, creator {args.create_ms:g} ms; latency = "
          "store completed -> waiter holds the value")
    print()
    print_table(results)
    if extra:
        print("dogpiled, same latency measured when the client loop had read each reply "
              "(includes Python's epoll loop), and the earliest waiter relative to STORED:")
        for i, r in enumerate(extra, 1):
            print(f"    round {i}: app p50 {r['app_p50']:.3f} ms, app p99 {r['app_p99']:.3f} ms, "
                  f"app max {r['app_max']:.3f} ms; first waiter {r['min']:+.3f} ms")
        p99 = statistics.median(r["p99"] for r in extra)
        print(f"dogpiled median p99 {p99:.3f} ms: {'meets' if p99 <= 1.0 else 'MISSES'} "
              "the <= 1 ms goal")
    if "loopback floor (no server)" in results:
        print("loopback floor: one Python thread writing the same HIT reply to the other "
              f"{args.workers - 1} sockets, kernel receive time minus the first write; what "
              "fanning out that many replies over loopback TCP costs on this machine.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
