"""Regions, invalidation, stats counters and max_locks (PROTOCOL.md sections 3 and 4)."""

from __future__ import annotations

import collections
import random
import subprocess
import threading
import time

import pytest

from lockclient import dogpiled_bin

SOFT_REGION = "soft:memory=32m,stale_ttl=120"
N_KEYS = 10_000
N_READERS = 50
BATCH = 200


def key(i: int) -> str:
    return f"soft:k{i}"


def old_value(i: int) -> bytes:
    return f"old-{i}".encode()


def new_value(i: int) -> bytes:
    return f"new-{i}".encode()


def bulk_set(c, items) -> None:
    """Pipelined sets, BATCH at a time; every one must be STORED."""
    items = list(items)
    for off in range(0, len(items), BATCH):
        chunk = items[off:off + BATCH]
        c.send(b"".join(f"set {k} 0 0 {len(v)}\r\n".encode() + v + b"\r\n" for k, v in chunk))
        for r in c.read_replies(len(chunk)):
            assert r.line == "STORED", r


def bulk_get(c, keys) -> dict[str, bytes]:
    found = {}
    keys = list(keys)
    for off in range(0, len(keys), BATCH):
        r = c.cmd("get " + " ".join(keys[off:off + BATCH]))
        assert r.line == "END", r
        found.update((v.key, v.data) for v in r.values)
    return found


def stat_ints(daemon) -> dict[str, int]:
    return {k: int(v) for k, v in daemon.stats().items() if v.lstrip("-").isdigit()}


