"""Connections to dogpiled daemons: one pymemcache ``Client`` per connection.

Why pymemcache and not a socket client of our own: pymemcache already opens TCP,
Unix and TLS sockets (``tls_context``), sets keepalive and timeouts, and speaks
every classic command with its serde; we reuse all of that.  What it cannot do is
read a lock-verb reply (``VALUE ... HIT``/``GEN <token>``/``BUSY``...: its
``raw_command`` only waits for a fixed end token), so lock verbs are written on the
same socket and read by ``protocol.ReplyReader``.  pymemcache keeps no read buffer
between commands, so the two never step on each other's bytes.

A pool per daemon hands out a connection to one caller at a time: a request that
may wait on the server (``lockgen``, ``lock``) has its connection to itself, and a
lease's connection stays checked out until the lease is settled.  A connection
whose request failed halfway is closed, never pooled.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from typing import Iterator, List, Optional

from pymemcache.client.base import Client
from pymemcache.exceptions import MemcacheError, MemcacheUnexpectedCloseError
from pymemcache.serde import pickle_serde

from . import protocol
from .ring import ServerAddress

log = logging.getLogger("dogpiled")

WAIT_MARGIN_S = 2.0      # a waiting request's socket timeout is wait_ms + this


class DaemonDown(ConnectionError):
    """A daemon could not be reached (or stopped answering); names it."""

    def __init__(self, server: str, cause: object = ""):
        self.server = server
        super().__init__(f"daemon {server} is down: {cause}" if cause else f"daemon {server} is down")


class AuthenticationFailed(MemcacheError):
    """The daemon (started with ``-Y``) refused the username and password."""


class _AuthenticatingClient(Client):
    """pymemcache's ``Client`` that authenticates every socket it opens, with memcached's
    ASCII authentication (``-Y``): ``set <any> 0 0 <n>`` whose data is ``<user> <pass>``,
    answered ``STORED``.  pymemcache reconnects by itself after an error; doing it in
    ``_connect`` means a new socket is never used unauthenticated."""

    def __init__(self, *args, credentials: Optional[bytes] = None, **kwargs):
        super().__init__(*args, **kwargs)
        self._credentials = credentials

    def _connect(self):
        super()._connect()
        if self._credentials is None:
            return
        sock = self.sock
        sock.sendall(b"set auth 0 0 %d\r\n%s\r\n" % (len(self._credentials), self._credentials))
        line = b""
        while not line.endswith(b"\r\n"):
            chunk = sock.recv(256)
            if not chunk:
                self.close()
                raise MemcacheUnexpectedCloseError()
            line += chunk
        if line != b"STORED\r\n":
            self.close()
            raise AuthenticationFailed(f"authentication refused: {line.strip().decode(errors='replace')}")


def credentials_line(username: Optional[str], password: Optional[str]) -> Optional[bytes]:
    """The data of the authentication ``set``, or None without credentials.  memcached
    splits it on spaces, so neither part may hold one (nor a line break)."""
    if username is None and password is None:
        return None
    if not username or not password:
        raise ValueError("dogpiled: username and password go together")
    for part in (username, password):
        if any(c in part for c in " \r\n\0"):
            raise ValueError("dogpiled: a username or password cannot hold spaces or line breaks")
    return f"{username} {password}".encode()


class DaemonConnection:
    """One connection to one daemon: pymemcache's classic commands plus ``request()``
    for the lock verbs."""

    def __init__(self, address: ServerAddress, *, connect_timeout: float, timeout: float,
                 tls_context=None, socket_keepalive=None, credentials: Optional[bytes] = None):
        self.address = address
        self.timeout = timeout
        server = address.path if address.is_unix else (address.host, address.port)
        kwargs = {}
        if socket_keepalive is not None:
            kwargs["socket_keepalive"] = socket_keepalive
        self.client = _AuthenticatingClient(
            server, serde=pickle_serde, connect_timeout=connect_timeout, timeout=timeout,
            no_delay=True, default_noreply=False, allow_unicode_keys=True, encoding="utf8",
            tls_context=tls_context, credentials=credentials, **kwargs)

    def request(self, command: bytes, timeout: Optional[float] = None) -> protocol.Reply:
        """Send one lock-verb command and read its one reply (waiting up to ``timeout``)."""
        if self.client.sock is None:
            self.client._connect()      # pymemcache's own connect: TCP, Unix or TLS
        sock = self.client.sock
        reader = protocol.ReplyReader()
        sock.settimeout(self.timeout if timeout is None else timeout)
        try:
            sock.sendall(command)
            while True:
                reply = reader.reply()
                if reply is not None:
                    return protocol.raise_for_error(reply, self.address.name)
                data = sock.recv(65536)
                if not data:
                    raise MemcacheUnexpectedCloseError()
                reader.feed(data)
        finally:
            if self.client.sock is sock:
                sock.settimeout(self.timeout)

    def request_multi(self, command: bytes, count: int) -> List[protocol.Reply]:
        """Send one ``mlockgen`` for ``count`` keys and read its blocks (never waits on the
        server).  Per-key ``SERVER_ERROR`` blocks are returned; a whole-request error raises."""
        if self.client.sock is None:
            self.client._connect()
        sock = self.client.sock
        reader = protocol.MultiReader(count)
        sock.settimeout(self.timeout)
        sock.sendall(command)
        while True:
            replies = reader.read()
            if replies is not None:
                if len(replies) != count:          # ERROR / CLIENT_ERROR for the whole line
                    protocol.raise_for_error(replies[0], self.address.name)
                    raise protocol.ProtocolError(f"mlockgen: {replies[0].line!r}")
                return replies
            data = sock.recv(65536)
            if not data:
                raise MemcacheUnexpectedCloseError()
            reader.feed(data)

    def close(self) -> None:
        self.client.close()


def _is_connection_failure(error: BaseException) -> bool:
    return isinstance(error, (OSError, socket.timeout, MemcacheUnexpectedCloseError))


class DaemonPool:
    """Idle connections to one daemon, and whether it is believed dead."""

    def __init__(self, address: ServerAddress, *, retry_after: float = 30.0, max_idle: int = 32,
                 connect_timeout: float = 2.0, timeout: float = 5.0, tls_context=None,
                 socket_keepalive=None, credentials: Optional[bytes] = None):
        self.address = address
        self.retry_after = retry_after
        self.max_idle = max_idle
        self._connection_args = dict(connect_timeout=connect_timeout, timeout=timeout,
                                     tls_context=tls_context, socket_keepalive=socket_keepalive,
                                     credentials=credentials)
        self._idle: List[DaemonConnection] = []
        self._lock = threading.Lock()
        self.dead_until = 0.0
        # issue 11's verbs, until the daemon answers ERROR to them (an older dogpiled)
        self.knows_early = True
        self.knows_mlockgen = True

    @property
    def name(self) -> str:
        return self.address.name

    def is_dead(self, now: Optional[float] = None) -> bool:
        return (time.monotonic() if now is None else now) < self.dead_until

    def mark_dead(self, cause: object) -> None:
        with self._lock:
            if not self.is_dead():
                log.warning("dogpiled daemon %s is down (%s); retrying after %.0f s",
                            self.name, cause, self.retry_after)
            self.dead_until = time.monotonic() + self.retry_after
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def checkout(self) -> DaemonConnection:
        """A connection for this caller alone: give it back with ``checkin`` or ``discard``."""
        if self.is_dead():
            raise DaemonDown(self.name, "marked dead; retried after retry_after")
        with self._lock:
            if self._idle:
                return self._idle.pop()
        return DaemonConnection(self.address, **self._connection_args)

    def checkin(self, conn: DaemonConnection) -> None:
        """Pool a connection whose last request completed."""
        with self._lock:
            if len(self._idle) < self.max_idle and not self.is_dead():
                self._idle.append(conn)
                return
        conn.close()

    def discard(self, conn: DaemonConnection, error: BaseException) -> Optional[DaemonDown]:
        """Close a connection whose request failed; a connection failure marks the
        daemon dead and comes back as the ``DaemonDown`` to raise."""
        conn.close()
        if _is_connection_failure(error) and not isinstance(error, DaemonDown):
            self.mark_dead(error)
            return DaemonDown(self.name, error)
        return None

    @contextlib.contextmanager
    def connection(self) -> Iterator[DaemonConnection]:
        """``checkout``/``checkin`` around a block; raises ``DaemonDown`` on connection failures."""
        conn = self.checkout()
        try:
            yield conn
        except BaseException as error:
            down = self.discard(conn, error)
            if down is not None:
                raise down from error
            raise
        self.checkin(conn)

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()


def classic_error(error: BaseException) -> bool:
    """Errors of pymemcache's classic commands that mean "this daemon is unusable"."""
    return _is_connection_failure(error) or isinstance(error, MemcacheError)
