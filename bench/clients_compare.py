#!/usr/bin/env python3
"""Same stampede, three ways: how many creator calls, and how long callers wait
after the value was stored.

  (a) stock dogpile.cache pymemcache backend, distributed_lock=True, on memcached
  (b) a plain dogpile.cache region on the dogpiled backend (server-side mutex)
  (c) dogpiled.make_region() (lockgen: one round trip, the server wakes waiters;
      the threads of one process share one lockgen per key)
  (d) the same with coalesce=False: every thread parks its own lockgen
  (floor) the same stampede on raw sockets from one epoll loop: what the daemon and
      the machine cost without any client library (a lower bound for (c))

Load: PROCESSES processes x CALLERS threads ask get_or_create for one missing key
whose creator takes CREATOR_MS; ROUNDS rounds with fresh keys.  A caller's delay is
the time it got the value minus the time the creator returned it (just before the
store, so the store's round trip counts against every mode).  A script, not a test: it prints figures and asserts nothing.

    .venv-test/bin/python bench/clients_compare.py [--processes 8] [--callers 10]
        [--creator-ms 200] [--rounds 5]

Needs memcached, DOGPILED_BIN (default .build/debug/dogpiled), dogpile.cache,
pymemcache and the dogpiled package (pip install ./clients/python).
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(argv, port):
    if os.geteuid() == 0:
        argv = argv + ["-u", "root"]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(300):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return proc
        except OSError:
            time.sleep(0.02)
    proc.kill()
    sys.exit(f"could not start {argv[0]}")


def make_region(mode, port):
    from dogpile.cache import make_region as plain
    url = f"127.0.0.1:{port}"
    if mode == "a":
        return plain().configure("dogpile.cache.pymemcache", expiration_time=300,
                                 arguments={"url": url, "distributed_lock": True})
    if mode == "b":
        return plain().configure("dogpiled", expiration_time=300, arguments={"url": url})
    import dogpiled
    return dogpiled.make_region("bench").configure("dogpiled", expiration_time=300,
                                                   arguments={"url": [url], "coalesce": mode == "c"})


def worker(cfg) -> None:
    """One process: CALLERS threads, released together by a line on stdin."""
    region = make_region(cfg["mode"], cfg["port"])
    region.get("warm-up")                        # open a connection before the start line
    if cfg["mode"] in "cd":
        region.check_regions()                   # (else the first get_or_create does it)
    mine = threading.local()
    results = []

    def creator():
        mine.created = True
        fd = os.open(cfg["calls_file"], os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        os.write(fd, b"1\n")
        os.close(fd)
        time.sleep(cfg["creator_ms"] / 1000.0)
        mine.value_ready_at = time.time()
        return "value"

    barrier = threading.Barrier(cfg["callers"])

    def caller():
        barrier.wait()
        mine.created = False
        value = region.get_or_create(cfg["key"], creator)
        results.append({"at": time.time(), "created": mine.created, "ok": value == "value",
                        "ready": getattr(mine, "value_ready_at", None)})

    threads = [threading.Thread(target=caller) for _ in range(cfg["callers"])]
    print("ready", flush=True)
    sys.stdin.readline()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps(results), flush=True)


def percentile(values, p):
    s = sorted(values)
    return s[min(len(s) - 1, max(0, int(round(p / 100.0 * (len(s) - 1)))))] if s else float("nan")


def run_round(mode, port, args, key, calls_file):
    cfg = {"mode": mode, "port": port, "key": key, "calls_file": calls_file,
           "callers": args.callers, "creator_ms": args.creator_ms}
    procs = [subprocess.Popen([sys.executable, __file__, "--worker", json.dumps(cfg)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
             for _ in range(args.processes)]
    for p in procs:
        assert p.stdout.readline().strip() == "ready"
    for p in procs:
        p.stdin.write("go\n")
        p.stdin.flush()
    results = []
    for p in procs:
        out, _ = p.communicate(timeout=120)
        results += json.loads(out.strip().splitlines()[-1])
    return results


def floor_round(port, args, key):
    """The same stampede from one process on raw sockets with epoll (no client library,
    no threads): what the daemon and this machine's scheduling cost by themselves."""
    sys.path.insert(0, os.path.join(REPO, "Tests", "Locking"))
    from lockclient import Conn, collect
    holder = Conn("127.0.0.1", port)
    waiters = [Conn("127.0.0.1", port) for _ in range(args.processes * args.callers - 1)]
    try:
        token = holder.cmd(f"lockgen {key} 30000 0").token
        for w in waiters:
            w.send(f"lockgen {key} 30000 10000\r\n")
        time.sleep(args.creator_ms / 1000.0)
        ready = time.monotonic()
        holder.send(f"setgen {key} {token} 0 300 5\r\nvalue\r\n")
        replies = collect(waiters, 30)
        assert len(replies) == len(waiters) and all(r.word == "HIT" for r in replies.values())
        return [(r.at - ready) * 1000 for r in replies.values()]
    finally:
        for c in waiters + [holder]:
            c.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--worker")
    parser.add_argument("--processes", type=int, default=8)
    parser.add_argument("--callers", type=int, default=10)
    parser.add_argument("--creator-ms", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--modes", default="abc", help="which of a, b, c, d to run (default abc)")
    args = parser.parse_args()
    if args.worker:
        return worker(json.loads(args.worker))

    dogpiled_bin = os.environ.get("DOGPILED_BIN") or os.path.join(REPO, ".build/debug/dogpiled")
    mc_port, dp_port = free_port(), free_port()
    daemons = [start(["memcached", "-l", "127.0.0.1", "-p", str(mc_port), "-U", "0", "-t", "4"],
                     mc_port),
               start([dogpiled_bin, "-l", "127.0.0.1", "-p", str(dp_port), "-t", "4",
                      "--region", "bench:memory=16m"], dp_port)]
    names = {"a": "(a) pymemcache + distributed_lock, memcached",
             "b": "(b) plain region, dogpiled backend (lock/unlock)",
             "c": "(c) dogpiled.make_region() (lockgen)",
             "d": "(d) dogpiled.make_region(), coalesce=False"}
    print(f"{args.processes} processes x {args.callers} callers, creator {args.creator_ms} ms, "
          f"{args.rounds} rounds, one daemon each ({os.path.basename(os.path.dirname(dogpiled_bin))}"
          f" dogpiled); delay = caller got the value - creator returned it; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    try:
        for rnd in range(args.rounds):            # modes alternate, so drift hits all alike
            for mode in args.modes:
                calls_file = f"/tmp/clients-compare-{os.getpid()}-{mode}-{rnd}"
                results = run_round(mode, mc_port if mode == "a" else dp_port, args,
                                    f"bench-key-{os.getpid()}-{mode}-{rnd}", calls_file)
                calls = len(open(calls_file).read().splitlines())
                os.unlink(calls_file)
                # The reference is when the creator returned the value, just before its
                # store: conservative, the store's round trip counts as delay.
                stored = min(r["ready"] for r in results if r["created"])
                delays = [(r["at"] - stored) * 1000 for r in results if not r["created"]]
                names.setdefault(mode + "rows", []).append((calls, delays,
                                                            all(r["ok"] for r in results)))
        floor = [d for rnd in range(args.rounds)
                 for d in floor_round(dp_port, args, f"bench:floor-{os.getpid()}-{rnd}")]
        for mode in args.modes:
            rows = names[mode + "rows"]
            delays = [d for _, ds, _ in rows for d in ds]
            calls = [c for c, _, _ in rows]
            print(f"{names[mode]}: creator calls per round {calls}; every caller got the "
                  f"value: {all(ok for _, _, ok in rows)}; delay p50 {percentile(delays, 50):.1f} ms"
                  f", p99 {percentile(delays, 99):.1f} ms, max {max(delays):.1f} ms "
                  f"({len(delays)} waiting callers)")
        print(f"(floor) same stampede on raw sockets, one process, epoll: delay p50 "
              f"{percentile(floor, 50):.1f} ms, p99 {percentile(floor, 99):.1f} ms, max "
              f"{max(floor):.1f} ms ({len(floor)} waiting connections)")
    finally:
        for d in daemons:
            d.kill()
            d.wait()


if __name__ == "__main__":
    main()
