"""dogpiled used through a real client library: pymemcache (text protocol).

pymemcache must be installed (Tests/Compatibility/requirements.txt); a missing
pymemcache is an error, not a skip.
"""

from __future__ import annotations

import time

import pytest
from pymemcache.client.base import Client
from pymemcache.exceptions import MemcacheClientError, MemcacheServerError

from conftest import HOST

BINARY = bytes(range(256)) + b"\r\nEND\r\nVALUE x 0 1\r\n\x00\r\n"


class FlagsSerde:
    """Keeps values as bytes but hands back (value, flags) from get."""

    def serialize(self, key, value):
        if isinstance(value, tuple):
            return value
        return value, 0

    def deserialize(self, key, value, flags):
        return value, flags


@pytest.fixture
def server(dogpiled_server):
    return dogpiled_server


@pytest.fixture
def mc(server):
    c = Client((HOST, server.port), connect_timeout=5, timeout=10, default_noreply=False)
    yield c
    c.close()


def test_set_get_and_binary_values(mc):
    assert mc.set(b"plain", b"hello") is True
    assert mc.get(b"plain") == b"hello"
    assert mc.set(b"binary", BINARY) is True
    assert mc.get(b"binary") == BINARY
    assert mc.set(b"empty", b"") is True
    assert mc.get(b"empty") == b""
    assert mc.get(b"missing") is None
    assert mc.get(b"missing", default=b"dflt") == b"dflt"
    key250 = b"k" * 250
    assert mc.set(key250, b"long key") is True
    assert mc.get(key250) == b"long key"
    big = bytes(range(256)) * 3900  # ~1 MB minus headroom
    assert mc.set(b"big", big) is True
    assert mc.get(b"big") == big


def test_overwrite_and_utf8_keys(mc):
    assert mc.set("unicode-ключ".encode(), "значение".encode()) is True
    assert mc.get("unicode-ключ".encode()) == "значение".encode()
    assert mc.set(b"over", b"1") is True
    assert mc.set(b"over", b"2") is True
    assert mc.get(b"over") == b"2"


def test_too_large_value_is_rejected(mc):
    assert mc.set(b"keep", b"old") is True
    with pytest.raises(MemcacheServerError, match="too large"):
        mc.set(b"keep", b"x" * (2 * 1024 * 1024))
    # memcached drops the old value when a set fails for size
    assert mc.get(b"keep") is None
    # and the connection is still usable
    assert mc.set(b"after", b"ok") is True
    assert mc.get(b"after") == b"ok"


def test_flags_round_trip(server):
    c = Client((HOST, server.port), serde=FlagsSerde(), timeout=10, default_noreply=False)
    try:
        for flags in (0, 1, 42, 65535, 2 ** 31, 2 ** 32 - 1):
            assert c.set(b"f", b"v", flags=flags) is True
            assert c.get(b"f") == (b"v", flags)
        assert c.set_many({b"m1": b"a", b"m2": b"b"}, flags=7) == []
        assert c.get_many([b"m1", b"m2"]) == {b"m1": (b"a", 7), b"m2": (b"b", 7)}
    finally:
        c.close()


def test_get_many(mc):
    assert mc.set_many({b"a": b"1", b"b": b"2", b"c": b""}) == []
    assert mc.get_many([b"a", b"b", b"c", b"nope"]) == {b"a": b"1", b"b": b"2", b"c": b""}
    assert mc.get_many([b"a", b"a"]) == {b"a": b"1"}
    assert mc.get_many([]) == {}
    many = {b"key%d" % i: b"val%d" % i for i in range(300)}
    assert mc.set_many(many) == []
    assert mc.get_many(list(many)) == many


def test_gets_and_cas(mc):
    assert mc.gets(b"nocas") == (None, None)
    assert mc.cas(b"nocas", b"x", b"1") is None          # NOT_FOUND
    assert mc.set(b"c", b"v1") is True
    value, cas1 = mc.gets(b"c")
    assert value == b"v1" and cas1 is not None and int(cas1) > 0
    assert mc.cas(b"c", b"v2", cas1) is True           # STORED
    assert mc.get(b"c") == b"v2"
    assert mc.cas(b"c", b"v3", cas1) is False          # EXISTS: stale
    value, cas2 = mc.gets(b"c")
    assert value == b"v2" and cas2 != cas1
    # every modification produces a new cas unique
    assert mc.append(b"c", b"+") is True
    _, cas3 = mc.gets(b"c")
    assert cas3 not in (cas1, cas2)
    assert mc.cas(b"c", b"v4", cas3, noreply=True) is True
    assert mc.get(b"c") == b"v4"
    many = mc.gets_many([b"c", b"nocas"])
    assert list(many) == [b"c"] and many[b"c"][0] == b"v4"


def test_add_replace(mc):
    assert mc.add(b"ar", b"first") is True
    assert mc.add(b"ar", b"second") is False
    assert mc.get(b"ar") == b"first"
    assert mc.replace(b"ar", b"third") is True
    assert mc.get(b"ar") == b"third"
    assert mc.replace(b"ar-missing", b"x") is False
    assert mc.get(b"ar-missing") is None


def test_append_prepend(mc):
    assert mc.append(b"ap-missing", b"x") is False
    assert mc.prepend(b"ap-missing", b"x") is False
    assert mc.get(b"ap-missing") is None
    assert mc.set(b"ap", b"mid") is True
    assert mc.append(b"ap", b"-end") is True
    assert mc.prepend(b"ap", b"start-") is True
    assert mc.get(b"ap") == b"start-mid-end"
    assert mc.append(b"ap", b"\r\n\x00") is True
    assert mc.get(b"ap") == b"start-mid-end\r\n\x00"


