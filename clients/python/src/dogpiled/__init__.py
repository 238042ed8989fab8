"""dogpiled: a dogpile.cache region and backend for dogpiled daemons.

    region = dogpiled.make_region("user").configure(
        "dogpiled", expiration_time=300, arguments={"url": ["127.0.0.1:11211"]})

See clients/python/README.md and docs/clients.md.
"""

from dogpile.cache.region import register_backend as _register_backend

from .backend import DogpiledBackend, DogpiledMutex
from .cluster import Cluster, RegionNotDeclared
from .connection import DaemonDown
from .keys import RegionNameError, key_mangler, mangle_key
from .protocol import ServerError
from .regenerate import LockTimeout
from .region import DogpiledRegion, make_region
from .ring import KetamaRing, parse_address
from .values import decode_value, deserialize_payload, encode_value, serialize_payload

# The entry point in pyproject.toml registers the backend for installed packages;
# this covers running from a source tree.
_register_backend("dogpiled", "dogpiled.backend", "DogpiledBackend")

__version__ = "0.1.0"
__all__ = [
    "Cluster", "DaemonDown", "DogpiledBackend", "DogpiledMutex", "DogpiledRegion",
    "KetamaRing", "LockTimeout", "RegionNameError", "RegionNotDeclared", "ServerError",
    "decode_value", "deserialize_payload", "encode_value", "key_mangler", "make_region",
    "mangle_key", "parse_address", "serialize_payload",
]
