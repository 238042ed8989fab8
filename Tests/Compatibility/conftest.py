"""Shared fixtures for the dogpiled compatibility suite.

* ``free_port()``            -- a currently unused TCP port on 127.0.0.1.
* ``Server``                 -- starts a server process, waits until its port
                                accepts connections (10 s), kills it on stop.
* ``RawClient``              -- raw socket client; ``exchange()`` sends bytes and
                                reads until a full reply has arrived.
* ``reference_command`` / ``candidate_command`` -- the command lines used for
  memcached (the reference) and dogpiled (the candidate).

Environment:

* ``MEMCACHED_BIN``  reference binary (default: ``memcached`` on PATH, then
                     /usr/bin/memcached).  Missing => tests SKIP.
* ``DOGPILED_BIN``   candidate binary (default: first existing of
                     <repo>/.build/release/dogpiled, <repo>/.build/debug/dogpiled).
                     Missing => tests FAIL.
* ``DOGPILED_CMD``   full candidate command line overriding the above, with
                     ``{port}`` where the port goes, e.g. to validate the harness
                     with memcached as candidate:
                     DOGPILED_CMD='memcached -u root -l 127.0.0.1 -p {port} -U 0 -t 2 -m 64'
"""

from __future__ import annotations

import os
import selectors
import shlex
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parent.parent
HOST = "127.0.0.1"
START_TIMEOUT = 10.0


# --------------------------------------------------------------------------
# locating the binaries
# --------------------------------------------------------------------------

def memcached_path() -> str | None:
    env = os.environ.get("MEMCACHED_BIN")
    if env:
        return env if os.path.exists(env) else None
    found = shutil.which("memcached")
    if found:
        return found
    return "/usr/bin/memcached" if os.path.exists("/usr/bin/memcached") else None


def reference_command(port: int, extra: tuple[str, ...] = ()) -> list[str]:
    """memcached command line (plus server flags ``extra``, e.g. ``("-C",)``); skips the
    calling test if memcached is missing."""
    path = memcached_path()
    if path is None:
        pytest.skip("reference memcached not found (install Debian's memcached "
                    "1.6.18 or set MEMCACHED_BIN)")
    cmd = [path]
    if os.geteuid() == 0:
        cmd += ["-u", "root"]
    cmd += ["-l", HOST, "-p", str(port), "-U", "0", "-t", "2", "-m", "64", *extra]
    return cmd


def dogpiled_path() -> str | None:
    env = os.environ.get("DOGPILED_BIN")
    if env:
        return env
    for kind in ("release", "debug"):
        p = REPO_ROOT / ".build" / kind / "dogpiled"
        if p.exists():
            return str(p)
    return None


def candidate_command(port: int, extra: tuple[str, ...] = ()) -> list[str]:
    """dogpiled command line (or DOGPILED_CMD) plus server flags ``extra``; FAILS the test if
    missing."""
    custom = os.environ.get("DOGPILED_CMD")
    if custom:
        return [a.replace("{port}", str(port)) for a in shlex.split(custom)] + list(extra)
    path = dogpiled_path()
    if path is None or not os.path.exists(path):
        pytest.fail(
            "dogpiled binary not found: looked at "
            f"{os.environ.get('DOGPILED_BIN') or REPO_ROOT / '.build/{release,debug}/dogpiled'}. "
            "Build it (swift build -c release) or set DOGPILED_BIN / DOGPILED_CMD.",
            pytrace=False)
    cmd = [path, "-l", HOST, "-p", str(port), "-t", "2", "-m", "64"]
    # As root, dogpiled (like memcached) refuses to start without -u; -u root says so.
    if os.geteuid() == 0:
        cmd += ["-u", "root"]
    return cmd + list(extra)


# --------------------------------------------------------------------------
# process management
# --------------------------------------------------------------------------

def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


class ServerStartError(RuntimeError):
    pass


