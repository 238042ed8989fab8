"""Raw-socket client and process helpers for the dogpiled locking suite.

* ``dogpiled``          -- a fresh dogpiled (``-t 4 -m 64``) on a free loopback
                           port, stopped after the test.
* ``dogpiled_factory``  -- ``dogpiled_factory("--region", "soft:...")`` starts
                           one with extra arguments; all are stopped afterwards.
* ``Conn``              -- one connection: ``cmd()`` sends a line and reads one
                           reply; ``send()`` / ``read_reply()`` split the two so a
                           request can be left waiting on the server.

Environment: ``DOGPILED_BIN`` overrides the binary (default:
<repo>/.build/debug/dogpiled, computed from this file's location).  A missing
binary FAILS the tests; it never skips them.
"""

from __future__ import annotations

import os
import select
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent
HOST = "127.0.0.1"
START_TIMEOUT = 15.0
DEFAULT_ARGS = ["-t", "4", "-m", "64"]


def dogpiled_bin() -> str:
    return os.environ.get("DOGPILED_BIN") or str(REPO_ROOT / ".build" / "debug" / "dogpiled")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class Daemon:
    """One dogpiled process on 127.0.0.1:port."""

    def __init__(self, extra_args=()):
        self.extra_args = list(extra_args)
        self.port: int | None = None
        self.proc: subprocess.Popen | None = None
        self.log = None
        self.argv: list[str] = []

    def start(self) -> "Daemon":
        path = dogpiled_bin()
        if not os.path.exists(path):
            pytest.fail(f"dogpiled binary not found at {path}: build it with "
                        "`swift build --product dogpiled` or set DOGPILED_BIN", pytrace=False)
        last = ""
        for _attempt in range(3):
            self.port = free_port()
            self.argv = [path, "-l", HOST, "-p", str(self.port), *DEFAULT_ARGS, *self.extra_args]
            # As root, dogpiled (like memcached) refuses to start without -u; -u root says so.
            if os.geteuid() == 0 and "-u" not in self.argv:
                self.argv += ["-u", "root"]
            self.log = tempfile.TemporaryFile()
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=self.log,
                                         stderr=subprocess.STDOUT, start_new_session=True)
            deadline = time.monotonic() + START_TIMEOUT
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break
                try:
                    socket.create_connection((HOST, self.port), timeout=0.5).close()
                    return self
                except OSError:
                    time.sleep(0.02)
            last = self.log_text()
            self.stop()
        pytest.fail(f"dogpiled did not start: {' '.join(self.argv)}\n{last}", pytrace=False)

    def log_text(self) -> str:
        if self.log is None:
            return ""
        try:
            self.log.flush()
            self.log.seek(0)
            return self.log.read()[-4000:].decode("utf-8", "replace")
        except (OSError, ValueError):
            return ""

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        if self.proc is not None:
            if self.proc.poll() is None:
                self.proc.kill()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                pass
            self.proc = None
        if self.log is not None:
            self.log.close()
            self.log = None

    def conn(self, timeout: float = 10.0) -> "Conn":
        return Conn(HOST, self.port, timeout=timeout)

    def stats(self, sub: str = "") -> dict[str, str]:
        c = self.conn()
        try:
            return c.stats(sub)
        finally:
            c.close()


# --------------------------------------------------------------------------
# replies
# --------------------------------------------------------------------------

@dataclass
class Value:
    key: str
    flags: int
    data: bytes
    cas: int | None


@dataclass
class Reply:
    values: list[Value] = field(default_factory=list)
    stats: list[tuple[str, str]] = field(default_factory=list)
    line: str = ""          # the closing line: HIT, GEN <n>, STALE, BUSY, STORED, ...
    at: float = 0.0         # time.monotonic() when the reply was complete

    @property
    def word(self) -> str:
        return self.line.split(" ", 1)[0]

    @property
    def token(self) -> int:
        parts = self.line.split()
        assert len(parts) == 2 and parts[0] in ("GEN", "LOCKED"), f"no token in {self.line!r}"
        return int(parts[1])

    def __repr__(self) -> str:
        vals = ",".join(f"{v.key}={v.data!r}" for v in self.values)
        return f"<Reply {self.line!r}{' values=' + vals if vals else ''}>"


