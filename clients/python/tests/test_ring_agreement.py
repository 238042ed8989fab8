"""Ring agreement on live daemons: where keys LAND through pylibmc (libmemcached's
weighted ketama) and through the dogpiled package, over 3 daemons weighted 1, 2, 3."""

from collections import Counter

import pylibmc
from pymemcache.client.base import Client

from conftest import UnixDaemon, url
from dogpiled.backend import DogpiledBackend
from dogpiled.ring import ring_from_specs

KEYS = [f"key-{i}" for i in range(10000)]


def landed(addresses, keys=KEYS):
    """{key: address} read back from each daemon with its own direct connection."""
    where = {}
    for address in addresses:
        server = address if address.startswith("/") else ("127.0.0.1", int(address.split(":")[1]))
        client = Client(server, timeout=10)
        for i in range(0, len(keys), 500):
            for key in client.get_many(keys[i:i + 500]):
                assert key not in where, f"{key} is on two daemons"
                where[key] = address
        client.close()
    assert len(where) == len(keys), f"{len(keys) - len(where)} keys landed nowhere"
    return where


def flush(addresses):
    for address in addresses:
        server = address if address.startswith("/") else ("127.0.0.1", int(address.split(":")[1]))
        Client(server).flush_all(noreply=False)


def test_pylibmc_uses_the_system_libmemcached():
    """pip's pylibmc wheel bundles its own libmemcached; the comparison must be against
    Debian's (scripts/test installs pylibmc with --no-binary)."""
    maps = open("/proc/self/maps").read().splitlines()
    libs = {line.split()[-1] for line in maps if "libmemcached" in line}
    print(f"\npylibmc {pylibmc.__version__} on libmemcached {pylibmc.libmemcached_version}: {libs}")
    assert libs and all("site-packages" not in lib for lib in libs)


def test_pylibmc_and_dogpiled_put_10000_keys_on_the_same_daemons(daemons):
    ds = daemons(3)
    specs = [url(d, w) for d, w in zip(ds, (1, 2, 3))]
    addresses = [f"127.0.0.1:{d.port}" for d in ds]

    libmc = pylibmc.Client(specs, behaviors={"ketama_weighted": True})
    for key in KEYS:
        libmc.set(key, b"pylibmc")
    by_pylibmc = landed(addresses)
    flush(addresses)

    backend = DogpiledBackend({"url": specs})
    backend.store_multi({key: b"dogpiled" for key in KEYS}, 0)
    by_dogpiled = landed(addresses)

    predicted = ring_from_specs(specs)
    agree = sum(by_pylibmc[k] == by_dogpiled[k] for k in KEYS)
    agree_ring = sum(by_pylibmc[k] == predicted.server_for(k).name for k in KEYS)
    print(f"\nring agreement over {len(KEYS)} keys, weights 1,2,3: pylibmc vs dogpiled landing "
          f"{agree}, pylibmc landing vs dogpiled ring {agree_ring}; per daemon "
          f"{sorted(Counter(by_pylibmc.values()).values())}")
    # The Swift client's side of this agreement: test_cross_language.py.
    assert agree == len(KEYS)
    assert agree_ring == len(KEYS)


def test_unix_socket_daemons_agree_with_pylibmc():
    socks = [UnixDaemon() for _ in range(3)]
    try:
        paths = [s.path for s in socks]
        keys = KEYS[:2000]
        libmc = pylibmc.Client(paths, behaviors={"ketama_weighted": True})
        for key in keys:
            libmc.set(key, b"pylibmc")
        by_pylibmc = landed(paths, keys)
        flush(paths)
        backend = DogpiledBackend({"url": paths})
        for key in keys:
            backend.set(key, b"dogpiled")
        by_dogpiled = landed(paths, keys)
        agree = sum(by_pylibmc[k] == by_dogpiled[k] for k in keys)
        print(f"\nunix sockets: {agree} of {len(keys)} keys on the same daemon")
        assert agree == len(keys)
        assert len(set(by_pylibmc.values())) == 3
    finally:
        for s in socks:
            s.stop()
