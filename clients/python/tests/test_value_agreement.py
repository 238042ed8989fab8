"""Values written by dogpiled.make_region() are read by a plain dogpile.cache region
(JSON serializer, dogpiled.key_mangler) and the other way round."""

import json

from dogpile.cache import make_region as plain_make_region

import dogpiled
from conftest import url

PAYLOAD = {"name": "Ada", "tags": ["math", "é"], "n": 1.5, "none": None}


def json_region(**kw):
    return plain_make_region(serializer=lambda v: json.dumps(v).encode(),
                             deserializer=lambda b: json.loads(b), **kw)


def test_stock_pymemcache_region_and_dogpiled_region_share_values(daemon):
    ours = dogpiled.make_region("user").configure("dogpiled", expiration_time=300,
                                                  arguments={"url": [url(daemon)]})
    stock = json_region(key_mangler=dogpiled.key_mangler("user")).configure(
        "dogpile.cache.pymemcache", expiration_time=300,
        arguments={"url": f"127.0.0.1:{daemon.port}"})

    ours.get_or_create("written by dogpiled", lambda: PAYLOAD)
    assert stock.get("written by dogpiled") == PAYLOAD

    stock.set("written by stock", PAYLOAD)
    assert ours.get_or_create("written by stock", lambda: "creator must not run") == PAYLOAD
    assert ours.get("written by stock") == PAYLOAD


def test_plain_region_on_dogpiled_backend_shares_values_over_three_daemons(daemons):
    ds = daemons(3)
    urls = [url(d, w) for d, w in zip(ds, (1, 2, 3))]
    ours = dogpiled.make_region("user").configure("dogpiled", expiration_time=300,
                                                  arguments={"url": urls})
    plain = json_region().configure("dogpiled", expiration_time=300,
                                    arguments={"url": urls, "region": "user"})
    keys = [f"key {i}" for i in range(200)] + [f"k{i}" for i in range(200)]
    for key in keys[:200]:
        ours.get_or_create(key, lambda key=key: {"key": key})
    for key in keys[200:]:
        plain.set(key, {"key": key})
    assert plain.get_multi(keys[:200]) == [{"key": k} for k in keys[:200]]
    assert ours.get_or_create_multi(keys[200:], lambda *ks: ["creator must not run"] * len(ks)) \
        == [{"key": k} for k in keys[200:]]
    assert sum(int(d.stats()["curr_items"]) for d in ds) == len(keys)
    assert all(int(d.stats()["curr_items"]) > 0 for d in ds)
