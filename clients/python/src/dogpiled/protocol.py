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
# lockstate / genstate answers carry counts: EXCLUSIVE <waiters>, SHARED <holders> <waiters>,
# LEASED <waiters> (FREE carries none).
_STATE_WORDS = ("EXCLUSIVE", "SHARED", "LEASED")


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
        elif word not in _ERROR_WORDS and word not in _STATE_WORDS and rest:
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


def lockgen(key: str, lease_ms: int, wait_ms: int, early: bool = False) -> bytes:
    """``lockgen``; with ``early`` a fresh value near its expiry may be answered
    ``VALUE ... GEN <token>`` (docs/protocol.md, "Early recompute")."""
    if early:
        return _line("lockgen", key, lease_ms, wait_ms, "early")
    return _line("lockgen", key, lease_ms, wait_ms)


def mlockgen(lease_ms: int, keys) -> bytes:
    """``mlockgen <lease_ms> <key>...``: one block per key in order, then ``END``."""
    return _line("mlockgen", lease_ms, *keys)


class MultiReader:
    """Reads an ``mlockgen`` reply: ``count`` blocks (each a ``Reply``: HIT, GEN, STALE,
    MISS or SERVER_ERROR, with the value if any) and then ``END``.

    An ``ERROR``/``CLIENT_ERROR`` before the first block answers the whole request
    (a bad line, a key over 250 bytes): it is returned alone, as the only reply."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.replies: list = []
        self._reader = ReplyReader()
        self.done = False

    def feed(self, data: bytes) -> None:
        self._reader.feed(data)

    def read(self) -> Optional[list]:
        """The blocks once ``END`` has arrived (or the whole-request error), else None."""
        while not self.done:
            reply = self._reader.reply()
            if reply is None:
                return None
            if not self.replies and reply.word in ("ERROR", "CLIENT_ERROR"):
                self.replies.append(reply)
                self.done = True
                break
            if len(self.replies) == self.count:
                if reply.word != "END" or reply.value is not None:
                    raise ProtocolError(f"mlockgen: expected END after {self.count} blocks, "
                                        f"got {reply.line!r}")
                self.done = True
                break
            if reply.word == "END":
                raise ProtocolError(f"mlockgen: END after {len(self.replies)} of {self.count} blocks")
            if reply.word not in _MULTI_WORDS:
                raise ProtocolError(f"mlockgen: unexpected block {reply.line!r}")
            if reply.word in ("HIT", "STALE") and reply.value is None:
                raise ProtocolError(f"mlockgen: {reply.line} without a value")
            self.replies.append(reply)
        if self._reader.pending:
            raise ProtocolError("mlockgen: bytes after END")
        return self.replies


_MULTI_WORDS = ("HIT", "GEN", "STALE", "MISS", "SERVER_ERROR")


def setgen(key: str, token: int, flags: int, exptime: int, data: bytes) -> bytes:
    return _line("setgen", key, token, flags, exptime, len(data)) + data + b"\r\n"


def unlockgen(key: str, token: int) -> bytes:
    return _line("unlockgen", key, token)


def lock(name: str, lease_ms: int, wait_ms: int, shared: bool = False) -> bytes:
    return _line("rlock" if shared else "lock", name, lease_ms, wait_ms)


def unlock(name: str, token: int) -> bytes:
    return _line("unlock", name, token)


def lockstate(name: str) -> bytes:
    """Read-only: who holds the named mutex (``FREE``, ``EXCLUSIVE n``, ``SHARED h n``)."""
    return _line("lockstate", name)


def genstate(key: str) -> bytes:
    """Read-only: whether a generation lease is held on ``key`` (``FREE``, ``LEASED n``)."""
    return _line("genstate", key)


def renew(name: str, token: int, lease_ms: int) -> bytes:
    return _line("renew", name, token, lease_ms)


def invalidate(region: str, hard: bool) -> bytes:
    return _line("invalidate", region, "hard" if hard else "soft")
