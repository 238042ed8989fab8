"""Threads of one process asking for one key share one lockgen (flights.py).

Each test runs with coalescing on and, where the difference is the point, off, so the
assertion that distinguishes them can fail."""

import threading
import time

import pytest

import dogpiled
from conftest import url


def make(daemon, **arguments):
    arguments.setdefault("url", [url(daemon)])
    arguments.setdefault("coalesce", True)
    return dogpiled.make_region("user").configure("dogpiled", expiration_time=300,
                                                  arguments=arguments)


def parked_on_server(daemon, key):
    """How many lockgen requests wait on the server for ``key`` (genstate: LEASED <n>)."""
    line = daemon.conn().cmd(f"genstate {key}").line
    return int(line.split()[1]) if line.startswith("LEASED") else 0


def stampede(region, threads, creator, key="k"):
    results, errors = [None] * threads, []
    barrier = threading.Barrier(threads)

    def caller(i):
        barrier.wait()
        try:
            results[i] = region.get_or_create(key, creator)
        except Exception as error:          # reported by the test
            errors.append(error)

    workers = [threading.Thread(target=caller, args=(i,)) for i in range(threads)]
    for w in workers:
        w.start()
    return workers, results, errors


@pytest.mark.parametrize("coalesce", [True, False], ids=["coalesced", "every-thread-asks"])
def test_one_request_per_key_per_process(daemon, coalesce):
    region, calls = make(daemon, coalesce=coalesce), []
    creating = threading.Event()

    def creator():
        calls.append(1)
        creating.set()
        time.sleep(0.5)
        return {"v": 1}

    workers, results, errors = stampede(region, 20, creator)
    assert creating.wait(5)
    time.sleep(0.2)                         # every follower has boarded or parked by now
    parked = parked_on_server(daemon, "user:k")
    for w in workers:
        w.join(10)
    assert errors == [] and calls == [1]
    assert results == [{"v": 1}] * 20
    # Followers wait in the process: the server holds no parked request of theirs.
    assert parked == (0 if coalesce else 19)
    assert len(region.backend.regenerator.flights or ()) == 0


def test_followers_get_their_own_copies(daemon):
    region = make(daemon)
    region.get_or_create("k", lambda: {"list": [1]})
    workers, results, errors = stampede(region, 8, lambda: {"list": [2]})
    for w in workers:
        w.join(10)
    assert errors == [] and all(r == {"list": [1]} for r in results)
    assert len({id(r) for r in results}) == 8     # decoded per caller, never shared


def test_a_failing_leader_lets_followers_ask_themselves(daemon):
    region, calls = make(daemon), []
    lock = threading.Lock()

    def creator():
        with lock:
            calls.append(1)
            first = len(calls) == 1
        time.sleep(0.2)
        if first:
            raise RuntimeError("first creator fails")
        return "second"

    workers, results, errors = stampede(region, 10, creator)
    for w in workers:
        w.join(10)
    assert len(calls) == 2                  # the failure, then one follower's success
    assert [str(e) for e in errors] == ["first creator fails"]
    assert sorted(r for r in results if r is not None) == ["second"] * 9


def test_a_value_not_cached_is_not_shared(daemon):
    region, calls = make(daemon), []
    lock = threading.Lock()

    def creator():
        with lock:
            calls.append(1)
        time.sleep(0.05)
        return None

    workers = []
    results, errors = [], []

    def caller():
        try:
            results.append(region.get_or_create("k", creator,
                                                should_cache_fn=lambda v: v is not None))
        except Exception as error:
            errors.append(error)

    workers = [threading.Thread(target=caller) for _ in range(5)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(10)
    # Nothing stored, so nothing to share: every caller ran the creator, one at a time,
    # as the server's lease would have had them do.
    assert errors == [] and results == [None] * 5 and len(calls) == 5


def test_a_follower_keeps_its_own_deadline(daemon):
    region = make(daemon, busy_deadline=0.4)
    release = threading.Event()

    def slow():
        release.wait(10)
        return "late"

    leader = threading.Thread(target=lambda: region.get_or_create("k", slow))
    leader.start()
    time.sleep(0.2)
    t0 = time.monotonic()
    with pytest.raises(dogpiled.LockTimeout):
        region.get_or_create("k", lambda: "never")
    took = time.monotonic() - t0
    release.set()
    leader.join(10)
    assert took < 2.0 and region.get("k") == "late"


def test_a_stale_copy_is_shared_before_the_creator_runs(daemon):
    old = dogpiled.make_region("user").configure("dogpiled", expiration_time=1,
                                                 arguments={"url": [url(daemon)]})
    old.get_or_create("k", lambda: "old")
    time.sleep(2.2)                         # expired; the region keeps a stale copy
    region = dogpiled.make_region("user", early_recompute=False).configure(
        "dogpiled", expiration_time=300, arguments={"url": [url(daemon)]})
    answered = []

    def creator():
        time.sleep(1.0)
        return "new"

    t0 = time.monotonic()

    def timed():
        value = region.get_or_create("k", creator)
        answered.append((value, time.monotonic() - t0))

    workers = [threading.Thread(target=timed) for _ in range(10)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(10)
    assert sorted(v for v, _ in answered) == ["new"] + ["old"] * 9
    # The nine followers were answered with the stale copy, not after the 1 s creator.
    assert all(took < 0.8 for v, took in answered if v == "old"), answered
    assert region.get("k") == "new"
