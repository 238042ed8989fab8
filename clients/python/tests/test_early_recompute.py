"""Issue 11 through the Python client: early recompute (``lockgen ... early``) in
``get_or_create`` and ``mlockgen`` in ``get_or_create_multi``, on real daemons.

A lease that comes with a value (an early grant near expiry, or a stale copy) is
answered with that value at once and regenerated in the background; keys of a
multi-key call are asked in one round trip per daemon.  Timings are printed, never
asserted."""

import logging
import socket
import random
import threading
import time

import dogpiled
from conftest import url
from lockclient import percentile


def make(ds, expiration_time=300, **kw):
    return dogpiled.make_region("user", **kw).configure(
        "dogpiled", expiration_time=expiration_time, arguments={"url": [url(d) for d in ds]})


def stale_copy(daemon, region, key, value):
    """``key`` holds ``value`` as a stale copy: the next lockgen is granted with it."""
    region.get_or_create(key, lambda: value)
    region.invalidate(hard=False)


def test_steady_load_regenerates_in_the_background_once_per_expiry(daemon):
    """~200 requests/s on one key with a 2 s expiration and a 50 ms creator, for 15 s."""
    region = make([daemon], expiration_time=2)
    lock = threading.Lock()
    created = []                            # (monotonic time, thread name) per creator call
    callers = set()

    def creator():
        with lock:
            n = len(created)
            created.append((time.monotonic(), threading.current_thread().name))
        time.sleep(0.05)
        return {"gen": n}

    assert region.get_or_create("hot", creator) == {"gen": 0}    # warm-up: the server learns Δ
    warm_calls = len(created)
    duration, threads, per_thread_rate = 15.0, 4, 50
    answers, latencies, bad = [], [], []
    start = time.monotonic()

    def caller():
        callers.add(threading.current_thread().name)
        next_at = time.monotonic()
        while time.monotonic() - start < duration:
            t0 = time.monotonic()
            value = region.get_or_create("hot", creator)
            took = time.monotonic() - t0
            with lock:
                done = len(created)
                answers.append(value["gen"])
                latencies.append(took * 1000)
                # the newest value, or the one before it while it is being replaced
                if not done - 2 <= value["gen"] <= done - 1:
                    bad.append((value["gen"], done))
            next_at += 1.0 / per_thread_rate
            time.sleep(max(0.0, next_at - time.monotonic()))

    workers = [threading.Thread(target=caller, name=f"caller-{i}") for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(duration + 30)
    assert region.wait_for_background(10)
    stats = daemon.stats()
    delta = daemon.stats("regions")["user:regeneration_mean_ms"]
    background = created[warm_calls:]
    times = [t for t, _ in background]
    gaps = [b - a for a, b in zip(times, times[1:])]
    stale_share = int(stats["lockgen_stale"]) / len(answers)
    print(f"\nearly recompute: {len(answers)} answers in {duration:.0f} s "
          f"({len(answers) / duration:.0f}/s), {len(background)} background regenerations "
          f"(expiration 2 s), gaps {', '.join(f'{g:.2f}' for g in gaps)} s; latency p50 "
          f"{percentile(latencies, 50):.2f} ms, p99 {percentile(latencies, 99):.2f} ms, "
          f"max {max(latencies):.1f} ms; server: lockgen_early {stats['lockgen_early']}, "
          f"early_beat_expiry {stats['lockgen_early_beat_expiry']}, lockgen_stale "
          f"{stats['lockgen_stale']} ({stale_share:.2%}), lockgen_waits {stats['lockgen_waits']}, "
          f"mean Δ {delta} ms")
    assert bad == [], f"answers neither the newest value nor the one before: {bad[:5]}"
    # nobody who asked ran the creator: after the warm-up every call was in the background
    assert not callers & {name for _, name in background}
    assert all(name.startswith("dogpiled regenerate") for _, name in background)
    # no request parked on the server: there was always a value to answer with
    assert stats["lockgen_waits"] == "0"
    # one regeneration per expiry period: exptime 2 on the daemon's whole-second clock
    # lives 1-2 s, so 15 s hold 7-15 periods (and early grants start a little before)
    # (no bound on the shortest gap: a regeneration stalled by a loaded machine has a
    # long measured Δ, and XFetch then rightly starts the next one early)
    assert duration / 2 - 2 <= len(background) <= duration + 2, len(background)
    assert int(stats["lockgen_early"]) >= 1


def test_background_creator_failure_is_logged_and_the_lease_given_back(daemon, caplog):
    region = make([daemon])
    stale_copy(daemon, region, "k", "old")

    def failing():
        raise RuntimeError("creator failed")

    with caplog.at_level(logging.ERROR, logger="dogpiled"):
        assert region.get_or_create("k", failing) == "old"      # served; never raised
        assert region.wait_for_background(5)
    assert "regenerating user:k in the background failed" in caplog.text
    assert "creator failed" in caplog.text
    # unlockgen: the next caller is granted the lease at once (not STALE behind a held lease)
    reply = daemon.conn().cmd("lockgen user:k 30000 0")
    assert reply.word == "GEN" and reply.values[0].data.endswith(b'"old"')


def test_in_caller_without_early_recompute(daemon):
    region, where = make([daemon], early_recompute=False), []
    stale_copy(daemon, region, "k", "old")
    assert region.get_or_create(
        "k", lambda: where.append(threading.current_thread().name) or "new") == "new"
    assert where == [threading.current_thread().name]


def test_async_creation_runner_gets_dogpiles_contract(daemon):
    runs = []

    def runner(cache, key, creator, mutex):
        def run():
            try:
                value = creator()
                cache.set(key, value)
            finally:
                mutex.release()
        runs.append(key)
        threading.Thread(target=run).start()

    region = make([daemon], async_creation_runner=runner)

    def slow():
        time.sleep(0.2)
        return "new"

    stale_copy(daemon, region, "k", "old")
    before = int(daemon.stats("regions")["user:regenerations"])
    assert region.get_or_create("k", slow) == "old"
    assert runs == ["k"] and region.wait_for_background(5)
    assert region.get_or_create("k", lambda: "not again") == "new"
    # the runner's cache.set went out as setgen: the server measured the regeneration
    regions = daemon.stats("regions")
    assert int(regions["user:regenerations"]) == before + 1
    print(f"\nrunner regeneration measured by the server: mean "
          f"{regions['user:regeneration_mean_ms']} ms over {regions['user:regenerations']}")


def test_multi_one_round_trip_per_daemon_and_each_missing_key_created_once(daemons):
    """50 keys, a random half present, 20 concurrent callers, each in its own order."""
    ds = daemons(2)
    keys = [f"m{i}" for i in range(50)]
    rnd = random.Random(11)
    present = set(rnd.sample(keys, 25))
    setup = make(ds)
    setup.set_multi({k: f"pre-{k}" for k in present})
    expected = {k: (f"pre-{k}" if k in present else f"new-{k}") for k in keys}
    lock = threading.Lock()
    created, calls = [], []
    barrier = threading.Barrier(20)
    results, timings = {}, []

    def creator(*ks):
        with lock:
            created.extend(ks)
            calls.append(len(ks))
        time.sleep(0.2)
        return [f"new-{k}" for k in ks]

    def caller(i):
        region = make(ds)
        order = keys[:]
        random.Random(i).shuffle(order)
        region.check_regions()
        barrier.wait()
        t0 = time.monotonic()
        got = region.get_or_create_multi(order, creator)
        with lock:
            timings.append((time.monotonic() - t0) * 1000)
            results[i] = (order, got)

    threads = [threading.Thread(target=caller, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(results) == 20
    for order, got in results.values():
        assert got == [expected[k] for k in order]
    assert sorted(created) == sorted(set(keys) - present)      # each missing key once
    stats = [d.stats() for d in ds]
    print(f"\nmulti: 20 callers x 50 keys (25 missing, creator 200 ms): {len(calls)} creator "
          f"calls of {sorted(calls, reverse=True)} keys; per caller p50 "
          f"{percentile(timings, 50):.0f} ms, max {max(timings):.0f} ms; server lockgen_gen "
          f"{sum(int(s['lockgen_gen']) for s in stats)}, lockgen_waits "
          f"{sum(int(s['lockgen_waits']) for s in stats)}")


def test_multi_serves_stale_and_waits_for_misses(daemon):
    region = make([daemon])
    region.get_or_create_multi(["a", "b"], lambda *ks: [f"old-{k}" for k in ks])
    region.invalidate(hard=False)             # a and b become stale copies
    holder = daemon.conn()
    gen = holder.cmd("lockgen user:c 30000 0")            # someone else regenerates c
    assert gen.word == "GEN"
    created = []

    def creator(*ks):
        created.append((ks, threading.current_thread().name))
        return [f"new-{k}" for k in ks]

    def store_c():
        time.sleep(0.3)
        payload = dogpiled.encode_value("theirs-c")
        assert holder.setgen("user:c", gen.token, payload).line == "STORED"

    t = threading.Thread(target=store_c)
    t.start()
    t0 = time.monotonic()
    got = region.get_or_create_multi(["a", "c", "b", "d"], creator)
    took = time.monotonic() - t0
    t.join()
    assert got == ["old-a", "theirs-c", "old-b", "new-d"]
    assert region.wait_for_background(5)
    by_thread = {ks: name for ks, name in created}
    assert by_thread[("d",)] == threading.current_thread().name       # GEN: created here
    assert by_thread[("a", "b")].startswith("dogpiled regenerate")    # VALUE..GEN: background
    assert len(created) == 2                                          # never c
    assert region.get_or_create_multi(["a", "b", "c"], creator) == ["new-a", "new-b", "theirs-c"]
    print(f"\nmulti with 2 stale, 1 held elsewhere (stored after 300 ms), 1 missing: {took * 1000:.0f} ms")
    holder.close()


def test_multi_chunks_and_cache_multi_on_arguments(daemon):
    region, calls = make([daemon]), []

    @region.cache_multi_on_arguments()
    def square(*xs):
        calls.append(len(xs))
        return [x * x for x in xs]

    xs = list(range(250))
    assert square(*xs) == [x * x for x in xs]
    assert square(*xs) == [x * x for x in xs]
    assert calls == [250]                       # three mlockgen chunks, one creator call


class OlderDaemon:
    """A proxy in front of a real daemon that answers ``ERROR`` to issue 11's verbs
    (``lockgen ... early``, ``mlockgen``), as a dogpiled from before them does."""

    def __init__(self, daemon):
        self.daemon = daemon
        self.refused = []
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(client,), daemon=True).start()

    def _serve(self, client):
        upstream = socket.create_connection(("127.0.0.1", self.daemon.port))

        def back():
            while True:
                data = upstream.recv(65536)
                if not data:
                    break
                client.sendall(data)
            client.close()

        threading.Thread(target=back, daemon=True).start()
        buf = b""
        with client, upstream:
            while True:
                data = client.recv(65536)
                if not data:
                    return
                buf += data
                # one request at a time per connection: a refused line is alone in buf
                line = buf.split(b"\r\n", 1)[0]
                if buf.endswith(b"\r\n") and (line.startswith(b"mlockgen ") or
                                             (line.startswith(b"lockgen ") and line.endswith(b" early"))):
                    self.refused.append(line.split()[0].decode())
                    client.sendall(b"ERROR\r\n")
                else:
                    upstream.sendall(buf)
                buf = b""

    def close(self):
        self.listener.close()


def test_an_older_daemon_is_asked_without_early_and_mlockgen(daemon, caplog):
    proxy = OlderDaemon(daemon)
    try:
        region = dogpiled.make_region("user").configure(
            "dogpiled", expiration_time=300, arguments={"url": [f"127.0.0.1:{proxy.port}"]})
        with caplog.at_level(logging.WARNING, logger="dogpiled"):
            assert region.get_or_create("k", lambda: "v") == "v"
            assert region.get_or_create("k", lambda: "not again") == "v"
            assert region.get_or_create_multi(["k", "x", "y"], lambda *ks: [f"new-{k}" for k in ks]) \
                == ["v", "new-x", "new-y"]
            assert region.get_or_create_multi(["x", "z"], lambda *ks: [f"new-{k}" for k in ks]) \
                == ["new-x", "new-z"]
        assert proxy.refused == ["lockgen", "mlockgen"]       # each asked once, then never
        assert "does not know `lockgen ... early`" in caplog.text
        assert "does not know `mlockgen`" in caplog.text
    finally:
        proxy.close()
