"""``dogpiled.make_region()``: a dogpile.cache region whose dogpile lock is the server's.

``get_or_create``, ``get_or_create_multi`` and so ``cache_on_arguments`` /
``cache_multi_on_arguments`` take one ``lockgen`` round trip: a fresh or stale value
comes back at once, and exactly one caller fleet-wide -- in any process, in Python or
Swift -- runs the creator for a missing or stale key.  ``invalidate()`` is the
daemons' region invalidation (soft: everyone keeps getting the old value while one
process regenerates each key).  Values are written in the shared format.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from typing import Any, Callable, Dict, Mapping, Optional, Sequence

from dogpile.cache.api import NO_VALUE
from dogpile.cache.region import CacheRegion, value_version

from . import protocol
from .backend import DogpiledBackend
from .keys import check_region_name
from .regenerate import Lease, keep
from .values import deserialize_payload, serialize_payload

log = logging.getLogger("dogpiled")

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

    def __init__(self, name: Optional[str] = None, early_recompute: bool = True, **kw: Any):
        kw.setdefault("serializer", serialize_payload)
        kw.setdefault("deserializer", deserialize_payload)
        super().__init__(name=name, **kw)
        self.early_recompute = early_recompute
        self.server_region: Optional[str] = None
        self._region_checked = False
        # values created for an async_creation_runner, waiting for its cache.set()
        self._runner_pending: Dict[str, tuple] = {}
        self._runner_lock = threading.Lock()

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
    @property
    def background(self) -> bool:
        """Whether a lease granted with a value is regenerated in the background (the
        value is returned at once): with early recompute or an async_creation_runner."""
        return self.early_recompute or self.async_creation_runner is not None

    def get_or_create(self, key, creator: Callable[..., Any], expiration_time=None,
                      should_cache_fn=None, creator_args=None):
        """The cached value of ``key``; ``creator`` runs in one caller fleet-wide.

        A value handed out with the lease (a stale copy, or an early grant near
        expiry) is returned at once and regenerated in the background: by the
        ``async_creation_runner`` if one is configured, else on a daemon thread."""
        self._check_region()
        if creator_args:
            args, kwargs = creator_args

            def create():
                return creator(*args, **kwargs)
        else:
            create = creator
        mangled = self._mangle(key)
        regenerator = self.actual_backend.regenerator
        if self.async_creation_runner is not None:
            background = self._runner_background(key, mangled)
        elif self.early_recompute:
            background = regenerator.in_thread
        else:
            background = None
        return regenerator.get_or_create(
            mangled, create, self._decode, self._encode, self._exptime(expiration_time),
            should_cache_fn, background=background, early=self.early_recompute)

    def _runner_background(self, key, mangled: str):
        """Hand a lease to the user's ``async_creation_runner`` with dogpile's contract
        ``runner(cache, key, creator, mutex)``: it calls ``creator()``, then
        ``cache.set(key, value)``, then ``mutex.release()``.  The ``set`` of exactly the
        value the creator returned is stored with ``setgen`` under the lease (so the
        server measures the regeneration time); ``release()`` gives back a lease
        nothing was stored with (``unlockgen``)."""
        regenerator = self.actual_backend.regenerator

        def start(lease: Lease, create, encode, exptime, should_cache):
            def created():
                value = create()
                with self._runner_lock:
                    self._runner_pending[mangled] = (lease, value, encode, exptime, should_cache)
                return value

            mutex = _LeaseMutex(self, mangled, lease, regenerator)
            regenerator.job_started()
            try:
                self.async_creation_runner(self, key, created, mutex)
            except Exception:
                log.exception("dogpiled: async_creation_runner failed for %s; lease given back",
                              mangled)
                mutex.release()

        return start

    def set(self, key, value) -> None:
        """dogpile's ``set``; the ``async_creation_runner``'s store of a value it was asked to
        create goes out as ``setgen`` under the lease it was handed."""
        if self._runner_pending:
            mangled = self._mangle(key)
            with self._runner_lock:
                pending = self._runner_pending.get(mangled)
                if pending is not None and pending[1] is value:
                    del self._runner_pending[mangled]
                else:
                    pending = None
            if pending is not None:
                lease, value, encode, exptime, should_cache = pending
                keep(lease, value, encode, exptime, should_cache)
                return
        super().set(key, value)

    def wait_for_background(self, timeout: Optional[float] = None) -> bool:
        """Wait until this process's background regenerations (of every region on this
        backend) have finished; False if ``timeout`` passed first.  Call it before exit:
        the default runner's threads are daemon threads."""
        return self.actual_backend.regenerator.wait_background(timeout)

    def get_or_create_multi(self, keys, creator: Callable[..., Sequence], expiration_time=None,
                            should_cache_fn=None):
        """Values of ``keys`` in order, with one ``mlockgen`` round trip per daemon;
        ``creator(*keys)`` runs once for the keys this caller was elected to create
        (and, in the background, once for the keys served with a value to refresh)."""
        self._check_region()
        keys = list(keys)
        unique = list(dict.fromkeys(keys))
        mangled = {k: self._mangle(k) for k in unique}
        original = {m: k for k, m in mangled.items()}

        def create_many(mangled_keys):
            return creator(*[original[m] for m in mangled_keys])

        found = self.actual_backend.regenerator.get_or_create_multi(
            list(original), create_many, self._decode, self._encode,
            self._exptime(expiration_time), should_cache_fn, background=self.background)
        return [found[mangled[k]] for k in keys]

    def key_is_locked(self, key) -> bool:
        """Whether some process (of any language) holds the generation lease on ``key``,
        i.e. is regenerating it now: ``genstate`` on the key's daemon, a read that changes
        nothing.  False when the daemon cannot be asked."""
        mangled = self._mangle(key)
        return self.actual_backend.state_of(mangled, protocol.genstate(mangled), False)

    def invalidate(self, hard: bool = True) -> None:
        """Invalidate the region on every daemon: ``invalidate <region> hard|soft``.

        Soft keeps serving the old values (``STALE``) while one process per key
        regenerates; hard drops them.  Unlike dogpile.cache's own ``invalidate`` this
        reaches every process of the fleet, not just this region object."""
        self.actual_backend.invalidate_region(self.server_region, hard)