class Server:
    """A server process listening on 127.0.0.1:port.

    ``command`` is a callable port -> argv (so a fresh port can be tried when
    the first one was taken in the meantime).
    """

    def __init__(self, name: str, command, attempts: int = 3):
        self.name = name
        self._command = command
        self._attempts = attempts
        self.port: int | None = None
        self.argv: list[str] = []
        self.proc: subprocess.Popen | None = None
        self._log = None

    # -- lifecycle --------------------------------------------------------
    def start(self) -> "Server":
        last_err = None
        for _ in range(self._attempts):
            port = free_port()
            argv = self._command(port)
            try:
                self._spawn(argv, port)
                return self
            except ServerStartError as e:  # port race or crash: retry
                last_err = e
                self.stop()
        raise last_err  # type: ignore[misc]

    def _spawn(self, argv: list[str], port: int) -> None:
        self.port, self.argv = port, argv
        self._log = tempfile.TemporaryFile()
        try:
            self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL,
                                         stdout=self._log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
        except OSError as e:
            raise ServerStartError(f"{self.name}: cannot execute {argv!r}: {e}") from e
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ServerStartError(
                    f"{self.name} exited with {self.proc.returncode} during startup: "
                    f"{shlex.join(argv)}\n--- output ---\n{self.log_tail()}")
            try:
                socket.create_connection((HOST, port), timeout=0.5).close()
                return
            except OSError:
                time.sleep(0.02)
        raise ServerStartError(f"{self.name} did not accept connections on port {port} "
                               f"within {START_TIMEOUT}s: {shlex.join(argv)}\n"
                               f"--- output ---\n{self.log_tail()}")

    def log_tail(self, limit: int = 4000) -> str:
        if self._log is None:
            return ""
        try:
            self._log.flush()
            self._log.seek(0, os.SEEK_END)
            size = self._log.tell()
            self._log.seek(max(0, size - limit))
            return self._log.read().decode("utf-8", "replace")
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
        if self._log is not None:
            self._log.close()
            self._log = None

    def __enter__(self) -> "Server":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def client(self, **kw) -> "RawClient":
        return RawClient(HOST, self.port, **kw)

    def describe(self) -> str:
        return shlex.join(self.argv)


# --------------------------------------------------------------------------
# raw protocol client
# --------------------------------------------------------------------------

SENTINEL = b"version\r\n"


@dataclass
class Reply:
    data: bytes            # reply bytes, sentinel VERSION line removed
    closed: bool = False   # the server closed (or reset) the connection
    timed_out: bool = False

    def outcome(self) -> bytes:
        tail = b"<CLOSED>" if self.closed else b"<TIMEOUT>" if self.timed_out else b""
        return self.data + tail


