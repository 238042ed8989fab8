"""``dogpiled.make_region()``: a dogpile.cache region whose dogpile lock is the server's.

``get_or_create``, ``get_or_create_multi`` and so ``cache_on_arguments`` /
``cache_multi_on_arguments`` take one ``lockgen`` round trip: a fresh or stale value
comes back at once, and exactly one caller fleet-wide -- in any process, in Python or
Swift -- runs the creator for a missing or stale key.  ``invalidate()`` is the
daemons' region invalidation (soft: everyone keeps getting the old value while one
process regenerates each key).  Values are written in the shared format.
"""

from __future__ import annotations

import math
import time
from typing import Any, Callable, Mapping, Optional, Sequence

from dogpile.cache.api import NO_VALUE
from dogpile.cache.region import CacheRegion, value_version

from .backend import DogpiledBackend
from .keys import check_region_name
from .values import deserialize_payload, serialize_payload

MAX_RELATIVE_EXPTIME = 30 * 24 * 3600     # memcached reads larger exptimes as Unix times


def exptime_for(expiration_time: Optional[float]) -> int:
    """memcached exptime for a dogpile expiration (None, 0 or -1: never)."""
    if expiration_time is None or expiration_time <= 0:
        return 0
    seconds = int(math.ceil(expiration_time))
    if seconds > MAX_RELATIVE_EXPTIME:
        return int(time.time()) + seconds
    return seconds


class DogpiledRegion(CacheRegion):
    """A ``CacheRegion`` on the ``dogpiled`` backend that coordinates with ``lockgen``.

    The server-side region is ``arguments["region"]`` or else the region's ``name``
    (one of them is required); keys are stored as ``<region>:<mangled key>``."""

    def __init__(self, name: Optional[str] = None, **kw: Any):
        kw.setdefault("serializer", serialize_payload)
        kw.setdefault("deserializer", deserialize_payload)
        super().__init__(name=name, **kw)
        self.server_region: Optional[str] = None
        self._region_checked = False

    def configure(self, backend: str = "dogpiled", expiration_time=None,
                  arguments: Optional[Mapping[str, Any]] = None, **kw: Any):
        arguments = dict(arguments or {})
        region = arguments.get("region") or self.name
        if not region:
            raise ValueError("dogpiled.make_region(): give the region a name "
                             "(make_region('user')) or arguments={'region': 'user'}")
        arguments["region"] = check_region_name(region)
        super().configure(backend, expiration_time=expiration_time, arguments=arguments, **kw)
        if not isinstance(self.actual_backend, DogpiledBackend):
            raise TypeError(f"dogpiled.make_region() needs the 'dogpiled' backend, not {backend!r}")
        self.server_region = region
        if "memcached_expire_time" not in arguments:
            # plain set()/set_multi() store with the region's expiration too
            self.actual_backend.expire_time = exptime_for(self.expiration_time)
        return self

    # -- helpers ------------------------------------------------------------------------
    def _mangle(self, key) -> str:
        """The memcached key: any user key_mangler, then the backend's region scheme."""
        return self.actual_backend.storage_key(self.key_mangler(key) if self.key_mangler else key)

    def _check_region(self) -> None:
        if not self._region_checked:
            self.check_regions()

    def check_regions(self) -> None:
        """Raise ``RegionNotDeclared`` now if a reachable daemon lacks the region.
        (Done at first use anyway; a daemon down now is asked when it is back.)"""
        cluster = self.actual_backend.cluster
        cluster.check_region(self.server_region)
        self._region_checked = cluster.region_checked_everywhere(self.server_region)

    def _decode(self, data: bytes) -> Any:
        """Payload of stored bytes, ``NO_VALUE`` when they are not a version-2 value."""
        try:
            value = self._parse_serialized_from_backend(data)
        except Exception:
            return NO_VALUE
        if value is NO_VALUE or value.metadata.get("v") != value_version:
            return NO_VALUE
        return value.payload

    def _encode(self, payload: Any) -> bytes:
        return self._serialized_payload(payload)

    def _exptime(self, expiration_time) -> int:
        return exptime_for(self.expiration_time if expiration_time is None else expiration_time)

    # -- the lockgen path ---------------------------------------------------------------
    def get_or_create(self, key, creator: Callable[..., Any], expiration_time=None,
                      should_cache_fn=None, creator_args=None):
        """The cached value of ``key``; ``creator`` runs in one caller fleet-wide."""
        self._check_region()
        if creator_args:
            args, kwargs = creator_args

            def create():
                return creator(*args, **kwargs)
        else:
            create = creator
        return self.actual_backend.regenerator.get_or_create(
            self._mangle(key), create, self._decode, self._encode,
            self._exptime(expiration_time), should_cache_fn)

    def get_or_create_multi(self, keys, creator: Callable[..., Sequence], expiration_time=None,
                            should_cache_fn=None):
        """Values of ``keys`` in order; ``creator(*missing_keys)`` runs for the keys this
        caller was elected to regenerate."""
        self._check_region()
        keys = list(keys)
        unique = list(dict.fromkeys(keys))
        mangled = {k: self._mangle(k) for k in unique}
        original = {m: k for k, m in mangled.items()}

        def create_many(mangled_keys):
            return creator(*[original[m] for m in mangled_keys])

        found = self.actual_backend.regenerator.get_or_create_multi(
            list(original), create_many, self._decode, self._encode,
            self._exptime(expiration_time), should_cache_fn)
        return [found[mangled[k]] for k in keys]

    def key_is_locked(self, key) -> bool:
        """Not available: dogpile.cache would answer from a named mutex, which the
        ``lockgen`` path never takes, and the protocol has no read-only query of a
        generation lease yet (proposed in docs/protocol.md section 5)."""
        raise NotImplementedError(
            "dogpiled regions coordinate with lockgen; the daemon cannot yet be asked "
            "read-only whether a key is being regenerated")

    def invalidate(self, hard: bool = True) -> None:
        """Invalidate the region on every daemon: ``invalidate <region> hard|soft``.

        Soft keeps serving the old values (``STALE``) while one process per key
        regenerates; hard drops them.  Unlike dogpile.cache's own ``invalidate`` this
        reaches every process of the fleet, not just this region object."""
        self.actual_backend.invalidate_region(self.server_region, hard)


def make_region(name: Optional[str] = None, **kw: Any) -> DogpiledRegion:
    """A ``DogpiledRegion``; configure it with ``.configure("dogpiled", ...)``."""
    return DogpiledRegion(name=name, **kw)