class _LeaseMutex:
    """The ``mutex`` an ``async_creation_runner`` is given: ``release()`` settles the lease
    (``unlockgen`` unless the runner's ``cache.set`` stored the value) and ends the job."""

    def __init__(self, region: DogpiledRegion, mangled: str, lease: Lease, regenerator):
        self.region, self.mangled, self.lease, self.regenerator = region, mangled, lease, regenerator
        self._released = False
        self._lock = threading.Lock()

    def acquire(self, wait: bool = True) -> bool:
        return False                 # handed over already held; never taken again

    def locked(self) -> bool:
        return not self._released

    def release(self) -> None:
        with self._lock:
            if self._released:
                return
            self._released = True
        with self.region._runner_lock:
            pending = self.region._runner_pending.get(self.mangled)
            if pending is not None and pending[0] is self.lease:
                del self.region._runner_pending[self.mangled]
        self.lease.release()         # no-op when setgen already settled it
        self.regenerator.job_finished()


def make_region(name: Optional[str] = None, early_recompute: bool = True, **kw: Any) -> DogpiledRegion:
    """A ``DogpiledRegion``; configure it with ``.configure("dogpiled", ...)``.

    ``early_recompute`` (default True) asks the daemon for early grants (``lockgen ...
    early``): a value near its expiry is returned at once and regenerated in the
    background, so callers never wait on an expiry.  With False, a stale copy handed
    out with the lease is regenerated by the caller before it returns (unless an
    ``async_creation_runner`` is configured)."""
    return DogpiledRegion(name=name, early_recompute=early_recompute, **kw)
