"""Edge cases of sharing one lockgen per key per process (flights.py), from an adversarial
review: each runs with sharing on and off, and both must answer as the server would."""

import threading
import time

import pytest

import dogpiled
from conftest import url

MODES = pytest.mark.parametrize("coalesce", [True, False], ids=["coalesced", "every-thread-asks"])


def make(daemon, **arguments):
    arguments.setdefault("url", [url(daemon)])
    return dogpiled.make_region("user").configure("dogpiled", expiration_time=300,
                                                  arguments=arguments)


@MODES
def test_a_hung_creator_past_its_lease_blocks_only_its_own_process(daemon, coalesce):
    """The server ends a lease after lease_ms and elects a waiter; a thread of the same
    process as the hung leader should be elected as well, not time out."""
    region = make(daemon, coalesce=coalesce, lease_ms=1000, busy_deadline=3.0)
    release = threading.Event()

    def hung():
        release.wait(8)
        return "late"

    leader = threading.Thread(target=lambda: region.get_or_create("k", hung), daemon=True)
    leader.start()
    time.sleep(0.3)
    t0 = time.monotonic()
    try:
        value = region.get_or_create("k", lambda: "fresh")
        outcome = (value, round(time.monotonic() - t0, 2))
    except dogpiled.LockTimeout as error:
        outcome = ("LockTimeout", round(time.monotonic() - t0, 2))
    finally:
        release.set()
        leader.join(10)
    assert outcome[0] == "fresh" and outcome[1] < 2.0, outcome


@MODES
def test_a_creator_asking_for_its_own_key(daemon, coalesce):
    """Re-entrancy: the creator of k asks for k.  The server elects the inner request
    once the outer lease runs out (lease_ms); in-process nothing ever lands."""
    region = make(daemon, coalesce=coalesce, lease_ms=1000, busy_deadline=3.0)

    def outer():
        return "outer+" + region.get_or_create("k", lambda: "inner")

    t0 = time.monotonic()
    try:
        outcome = (region.get_or_create("k", outer), round(time.monotonic() - t0, 2))
    except dogpiled.LockTimeout:
        outcome = ("LockTimeout", round(time.monotonic() - t0, 2))
    assert outcome[0] == "outer+inner", outcome


@MODES
def test_daemon_down_callers_create_side_by_side(daemon, coalesce):
    """With the key's daemon down every caller creates uncached at once; coalescing
    makes them take turns (each follower re-boards after a landing with no data)."""
    region = make(daemon, coalesce=coalesce, busy_deadline=1.5)
    region.check_regions()
    daemon.stop()
    results, errors = [], []
    lock = threading.Lock()

    def creator():
        time.sleep(0.5)
        return "uncached"

    def caller():
        try:
            v = region.get_or_create("k", creator)
            with lock:
                results.append(v)
        except Exception as error:
            with lock:
                errors.append(type(error).__name__)

    barrier_start = time.monotonic()
    workers = [threading.Thread(target=caller) for _ in range(6)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(20)
    took = time.monotonic() - barrier_start
    assert errors == [] and results == ["uncached"] * 6 and took < 1.4, (errors, results, took)


@MODES
def test_a_child_forked_mid_flight(daemon, coalesce):
    """fork() while a thread leads a flight: the child inherits the flight, whose leader
    thread does not exist there, so nothing ever lands it in the child."""
    import os
    region = make(daemon, coalesce=coalesce, busy_deadline=2.0)
    region.check_regions()
    region.get_or_create("warm", lambda: "w")       # a pooled idle connection to reuse
    release = threading.Event()

    def slow():
        release.wait(1.0)                           # the parent's creator takes 1 s
        return "parent"

    leader = threading.Thread(target=lambda: region.get_or_create("k", slow), daemon=True)
    leader.start()
    time.sleep(0.3)
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:                                    # the child
        os.close(r)
        try:
            t0 = time.monotonic()
            try:
                # plain get_or_create in the child, key k is being created by the parent
                v = region.get_or_create("k", lambda: "child")
                msg = f"{v} {time.monotonic() - t0:.2f}"
            except BaseException as e:
                msg = f"{type(e).__name__} {time.monotonic() - t0:.2f}"
            os.write(w, msg.encode())
        finally:
            os._exit(0)
    os.close(w)
    _, status = os.waitpid(pid, 0)
    out = os.read(r, 1000).decode()
    os.close(r)
    release.set()
    leader.join(10)
    # Without coalescing the child parks on the server and is answered when the parent's
    # setgen lands (or times out on the server like any other process would).
    print("child:", out)
    assert not out.startswith("LockTimeout 2.0"), out
