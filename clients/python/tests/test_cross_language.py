"""Swift and Python on one fleet: the same ring, the same values, one regeneration between them.

The Swift side is the `dogpiled-client-probe` executable (Examples/dogpiled-client-probe), built
next to the daemon by `swift build --build-tests`; it uses only DogpileClient's public API. A
missing probe FAILS these tests.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pylibmc
import pytest

import dogpiled
from conftest import url
from lockclient import dogpiled_bin, percentile
from test_ring_agreement import KEYS, flush, landed
from test_stampede import WORKER, calls, finish, go

PYTHON_PROCESSES, THREADS = 8, 25
SWIFT_PROCESSES, TASKS = 4, 25


def probe() -> str:
    path = os.path.join(os.path.dirname(dogpiled_bin()), "dogpiled-client-probe")
    if not os.path.exists(path):
        pytest.fail(f"{path} is missing: build it with `swift build --build-tests`", pytrace=False)
    return path


def run_probe(*args, check=True) -> str:
    result = subprocess.run([probe(), *args], capture_output=True, text=True, timeout=120)
    if check and result.returncode != 0:
        raise AssertionError(f"probe {args[:1]} failed: {result.stderr.strip()}")
    return result.stdout


def test_swift_python_and_pylibmc_choose_the_same_daemon_for_10000_keys(daemons):
    ds = daemons(3)
    specs = [url(d, w) for d, w in zip(ds, (1, 2, 3))]
    addresses = [f"127.0.0.1:{d.port}" for d in ds]
    libmc = pylibmc.Client(specs, behaviors={"ketama_weighted": True})
    for key in KEYS:
        libmc.set(key, b"pylibmc")
    by_pylibmc = landed(addresses)
    flush(addresses)

    # The Swift ring's choice for every key (no network)...
    swift = {}
    for line in run_probe("where", "--servers", ",".join(specs), *KEYS).splitlines():
        key, address = line.split("\t")
        swift[key] = address
    agree = sum(swift.get(k) == by_pylibmc[k] for k in KEYS)
    # ...and where values written through the Swift Region really land, for a sample: the
    # stored key is "user:<key>", which pylibmc must put on the same daemon.
    sample = KEYS[:12]
    stored = [f"user:{k}" for k in sample]
    for key in sample:
        run_probe("set", "--servers", ",".join(specs), "--region", "user", key, json.dumps(key))
    by_swift_stored = landed(addresses, stored)
    flush(addresses)
    for key in stored:
        libmc.set(key, b"x")
    by_libmc_stored = landed(addresses, stored)
    print(f"\nSwift ring vs pylibmc landing: {agree}/{len(KEYS)} keys on the same daemon; "
          f"values stored through the Swift Region landed as pylibmc's: "
          f"{sum(by_swift_stored[k] == by_libmc_stored[k] for k in stored)}/{len(stored)}")
    assert agree == len(KEYS)
    assert by_swift_stored == by_libmc_stored


def test_values_cross_between_swift_and_python(daemons):
    ds = daemons(3)
    specs = [url(d, w) for d, w in zip(ds, (1, 2, 3))]
    region = dogpiled.make_region("user").configure(
        "dogpiled", expiration_time=300, arguments={"url": specs})
    payload = {"name": "Ada", "tags": ["math", "é"], "n": 1.5, "none": None, "ok": True}

    region.set("from python", payload)
    read_by_swift = json.loads(run_probe("get", "--servers", ",".join(specs), "--region", "user", "from python"))
    assert read_by_swift == payload

    run_probe("set", "--servers", ",".join(specs), "--region", "user", "from swift", json.dumps(payload))
    assert region.get("from swift") == payload
    # A key Swift mangles (a space and over-long bytes) is the key Python mangles.
    long_key = "k " + "é" * 200
    run_probe("set", "--servers", ",".join(specs), "--region", "user", long_key, json.dumps("long"))
    assert region.get(long_key) == "long"


def spawn_python(cfg):
    proc = subprocess.Popen([sys.executable, WORKER, json.dumps(cfg)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True, start_new_session=True)
    assert proc.stdout.readline().strip() == "ready", "python worker did not start"
    return proc


def spawn_swift(specs, calls_file, value, creator_ms=200):
    proc = subprocess.Popen(
        [probe(), "stampede", "--servers", ",".join(specs), "--region", "user", "--key", "hot",
         "--tasks", str(TASKS), "--creator-ms", str(creator_ms), "--lease-ms", "30000",
         "--counter-file", calls_file, "--value", value, "--wait-go", "yes"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, start_new_session=True)
    assert proc.stdout.readline().strip() == "ready", "swift probe did not start"
    return proc


def finish_swift(procs, timeout=60):
    summaries = []
    for p in procs:
        out, _ = p.communicate(timeout=timeout)
        assert p.returncode == 0, f"swift probe {p.pid} failed"
        summaries.append(json.loads(out.strip().splitlines()[-1]))
    return summaries


def stampede(ds, tmp_path, creator_s):
    specs = [url(d, w) for d, w in zip(ds, (1, 2, 3))]
    calls_file = str(tmp_path / "calls")
    cfg = {"urls": specs, "key": "hot", "calls_file": calls_file, "threads": THREADS,
           "value": "new", "creator_s": creator_s, "lease_ms": 30000}
    python = [spawn_python(cfg) for _ in range(PYTHON_PROCESSES)]
    swift = [spawn_swift(specs, calls_file, "new", int(creator_s * 1000)) for _ in range(SWIFT_PROCESSES)]
    started = time.time()
    go(python + swift)
    pids = {str(p.pid) for p in python}
    return finish(python), finish_swift(swift), started, pids


def test_one_creator_call_across_languages_for_a_missing_key(daemons, tmp_path):
    py_results, swift_summaries, _, _ = stampede(daemons(3), tmp_path, creator_s=0.2)
    creators = calls(tmp_path / "calls")
    print(f"\nmissing key, {PYTHON_PROCESSES}x{THREADS} Python + {SWIFT_PROCESSES}x{TASKS} Swift callers: "
          f"creator calls {creators}; Swift p50/p99 "
          f"{[(s['p50_ms'], s['p99_ms']) for s in swift_summaries]} ms")
    assert len(creators) == 1
    assert len(py_results) == PYTHON_PROCESSES * THREADS
    assert all(r["value"] == "new" for r in py_results)
    assert sum(s["answered"] for s in swift_summaries) == SWIFT_PROCESSES * TASKS
    assert all(s["values"] == ["new"] for s in swift_summaries)


def test_one_creator_call_across_languages_for_a_stale_key(daemons, tmp_path):
    ds = daemons(3)
    specs = [url(d, w) for d, w in zip(ds, (1, 2, 3))]
    old = dogpiled.make_region("user").configure("dogpiled", expiration_time=1, arguments={"url": specs})
    old.set("hot", "old")
    time.sleep(2.2)                                  # expired: only a stale copy remains
    assert old.get("hot") is dogpiled.values.NO_VALUE
    py_results, swift_summaries, started, pids = stampede(ds, tmp_path, creator_s=2.0)
    creators = calls(tmp_path / "calls")
    assert len(creators) == 1, creators
    # an elected Python caller returns the stale copy and regenerates on a background
    # thread (early_recompute, the default): no Python caller ran the creator itself
    assert not any(r["created"] for r in py_results)
    others = py_results
    assert all(r["value"] == "old" for r in others), {r["value"] for r in others}
    swift_values = {v for s in swift_summaries for v in s["values"]}
    swift_created = sum(s["creator_calls"] for s in swift_summaries)
    assert sum(c in pids for c in creators) + swift_created == 1
    # Everyone but the creator got the stale copy: a caller that had waited would hold "new".
    assert swift_values <= {"old", "new"} and (swift_created == 1 or swift_values == {"old"})
    waits = [(r["at"] - started) * 1000 for r in others]
    print(f"\nstale key: creator {creators[0]!r}; {len(others)} Python callers answered with the stale "
          f"copy p50 {percentile(waits, 50):.0f} ms, p99 {percentile(waits, 99):.0f} ms after the start; "
          f"Swift values {sorted(swift_values)}")
