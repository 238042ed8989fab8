"""The shared value format: dogpile.cache 1.5's serialized form with a JSON payload.

Stored bytes are ``<metadata JSON>|<payload JSON>`` with memcached flags 0, where
the metadata is ``{"ct": <unix seconds, float>, "v": 2}`` -- byte for byte what a
dogpile.cache region made with ``serializer=lambda v: json.dumps(v).encode()``
writes through the pymemcache backend.  See docs/clients.md.
"""

from __future__ import annotations

import json
import time
from typing import Any, Optional, Tuple

from dogpile.cache.api import NO_VALUE

VALUE_VERSION = 2      # dogpile.cache.region.value_version
VALUE_FLAGS = 0        # pymemcache's pickle_serde stores bytes with flags 0


def serialize_payload(payload: Any) -> bytes:
    """The payload serializer of the shared format (what dogpile regions are given)."""
    return json.dumps(payload).encode()


def deserialize_payload(data: bytes) -> Any:
    return json.loads(data)


def encode_value(payload: Any, created: Optional[float] = None) -> bytes:
    """Bytes to store for ``payload``, created at ``created`` (default: now)."""
    metadata = {"ct": time.time() if created is None else created, "v": VALUE_VERSION}
    return json.dumps(metadata).encode("ascii") + b"|" + serialize_payload(payload)


def decode_value(data: bytes) -> Tuple[Any, Optional[dict]]:
    """``(payload, metadata)`` of stored bytes, or ``(NO_VALUE, None)`` when they are
    not a version-2 value (no ``|``, bad JSON, another ``v``): a miss, as dogpile treats it."""
    meta_bytes, sep, payload_bytes = bytes(data).partition(b"|")
    if not sep:
        return NO_VALUE, None
    try:
        metadata = json.loads(meta_bytes)
        if not isinstance(metadata, dict) or metadata.get("v") != VALUE_VERSION:
            return NO_VALUE, None
        return json.loads(payload_bytes), metadata
    except (ValueError, UnicodeDecodeError):
        return NO_VALUE, None
