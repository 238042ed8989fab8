"""dogpiled.make_region() on real daemons: the lockgen loop's every branch."""

import json
import logging
import socket
import ssl
import subprocess
import threading
import time

import pytest
from dogpile.cache.api import NO_VALUE

import dogpiled
from conftest import UnixDaemon, url
from dogpiled.connection import DaemonConnection
from dogpiled.ring import parse_address


def make(ds, early_recompute=True, **arguments):
    arguments.setdefault("url", [url(d) for d in ds])
    return dogpiled.make_region("user", early_recompute=early_recompute).configure(
        "dogpiled", expiration_time=300, arguments=arguments)


def raw_get(d, key):
    reply = d.conn().get(key)
    return reply.values[0] if reply.values else None


def test_one_creation_then_hits_in_the_shared_format(daemon):
    calls = []
    first, second = make([daemon]), make([daemon])
    assert first.get_or_create("k", lambda: calls.append(1) or {"a": [1, 2]}) == {"a": [1, 2]}
    assert second.get_or_create("k", lambda: calls.append(2) or "other") == {"a": [1, 2]}
    assert calls == [1]
    stored = raw_get(daemon, "user:k")
    assert stored.flags == 0
    meta, _, payload = stored.data.partition(b"|")
    assert json.loads(meta)["v"] == 2 and abs(json.loads(meta)["ct"] - time.time()) < 60
    assert payload == b'{"a": [1, 2]}'
    assert daemon.stats()["lockgen_gen"] == "1" and daemon.stats()["lockgen_hits"] == "1"


def test_cache_on_arguments_and_multi(daemon):
    region, calls = make([daemon]), []

    @region.cache_on_arguments()
    def double(x):
        calls.append(x)
        return x * 2

    @region.cache_multi_on_arguments()
    def tens(*xs):
        calls.append(xs)
        return [x * 10 for x in xs]

    assert (double(3), double(3)) == (6, 6)
    assert tens(1, 2) == [10, 20] and tens(2, 3, 1) == [20, 30, 10]
    assert calls == [3, (1, 2), (3,)]


def test_a_failing_creator_hands_the_lease_to_a_waiter_at_once(daemon):
    region_a, region_b = make([daemon]), make([daemon])
    started, failed_at, got = threading.Event(), [], {}

    def failing():
        started.set()
        time.sleep(0.3)
        failed_at.append(time.monotonic())
        raise RuntimeError("creator failed")

    def waiter():
        started.wait(5)
        got["value"] = region_b.get_or_create(
            "k", lambda: got.setdefault("created_at", time.monotonic()) and "from b")

    t = threading.Thread(target=waiter)
    t.start()
    with pytest.raises(RuntimeError, match="creator failed"):
        region_a.get_or_create("k", failing)
    t.join(10)
    handover = got["created_at"] - failed_at[0]
    print(f"\nlease handed over {handover * 1000:.1f} ms after the creator raised (lease 30 s)")
    assert got["value"] == "from b"
    assert handover < 5.0                 # unlockgen, not the 30 s lease, elected the waiter


def test_busy_past_the_deadline_raises_and_never_runs_the_creator(daemon):
    holder = daemon.conn()
    assert holder.cmd("lockgen user:k 30000 0").word == "GEN"
    region, calls = make([daemon], wait_ms=100, busy_deadline=0.4), []
    t0 = time.monotonic()
    with pytest.raises(dogpiled.LockTimeout):
        region.get_or_create("k", lambda: calls.append(1))
    assert calls == [] and time.monotonic() - t0 >= 0.4
    holder.close()


def test_the_deadline_bounds_the_wait_on_the_server(daemon):
    holder = daemon.conn()
    assert holder.cmd("lockgen user:k 30000 0").word == "GEN"
    region = make([daemon], wait_ms=20000, busy_deadline=0.5)
    t0 = time.monotonic()
    with pytest.raises(dogpiled.LockTimeout):
        region.get_or_create("k", lambda: "never")
    took = time.monotonic() - t0
    print(f"\nLockTimeout after {took * 1000:.0f} ms (busy_deadline 500 ms, wait_ms 20000)")
    assert took < 10          # not the 20 s wait_ms
    holder.close()


