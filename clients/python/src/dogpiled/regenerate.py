"""The ``lockgen`` loop: get a key's value, regenerating it in one process fleet-wide.

    lockgen [early] -> HIT/STALE: return it
                     | VALUE..GEN <t>: return the value now; create + setgen in the
                       background (unlockgen, logged, if the creator raises)
                     | GEN <t>: create here, setgen (unlockgen if the creator raises)
                     | BUSY: ask again until the deadline | (waits on the server)

    mlockgen <lease> <key>...  (get_or_create_multi, per daemon): HIT/STALE served,
    VALUE..GEN served and regenerated in the background, GEN created in one creator
    call, MISS waited for afterwards with plain lockgen.

The loop works on stored bytes: ``decode`` turns them into a payload (``NO_VALUE``
when unreadable) and ``encode`` a payload into bytes.  See docs/clients.md section 5.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from dogpile.cache.api import NO_VALUE

from . import protocol
from .connection import WAIT_MARGIN_S, DaemonConnection, DaemonDown, DaemonPool
from .flights import Flight, Flights
from .values import VALUE_FLAGS

log = logging.getLogger("dogpiled")

Decode = Callable[[bytes], Any]
Encode = Callable[[Any], bytes]
ShouldCache = Optional[Callable[[Any], bool]]

MLOCKGEN_CHUNK = 100        # keys per mlockgen request


class LockTimeout(TimeoutError):
    """Another process held the key's lease past this caller's deadline (``BUSY``)."""


class Held:
    """A checked-out connection holding leases: the server ties a lease to the connection
    that was granted it, so the connection stays out of the pool until every lease on
    it is settled (``setgen``/``unlockgen``).  One ``mlockgen`` connection can hold many
    leases, settled from the caller's thread and a background thread: requests on it
    are serialized."""

    def __init__(self, pool: DaemonPool, conn: DaemonConnection, leases: int = 1):
        self.pool = pool
        self.conn: Optional[DaemonConnection] = conn
        self.open = leases
        self._lock = threading.Lock()

    def request(self, command: bytes) -> protocol.Reply:
        with self._lock:
            conn = self.conn
            if conn is None:
                raise DaemonDown(self.pool.name, "the connection holding the lease failed")
            try:
                return conn.request(command)
            except protocol.ServerError:
                raise                      # a complete reply: the connection is fine
            except BaseException as error:
                self.conn = None           # closing it ends its leases on the server
                raise self.pool.discard(conn, error) or error

    def settle(self) -> None:
        """One lease on this connection is settled; the last one checks it in."""
        with self._lock:
            self.open -= 1
            conn = self.conn if self.open <= 0 else None
            if conn is not None:
                self.conn = None
        if conn is not None:
            self.pool.checkin(conn)


class Lease:
    """A granted ``GEN <token>`` on the connection ``held``; settled exactly once."""

    def __init__(self, key: str, held: Held, token: int):
        self.key, self.held, self.token = key, held, token
        self.settled = False
        self._state = threading.Lock()

    def _take(self) -> bool:
        with self._state:
            if self.settled:
                return False
            self.settled = True
            return True

    def store(self, data: bytes, exptime: int) -> bool:
        """``setgen``; False when the lease had ended (``NOT_OWNER``) or the store failed."""
        if not self._take():
            return False
        try:
            reply = self.held.request(protocol.setgen(self.key, self.token, VALUE_FLAGS, exptime, data))
        except protocol.ServerError as error:
            log.warning("dogpiled: %s not cached: %s", self.key, error)
            self._unlock()
            return False
        except BaseException as error:
            log.warning("dogpiled: %s not cached: %s", self.key, error)
            self.held.settle()
            return False
        self.held.settle()
        if reply.word == "NOT_OWNER":
            # Our lease ran out; whoever regenerates now (or stored already) wins.
            log.info("dogpiled: lease of %s ended before setgen; value not stored", self.key)
        return reply.word == "STORED"

    def release(self) -> bool:
        """``unlockgen``, so the oldest waiter is elected now (never raises)."""
        if self._take():
            self._unlock()
        return False

    def _unlock(self) -> None:
        try:
            self.held.request(protocol.unlockgen(self.key, self.token))
        except BaseException:              # closing the connection ends the lease too
            pass
        self.held.settle()


def keep(lease: Lease, value: Any, encode: Encode, exptime: int, should_cache: ShouldCache) -> bool:
    """Store a created value with the lease (or give the lease back); never raises."""
    try:
        if should_cache is not None and not should_cache(value):
            return lease.release()
        data = encode(value)
    except Exception:
        log.exception("dogpiled: %s could not be encoded; not cached", lease.key)
        return lease.release()
    return lease.store(data, exptime)


# in_background(lease, create, encode, exptime, should_cache): settles the lease later
Background = Callable[[Lease, Callable[[], Any], Encode, int, ShouldCache], None]


class Regenerator:
    """The loop's settings and the fleet it runs on (one per backend)."""

    def __init__(self, cluster, lease_ms: int, wait_ms: int, busy_deadline: float,
                 coalesce: bool = False):
        self.cluster = cluster
        self.lease_ms = lease_ms
        self.wait_ms = wait_ms
        self.busy_deadline = busy_deadline
        # threads of this process asking for one key share one lockgen (flights.py)
        self.flights: Optional[Flights] = Flights() if coalesce else None
        self._jobs = 0
        self._jobs_done = threading.Condition()

    # -- background regenerations -------------------------------------------------------
    def job_started(self) -> None:
        with self._jobs_done:
            self._jobs += 1

    def job_finished(self) -> None:
        with self._jobs_done:
            self._jobs -= 1
            if self._jobs <= 0:
                self._jobs_done.notify_all()

    def wait_background(self, timeout: Optional[float] = None) -> bool:
        """Wait until no background regeneration of this process is running; False on timeout."""
        with self._jobs_done:
            return self._jobs_done.wait_for(lambda: self._jobs <= 0, timeout)

    def in_thread(self, lease: Lease, create: Callable[[], Any], encode: Encode, exptime: int,
                  should_cache: ShouldCache) -> None:
        """The default ``Background``: a daemon thread runs the creator and ``setgen``."""
        def run():
            try:
                try:
                    value = create()
                except Exception:
                    log.exception("dogpiled: regenerating %s in the background failed; "
                                  "lease given back", lease.key)
                    lease.release()
                    return
                keep(lease, value, encode, exptime, should_cache)
            finally:
                lease.release()            # no-op once settled; covers BaseException
                self.job_finished()

        self._start(f"dogpiled regenerate {lease.key}", run, [lease])

    def _start(self, name: str, run: Callable[[], None], leases: List[Lease]) -> None:
        self.job_started()
        try:
            threading.Thread(target=run, name=name, daemon=True).start()
        except BaseException:
            log.exception("dogpiled: no thread for %s; leases given back", name)
            for lease in leases:
                lease.release()
            self.job_finished()

    # -- one key --------------------------------------------------------------------------
    def _ask(self, key: str, wait_ms: int, early: bool = False
             ) -> Tuple[DaemonPool, DaemonConnection, protocol.Reply]:
        """One ``lockgen``; the connection comes back checked out (raises ``DaemonDown``).
        With ``rehash_dead``, a daemon found dead here is left for the next live one."""
        tries = len(self.cluster.pools) if self.cluster.rehash_dead else 1
        for attempt in range(tries):
            try:
                return self._ask_once(key, wait_ms, early)
            except DaemonDown:
                if attempt == tries - 1:
                    raise
        raise AssertionError("unreachable")

    def _ask_once(self, key: str, wait_ms: int, early: bool):
        pool = self.cluster.pool_for(key)
        conn = pool.checkout()
        early = early and pool.knows_early
        try:
            reply = conn.request(protocol.lockgen(key, self.lease_ms, wait_ms, early),
                                 timeout=wait_ms / 1000.0 + WAIT_MARGIN_S)
        except protocol.ServerError as error:
            if not (early and error.line == "ERROR"):
                pool.discard(conn, error)
                raise
            # An older dogpiled: lockgen with a fifth word is a wrong number of tokens.
            log.warning("dogpiled: daemon %s does not know `lockgen ... early`; "
                        "asking it without", pool.name)
            pool.knows_early = False
            pool.checkin(conn)
            return self._ask_once(key, wait_ms, False)
        except BaseException as error:
            raise pool.discard(conn, error) or error
        if reply.word in ("HIT", "STALE") and reply.value is None:
            pool.discard(conn, protocol.ProtocolError(reply.line))
            raise protocol.ProtocolError(f"{pool.name}: {reply.line} without a value")
        return pool, conn, reply

    def get_or_create(self, key: str, create: Callable[[], Any], decode: Decode, encode: Encode,
                      exptime: int, should_cache: ShouldCache = None,
                      background: Optional[Background] = None, early: bool = False) -> Any:
        """The value of ``key``; ``create()`` runs here only with the key's lease and no
        value to show (or, with a warning, uncached when the key's daemon is down).

        With ``background``, a lease granted with a value (a stale copy, or an early
        grant when ``early`` asks for them) returns that value now and hands the lease
        to ``background``; without it, the creator runs here.

        With ``coalesce`` (off by default), threads of this process asking for ``key`` at
        the same time share one request: the first asks, the others take the value it
        learns (see flights.py)."""
        deadline = time.monotonic() + self.busy_deadline
        flight, leader = self.flights.board(key) if self.flights is not None else (None, False)
        if leader:
            try:
                return self._get_or_create(key, create, decode, encode, exptime, should_cache,
                                           background, early, deadline, flight)
            finally:
                self.flights.land(key, flight)
        if flight is not None:
            # Follow at most as long as the leader's lease could last: past it the server
            # would have elected the next waiter, so ask it then, as that waiter.
            patience = min(self.lease_ms / 1000.0, max(0.0, deadline - time.monotonic()))
            if flight.landed.wait(patience) and flight.data is not None:
                payload = decode(flight.data)
                if payload is not NO_VALUE:
                    return payload
            if time.monotonic() >= deadline:
                raise LockTimeout(f"dogpiled: {key} was still being regenerated after "
                                  f"{self.busy_deadline:.1f} s")
        # No flight to follow, or the leader learned nothing to share: ask the server.
        return self._get_or_create(key, create, decode, encode, exptime, should_cache,
                                   background, early, deadline, None)

    def _get_or_create(self, key: str, create: Callable[[], Any], decode: Decode, encode: Encode,
                       exptime: int, should_cache: ShouldCache, background: Optional[Background],
                       early: bool, deadline: float, flight: Optional[Flight]) -> Any:
        """The ``lockgen`` loop for one caller; bytes worth sharing go to ``flight``."""
        flights = self.flights

        def share(data: bytes) -> None:
            if flight is not None and flights is not None:
                flights.land(key, flight, data)
        repaired = False
        while True:
            # never wait on the server past the caller's deadline
            left_ms = int((deadline - time.monotonic()) * 1000)
            try:
                pool, conn, reply = self._ask(key, max(0, min(self.wait_ms, left_ms)),
                                              early and background is not None)
            except DaemonDown as down:
                log.warning("dogpiled: %s; created %s without caching", down, key)
                return create()
            if reply.word == "GEN":
                lease = Lease(key, Held(pool, conn), reply.token)
                if reply.value is not None:
                    payload = decode(reply.value)
                    if payload is not NO_VALUE:
                        # A stale copy (or an early grant): what the server answers
                        # everyone else while this caller holds the lease.
                        share(reply.value)
                        if background is not None:
                            background(lease, create, encode, exptime, should_cache)
                            return payload
                return self._generate(lease, create, encode, exptime, should_cache, share)
            pool.checkin(conn)
            if reply.word in ("HIT", "STALE"):
                payload = decode(reply.value)
                if payload is not NO_VALUE:
                    share(reply.value)
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

    def _generate(self, lease: Lease, create, encode, exptime, should_cache, share):
        try:
            value = create()
        except BaseException:
            lease.release()
            raise
        if should_cache is not None and not should_cache(value):
            lease.release()
        else:
            data = encode(value)
            if lease.store(data, exptime):
                share(data)             # stored: what the server would wake waiters with
        return value

    # -- many keys --------------------------------------------------------------------------
    def _ask_many(self, pool: DaemonPool, keys: Sequence[str]) -> Tuple[Held, List[protocol.Reply]]:
        """``mlockgen`` for ``keys`` on one connection of ``pool`` (chunked); the
        connection comes back checked out as a ``Held`` with no lease counted yet."""
        conn = pool.checkout()
        held = Held(pool, conn, leases=0)
        replies: List[protocol.Reply] = []
        try:
            for i in range(0, len(keys), MLOCKGEN_CHUNK):
                chunk = keys[i:i + MLOCKGEN_CHUNK]
                replies += conn.request_multi(protocol.mlockgen(self.lease_ms, chunk), len(chunk))
        except BaseException as error:
            # Closing the connection ends whatever leases earlier chunks were granted.
            raise pool.discard(conn, error) or error
        return held, replies

    def get_or_create_multi(self, keys: Sequence[str], create_many: Callable[[List[str]], Sequence],
                            decode: Decode, encode: Encode, exptime: int,
                            should_cache: ShouldCache = None, background: bool = False
                            ) -> Dict[str, Any]:
        """Values of distinct ``keys``: one ``mlockgen`` per daemon (per 100 keys).

        Keys granted without a value (and those of dead daemons, uncached) are created
        in one ``create_many`` call and stored on the connection holding their lease;
        with ``background``, keys granted with a value are served now and regenerated
        in one ``create_many`` call on a daemon thread (without, they join the first
        call).  Keys others regenerate (``MISS``) are then waited for one by one with a
        plain ``lockgen``, holding no foreground lease meanwhile, so overlapping callers
        cannot deadlock."""
        results: Dict[str, Any] = {}
        leases: List[Lease] = []            # created here, by this caller
        later_leases: List[Lease] = []      # served now, regenerated in the background
        uncached: List[str] = []
        later: List[str] = []
        helds: List[Held] = []
        try:
            for pool, group in self.cluster.group_by_pool(list(keys)).items():
                if pool is None:
                    log.warning("dogpiled: daemon down; creating %d keys without caching", len(group))
                    uncached += group
                    continue
                if not pool.knows_mlockgen:
                    later += group          # an older dogpiled: the single-key loop
                    continue
                try:
                    held, replies = self._ask_many(pool, group)
                except protocol.ServerError as error:
                    if error.line != "ERROR":
                        raise
                    log.warning("dogpiled: daemon %s does not know `mlockgen`; asking "
                                "its keys one by one", pool.name)
                    pool.knows_mlockgen = False
                    later += group
                    continue
                except DaemonDown as down:
                    if self.cluster.rehash_dead:
                        later += group      # the single-key loop finds them a live daemon
                    else:
                        log.warning("dogpiled: %s; creating %d keys without caching", down, len(group))
                        uncached += group
                    continue
                helds.append(held)
                for key, reply in zip(group, replies):
                    if reply.word == "GEN":
                        lease = Lease(key, held, reply.token)
                        held.open += 1
                        payload = decode(reply.value) if reply.value is not None else NO_VALUE
                        if background and payload is not NO_VALUE:
                            results[key] = payload
                            later_leases.append(lease)
                        else:
                            leases.append(lease)
                        continue
                    payload = decode(reply.value) if reply.word in ("HIT", "STALE") else NO_VALUE
                    if payload is NO_VALUE:
                        later.append(key)   # MISS, SERVER_ERROR or unreadable: one by one
                    else:
                        results[key] = payload
            for held in helds:
                if held.open == 0:
                    held.open = 1
                    held.settle()           # no lease on it: back to the pool
            helds = []
            if later_leases:
                self._regenerate_many(later_leases, create_many, encode, exptime, should_cache)
                later_leases = []
            if leases or uncached:
                wanted = [lease.key for lease in leases] + uncached
                values = list(create_many(wanted))
                if len(values) != len(wanted):
                    raise ValueError(f"creator returned {len(values)} values for {len(wanted)} keys")
                created = dict(zip(wanted, values))
                for lease in leases:
                    keep(lease, created[lease.key], encode, exptime, should_cache)
                leases = []
                results.update(created)
        finally:
            for lease in leases + later_leases:     # something raised: give the leases back
                lease.release()
            for held in helds:
                if held.open == 0:
                    held.open = 1
                    held.settle()
        for key in later:
            results[key] = self.get_or_create(key, lambda key=key: create_many([key])[0],
                                              decode, encode, exptime, should_cache,
                                              self.in_thread if background else None)
        return results

    def _regenerate_many(self, leases: List[Lease], create_many, encode, exptime, should_cache):
        """One background ``create_many`` call for keys already served to the caller."""
        def run():
            try:
                try:
                    wanted = [lease.key for lease in leases]
                    values = list(create_many(wanted))
                    if len(values) != len(wanted):
                        raise ValueError(f"creator returned {len(values)} values for {len(wanted)} keys")
                except Exception:
                    log.exception("dogpiled: regenerating %d keys in the background failed; "
                                  "leases given back", len(leases))
                    return
                for lease, value in zip(leases, values):
                    keep(lease, value, encode, exptime, should_cache)
            finally:
                for lease in leases:
                    lease.release()         # no-op for the settled ones
                self.job_finished()

        self._start(f"dogpiled regenerate {len(leases)} keys", run, leases)