def test_soft_invalidation_one_regenerator_per_key(dogpiled_factory):
    d = dogpiled_factory("--region", SOFT_REGION)
    c = d.conn(timeout=30)
    bulk_set(c, ((key(i), old_value(i)) for i in range(N_KEYS)))
    assert len(bulk_get(c, (key(i) for i in range(N_KEYS)))) == N_KEYS
    assert c.cmd("invalidate soft soft").line == "OK"
    assert bulk_get(c, (key(i) for i in range(N_KEYS))) == {}, "plain get must miss after soft"
    before = stat_ints(d)

    gens = collections.Counter()
    seen = collections.Counter()
    errors: list[str] = []
    lock = threading.Lock()
    barrier = threading.Barrier(N_READERS)

    def reader(seed: int) -> None:
        my_gens = collections.Counter()
        my_seen = collections.Counter()
        conn = d.conn(timeout=60)
        try:
            order = list(range(N_KEYS))
            random.Random(seed).shuffle(order)
            barrier.wait(timeout=30)
            for off in range(0, N_KEYS, BATCH):
                chunk = order[off:off + BATCH]
                conn.send(b"".join(f"lockgen {key(i)} 5000\r\n".encode() for i in chunk))
                replies = conn.read_replies(len(chunk))
                regen = []
                for i, r in zip(chunk, replies):
                    my_seen[r.word] += 1
                    if r.word == "GEN":
                        my_gens[i] += 1
                        if [v.data for v in r.values] != [old_value(i)]:
                            errors.append(f"GEN for {key(i)} without the stale copy: {r}")
                        regen.append((i, r.token))
                    elif r.line == "STALE":
                        if [v.data for v in r.values] != [old_value(i)]:
                            errors.append(f"STALE for {key(i)}: {r}")
                    elif r.line == "HIT":
                        if [v.data for v in r.values] != [new_value(i)]:
                            errors.append(f"HIT for {key(i)}: {r}")
                    else:
                        errors.append(f"lockgen {key(i)} -> {r}")
                if regen:
                    conn.send(b"".join(
                        f"setgen {key(i)} {tok} 0 0 {len(new_value(i))}\r\n".encode()
                        + new_value(i) + b"\r\n" for i, tok in regen))
                    for (i, _), r in zip(regen, conn.read_replies(len(regen))):
                        if r.line != "STORED":
                            errors.append(f"setgen {key(i)} -> {r}")
        except Exception as e:
            errors.append(repr(e))
        finally:
            conn.close()
            with lock:
                gens.update(my_gens)
                seen.update(my_seen)

    t0 = time.monotonic()
    threads = [threading.Thread(target=reader, args=(s,)) for s in range(N_READERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    elapsed = time.monotonic() - t0
    print(f"\nsoft invalidation: {N_READERS} readers x {N_KEYS} keys in {elapsed:.1f}s: "
          f"{dict(seen)}")
    assert not errors, errors[:5]
    assert sum(seen.values()) == N_READERS * N_KEYS
    assert len(gens) == N_KEYS, f"{N_KEYS - len(gens)} keys were never regenerated"
    multi = {key(i): n for i, n in gens.items() if n != 1}
    assert not multi, f"keys regenerated more than once: {list(multi.items())[:5]}"
    assert seen["GEN"] == N_KEYS
    fresh = bulk_get(c, (key(i) for i in range(N_KEYS)))
    assert fresh == {key(i): new_value(i) for i in range(N_KEYS)}
    after = stat_ints(d)
    assert after["lockgen_gen"] - before["lockgen_gen"] == N_KEYS
    assert after["lockgen_stale"] - before["lockgen_stale"] == seen["STALE"]
    assert after["lockgen_hits"] - before["lockgen_hits"] == seen["HIT"]
    assert after["lockgen_waits"] == before["lockgen_waits"]


def test_hard_invalidation_and_unknown_region(dogpiled_factory):
    d = dogpiled_factory("--region", SOFT_REGION)
    c, other = d.conn(), d.conn()
    bulk_set(c, ((key(i), old_value(i)) for i in range(100)))
    assert c.set("plainkey", b"in-default").line == "STORED"
    # a lease in flight in the region, with a waiter
    g = c.cmd("lockgen soft:leased 10000")
    assert g.word == "GEN"
    other.send("lockgen soft:leased 10000 5000\r\n")
    time.sleep(0.1)
    assert c.cmd("invalidate soft hard").line == "OK"
    # the lease ended: the waiter is elected
    w = other.read_reply(timeout=5)
    assert w.word == "GEN" and not w.values
    assert c.setgen("soft:leased", g.token, b"x").line == "NOT_OWNER"
    # every value and stale copy of the region is gone
    assert bulk_get(c, (key(i) for i in range(100))) == {}
    for i in (0, 42, 99):
        r = c.cmd(f"lockgen {key(i)} 5000 0")
        assert r.word == "GEN" and not r.values, r
    # other regions are untouched
    assert [v.data for v in c.get("plainkey").values] == [b"in-default"]
    # hard after soft drops the stale copies too
    assert c.set("soft:s", b"v").line == "STORED"
    assert c.cmd("invalidate soft soft").line == "OK"
    assert c.cmd("invalidate soft hard").line == "OK"
    r = c.cmd("lockgen soft:s 5000 0")
    assert r.word == "GEN" and not r.values
    assert c.cmd("invalidate nosuch hard").line == "NOT_FOUND"
    assert c.cmd("invalidate nosuch soft").line == "NOT_FOUND"
    assert c.cmd("invalidate default hard").line == "OK"
    assert c.get("plainkey").values == []


def test_stats_regions_lists_the_region(dogpiled_factory):
    d = dogpiled_factory("--region", "soft:memory=32m,stale_ttl=120,lock_wait_ms=700")
    st = d.stats("regions")
    assert st["soft:stale_ttl"] == "120"
    assert st["soft:memory_limit"] == str(32 * 1024 * 1024)
    assert st["soft:lock_wait_ms"] == "700"
    assert any(k.startswith("default:") for k in st)
    assert d.stats()["limit_maxbytes"] == str(64 * 1024 * 1024)


def test_region_lock_wait_ms_applies_without_wait(dogpiled_factory):
    d = dogpiled_factory("--region", "fast:memory=8m,lock_wait_ms=300")
    a, b = d.conn(), d.conn()
    assert a.cmd("lockgen fast:x 10000").word == "GEN"
    t0 = time.monotonic()
    r = b.cmd("lockgen fast:x 10000")
    dt = r.at - t0
    assert r.line == "BUSY"
    assert 0.25 <= dt <= 1.5, f"region lock_wait_ms 300 -> BUSY after {dt * 1000:.0f} ms"


def test_stats_counters(dogpiled):
    names = ["lockgen_hits", "lockgen_stale", "lockgen_gen", "lockgen_waits", "lockgen_timeouts",
             "leases_expired", "mutex_locked", "mutex_waits", "mutex_timeouts", "mutex_expired"]
    st0 = stat_ints(dogpiled)
    for n in names:
        assert st0[n] == 0, (n, st0[n])
    a, b, c = dogpiled.conn(), dogpiled.conn(), dogpiled.conn()
    # lockgen: 1 GEN, 1 waiter woken by the store (HIT), 1 HIT at once
    g = a.cmd("lockgen s1 10000")
    b.send("lockgen s1 10000 5000\r\n")
    time.sleep(0.1)
    assert a.setgen("s1", g.token, b"v").line == "STORED"
    assert b.read_reply().line == "HIT"
    assert c.cmd("lockgen s1 10000").line == "HIT"
    # stale: GEN with the copy, then STALE
    assert a.set("s2", b"old").line == "STORED"
    assert a.cmd("invalidate default soft").line == "OK"
    assert a.cmd("lockgen s2 10000").word == "GEN"
    assert b.cmd("lockgen s2 10000").line == "STALE"
    # a timeout (wait 100) and a lease that runs out (200 ms) electing a waiter
    assert a.cmd("lockgen s3 200").word == "GEN"
    assert b.cmd("lockgen s3 10000 50").line == "BUSY"
    assert c.cmd("lockgen s3 10000 5000").word == "GEN"
    # mutexes: a grant, a waiter, a timeout, an expiry
    m = a.cmd("lock m1 200 0")
    assert b.cmd("lock m1 10000 50").line == "BUSY"
    assert c.cmd("lock m1 10000 5000").word == "LOCKED"
    st = stat_ints(dogpiled)
    print("\n" + " ".join(f"{n}={st[n]}" for n in names))
    assert st["lockgen_gen"] == 4          # s1, s2, s3, s3 (elected)
    # one HIT at once; the waiter woken by the store may or may not be counted
    # (dogpiled counts only the immediate one)
    assert st["lockgen_hits"] in (1, 2)
    assert st["lockgen_stale"] == 1
    assert st["lockgen_waits"] >= 3        # s1's waiter, s3's timeout, s3's elected waiter
    assert st["lockgen_timeouts"] >= 1
    assert st["leases_expired"] == 1
    assert st["mutex_locked"] == 2
    assert st["mutex_waits"] >= 2
    assert st["mutex_timeouts"] >= 1
    assert st["mutex_expired"] == 1
    assert m.word == "LOCKED"


def _has_flag(flag: str) -> bool:
    try:
        out = subprocess.run([dogpiled_bin(), "--help"], capture_output=True, text=True,
                             timeout=20)
    except OSError:
        return False
    return flag in out.stdout + out.stderr


def test_max_locks(dogpiled_factory):
    if not _has_flag("--max-locks"):
        pytest.skip("dogpiled --help lists no --max-locks flag")
    d = dogpiled_factory("--max-locks", "10")
    c = d.conn()
    held = [c.cmd(f"lock L{i} 10000 0") for i in range(10)]
    assert all(r.word == "LOCKED" for r in held), held
    assert c.cmd("lock L10 10000 0").line == "SERVER_ERROR too many locks"
    assert c.cmd("rlock L11 10000 0").line == "SERVER_ERROR too many locks"
    # generation leases count toward the same bound
    assert c.cmd("lockgen G1 10000").line == "SERVER_ERROR too many locks"
    # ...but a fresh value needs no entry: it is served (HIT) with the table full
    assert c.cmd("set fresh 0 0 2\r\nok").line == "STORED"
    assert c.cmd("lockgen fresh 10000").word == "HIT"
    # a known name still answers normally (BUSY), and a freed slot can be reused
    other = d.conn()
    assert other.cmd("lock L0 10000 0").line == "BUSY"
    assert c.cmd(f"unlock L0 {held[0].token}").line == "UNLOCKED"
    assert c.cmd("lockgen G1 10000").word == "GEN"
    assert c.cmd("lock L10 10000 0").line == "SERVER_ERROR too many locks"
    assert int(d.stats("locks")["max_locks"]) == 10