class ReplyParser:
    """Incremental parser: feed bytes, pop complete replies.

    A reply is any number of VALUE blocks and STAT lines followed by one other
    line (HIT, GEN n, STALE, BUSY, END, STORED, ERROR, ...)."""

    def __init__(self):
        self.buf = bytearray()
        self.pos = 0
        self.cur = Reply()
        self.done: list[Reply] = []

    def feed(self, data: bytes, now: float | None = None) -> None:
        self.buf += data
        now = time.monotonic() if now is None else now
        buf = self.buf
        while True:
            nl = buf.find(b"\n", self.pos)
            if nl < 0:
                break
            line = bytes(buf[self.pos:nl]).rstrip(b"\r")
            if line.startswith(b"VALUE "):
                toks = line.split()
                n = int(toks[3])
                end = nl + 1 + n + 2
                if end > len(buf):
                    break
                data_block = bytes(buf[nl + 1:nl + 1 + n])
                assert buf[nl + 1 + n:end] == b"\r\n", f"bad data block terminator after {line!r}"
                self.cur.values.append(Value(toks[1].decode(), int(toks[2]), data_block,
                                             int(toks[4]) if len(toks) > 4 else None))
                self.pos = end
                continue
            self.pos = nl + 1
            if line.startswith(b"STAT "):
                _, k, v = (line.decode().split(" ", 2) + [""])[:3]
                self.cur.stats.append((k, v))
                continue
            self.cur.line = line.decode("utf-8", "replace")
            self.cur.at = now
            self.done.append(self.cur)
            self.cur = Reply()
        if self.pos > 65536:
            del self.buf[:self.pos]
            self.pos = 0

    @property
    def partial(self) -> bool:
        return self.pos < len(self.buf) or bool(self.cur.values or self.cur.stats)


class Conn:
    """One connection with a blocking socket and a reply parser."""

    def __init__(self, host: str, port: int, timeout: float = 10.0):
        self.sock = socket.create_connection((host, port), timeout=10)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.timeout = timeout
        self.parser = ReplyParser()
        self.sent_at = 0.0

    def fileno(self) -> int:
        return self.sock.fileno()

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def send(self, data: bytes | str) -> None:
        if isinstance(data, str):
            data = data.encode()
        self.sent_at = time.monotonic()
        self.sock.sendall(data)

    def pump(self) -> bool:
        """Read what is there (the socket must be readable). False on EOF."""
        data = self.sock.recv(1 << 20)
        if not data:
            return False
        self.parser.feed(data)
        return True

    def read_reply(self, timeout: float | None = None) -> Reply:
        timeout = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        while not self.parser.done:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(f"no complete reply within {timeout}s "
                                   f"(have {bytes(self.parser.buf[self.parser.pos:])!r})")
            r, _, _ = select.select([self.sock], [], [], left)
            if r and not self.pump():
                raise ConnectionError("server closed the connection")
        return self.parser.done.pop(0)

    def read_replies(self, n: int, timeout: float | None = None) -> list[Reply]:
        return [self.read_reply(timeout) for _ in range(n)]

    def cmd(self, line: str | bytes, timeout: float | None = None) -> Reply:
        if isinstance(line, str):
            line = line.encode()
        if not line.endswith(b"\n"):
            line += b"\r\n"
        self.send(line)
        return self.read_reply(timeout)

    def has_data(self, wait: float = 0.0) -> bool:
        """True when the socket has bytes (or EOF) pending, or a parsed reply is queued."""
        if self.parser.done or self.parser.partial:
            return True
        r, _, _ = select.select([self.sock], [], [], wait)
        return bool(r)

    def stats(self, sub: str = "") -> dict[str, str]:
        r = self.cmd(f"stats {sub}".strip())
        assert r.line == "END", r
        return dict(r.stats)

    # -- convenience -----------------------------------------------------------
    def set(self, key: str, value: bytes, exptime: int = 0, flags: int = 0) -> Reply:
        return self.cmd(f"set {key} {flags} {exptime} {len(value)}\r\n".encode() + value + b"\r\n")

    def setgen(self, key: str, token: int, value: bytes, exptime: int = 0, flags: int = 0) -> Reply:
        return self.cmd(f"setgen {key} {token} {flags} {exptime} {len(value)}\r\n".encode()
                        + value + b"\r\n")

    def get(self, key: str) -> Reply:
        return self.cmd(f"get {key}")


def none_readable(conns, wait: float = 0.0) -> list:
    """The connections among ``conns`` that have data (select, timeout ``wait``)."""
    ready = [c for c in conns if c.parser.done or c.parser.partial]
    rest = [c for c in conns if c not in ready]
    for i in range(0, len(rest), 500):
        r, _, _ = select.select(rest[i:i + 500], [], [], wait)
        ready += r
    return ready


def collect(conns, timeout: float) -> dict:
    """Wait for one reply on each of ``conns``; returns {conn: Reply}.  The
    Reply's ``at`` is the time its last byte was read."""
    out = {}
    pending = set()
    for c in conns:
        if c.parser.done:
            out[c] = c.parser.done.pop(0)
        else:
            pending.add(c)
    deadline = time.monotonic() + timeout
    poller = select.epoll()
    by_fd = {c.fileno(): c for c in pending}
    for fd in by_fd:
        poller.register(fd, select.EPOLLIN)
    try:
        while pending:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            for fd, _ev in poller.poll(min(left, 0.5)):
                c = by_fd[fd]
                if c not in pending:
                    continue
                if not c.pump():
                    pending.discard(c)
                    poller.unregister(fd)
                    continue
                if c.parser.done:
                    out[c] = c.parser.done.pop(0)
                    pending.discard(c)
                    poller.unregister(fd)
    finally:
        poller.close()
    return out


def percentile(values, p: float) -> float:
    s = sorted(values)
    if not s:
        return float("nan")
    k = min(len(s) - 1, max(0, int(round(p / 100.0 * (len(s) - 1)))))
    return s[k]


