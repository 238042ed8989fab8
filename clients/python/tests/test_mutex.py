"""The plain dogpile.cache region's mutex on the dogpiled backend: server-side lock/unlock."""

import os
import signal
import subprocess
import sys
import threading
import time

from dogpile.cache import make_region as plain_make_region

from conftest import url

HOLDER = """
import sys, time
from dogpile.cache import make_region
region = make_region().configure("dogpiled", arguments={"url": sys.argv[1]})
mutex = region.backend.get_mutex("shared-key")
assert mutex.acquire()
print("held", flush=True)
time.sleep(120)
"""


def test_waiter_is_woken_by_the_server_when_the_holder_process_dies(daemon):
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, url(daemon)], stdout=subprocess.PIPE,
                              text=True, start_new_session=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        region = plain_make_region().configure(
            "dogpiled", arguments={"url": url(daemon), "wait_ms": 20000, "mutex_lease_ms": 60000})
        mutex = region.backend.get_mutex("shared-key")
        assert mutex.acquire(False) is False
        got = {}
        waiter = threading.Thread(target=lambda: got.setdefault("ok", mutex.acquire()))
        waiter.start()
        time.sleep(0.5)
        before = daemon.stats()
        killed_at = time.monotonic()
        os.killpg(holder.pid, signal.SIGKILL)
        waiter.join(15)
        took = time.monotonic() - killed_at
        print(f"\nmutex handed over {took * 1000:.0f} ms after the holder's SIGKILL (lease 60 s)")
        assert got.get("ok") is True and mutex.locked()
        assert took < 10
        # one waiting request, woken by the server: no polling while the holder lived
        assert int(before["mutex_waits"]) == 1
        mutex.release()
        assert not mutex.locked() and mutex.acquire(False)
        mutex.release()
    finally:
        if holder.poll() is None:
            os.killpg(holder.pid, signal.SIGKILL)
        holder.wait()


def test_plain_regions_create_once_through_the_mutex(daemon):
    regions = [plain_make_region().configure("dogpiled", expiration_time=300,
                                             arguments={"url": url(daemon)}) for _ in range(4)]
    calls, lock = [], threading.Lock()

    def creator():
        with lock:
            calls.append(1)
        time.sleep(0.2)
        return "value"

    out = []
    threads = [threading.Thread(target=lambda r=r: out.append(r.get_or_create("k", creator)))
               for r in regions for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert out == ["value"] * 20 and len(calls) == 1


def test_plain_mutexes_do_not_exclude_lockgen_users(daemon):
    region = plain_make_region().configure("dogpiled", arguments={"url": url(daemon)})
    mutex = region.backend.get_mutex("k")
    assert mutex.acquire()
    try:
        assert daemon.conn().cmd("lockgen k 1000 0").word == "GEN"
    finally:
        mutex.release()


def test_locked_sees_a_hold_taken_by_another_process(daemon):
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, url(daemon)], stdout=subprocess.PIPE,
                              text=True, start_new_session=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        region = plain_make_region().configure("dogpiled", arguments={"url": url(daemon)})
        mutex = region.backend.get_mutex("shared-key")
        assert mutex.locked() is True, "held by the other process, not by this one"
        before = daemon.stats()
        assert mutex.locked() is True
        after = daemon.stats()
        assert after["mutex_locked"] == before["mutex_locked"], "asking must not take the lock"
    finally:
        os.killpg(holder.pid, signal.SIGKILL)
        holder.wait()
    deadline = time.monotonic() + 5
    while mutex.locked():                      # the hold ends with the holder's connection
        assert time.monotonic() < deadline
        time.sleep(0.05)
