"""Issue 8, items 9 and 19: a failed setgen changes nothing; stats reset and get_expired.

Each test here failed before its fix:
* a setgen whose value cannot be stored (bigger than its region's budget) used to delete the
  stale copy, so the next lockgen answered BUSY instead of STALE;
* ``stats reset`` kept evictions/total_items/reclaimed, and ``get_expired`` was never counted.
"""

import time

from lockclient import Conn  # noqa: F401  (fixtures come from conftest)

SMALL = "small:memory=1m,exptime=0,stale_ttl=60,lock_wait_ms=5000"


def expire_into_stale_copy(c, key: str, value: bytes) -> None:
    """Stores `value` with a 1 s exptime and waits until it is a stale copy."""
    assert c.set(key, value, exptime=1).line == "STORED"
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if c.get(key).values == []:
            return
        time.sleep(0.2)
    raise AssertionError(f"{key} did not expire")


def test_failed_setgen_keeps_the_stale_copy_and_the_lease(dogpiled_factory):
    d = dogpiled_factory("-I", "2m", "--region", SMALL)
    holder, other = d.conn(), d.conn()
    expire_into_stale_copy(holder, "small:k", b"old")

    gen = holder.cmd("lockgen small:k 30000 0")
    assert gen.word == "GEN" and [v.data for v in gen.values] == [b"old"], gen
    # 1.5 MB: within -I, above the region's 1 MB budget, so the store must fail.
    failed = holder.setgen("small:k", gen.token, b"x" * (1536 * 1024))
    assert failed.line.startswith("SERVER_ERROR"), failed

    # Nothing changed: others still get the stale copy (not BUSY), the lease is still held.
    seen = other.cmd("lockgen small:k 30000 0")
    assert seen.line == "STALE" and [v.data for v in seen.values] == [b"old"], seen
    # The holder can retry with a value that fits, with the same token.
    assert holder.setgen("small:k", gen.token, b"new").line == "STORED"
    hit = other.cmd("lockgen small:k 30000 0")
    assert hit.line == "HIT" and [v.data for v in hit.values] == [b"new"], hit


def test_failed_setgen_under_disabled_evictions_keeps_the_stale_copy(dogpiled_factory):
    d = dogpiled_factory("-M", "-m", "8", "-I", "2m")
    c, other = d.conn(), d.conn()
    expire_into_stale_copy(c, "k", b"old")
    gen = c.cmd("lockgen k 30000 0")
    assert gen.word == "GEN", gen
    # Fill memory so that nothing more fits.
    filler = b"f" * (1024 * 1024)
    i = 0
    while c.set(f"fill{i}", filler).line == "STORED":
        i += 1
        assert i < 100, "-M never ran out of memory"
    failed = c.setgen("k", gen.token, filler)
    assert failed.line == "SERVER_ERROR out of memory storing object", failed
    seen = other.cmd("lockgen k 30000 0")
    assert seen.line == "STALE" and [v.data for v in seen.values] == [b"old"], seen


def test_stats_reset_clears_store_counters_and_get_expired_counts(dogpiled_factory):
    d = dogpiled_factory("-m", "8")
    c = d.conn()
    expire_into_stale_copy(c, "gone", b"v")   # at least one expired get on the way
    value = b"v" * (512 * 1024)
    for i in range(40):                       # 20 MB into 8 MB: evictions
        assert c.set(f"big{i}", value).line == "STORED"
    before = c.stats()
    assert int(before["get_expired"]) >= 1, before["get_expired"]
    assert int(before["evictions"]) > 0 and int(before["total_items"]) >= 41
    assert before["libevent"].startswith("2."), before["libevent"]

    assert c.cmd("stats reset").line == "RESET"
    after = c.stats()
    for field in ("get_expired", "evictions", "total_items", "reclaimed",
                  "expired_unfetched", "evicted_unfetched", "get_hits", "cmd_get"):
        assert after[field] == "0", (field, after[field])
    # State is not a counter: items and bytes stay.
    assert after["curr_items"] == before["curr_items"]
    assert after["bytes"] == before["bytes"]
