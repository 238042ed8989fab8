"""The ``dogpiled`` dogpile.cache backend: pymemcache on the shared ketama ring.

It serves both a plain ``dogpile.cache.make_region()`` (whose dogpile lock is then
a server-side named mutex, see ``DogpiledMutex``) and ``dogpiled.make_region()``
(whose ``get_or_create`` takes the ``lockgen`` path instead, see region.py).

Arguments (``configure("dogpiled", arguments={...})``):

``url``                 daemon address or list: ``host:port[:weight]``, ``/socket[:weight]``
``region``              server-side region name: keys become ``region:<mangled key>``
                        (default for ``dogpiled.make_region()``: the region's ``name``)
``memcached_expire_time``  exptime of plain ``set``s (default 0; the dogpiled region
                        sets its expiration_time instead)
``lease_ms``, ``wait_ms``  of ``lockgen`` and of the mutex (defaults 30000 and 5000)
``busy_deadline``       seconds a caller keeps asking after ``BUSY`` (default 30)
``mutex_lease_ms``      lease of a plain region's mutex (default 60000)
``rehash_dead``, ``retry_after``  dead daemons (defaults False and 30 s)
``coalesce``            threads of one process asking for one key share one ``lockgen``
                        (default False; see flights.py)
``connect_timeout``, ``timeout``, ``tls_context``, ``socket_keepalive``, ``max_idle``
``username``, ``password``  for daemons started with ``-Y`` (memcached's ASCII
                        authentication): every new connection authenticates first
"""

from __future__ import annotations

import threading
import weakref
from typing import Any, Dict, List, Mapping, Optional, Sequence

from dogpile.cache.api import NO_VALUE, CacheBackend, CacheMutex

from . import protocol
from .cluster import Cluster
from .connection import WAIT_MARGIN_S, DaemonDown, DaemonPool
from .keys import check_region_name, mangle_key, safe_key
from .regenerate import Regenerator


class DogpiledBackend(CacheBackend):
    """dogpile.cache backend over a fleet of dogpiled (or memcached) daemons."""

    serializer = None        # pymemcache's serde stores bytes as-is (flags 0), pickles the rest
    deserializer = None

    def __init__(self, arguments: Mapping[str, Any]):
        args = dict(arguments)
        urls = args.get("url")
        if not urls:
            raise ValueError("dogpiled backend: the 'url' argument is required")
        self.region_name: Optional[str] = args.get("region")
        if self.region_name:
            check_region_name(self.region_name)
        self.expire_time = int(args.get("memcached_expire_time", 0))
        self.lease_ms = int(args.get("lease_ms", 30000))
        self.wait_ms = int(args.get("wait_ms", 5000))
        self.busy_deadline = float(args.get("busy_deadline", 30.0))
        self.mutex_lease_ms = int(args.get("mutex_lease_ms", 60000))
        self.cluster = Cluster(
            urls, rehash_dead=bool(args.get("rehash_dead", False)),
            retry_after=float(args.get("retry_after", 30.0)),
            connect_timeout=float(args.get("connect_timeout", 2.0)),
            timeout=float(args.get("timeout", 5.0)), max_idle=int(args.get("max_idle", 32)),
            tls_context=args.get("tls_context"), socket_keepalive=args.get("socket_keepalive"),
            username=args.get("username"), password=args.get("password"))
        self.regenerator = Regenerator(self.cluster, self.lease_ms, self.wait_ms,
                                       self.busy_deadline, bool(args.get("coalesce", False)))
        self._mutexes: "weakref.WeakValueDictionary[str, DogpiledMutex]" = (
            weakref.WeakValueDictionary())
        self._mutexes_lock = threading.Lock()

    def storage_key(self, key) -> str:
        """The memcached key for a (region-mangled) dogpile key: ``<region>:`` + the shared
        mangling when a ``region`` is configured, else the key itself, hashed only when
        memcached could not carry it.  Applied to every key, after any key_mangler."""
        if self.region_name:
            return mangle_key(self.region_name, key)
        return safe_key(key)

    # -- classic commands ---------------------------------------------------------------
    def get(self, key):
        key = self.storage_key(key)
        try:
            with self.cluster.pool_for(key).connection() as conn:
                value = conn.client.get(key)
        except DaemonDown:
            return NO_VALUE                        # a dead daemon's keys miss
        return NO_VALUE if value is None else value

    def get_multi(self, keys):
        keys = [self.storage_key(k) for k in keys]
        found: Dict[str, Any] = {}
        for pool, group in self.cluster.group_by_pool(keys).items():
            if pool is None:
                continue
            try:
                with pool.connection() as conn:
                    found.update(conn.client.get_many(group))
            except DaemonDown:
                pass
        return [found.get(k, NO_VALUE) for k in keys]

    def set(self, key, value):
        self.store(key, value, self.expire_time)

    def store(self, key: str, value: Any, exptime: int) -> None:
        """``set`` with an explicit exptime; raises ``DaemonDown`` naming a dead owner."""
        key = self.storage_key(key)
        with self.cluster.pool_for(key).connection() as conn:
            conn.client.set(key, value, expire=exptime, noreply=False)

    def set_multi(self, mapping):
        self.store_multi(mapping, self.expire_time)

    def store_multi(self, mapping: Mapping[str, Any], exptime: int) -> None:
        mapping = {self.storage_key(k): v for k, v in mapping.items()}
        down = []
        for pool, group in self.cluster.group_by_pool(list(mapping)).items():
            if pool is None:
                down.append(group[0])
                continue
            try:
                with pool.connection() as conn:
                    conn.client.set_many({k: mapping[k] for k in group}, expire=exptime,
                                         noreply=False)
            except DaemonDown as error:
                down.append(error.server)
        if down:
            raise DaemonDown(", ".join(str(d) for d in down), "writes failed")

    def delete(self, key):
        key = self.storage_key(key)
        try:
            with self.cluster.pool_for(key).connection() as conn:
                conn.client.delete(key, noreply=False)
        except DaemonDown:
            pass                                   # nothing to delete on a dead daemon

    def delete_multi(self, keys):
        for key in keys:
            self.delete(key)

    # -- lock verbs ---------------------------------------------------------------------
    def invalidate_region(self, region: str, hard: bool) -> List[str]:
        """``invalidate region hard|soft`` on every daemon; returns the dead ones skipped."""
        skipped = []
        for pool in self.cluster.pools:
            try:
                with pool.connection() as conn:
                    reply = conn.request(protocol.invalidate(region, hard))
            except DaemonDown as error:
                skipped.append(error.server)
                continue
            if reply.word != "OK":
                raise protocol.ServerError(
                    f"invalidate {region}: {reply.line} (region not declared?)", pool.name)
        return skipped

    def state_of(self, name: str, query: bytes, fallback: bool) -> bool:
        """Runs a read-only ``lockstate``/``genstate`` on the daemon owning ``name``: True
        unless it answers ``FREE``; ``fallback`` when the daemon cannot answer."""
        pool: DaemonPool = self.cluster.pool_for(name)
        try:
            conn = pool.checkout()
        except Exception:
            return fallback
        try:
            reply = conn.request(query)
        except protocol.ServerError:
            pool.checkin(conn)                      # ERROR: a daemon without the verb
            return fallback
        except BaseException as error:
            pool.discard(conn, error)
            return fallback
        pool.checkin(conn)
        return reply.word != "FREE"

    def get_mutex(self, key):
        """A server-side ``lock``/``unlock`` mutex on the daemon owning ``key``."""
        name = self.storage_key(key)
        with self._mutexes_lock:
            mutex = self._mutexes.get(name)
            if mutex is None:
                mutex = DogpiledMutex(self, name)
                self._mutexes[name] = mutex
            return mutex


