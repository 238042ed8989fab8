"""Unit tests without daemons: dead-daemon routing and exptimes."""

import time

import pytest

from dogpiled.cluster import Cluster
from dogpiled.connection import DaemonDown
from dogpiled.region import MAX_RELATIVE_EXPTIME, exptime_for
from dogpiled.ring import ring_from_specs

SPECS = ["127.0.0.1:21001:1", "127.0.0.1:21002:2", "127.0.0.1:21003:3"]


def test_a_dead_daemon_keeps_its_keys_by_default():
    cluster = Cluster(SPECS, retry_after=30)
    key = next(f"k{i}" for i in range(1000) if cluster.pool_for(f"k{i}").name == "127.0.0.1:21002")
    cluster.pools[1].mark_dead("test")
    with pytest.raises(DaemonDown, match="127.0.0.1:21002"):
        cluster.pool_for(key)
    other = next(f"k{i}" for i in range(1000) if cluster.ring.index_for(f"k{i}") != 1)
    assert cluster.pool_for(other) is cluster.pools[cluster.ring.index_for(other)]


def test_rehash_dead_uses_the_ring_of_the_live_daemons():
    cluster = Cluster(SPECS, rehash_dead=True, retry_after=30)
    cluster.pools[1].mark_dead("test")
    live = ring_from_specs([SPECS[0], SPECS[2]])
    for i in range(2000):
        assert cluster.pool_for(f"k{i}").name == live.server_for(f"k{i}").name
    for pool in cluster.pools:
        pool.mark_dead("test")
    with pytest.raises(DaemonDown, match="every daemon"):
        cluster.pool_for("k1")


def test_a_dead_daemon_is_tried_again_after_retry_after():
    cluster = Cluster(SPECS[:1], retry_after=0.05)
    cluster.pools[0].mark_dead("test")
    assert cluster.pools[0].is_dead()
    time.sleep(0.06)
    assert not cluster.pools[0].is_dead()


def test_comma_separated_urls():
    assert [a.name for a in Cluster("127.0.0.1:1, 127.0.0.1:2").addresses] == \
        ["127.0.0.1:1", "127.0.0.1:2"]


def test_exptimes():
    assert exptime_for(None) == 0 and exptime_for(-1) == 0 and exptime_for(0) == 0
    assert exptime_for(300) == 300 and exptime_for(0.25) == 1
    assert exptime_for(MAX_RELATIVE_EXPTIME) == MAX_RELATIVE_EXPTIME
    long = exptime_for(MAX_RELATIVE_EXPTIME + 1)      # memcached: an absolute Unix time
    assert abs(long - (time.time() + MAX_RELATIVE_EXPTIME + 1)) < 5
