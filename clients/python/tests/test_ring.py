"""Unit tests of the ketama ring: the pylibmc fixture, the point rule, addresses."""

import hashlib
import struct
from collections import Counter
from pathlib import Path

import pytest

from dogpiled.ring import KetamaRing, ServerAddress, key_hash, parse_address, points_for, ring_from_specs

FIXTURE = Path(__file__).resolve().parents[3] / "Tests" / "Fixtures" / "ketama" / "weights-1-2-3.tsv"
SPECS = ["127.0.0.1:21001:1", "127.0.0.1:21002:2", "127.0.0.1:21003:3"]


def test_ring_matches_pylibmc_fixture():
    rows = [line.rstrip("\n").split("\t") for line in FIXTURE.read_text().splitlines()]
    assert len(rows) == 10000 and rows[0][0] == "key-0" and rows[-1][0] == "key-9999"
    ring = ring_from_specs(SPECS)
    disagree = [(k, w, ring.server_for(k).name) for k, w in rows if ring.server_for(k).name != w]
    print(f"ring vs pylibmc fixture: {len(rows) - len(disagree)} of {len(rows)} keys agree")
    assert disagree == []
    assert Counter(w for _, w in rows) == {"127.0.0.1:21001": 1417, "127.0.0.1:21002": 3761,
                                           "127.0.0.1:21003": 4822}


def test_points_follow_float_arithmetic():
    assert [points_for(w, 6, 3) for w in (1, 2, 3)] == [80, 160, 240]
    assert [points_for(1, 3, 3)] * 3 == [160, 160, 160]
    assert ring_from_specs(SPECS).point_count == 480


def test_worked_example_of_docs():
    digest = hashlib.md5(b"127.0.0.1:21001-0").digest()
    assert struct.unpack("<4I", digest) == (0xE8B65ED5, 0x31434EF0, 0x17005373, 0x93F870B8)
    assert key_hash(b"key-0") == 0x7E8B42B4
    assert ring_from_specs(SPECS).server_for("key-0").name == "127.0.0.1:21003"


def test_point_names():
    assert parse_address("10.0.0.5:11211").point_name == "10.0.0.5"
    assert parse_address("10.0.0.5:11212").point_name == "10.0.0.5:11212"
    assert parse_address("/run/dogpiled.sock").point_name == "/run/dogpiled.sock:0"
    assert parse_address("[::1]:22122:3").point_name == "::1:22122"


@pytest.mark.parametrize("spec, expected", [
    ("127.0.0.1", ServerAddress(host="127.0.0.1", port=11211)),
    ("cache1:11212", ServerAddress(host="cache1", port=11212)),
    ("cache1:11212:5", ServerAddress(host="cache1", port=11212, weight=5)),
    ("[::1]:22122:3", ServerAddress(host="::1", port=22122, weight=3)),
    ("[::1]", ServerAddress(host="::1", port=11211)),
    ("/tmp/d.sock", ServerAddress(path="/tmp/d.sock")),
    ("/tmp/d.sock:4", ServerAddress(path="/tmp/d.sock", weight=4)),
    ("unix:/tmp/d.sock", ServerAddress(path="/tmp/d.sock")),
])
def test_parse_address(spec, expected):
    assert parse_address(spec) == expected


@pytest.mark.parametrize("bad", ["", "host:port", "host:1:0", "host:70000", "[::1", "a:1:2:3"])
def test_bad_addresses_are_refused(bad):
    with pytest.raises(ValueError):
        parse_address(bad)


def test_single_server_owns_everything():
    ring = KetamaRing([parse_address("127.0.0.1:1")])
    assert {ring.index_for(f"k{i}") for i in range(100)} == {0}


def test_hash_past_last_point_wraps_to_first():
    ring = ring_from_specs(SPECS)
    # find a key hashing above every point: it belongs to the first point's server
    last = ring._values[-1]
    key = next(f"w{i}" for i in range(10**6) if key_hash(f"w{i}".encode()) > last)
    assert ring.index_for(key) == ring._owners[0]