class DogpiledMutex(CacheMutex):
    """dogpile's lock as dogpiled's named mutex: waits on the server (no polling), held
    on one checked-out connection, with a lease so a dead holder frees it.

    Excludes other ``DogpiledMutex``es of the same key in every process, but not
    ``lockgen`` users (``dogpiled.make_region()``, the Swift Region): names and
    generation leases are separate tables.  ``locked()`` asks the daemon (``lockstate``,
    a read that changes nothing), so it sees holds taken by any process."""

    def __init__(self, backend: DogpiledBackend, name: str):
        self.backend = backend
        self.name = name
        self._held: Optional[tuple] = None          # (pool, context manager, conn, token)
        self._state = threading.Lock()

    def acquire(self, wait: bool = True) -> bool:
        pool: DaemonPool = self.backend.cluster.pool_for(self.name)
        wait_ms = self.backend.wait_ms if wait else 0
        command = protocol.lock(self.name, self.backend.mutex_lease_ms, wait_ms)
        while True:
            # Each try has its own connection: a connection holding the name would be
            # answered BUSY at once (no re-entry), and the hold lives as long as it does.
            conn = pool.checkout()
            try:
                reply = conn.request(command, timeout=wait_ms / 1000.0 + WAIT_MARGIN_S)
            except BaseException as error:
                raise pool.discard(conn, error) or error
            if reply.word == "LOCKED":
                with self._state:
                    self._held = (pool, conn, reply.token)
                return True
            pool.checkin(conn)                      # BUSY: nobody freed it within wait_ms
            if not wait:
                return False

    def release(self) -> None:
        with self._state:
            held, self._held = self._held, None
        if held is None:
            raise RuntimeError(f"release of dogpiled mutex {self.name!r} that is not held here")
        pool, conn, token = held
        try:
            conn.request(protocol.unlock(self.name, token))
        except BaseException as error:
            # Closing the connection ends the hold on the server anyway.
            raise pool.discard(conn, error) or error
        pool.checkin(conn)

    def locked(self) -> bool:
        """Whether anyone in the fleet holds this mutex, by ``lockstate`` on its daemon; when
        the daemon cannot be asked (down, or older than the verb), what this process holds."""
        return self.backend.state_of(self.name, protocol.lockstate(self.name), self._held is not None)
