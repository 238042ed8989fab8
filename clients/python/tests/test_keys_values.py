"""Unit tests of the key scheme and the value format against dogpile.cache's own code."""

import json

import pytest
from dogpile.cache import make_region as plain_make_region
from dogpile.cache.api import NO_VALUE

import dogpiled
from dogpiled.keys import check_region_name, mangle_key, safe_key
from dogpiled.values import decode_value, encode_value


@pytest.mark.parametrize("key, stored", [
    ("42", "user:42"),
    ("hello world", "user:2aae6c35c94fcfb415dbe95f408b9ce91ee846ed"),
    ("café", "user:café"),
    ("café menu", "user:c19783df5f6effd371c9131e6a582689c5549753"),
    ("x" * 245, "user:" + "x" * 245),
    ("x" * 246, "user:483f7c63f027b3d3124a6d6ca8e7a111a5f09097"),
    ("tab\there", "user:" + __import__("hashlib").sha1(b"tab\there").hexdigest()),
    ("del\x7f", "user:" + __import__("hashlib").sha1(b"del\x7f").hexdigest()),
])
def test_mangling_examples_of_docs(key, stored):
    assert mangle_key("user", key) == stored
    assert len(stored.encode()) <= 250


def test_length_counts_utf8_bytes_of_the_whole_key():
    assert mangle_key("user", "é" * 122) == "user:" + "é" * 122            # 5 + 244 = 249 bytes
    assert mangle_key("user", "é" * 123) != "user:" + "é" * 123            # 251 bytes: hashed
    assert len(mangle_key("r" * 200, "k" * 100).encode()) == 200 + 1 + 40


def test_bytes_keys_that_are_not_text_are_hashed():
    assert mangle_key("user", b"\xff\xfe") == "user:" + __import__("hashlib").sha1(b"\xff\xfe").hexdigest()
    assert safe_key("a b") == __import__("hashlib").sha1(b"a b").hexdigest()
    assert safe_key("plain") == "plain"


@pytest.mark.parametrize("bad", ["", "a:b", "a b", "a\x00", "a\x7f", "r" * 201, None])
def test_bad_region_names_are_refused(bad):
    with pytest.raises(dogpiled.RegionNameError):
        check_region_name(bad)
    with pytest.raises((dogpiled.RegionNameError, ValueError)):
        dogpiled.make_region(bad).configure("dogpiled", arguments={"url": "127.0.0.1:1"})


def test_value_bytes_of_docs():
    data = encode_value({"name": "Ada", "id": 42}, created=1764633600.123456)
    assert data == b'{"ct": 1764633600.123456, "v": 2}|{"name": "Ada", "id": 42}'
    assert len(data) == 59
    assert decode_value(data) == ({"name": "Ada", "id": 42}, {"ct": 1764633600.123456, "v": 2})


def _plain_json_region():
    """dogpile.cache's own region with the contract's JSON serializer (memory backend)."""
    return plain_make_region(serializer=lambda v: json.dumps(v).encode(),
                             deserializer=lambda b: json.loads(b)).configure("dogpile.cache.memory")


def test_dogpile_writes_what_we_read_and_reads_what_we_write():
    region = _plain_json_region()
    payload = {"list": [1, 2.5, None, "é"], "nested": {"a": True}}
    theirs = region._serialized_payload(payload, {"ct": 1764633600.5, "v": 2})
    assert theirs == encode_value(payload, created=1764633600.5)
    assert decode_value(theirs)[0] == payload
    parsed = region._parse_serialized_from_backend(encode_value(payload))
    assert parsed.payload == payload and parsed.metadata["v"] == 2


def test_readers_accept_any_json_spacing_and_refuse_other_versions():
    assert decode_value(b'{"ct":1764633600.1,"v":2}|{"a":"\\/"}')[0] == {"a": "/"}
    assert decode_value(b'{"ct": 1, "v": 1}|1') == (NO_VALUE, None)
    assert decode_value(b"no separator") == (NO_VALUE, None)
    assert decode_value(b"garbage|1") == (NO_VALUE, None)
    assert decode_value(b'{"ct": 1, "v": 2}|not json') == (NO_VALUE, None)
    assert decode_value(b'{"ct": 1, "v": 2}|"a|b"')[0] == "a|b"     # split at the FIRST '|'


def test_key_mangler_for_plain_regions():
    mangler = dogpiled.key_mangler("user")
    assert mangler("42") == "user:42" and mangler("a b") == mangle_key("user", "a b")