def test_lease_lost_before_setgen_returns_our_value_and_keeps_theirs(daemon):
    region = make([daemon], lease_ms=200)

    def slow():
        time.sleep(0.5)                    # our 200 ms lease ends meanwhile ...
        other = daemon.conn()
        gen = other.cmd("lockgen user:k 30000 0")
        assert gen.word == "GEN"           # ... someone else is elected and stores
        assert other.setgen("user:k", gen.token, b'{"ct": 1, "v": 2}|"theirs"').line == "STORED"
        other.close()
        return "ours"

    assert region.get_or_create("k", slow) == "ours"
    assert raw_get(daemon, "user:k").data == b'{"ct": 1, "v": 2}|"theirs"'
    assert make([daemon]).get_or_create("k", lambda: "again") == "theirs"


def test_soft_invalidation_serves_stale_while_one_regenerates(daemon):
    # early_recompute=False: the elected caller regenerates before it returns (the
    # background path is in test_early_recompute.py)
    writer, reader = make([daemon], early_recompute=False), make([daemon])
    writer.get_or_create("k", lambda: "old")
    reader.invalidate(hard=False)
    assert reader.get("k") is NO_VALUE            # plain get never sees a stale copy
    in_creator, release = threading.Event(), threading.Event()
    result = {}

    def regenerate():
        in_creator.set()
        release.wait(5)
        return "new"

    t = threading.Thread(target=lambda: result.setdefault("a", writer.get_or_create("k", regenerate)))
    t.start()
    in_creator.wait(5)
    t0 = time.monotonic()
    assert reader.get_or_create("k", lambda: "should not run") == "old"
    stale_ms = (time.monotonic() - t0) * 1000
    release.set()
    t.join(5)
    print(f"\nstale answer while regenerating took {stale_ms:.1f} ms")
    assert result["a"] == "new" and reader.get_or_create("k", lambda: "x") == "new"
    reader.invalidate(hard=True)
    assert reader.get_or_create("k", lambda: "after hard") == "after hard"


def test_should_cache_false_gives_the_lease_back(daemon):
    region, calls = make([daemon]), []
    assert region.get_or_create("k", lambda: calls.append(1) or None,
                                should_cache_fn=lambda v: v is not None) is None
    assert region.get_or_create("k", lambda: calls.append(2) or 5) == 5
    assert calls == [1, 2] and region.get("k") == 5


def test_unreadable_value_is_replaced_once(daemon, caplog):
    daemon.conn().set("user:k", b"\x80pickled")
    with caplog.at_level(logging.WARNING, logger="dogpiled"):
        assert make([daemon]).get_or_create("k", lambda: "fresh") == "fresh"
    assert "unreadable" in caplog.text
    assert make([daemon]).get("k") == "fresh"


def test_multi_with_overlapping_callers(daemon):
    a, b, calls = make([daemon]), make([daemon]), []
    lock = threading.Lock()

    def creator(*keys):
        with lock:
            calls.extend(keys)
        time.sleep(0.2)
        return [f"v{k}" for k in keys]

    out = {}
    ta = threading.Thread(target=lambda: out.setdefault("a", a.get_or_create_multi(["1", "2", "3"], creator)))
    tb = threading.Thread(target=lambda: out.setdefault("b", b.get_or_create_multi(["3", "4", "1", "3"], creator)))
    ta.start(), tb.start()
    ta.join(10), tb.join(10)
    assert out["a"] == ["v1", "v2", "v3"] and out["b"] == ["v3", "v4", "v1", "v3"]
    assert sorted(calls) == ["1", "2", "3", "4"]            # each key created once


def test_region_must_be_declared(daemon):
    region = dogpiled.make_region("nope").configure("dogpiled", arguments={"url": url(daemon)})
    with pytest.raises(dogpiled.RegionNotDeclared, match=r"region 'nope' is not declared on "
                       rf"daemon 127.0.0.1:{daemon.port}; declare it with --region nope"):
        region.get_or_create("k", lambda: 1)
    named = dogpiled.make_region().configure("dogpiled", arguments={"url": url(daemon),
                                                                   "region": "other"})
    assert named.get_or_create("k", lambda: 7) == 7 and raw_get(daemon, "other:k") is not None


def wait_until_listening(port, timeout=15.0):
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            assert time.monotonic() < deadline, f"nothing listens on {port}"
            time.sleep(0.02)


def _owned_key(region, daemon):
    backend = region.actual_backend
    return next(f"k{i}" for i in range(10000)
                if backend.cluster.pool_for(backend.storage_key(f"k{i}")).address.port == daemon.port)


