"""Sans-I/O pieces of dogpiled's lock verbs: command lines and a reply reader.

Nothing here touches a socket, so the reply grammar is unit-tested byte by byte.
A reply is at most one ``VALUE`` block followed by one closing line (``HIT``,
``GEN <token>``, ``STALE``, ``BUSY``, ``LOCKED <token>``, ``STORED``, ...).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

MAX_REPLY_LINE = 8192


class ProtocolError(Exception):
    """The daemon said something this client cannot read."""


class ServerError(Exception):
    """The daemon answered ERROR, CLIENT_ERROR ... or SERVER_ERROR ..."""

    def __init__(self, line: str, server: str = ""):
        self.line = line
        self.server = server
        super().__init__(f"{server + ': ' if server else ''}{line}")


@dataclass
class Reply:
    """One complete reply: the closing line's word and token, and the value if any."""

    word: str                       # HIT, GEN, STALE, BUSY, LOCKED, STORED, NOT_OWNER, ...
    token: Optional[int] = None     # of GEN / LOCKED
    value: Optional[bytes] = None   # the VALUE block's data
    flags: int = 0
    cas: Optional[int] = None
    line: str = ""                  # the closing line as sent


_ERROR_WORDS = ("ERROR", "CLIENT_ERROR", "SERVER_ERROR")
_TOKEN_WORDS = ("GEN", "LOCKED")


class ReplyReader:
    """Feed bytes; ``reply()`` returns the complete reply once it has arrived.

    Errors come back as a ``Reply`` whose ``word`` is ERROR/CLIENT_ERROR/SERVER_ERROR;
    ``raise_for_error`` turns them into ``ServerError``."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._value: Optional[tuple] = None    # (data, flags, cas) once a VALUE block is read

    def feed(self, data: bytes) -> None:
        self._buf += data

    def reply(self) -> Optional[Reply]:
        while True:
            end = self._buf.find(b"\r\n")
            if end < 0:
                if len(self._buf) > MAX_REPLY_LINE and self._value is None:
                    raise ProtocolError(f"reply line too long: {bytes(self._buf[:80])!r}...")
                return None
            line = bytes(self._buf[:end])
            if line.startswith(b"VALUE "):
                if self._value is not None:
                    raise ProtocolError("two VALUE blocks in one lock-verb reply")
                parts = line.split()
                if len(parts) not in (4, 5):
                    raise ProtocolError(f"bad VALUE line {line!r}")
                try:
                    flags, size = int(parts[2]), int(parts[3])
                    cas = int(parts[4]) if len(parts) == 5 else None
                except ValueError:
                    raise ProtocolError(f"bad VALUE line {line!r}") from None
                start = end + 2
                if len(self._buf) < start + size + 2:
                    return None                      # the data block is still coming
                if self._buf[start + size:start + size + 2] != b"\r\n":
                    raise ProtocolError(f"data block of {line!r} does not end in CRLF")
                self._value = (bytes(self._buf[start:start + size]), flags, cas)
                del self._buf[:start + size + 2]
                continue
            del self._buf[:end + 2]
            return self._close(line.decode("utf-8", "replace"))

    def _close(self, line: str) -> Reply:
        word, _, rest = line.partition(" ")
        reply = Reply(word=word, line=line)
        if self._value is not None:
            reply.value, reply.flags, reply.cas = self._value
            self._value = None
        if word in _TOKEN_WORDS:
            try:
                reply.token = int(rest)
            except ValueError:
                raise ProtocolError(f"bad token in {line!r}") from None
        elif word not in _ERROR_WORDS and rest:
            raise ProtocolError(f"unexpected reply {line!r}")
        return reply

    @property
    def pending(self) -> bool:
        """True when part of a reply has been read (a connection in that state is unusable)."""
        return bool(self._buf) or self._value is not None


def raise_for_error(reply: Reply, server: str = "") -> Reply:
    if reply.word in _ERROR_WORDS:
        raise ServerError(reply.line, server)
    return reply


def _line(*parts) -> bytes:
    return " ".join(str(p) for p in parts).encode("utf-8") + b"\r\n"


def lockgen(key: str, lease_ms: int, wait_ms: int) -> bytes:
    return _line("lockgen", key, lease_ms, wait_ms)


def setgen(key: str, token: int, flags: int, exptime: int, data: bytes) -> bytes:
    return _line("setgen", key, token, flags, exptime, len(data)) + data + b"\r\n"


def unlockgen(key: str, token: int) -> bytes:
    return _line("unlockgen", key, token)


def lock(name: str, lease_ms: int, wait_ms: int, shared: bool = False) -> bytes:
    return _line("rlock" if shared else "lock", name, lease_ms, wait_ms)


def unlock(name: str, token: int) -> bytes:
    return _line("unlock", name, token)


def renew(name: str, token: int, lease_ms: int) -> bytes:
    return _line("renew", name, token, lease_ms)


def invalidate(region: str, hard: bool) -> bytes:
    return _line("invalidate", region, "hard" if hard else "soft")
