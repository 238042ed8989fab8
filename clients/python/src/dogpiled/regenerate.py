"""The ``lockgen`` loop: get a key's value, regenerating it in one process fleet-wide.

    lockgen -> HIT/STALE: return it | GEN <t>: create, setgen (unlockgen if the creator
    raises) | BUSY: ask again until the deadline | (waits on the server)

The loop works on stored bytes: ``decode`` turns them into a payload (``NO_VALUE``
when unreadable) and ``encode`` a payload into bytes.  See docs/clients.md section 5.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from dogpile.cache.api import NO_VALUE

from . import protocol
from .connection import WAIT_MARGIN_S, DaemonConnection, DaemonDown, DaemonPool
from .values import VALUE_FLAGS

log = logging.getLogger("dogpiled")

Decode = Callable[[bytes], Any]
Encode = Callable[[Any], bytes]
ShouldCache = Optional[Callable[[Any], bool]]


class LockTimeout(TimeoutError):
    """Another process held the key's lease past this caller's deadline (``BUSY``)."""


class Lease:
    """A granted ``GEN <token>``: the connection stays checked out until settled."""

    def __init__(self, key: str, pool: DaemonPool, conn: DaemonConnection, token: int):
        self.key, self.pool, self.conn, self.token = key, pool, conn, token

    def store(self, data: bytes, exptime: int) -> bool:
        """``setgen``; False when the lease had ended (``NOT_OWNER``) or the store failed."""
        try:
            reply = self.conn.request(protocol.setgen(self.key, self.token, VALUE_FLAGS, exptime, data))
        except protocol.ServerError as error:
            log.warning("dogpiled: %s not cached: %s", self.key, error)
            return self.release()
        except BaseException as error:
            down = self.pool.discard(self.conn, error)
            log.warning("dogpiled: %s not cached: %s", self.key, down or error)
            return False
        self.pool.checkin(self.conn)
        if reply.word == "NOT_OWNER":
            # Our lease ran out; whoever regenerates now (or stored already) wins.
            log.info("dogpiled: lease of %s ended before setgen; value not stored", self.key)
        return reply.word == "STORED"

    def release(self) -> bool:
        """``unlockgen``, so the oldest waiter is elected now (never raises)."""
        try:
            self.conn.request(protocol.unlockgen(self.key, self.token))
        except BaseException as error:       # closing the connection ends the lease too
            self.pool.discard(self.conn, error)
            return False
        self.pool.checkin(self.conn)
        return False


class Regenerator:
    """The loop's settings and the fleet it runs on (one per backend)."""

    def __init__(self, cluster, lease_ms: int, wait_ms: int, busy_deadline: float):
        self.cluster = cluster
        self.lease_ms = lease_ms
        self.wait_ms = wait_ms
        self.busy_deadline = busy_deadline

    def _ask(self, key: str, wait_ms: int) -> Tuple[DaemonPool, DaemonConnection, protocol.Reply]:
        """One ``lockgen``; the connection comes back checked out (raises ``DaemonDown``).
        With ``rehash_dead``, a daemon found dead here is left for the next live one."""
        tries = len(self.cluster.pools) if self.cluster.rehash_dead else 1
        for attempt in range(tries):
            try:
                return self._ask_once(key, wait_ms)
            except DaemonDown:
                if attempt == tries - 1:
                    raise
        raise AssertionError("unreachable")

    def _ask_once(self, key: str, wait_ms: int):
        pool = self.cluster.pool_for(key)
        conn = pool.checkout()
        try:
            reply = conn.request(protocol.lockgen(key, self.lease_ms, wait_ms),
                                 timeout=wait_ms / 1000.0 + WAIT_MARGIN_S)
        except BaseException as error:
            raise pool.discard(conn, error) or error
        if reply.word in ("HIT", "STALE") and reply.value is None:
            pool.discard(conn, protocol.ProtocolError(reply.line))
            raise protocol.ProtocolError(f"{pool.name}: {reply.line} without a value")
        return pool, conn, reply

    def get_or_create(self, key: str, create: Callable[[], Any], decode: Decode, encode: Encode,
                      exptime: int, should_cache: ShouldCache = None) -> Any:
        """The value of ``key``; ``create()`` runs here only with the key's lease
        (or, with a warning, uncached when the key's daemon is down)."""
        deadline = time.monotonic() + self.busy_deadline
        repaired = False
        while True:
            # never wait on the server past the caller's deadline
            left_ms = int((deadline - time.monotonic()) * 1000)
            try:
                pool, conn, reply = self._ask(key, max(0, min(self.wait_ms, left_ms)))
            except DaemonDown as down:
                log.warning("dogpiled: %s; created %s without caching", down, key)
                return create()
            if reply.word == "GEN":
                return self._generate(Lease(key, pool, conn, reply.token), create, encode,
                                      exptime, should_cache)
            pool.checkin(conn)
            if reply.word in ("HIT", "STALE"):
                payload = decode(reply.value)
                if payload is not NO_VALUE:
                    return payload
                if repaired:
                    log.warning("dogpiled: %s holds an unreadable value; created without caching", key)
                    return create()
                # Not our format (another serializer wrote it): drop it once and regenerate.
                log.warning("dogpiled: %s holds an unreadable value; deleting it", key)
                repaired = True
                try:
                    with pool.connection() as conn:
                        conn.client.delete(key, noreply=False)
                except DaemonDown as down:
                    log.warning("dogpiled: %s; created %s without caching", down, key)
                    return create()
                continue
            if reply.word != "BUSY":
                raise protocol.ProtocolError(f"{pool.name}: unexpected lockgen reply {reply.line!r}")
            if time.monotonic() >= deadline:
                raise LockTimeout(f"dogpiled: {key} was still being regenerated elsewhere after "
                                  f"{self.busy_deadline:.1f} s")

    def _generate(self, lease: Lease, create, encode, exptime, should_cache):
        try:
            value = create()
        except BaseException:
            lease.release()
            raise
        if should_cache is not None and not should_cache(value):
            lease.release()
        else:
            lease.store(encode(value), exptime)
        return value

    def get_or_create_multi(self, keys: Sequence[str], create_many: Callable[[List[str]], Sequence],
                            decode: Decode, encode: Encode, exptime: int,
                            should_cache: ShouldCache = None) -> Dict[str, Any]:
        """Values of distinct ``keys``.  Each key is asked with ``wait_ms`` 0 first; the
        keys this caller was elected for (and those of dead daemons, uncached) are created
        in one ``create_many`` call; keys others regenerate are then waited for one by one,
        holding no lease meanwhile, so overlapping callers cannot deadlock."""
        results: Dict[str, Any] = {}
        leases: List[Lease] = []
        uncached: List[str] = []
        later: List[str] = []
        try:
            for key in keys:
                try:
                    pool, conn, reply = self._ask(key, 0)
                except DaemonDown as down:
                    log.warning("dogpiled: %s; creating %s without caching", down, key)
                    uncached.append(key)
                    continue
                if reply.word == "GEN":
                    leases.append(Lease(key, pool, conn, reply.token))
                    continue
                pool.checkin(conn)
                payload = decode(reply.value) if reply.word in ("HIT", "STALE") else NO_VALUE
                if payload is NO_VALUE:
                    later.append(key)          # BUSY (or unreadable): the single-key loop
                else:
                    results[key] = payload
            if leases or uncached:
                wanted = [lease.key for lease in leases] + uncached
                values = list(create_many(wanted))
                if len(values) != len(wanted):
                    raise ValueError(f"creator returned {len(values)} values for {len(wanted)} keys")
                created = dict(zip(wanted, values))
                for lease in leases:
                    value = created[lease.key]
                    if should_cache is not None and not should_cache(value):
                        lease.release()
                    else:
                        lease.store(encode(value), exptime)
                leases = []
                results.update(created)
        finally:
            for lease in leases:                 # the creator raised: give the leases back
                lease.release()
        for key in later:
            results[key] = self.get_or_create(key, lambda key=key: create_many([key])[0],
                                              decode, encode, exptime, should_cache)
        return results