def test_dead_daemon_keeps_its_keys_and_is_retried(daemons, caplog):
    live, dead = daemons(2)
    region, calls = make([live, dead], retry_after=0.5, connect_timeout=1), []
    key = _owned_key(region, dead)
    dead.stop()
    with caplog.at_level(logging.WARNING, logger="dogpiled"):
        assert region.get_or_create(key, lambda: calls.append(1) or "uncached") == "uncached"
        assert region.get_or_create(key, lambda: calls.append(2) or "uncached") == "uncached"
    assert calls == [1, 2] and f"127.0.0.1:{dead.port} is down" in caplog.text
    assert region.get(key) is NO_VALUE
    with pytest.raises(dogpiled.DaemonDown, match=f"127.0.0.1:{dead.port}"):
        region.set(key, "x")
    assert region.get_or_create("live-key-" + key, lambda: "cached") == "cached"
    # the same daemon comes back on its port: after retry_after it is used again
    marked_dead_at = time.monotonic()
    proc = subprocess.Popen(dead.argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_until_listening(dead.port)
        time.sleep(max(0.0, marked_dead_at + 0.6 - time.monotonic()))   # past retry_after
        assert region.get_or_create(key, lambda: "back") == "back"
        assert region.get_or_create(key, lambda: "not again") == "back"
    finally:
        proc.kill()
        proc.wait()


def test_rehash_dead_moves_keys_to_live_daemons(daemons):
    live, dead = daemons(2)
    region = make([live, dead], rehash_dead=True, retry_after=30, connect_timeout=1)
    key = _owned_key(region, dead)
    dead.stop()
    assert region.get_or_create(key, lambda: "first") == "first"   # found dead: rehashed
    assert region.get_or_create(key, lambda: "second") == "first"   # cached on the live one
    assert raw_get(live, "user:" + key) is not None


def test_unix_socket_daemon():
    d = UnixDaemon()
    try:
        region = dogpiled.make_region("user").configure("dogpiled", arguments={"url": [d.path]})
        assert region.get_or_create("k", lambda: [1]) == [1]
        assert region.get_or_create("k", lambda: [2]) == [1]
    finally:
        d.stop()


def test_tls_context_reaches_the_socket(daemon):
    """The daemon has no TLS yet: this proves the plumbing only -- pymemcache gets the
    context, and a handshake is really attempted (and fails against plain TCP)."""
    ctx = ssl.create_default_context()
    conn = DaemonConnection(parse_address(url(daemon)), connect_timeout=2, timeout=2, tls_context=ctx)
    assert conn.client.tls_context is ctx
    region = make([daemon], tls_context=ctx, timeout=2)
    assert region.actual_backend.cluster.pools[0]._connection_args["tls_context"] is ctx
    with pytest.raises(dogpiled.DaemonDown, match="SSL|ssl|EOF|reset|timed out"):
        region.set("k", 1)


def test_key_is_locked_asks_the_daemon_whether_anyone_regenerates(daemon):
    region = make([daemon])
    assert region.key_is_locked("k") is False
    # Another client (any language) takes the generation lease on the same stored key.
    other = daemon.conn()
    gen = other.cmd(f"lockgen {region._mangle('k')} 30000 0")
    assert gen.word == "GEN"
    assert region.key_is_locked("k") is True
    assert other.cmd(f"unlockgen {region._mangle('k')} {gen.token}").line == "RELEASED"
    assert region.key_is_locked("k") is False
    assert daemon.stats("locks")["entries"] == "0", "the query must leave no state"


def test_non_ascii_and_unsafe_keys_on_the_wire(daemon):
    region = make([daemon])
    assert region.get_or_create("café", lambda: "utf-8 key") == "utf-8 key"
    assert region.get_or_create("café menu", lambda: "hashed key") == "hashed key"
    assert raw_get(daemon, "user:café") is not None
    assert raw_get(daemon, "user:c19783df5f6effd371c9131e6a582689c5549753") is not None


def test_a_value_too_large_to_store_is_returned_and_the_lease_given_back(daemon, caplog):
    region, calls = make([daemon]), []
    big = "x" * (2 * 1024 * 1024)              # over the daemon's 1 MB item limit
    with caplog.at_level(logging.WARNING, logger="dogpiled"):
        assert region.get_or_create("big", lambda: calls.append(1) or big) == big
    assert "not cached" in caplog.text and "too large" in caplog.text
    t0 = time.monotonic()
    assert region.get_or_create("big", lambda: calls.append(2) or "small") == "small"
    assert calls == [1, 2] and time.monotonic() - t0 < 2      # no lease left behind to wait out
