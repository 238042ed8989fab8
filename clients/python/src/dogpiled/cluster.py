"""The fleet: daemons, the ketama ring over them, and what happens when one is dead."""

from __future__ import annotations

import threading
from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple

from .connection import DaemonDown, DaemonPool, credentials_line
from .keys import check_region_name
from .ring import KetamaRing, ServerAddress, parse_address


class RegionNotDeclared(RuntimeError):
    """A daemon of the fleet does not declare the client's region."""


class Cluster:
    """Daemons of one fleet.  ``pool_for(key)`` is the pool of the daemon owning ``key``.

    By default a dead daemon keeps its keys (``DaemonDown`` is raised for them) so a
    key can never have two lease holders on two daemons; with ``rehash_dead`` its keys
    go to the ring of the live daemons until it is retried (``retry_after`` seconds)."""

    def __init__(self, urls: Iterable[str] | str, *, rehash_dead: bool = False,
                 retry_after: float = 30.0, connect_timeout: float = 2.0,
                 timeout: float = 5.0, max_idle: int = 32, tls_context=None,
                 socket_keepalive=None, username: Optional[str] = None,
                 password: Optional[str] = None):
        credentials = credentials_line(username, password)
        if isinstance(urls, str):
            urls = [u for u in urls.replace(",", " ").split() if u]
        self.addresses: List[ServerAddress] = [
            u if isinstance(u, ServerAddress) else parse_address(u) for u in urls]
        if not self.addresses:
            raise ValueError("dogpiled: 'url' names no daemon")
        self.rehash_dead = rehash_dead
        self.pools = [DaemonPool(a, retry_after=retry_after, max_idle=max_idle,
                                 connect_timeout=connect_timeout, timeout=timeout,
                                 tls_context=tls_context, socket_keepalive=socket_keepalive,
                                 credentials=credentials)
                      for a in self.addresses]
        self.ring = KetamaRing(self.addresses)
        self._live_rings: Dict[Tuple[int, ...], KetamaRing] = {}
        self._checked: Dict[str, Set[int]] = {}
        self._lock = threading.Lock()

    def pool_for(self, key: str) -> DaemonPool:
        """The pool owning ``key``; raises ``DaemonDown`` when it is dead (without rehash)."""
        pool = self.pools[self.ring.index_for(key)]
        if not pool.is_dead():
            return pool
        if not self.rehash_dead:
            raise DaemonDown(pool.name, "marked dead; its keys stay on it (rehash_dead is off)")
        live = tuple(i for i, p in enumerate(self.pools) if not p.is_dead())
        if not live:
            raise DaemonDown(pool.name, "every daemon of the fleet is down")
        ring = self._live_rings.get(live)
        if ring is None:
            ring = KetamaRing([self.addresses[i] for i in live])
            self._live_rings[live] = ring
        return self.pools[live[ring.index_for(key)]]

    def group_by_pool(self, keys: Sequence[str]) -> Dict[Optional[DaemonPool], List[str]]:
        """Keys per owning pool; keys of dead daemons under ``None``."""
        groups: Dict[Optional[DaemonPool], List[str]] = {}
        for key in keys:
            try:
                pool: Optional[DaemonPool] = self.pool_for(key)
            except DaemonDown:
                pool = None
            groups.setdefault(pool, []).append(key)
        return groups

    def check_region(self, region: str) -> None:
        """Raise ``RegionNotDeclared`` when a reachable daemon lacks ``region``.

        Each daemon is asked once (``stats regions``); one that is down now is asked
        when it is back."""
        check_region_name(region)
        checked = self._checked.setdefault(region, set())
        for index, pool in enumerate(self.pools):
            if index in checked or pool.is_dead():
                continue
            try:
                with pool.connection() as conn:
                    stats = conn.client.stats("regions")
            except DaemonDown:
                continue
            names = {str(k.decode() if isinstance(k, bytes) else k).split(":", 1)[0]
                     for k in stats}
            if region not in names:
                raise RegionNotDeclared(
                    f"region '{region}' is not declared on daemon {pool.name}; "
                    f"declare it with --region {region}:memory=...")
            with self._lock:
                checked.add(index)

    def region_checked_everywhere(self, region: str) -> bool:
        return len(self._checked.get(region, ())) == len(self.pools)

    def close(self) -> None:
        for pool in self.pools:
            pool.close()
