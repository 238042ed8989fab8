"""One ``lockgen`` per key per process: threads asking for the same key share it.

When many threads of one process ask for the same key at once (a stampede), the
first one (the *leader*) takes the ``lockgen`` path; the others (*followers*) wait
in the process for what the leader learns instead of each parking its own request
on the server.  dogpile's own region does the same with its per-key in-process
mutex (a ``NameRegistry``); here the leader's answer is shared only when it is a
value the followers would have been given too:

- ``HIT`` / ``STALE`` / an early ``VALUE ... GEN``: the value bytes the leader read;
- ``GEN``: the bytes the leader's creator produced, once ``setgen`` stored them.

Anything else (``BUSY``, a creator that raised, a value the region chose not to
cache, a dead daemon, an error) shares nothing: each follower then asks the server
itself, exactly as it would have without coalescing.  Followers decode the bytes
themselves, so no two callers are handed the same mutable object.

A follower never waits in the process longer than the leader's lease could last
(``lease_ms``): past it, the server would have handed the lease to the next waiter,
so the follower asks the server itself, and a hung creator blocks no more than it
would across processes.  A thread never follows a flight it leads (a creator asking
for its own key), and a child process starts with no flights (``os.fork``).

Why: a parked request costs a socket and a wake-up on the server; with 10 threads
per process the fleet parks 1/10 of the requests and the server fans the stored
value out to processes, not threads.  Off by default (``coalesce``): measured with
bench/clients_compare.py (8 processes x 10 threads, quiet 2-core machine) followers
woken through the process were not faster than threads woken by the kernel (p50
7.1 ms / p99 30.8 ms shared, 5.2 / 25.7 ms each asking), so it is a resource
saving for large fleets, not a latency one.  Entries live only while a leader is asking (registry entries are
removed when it lands), so the table's size is bounded by the keys in flight.
"""

from __future__ import annotations

import os
import threading
import weakref
from typing import Dict, Optional, Tuple

_every_table: "weakref.WeakSet[Flights]" = weakref.WeakSet()


class Flight:
    """One leader's request for a key; followers wait on ``landed``."""

    __slots__ = ("landed", "data", "leader")

    def __init__(self) -> None:
        self.landed = threading.Event()
        self.data: Optional[bytes] = None   # the value bytes to share, if any
        self.leader = threading.get_ident()


class Flights:
    """The keys this process is asking for right now, each with its leader's flight."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._flying: Dict[str, Flight] = {}
        _every_table.add(self)

    def board(self, key: str) -> Tuple[Optional[Flight], bool]:
        """The flight for ``key`` and whether the caller leads it (asks the server).
        ``(None, False)`` when this thread already leads ``key``: it asks on its own."""
        with self._lock:
            flight = self._flying.get(key)
            if flight is not None:
                if flight.leader == threading.get_ident():
                    return None, False
                return flight, False
            flight = self._flying[key] = Flight()
            return flight, True

    def _forget_all(self) -> None:
        """In a forked child: the parent's leaders are not here to land their flights."""
        self._lock = threading.Lock()
        self._flying = {}

    def land(self, key: str, flight: Flight, data: Optional[bytes] = None) -> None:
        """Release the followers, with ``data`` to share if the leader has a value.

        The leader lands as soon as it knows a value (a stale copy is shared before its
        creator runs, as the server would answer ``STALE`` at once), and in any case when
        it is done; landing twice keeps the first outcome.  Callers arriving after the
        landing lead a new flight."""
        with self._lock:
            if flight.landed.is_set():
                return
            if self._flying.get(key) is flight:
                del self._flying[key]
            flight.data = data
            flight.landed.set()

    def __len__(self) -> int:
        with self._lock:
            return len(self._flying)


def _after_fork_in_child() -> None:
    for table in list(_every_table):
        table._forget_all()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)