class RawClient:
    """One persistent connection.  ``exchange(payload)`` sends ``payload`` and
    then ``version\\r\\n`` and reads until the ``VERSION ...`` line answering
    that sentinel (VALUE data blocks are skipped structurally, so values
    containing "VERSION" cannot confuse it), until the server closes, or until
    the timeout.  Sending and receiving overlap, so huge payloads or replies
    cannot deadlock."""

    def __init__(self, host: str, port: int, timeout: float = 15.0):
        self.host, self.port, self.timeout = host, port, timeout
        self.sock: socket.socket | None = None
        self.connect()

    def connect(self) -> None:
        self.close()
        self.sock = socket.create_connection((self.host, self.port), timeout=5)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.sock.setblocking(False)

    def close(self) -> None:
        if self.sock is not None:
            try:
                self.sock.close()
            finally:
                self.sock = None

    def reconnect(self) -> None:
        self.connect()

    # -- reply framing -----------------------------------------------------
    @staticmethod
    def _find_sentinel(buf: bytes, pos: int):
        """Scan complete reply units from ``pos``.  Returns (start_of_version_line,
        end_of_version_line) when found, else (None, resume_pos)."""
        n = len(buf)
        while pos < n:
            nl = buf.find(b"\n", pos)
            if nl < 0:
                return None, pos
            line = buf[pos:nl + 1]
            if line.startswith(b"VERSION "):
                return pos, nl + 1
            if line.startswith(b"VALUE ") or line.startswith(b"VA "):
                toks = line.rstrip(b"\r\n").split(b" ")
                size = 3 if toks[0] == b"VALUE" else 1   # VALUE k f <n>, VA <n> (meta)
                if len(toks) > size and toks[size].isdigit() and len(toks[size]) < 12:
                    end = nl + 1 + int(toks[size]) + 2
                    if end > n:
                        return None, pos
                    pos = end
                    continue
            pos = nl + 1
        return None, pos

    def exchange(self, payload: bytes, fragments=None, sentinel: bool = True,
                 timeout: float | None = None) -> Reply:
        """Send ``payload`` (+ sentinel) and read the complete reply.

        ``fragments``: optional list of chunk sizes; the payload is then sent in
        pieces of those sizes with a short pause between them."""
        assert self.sock is not None
        timeout = self.timeout if timeout is None else timeout
        out = payload + (SENTINEL if sentinel else b"")
        chunks = []
        if fragments:
            off = 0
            for size in fragments:
                if off >= len(out):
                    break
                chunks.append(out[off:off + size])
                off += size
            if off < len(out):
                chunks.append(out[off:])
        else:
            chunks = [out]
        pending = memoryview(chunks.pop(0))
        buf = bytearray()
        scan = 0
        deadline = time.monotonic() + timeout
        pause_until = 0.0
        sel = selectors.DefaultSelector()
        sel.register(self.sock, selectors.EVENT_READ | selectors.EVENT_WRITE)
        write_open = True
        try:
            while True:
                now = time.monotonic()
                if now >= deadline:
                    return Reply(bytes(buf), timed_out=True)
                want_write = write_open and (len(pending) > 0 or chunks) and now >= pause_until
                sel.modify(self.sock, selectors.EVENT_READ |
                           (selectors.EVENT_WRITE if want_write else 0))
                wait = deadline - now
                if write_open and not want_write and (len(pending) or chunks):
                    wait = min(wait, max(0.0, pause_until - now))
                events = sel.select(timeout=min(wait, 0.5))
                for _key, mask in events:
                    if mask & selectors.EVENT_READ:
                        try:
                            data = self.sock.recv(1 << 20)
                        except BlockingIOError:
                            data = None
                        except (ConnectionResetError, ConnectionAbortedError):
                            return Reply(bytes(buf), closed=True)
                        if data is not None:
                            if not data:
                                return Reply(bytes(buf), closed=True)
                            buf += data
                            if sentinel:
                                start, end = self._find_sentinel(bytes(buf), scan)
                                if start is not None:
                                    # anything after the sentinel reply is a
                                    # protocol violation; keep it visible.
                                    return Reply(bytes(buf[:start]) + bytes(buf[end:]))
                                scan = end
                    if mask & selectors.EVENT_WRITE and want_write:
                        try:
                            sent = self.sock.send(pending)
                            pending = pending[sent:]
                        except BlockingIOError:
                            pass
                        except (BrokenPipeError, ConnectionResetError):
                            write_open = False  # keep reading what is left
                        if write_open and len(pending) == 0 and chunks:
                            pending = memoryview(chunks.pop(0))
                            pause_until = time.monotonic() + 0.002
        finally:
            sel.close()

    def request(self, payload: bytes, **kw) -> bytes:
        """Convenience: exchange() and return the reply bytes (asserts the
        connection stayed open)."""
        r = self.exchange(payload, **kw)
        assert not r.closed and not r.timed_out, f"{payload!r} -> {r}"
        return r.data


# --------------------------------------------------------------------------
# fixtures
# --------------------------------------------------------------------------

@pytest.fixture
def reference_factory():
    """Call (with optional server flags, e.g. ``make("-C")``) to start a fresh memcached; all
    are stopped at teardown."""
    started: list[Server] = []

    def make(*extra: str) -> Server:
        s = Server("memcached", lambda port: reference_command(port, extra))
        started.append(s)
        return s.start()
    yield make
    for s in started:
        s.stop()


@pytest.fixture
def candidate_factory():
    """Call (with optional server flags, as reference_factory) to start a fresh dogpiled (or
    DOGPILED_CMD); stopped at teardown."""
    started: list[Server] = []

    def make(*extra: str) -> Server:
        s = Server("dogpiled", lambda port: candidate_command(port, extra))
        started.append(s)
        return s.start()
    yield make
    for s in started:
        s.stop()


@pytest.fixture
def memcached_server(reference_factory) -> Server:
    return reference_factory()


@pytest.fixture
def dogpiled_server(candidate_factory) -> Server:
    return candidate_factory()
