"""libmemcached's weighted ketama ring, in pure Python.

The placement is exactly what libmemcached (and so pylibmc with
``behaviors={"ketama_weighted": True}``, PHP's memcached, ...) computes in
``update_continuum``/``dispatch_host``, so every ketama client of a fleet puts a
key -- and with it the key's ``lockgen`` lease -- on the same daemon.  The rule
is written out with byte examples in ``docs/clients.md``; the golden fixture
``Tests/Fixtures/ketama/weights-1-2-3.tsv`` pins it against pylibmc.
"""

from __future__ import annotations

import bisect
import hashlib
import math
import re
import struct
from dataclasses import dataclass
from typing import Iterable, Sequence

POINTS_PER_SERVER = 160          # MEMCACHED_POINTS_PER_SERVER_KETAMA
POINTS_PER_HASH = 4              # one MD5 digest gives four 32-bit points
DEFAULT_PORT = 11211             # libmemcached leaves ":11211" out of the point names


@dataclass(frozen=True)
class ServerAddress:
    """One daemon: ``host``/``port`` for TCP, or ``path`` for a Unix socket."""

    host: str = ""
    port: int = 0
    path: str = ""
    weight: int = 1

    @property
    def is_unix(self) -> bool:
        return bool(self.path)

    @property
    def name(self) -> str:
        """``host:port`` (``[v6]:port``) or the socket path: how errors and fixtures name it."""
        if self.is_unix:
            return self.path
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"

    @property
    def point_name(self) -> str:
        """The text libmemcached hashes for this server's points, before ``-<i>``.

        libmemcached prints ``<hostname>:<port>`` (``<hostname>`` alone when the
        port is 11211); a Unix socket is stored with port 0, so it is
        ``<path>:0``.  The hostname is used as written, never resolved."""
        if self.is_unix:
            return f"{self.path}:0"
        if self.port == DEFAULT_PORT:
            return self.host
        return f"{self.host}:{self.port}"


_WEIGHT = re.compile(r"^(.*):(\d+)$")


def parse_address(spec: str) -> ServerAddress:
    """Parse ``host:port[:weight]``, ``[v6]:port[:weight]`` or ``/socket/path[:weight]``.

    A port defaults to 11211 and a weight to 1.  (pylibmc cannot give a socket a
    weight; here a trailing ``:<digits>`` after a path is its weight.)"""
    spec = spec.strip()
    if spec.startswith("unix:"):
        spec = spec[len("unix:"):]
    if spec.startswith("/"):
        weight = 1
        m = _WEIGHT.match(spec)
        if m:
            spec, weight = m.group(1), int(m.group(2))
        return ServerAddress(path=spec, weight=_check_weight(weight, spec))
    if spec.startswith("["):
        close = spec.find("]")
        if close < 0:
            raise ValueError(f"bad server address {spec!r}: no closing ']'")
        host, rest = spec[1:close], spec[close + 1:]
        parts = rest[1:].split(":") if rest.startswith(":") else ([] if not rest else None)
        if parts is None:
            raise ValueError(f"bad server address {spec!r}")
    else:
        host, *parts = spec.split(":")
    if not host or len(parts) > 2:
        raise ValueError(f"bad server address {spec!r}: want host:port[:weight]")
    try:
        port = int(parts[0]) if parts else DEFAULT_PORT
        weight = int(parts[1]) if len(parts) > 1 else 1
    except ValueError:
        raise ValueError(f"bad server address {spec!r}: port and weight are integers") from None
    if not 0 < port < 65536:
        raise ValueError(f"bad server address {spec!r}: port out of range")
    return ServerAddress(host=host, port=port, weight=_check_weight(weight, spec))


def _check_weight(weight: int, spec: str) -> int:
    if weight < 1:
        raise ValueError(f"bad server address {spec!r}: weight must be >= 1")
    return weight


def _f32(x: float) -> float:
    """Round to IEEE single precision: libmemcached does this arithmetic in C floats."""
    return struct.unpack("<f", struct.pack("<f", x))[0]


def points_for(weight: int, total_weight: int, server_count: int) -> int:
    """Points a server gets: ``floor(pct * 160 / 4 * servers + 1e-10) * 4``, in floats."""
    pct = _f32(_f32(float(weight)) / _f32(float(total_weight)))
    x = _f32(pct * POINTS_PER_SERVER)
    x = _f32(x / 4)
    x = _f32(x * _f32(float(server_count)))
    x = _f32(x + _f32(0.0000000001))
    return int(math.floor(x)) * 4


def key_hash(key: bytes) -> int:
    """The first four bytes of MD5(key), little-endian: libhashkit's MD5 hash."""
    return struct.unpack_from("<I", hashlib.md5(key).digest(), 0)[0]


class KetamaRing:
    """Maps keys to servers as libmemcached's weighted ketama does.

    ``servers`` keep their order (libmemcached does not sort them unless asked),
    which only matters to break ties between equal points."""

    def __init__(self, servers: Sequence[ServerAddress]):
        if not servers:
            raise ValueError("a ring needs at least one server")
        self.servers = list(servers)
        total = sum(s.weight for s in self.servers)
        points: list[tuple[int, int]] = []
        for index, server in enumerate(self.servers):
            count = points_for(server.weight, total, len(self.servers))
            for i in range(count // POINTS_PER_HASH):
                digest = hashlib.md5(f"{server.point_name}-{i}".encode()).digest()
                for value in struct.unpack("<4I", digest):
                    points.append((value, index))
        # Equal values are ordered by server index, as libmemcached's comparator does.
        points.sort()
        self._values = [value for value, _ in points]
        self._owners = [index for _, index in points]

    @property
    def point_count(self) -> int:
        return len(self._values)

    def index_for(self, key: bytes | str) -> int:
        """Index in ``servers`` of the server that owns ``key``."""
        if len(self.servers) == 1:
            return 0
        if isinstance(key, str):
            key = key.encode()
        at = bisect.bisect_left(self._values, key_hash(key))
        return self._owners[at if at < len(self._values) else 0]

    def server_for(self, key: bytes | str) -> ServerAddress:
        return self.servers[self.index_for(key)]


def ring_from_specs(specs: Iterable[str]) -> KetamaRing:
    return KetamaRing([parse_address(s) for s in specs])
