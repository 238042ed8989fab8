"""The shared key scheme: region prefix plus a length- and byte-safe mangle.

A client region ``R`` stores user key ``K`` under ``R:`` + K', where K' is K's
UTF-8 bytes, or their lowercase hex SHA-1 when the whole key would pass
memcached's 250-byte limit or K holds a space, a control byte or DEL.  The
daemon files ``R:...`` keys into its region ``R``, so the server-side region
and the client region are one name.  See docs/clients.md.
"""

from __future__ import annotations

import hashlib
from typing import Callable

MAX_KEY_BYTES = 250
MAX_REGION_BYTES = 200


class RegionNameError(ValueError):
    """A region name the key scheme cannot carry."""


def _needs_hashing(data: bytes) -> bool:
    return any(b <= 0x20 or b == 0x7F for b in data)


def check_region_name(region: str) -> str:
    """Return ``region`` if it is 1..200 UTF-8 bytes without ':', space, control bytes or DEL."""
    data = region.encode("utf-8") if isinstance(region, str) else b""
    if not isinstance(region, str) or not 1 <= len(data) <= MAX_REGION_BYTES:
        raise RegionNameError(f"region name {region!r} must be 1..{MAX_REGION_BYTES} bytes")
    if _needs_hashing(data) or b":" in data:
        raise RegionNameError(
            f"region name {region!r} may not contain ':', spaces, control characters or DEL")
    return region


def mangle_key(region: str, key: str | bytes) -> str:
    """The memcached key for user ``key`` in ``region`` (``region:`` + key or its SHA-1)."""
    data = key.encode("utf-8") if isinstance(key, str) else bytes(key)
    prefix = region.encode("utf-8")
    if len(prefix) + 1 + len(data) <= MAX_KEY_BYTES and not _needs_hashing(data):
        try:
            return f"{region}:{data.decode('utf-8')}"
        except UnicodeDecodeError:
            pass            # bytes that are not text cannot go on the text protocol: hash them
    return f"{region}:{hashlib.sha1(data).hexdigest()}"


def key_mangler(region: str) -> Callable[[str], str]:
    """A dogpile.cache ``key_mangler`` that writes the shared key scheme for ``region``.

    Give it to a plain ``dogpile.cache.make_region(key_mangler=...)`` to read and
    write the same keys as ``dogpiled.make_region()`` and the Swift client."""
    check_region_name(region)

    def mangle(key: str) -> str:
        return mangle_key(region, key)

    mangle.region = region  # type: ignore[attr-defined]
    return mangle


def safe_key(key: str | bytes) -> str:
    """A key without region prefix, hashed by the same rule when memcached could not carry it
    (the ``dogpiled`` backend's default key mangler for regions without a ``region``)."""
    data = key.encode("utf-8") if isinstance(key, str) else bytes(key)
    if len(data) <= MAX_KEY_BYTES and not _needs_hashing(data):
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError:
            pass
    return hashlib.sha1(data).hexdigest()