def test_incr_decr(mc):
    assert mc.incr(b"counter", 1) is None
    assert mc.decr(b"counter", 1) is None
    assert mc.set(b"counter", b"10") is True
    assert mc.incr(b"counter", 5) == 15
    assert mc.decr(b"counter", 3) == 12
    assert mc.decr(b"counter", 100) == 0                # floors at 0
    assert mc.incr(b"counter", 2 ** 64 - 1) == 2 ** 64 - 1
    assert mc.incr(b"counter", 1) == 0                  # wraps at 2**64
    assert mc.incr(b"counter", 7) == 7
    assert mc.get(b"counter").rstrip(b" ") == b"7"
    assert mc.set(b"notnum", b"abc") is True
    with pytest.raises(MemcacheClientError, match="non-numeric"):
        mc.incr(b"notnum", 1)
    assert mc.set(b"spaced", b"  41") is True
    assert mc.incr(b"spaced", 1) == 42
    # noreply variants return None but do the work
    assert mc.incr(b"counter", 3, noreply=True) is None
    assert mc.decr(b"counter", 1, noreply=True) is None
    assert mc.get(b"counter").rstrip(b" ") == b"9"


def test_touch_and_expiry(mc):
    assert mc.touch(b"t-missing", 100) is False
    assert mc.set(b"t", b"v", expire=1000) is True
    assert mc.touch(b"t", 0) is True
    assert mc.get(b"t") == b"v"
    # negative exptime: expired immediately
    assert mc.touch(b"t", -1) is True
    assert mc.get(b"t") is None
    assert mc.set(b"neg", b"v", expire=-1) is True
    assert mc.get(b"neg") is None
    # absolute time in the past (> 30 days is an absolute unix time)
    assert mc.set(b"past", b"v", expire=1_000_000_000) is True
    assert mc.get(b"past") is None
    # absolute time in the future
    assert mc.set(b"future", b"v", expire=int(time.time()) + 40 * 86400) is True
    assert mc.get(b"future") == b"v"
    # relative expiry really happens (memcached's clock has 1 s resolution)
    assert mc.set(b"short", b"v", expire=1) is True
    assert mc.set(b"touched", b"v", expire=1000) is True
    assert mc.touch(b"touched", 1) is True
    assert mc.get(b"short") == b"v"
    time.sleep(3.1)
    assert mc.get(b"short") is None
    assert mc.get(b"touched") is None
    assert mc.get(b"future") == b"v"


def test_delete(mc):
    assert mc.delete(b"d-missing") is False
    assert mc.set(b"d", b"v") is True
    assert mc.delete(b"d") is True
    assert mc.get(b"d") is None
    assert mc.delete(b"d") is False
    assert mc.set_many({b"d1": b"1", b"d2": b"2"}) == []
    assert mc.delete_many([b"d1", b"d2", b"d3"]) is True
    assert mc.get_many([b"d1", b"d2"]) == {}


def test_flush_all(mc):
    assert mc.set_many({b"f1": b"1", b"f2": b"2"}) == []
    assert mc.flush_all() is True
    assert mc.get_many([b"f1", b"f2"]) == {}
    assert mc.set(b"f3", b"3") is True          # storing works right after a flush
    assert mc.get(b"f3") == b"3"
    assert mc.flush_all(delay=0, noreply=True) is True
    assert mc.get(b"f3") is None


def test_noreply_variants(server):
    c = Client((HOST, server.port), timeout=10, default_noreply=True)
    try:
        assert c.set(b"nr", b"1") is True
        assert c.add(b"nr", b"2") is True          # noreply: client can't know
        assert c.replace(b"nr", b"3") is True
        assert c.append(b"nr", b"4") is True
        assert c.prepend(b"nr", b"5") is True
        assert c.add(b"nr-new", b"x") is True
        assert c.touch(b"nr", 100) is True
        assert c.get(b"nr") == b"534"
        assert c.get(b"nr-new") == b"x"
        assert c.delete(b"nr-new") is True
        assert c.get(b"nr-new") is None
        assert c.set_many({b"nr1": b"a", b"nr2": b"b"}) == []
        assert c.get_many([b"nr1", b"nr2"]) == {b"nr1": b"a", b"nr2": b"b"}
        # replies of noreply commands must never leak into later replies
        for i in range(200):
            c.set(b"nr-loop", b"%d" % i)
        assert c.get(b"nr-loop") == b"199"
        assert c.flush_all() is True
        assert c.get(b"nr") is None
    finally:
        c.close()


def test_version_and_stats(mc):
    v = mc.version()
    assert isinstance(v, bytes) and v
    stats = mc.stats()
    assert isinstance(stats, dict) and stats


def test_many_clients_interleaved(server):
    clients = [Client((HOST, server.port), timeout=10, default_noreply=False) for _ in range(8)]
    try:
        for i, c in enumerate(clients):
            assert c.set(b"shared-%d" % i, b"from-%d" % i) is True
        for c in clients:
            assert c.get_many([b"shared-%d" % i for i in range(8)]) == {
                b"shared-%d" % i: b"from-%d" % i for i in range(8)}
        assert clients[0].set(b"counter", b"0") is True
        for _ in range(25):
            for c in clients:
                c.incr(b"counter", 1)
        assert int(clients[3].get(b"counter")) == 200
    finally:
        for c in clients:
            c.close()
