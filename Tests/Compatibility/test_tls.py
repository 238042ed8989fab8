"""TLS (``-Z``): memcached 1.6.18 and dogpiled, both started with the same certificates, get the
same byte streams over TLS (Python's ssl) and must answer the same bytes; pymemcache with a
``tls_context``; the lock verbs over TLS; notls listeners; client certificates; and the bound on
clients that never finish a handshake."""

from __future__ import annotations

import re
import socket
import ssl
import threading
import time

import pytest
from pymemcache.client.base import Client

from conftest import HOST, Server, candidate_command, free_port, reference_command
from tls_certs import make_certificates

VERSION = re.compile(rb"VERSION [^\r\n]*")


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return make_certificates(tmp_path_factory.mktemp("tls"))


def tls_options(certs, extra: str = "") -> list[str]:
    value = f"ssl_chain_cert={certs.server_cert},ssl_key={certs.server_key}"
    return ["-Z", "-o", value + ("," + extra if extra else "")]


def client_context(certs, client_cert: bool = False) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(certs.ca))
    if client_cert:
        context.load_cert_chain(str(certs.client_cert), str(certs.client_key))
    return context


def tls_connect(port: int, context: ssl.SSLContext, timeout: float = 5.0) -> ssl.SSLSocket:
    raw = socket.create_connection((HOST, port), timeout=timeout)
    return context.wrap_socket(raw, server_hostname="localhost")


def talk(sock: socket.socket, data: bytes, quiet: float = 0.3, limit: float = 20.0,
         first_wait: float = 5.0) -> bytes:
    """Sends ``data``; returns what came back until ``quiet`` seconds of silence after the first
    bytes (waiting up to ``first_wait`` for those, so a loaded machine does not cut a reply
    short), with ``<CLOSED>`` appended if the server closed."""
    sock.sendall(data)
    out = b""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        sock.settimeout(quiet if out else first_wait)
        try:
            chunk = sock.recv(1 << 20)
        except (socket.timeout, ssl.SSLWantReadError):
            return out
        except (ConnectionResetError, ssl.SSLEOFError):
            return out + b"<CLOSED>"
        if not chunk:
            return out + b"<CLOSED>"
        out += chunk
    return out + b"<TIMEOUT>"


def stats(port: int, context: ssl.SSLContext | None, group: bytes = b"") -> dict[bytes, bytes]:
    sock = tls_connect(port, context) if context else socket.create_connection((HOST, port), timeout=5)
    with sock:
        reply = talk(sock, b"stats " + group + b"\r\n" if group else b"stats\r\n")
    return dict(line.split(b" ", 2)[1:3] for line in reply.split(b"\r\n") if line.startswith(b"STAT "))


@pytest.fixture
def pair(certs):
    reference = Server("memcached", lambda port: reference_command(port) + tls_options(certs)).start()
    candidate = Server("dogpiled", lambda port: candidate_command(port) + tls_options(certs)).start()
    yield reference, candidate
    reference.stop()
    candidate.stop()


STREAMS: list[bytes] = [
    b"set a 0 0 3\r\nabc\r\nget a\r\n",
    b"get a b c\r\ngets a\r\n",
    b"set k 5 0 2\r\nhi\r\nappend k 0 0 2\r\n!!\r\nget k\r\ndelete k\r\nget k\r\n",
    b"incr n 1\r\nset n 0 0 1\r\n7\r\nincr n 5\r\ndecr n 100\r\n",
    b"mn\r\nms m 2 T0\r\nhi\r\nmg m v f\r\nmd m q\r\nmn\r\n",
    b"refresh_certs\r\n",
    b"refresh_certs noreply\r\nversion\r\n",
    b"refresh_cert\r\n",
    b"bogus command\r\n",
    # Separate streams: memcached 1.6.18 leaves a request that arrived in the same TLS record as
    # a large value's end inside OpenSSL unanswered until more bytes come (dogpiled answers it).
    b"set big 0 0 300000\r\n" + bytes(range(256)) * 1171 + b"\x00" * 224 + b"\r\n",
    b"get big\r\n",
    b"version\r\nquit\r\n",
]


def test_tls_streams_get_memcached_bytes(pair, certs):
    context = client_context(certs)
    mismatches = []
    for stream in STREAMS:
        replies = []
        for server in pair:
            with tls_connect(server.port, context) as sock:
                replies.append(VERSION.sub(b"VERSION <v>", talk(sock, stream, quiet=0.6)))
        if replies[0] != replies[1]:
            mismatches.append(f"{stream[:50]!r}: memcached {replies[0][:200]!r} dogpiled {replies[1][:200]!r}")
    assert not mismatches, "\n".join(mismatches)


def test_tls_stats_fields_match(pair, certs):
    context = client_context(certs)
    reference, candidate = (stats(server.port, context, b"settings") for server in pair)
    names = [name for name in reference if name.startswith(b"ssl_")]
    assert names, "memcached printed no ssl_ settings"
    assert {name: reference[name] for name in names} == {name: candidate.get(name) for name in names}
    general = [stats(server.port, context) for server in pair]
    for name in (b"ssl_handshake_errors", b"time_since_server_cert_refresh"):
        assert name in general[0] and name in general[1], name


def test_pymemcache_with_tls_context(pair, certs):
    _, candidate = pair
    client = Client((HOST, candidate.port), tls_context=client_context(certs), connect_timeout=5, timeout=10)
    try:
        big = bytes(range(256)) * 4000
        assert client.set("plain", b"hello") is True
        assert client.get("plain") == b"hello"
        assert client.set("big", big) is True
        assert client.get("big") == big
        assert client.get_many(["plain", "big", "missing"]) == {"plain": b"hello", "big": big}
        assert client.incr("missing-counter", 1) is None
        assert client.delete("plain") is True
    finally:
        client.close()


def test_lock_verbs_over_tls_wake_a_parked_waiter(pair, certs):
    _, candidate = pair
    context = client_context(certs)
    holder = tls_connect(candidate.port, context)
    waiter = tls_connect(candidate.port, context)
    try:
        granted = talk(holder, b"lockgen k 10000\r\n")
        token = re.fullmatch(rb"GEN (\d+)\r\n", granted)
        assert token, granted
        # The waiter parks; its answer must come through SSL_write when the holder stores.
        waiter.sendall(b"lockgen k 10000 5000\r\n")
        time.sleep(0.3)
        started = time.monotonic()
        assert talk(holder, b"setgen k " + token.group(1) + b" 0 0 5\r\nvalue\r\n") == b"STORED\r\n"
        woken = b""
        waiter.settimeout(5)
        while not woken.endswith(b"HIT\r\n"):
            chunk = waiter.recv(65536)
            assert chunk, woken
            woken += chunk
        assert woken.startswith(b"VALUE k 0 5") and b"value" in woken, woken
        # Woken by the store, not by its 5 s wait running out.
        assert time.monotonic() - started < 4
    finally:
        holder.close()
        waiter.close()


def test_notls_listener_stays_plain(certs):
    plain_port = free_port()

    def command(port):
        argv = candidate_command(port) + tls_options(certs)
        index = argv.index("-l")
        argv[index + 1] = f"{HOST},notls:{HOST}:{plain_port}"
        return argv

    server = Server("dogpiled", command).start()
    try:
        with socket.create_connection((HOST, plain_port), timeout=5) as plain:
            assert talk(plain, b"set p 0 0 1\r\nx\r\nget p\r\n") == b"STORED\r\nVALUE p 0 1\r\nx\r\nEND\r\n"
        with tls_connect(server.port, client_context(certs)) as secure:
            assert talk(secure, b"get p\r\n") == b"VALUE p 0 1\r\nx\r\nEND\r\n"
        # The TLS port does not speak plain text.
        with socket.create_connection((HOST, server.port), timeout=5) as wrong:
            assert not talk(wrong, b"get p\r\n", quiet=1.0).startswith(b"VALUE")
    finally:
        server.stop()


def test_client_certificates_required_with_verify_mode_2(certs):
    extra = f"ssl_verify_mode=2,ssl_ca_cert={certs.ca}"
    server = Server("dogpiled", lambda port: candidate_command(port) + tls_options(certs, extra)).start()
    try:
        with tls_connect(server.port, client_context(certs, client_cert=True)) as sock:
            assert talk(sock, b"version\r\n").startswith(b"VERSION ")
        with pytest.raises((ssl.SSLError, ConnectionResetError, BrokenPipeError)):
            with tls_connect(server.port, client_context(certs)) as sock:
                # TLS 1.3 reports the refused certificate on the first read.
                reply = talk(sock, b"version\r\n", quiet=1.0)
                if not reply or reply.endswith(b"<CLOSED>"):
                    raise ssl.SSLError("closed")
        assert int(stats(server.port, client_context(certs, client_cert=True))[b"ssl_handshake_errors"]) >= 1
    finally:
        server.stop()


def test_refresh_certs_loads_the_new_chain(tmp_path, certs):
    import shutil
    chain, key = tmp_path / "chain.pem", tmp_path / "key.pem"
    shutil.copy(certs.server_cert, chain)
    shutil.copy(certs.server_key, key)
    options = ["-Z", "-o", f"ssl_chain_cert={chain},ssl_key={key}"]
    server = Server("dogpiled", lambda port: candidate_command(port) + options).start()
    try:
        context = client_context(certs)
        with tls_connect(server.port, context) as sock:
            first = sock.getpeercert(binary_form=True)
            shutil.copy(certs.other_server_cert, chain)
            shutil.copy(certs.other_server_key, key)
            assert talk(sock, b"refresh_certs\r\n") == b"OK\r\n"
        with tls_connect(server.port, context) as sock:
            assert sock.getpeercert(binary_form=True) != first
            # A chain that no longer loads: memcached's error line, and the old one stays.
            chain.write_text("not a certificate\n")
            assert talk(sock, b"refresh_certs noreply\r\n") == f"Error loading the certificate chain: {chain}\r\n".encode()
        with tls_connect(server.port, context) as sock:
            assert talk(sock, b"version\r\n").startswith(b"VERSION ")
    finally:
        server.stop()


def test_stalled_handshakes_are_disconnected(certs):
    """Clients that connect to the TLS port and never finish a handshake (silent, or a partial
    ClientHello) are closed after tls_handshake_timeout and counted; the slots come back."""
    server = Server("dogpiled", lambda port: candidate_command(port) + tls_options(certs)
                    + ["--tls-handshake-timeout", "1"]).start()
    stalled = []
    try:
        for index in range(40):
            sock = socket.create_connection((HOST, server.port), timeout=5)
            if index % 2:
                sock.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")  # a ClientHello's start
            stalled.append(sock)
        context = client_context(certs)
        before = stats(server.port, context)
        assert int(before[b"curr_connections"]) >= 41
        deadline = time.monotonic() + 10
        closed = 0
        for sock in stalled:
            sock.settimeout(max(0.1, deadline - time.monotonic()))
            try:
                if sock.recv(4096) == b"":
                    closed += 1
            except ConnectionResetError:
                closed += 1
            except socket.timeout:
                pass
        assert closed == len(stalled)
        after = stats(server.port, context)
        assert int(after[b"ssl_handshake_timeouts"]) == len(stalled)
        assert int(after[b"curr_connections"]) <= 2
    finally:
        for sock in stalled:
            sock.close()
        server.stop()


def test_garbage_on_the_tls_port_is_a_handshake_error(certs):
    server = Server("dogpiled", lambda port: candidate_command(port) + tls_options(certs)).start()
    try:
        with socket.create_connection((HOST, server.port), timeout=5) as sock:
            assert talk(sock, b"get foo\r\n" * 20, quiet=1.0).endswith(b"<CLOSED>")
        assert stats(server.port, client_context(certs))[b"ssl_handshake_errors"] == b"1"
    finally:
        server.stop()


def test_auth_and_tls_together(certs, tmp_path):
    auth = tmp_path / "auth"
    auth.write_text("alice:secret\n")
    replies = []
    for make in (reference_command, candidate_command):
        server = Server("s", lambda port, make=make: make(port) + tls_options(certs) + ["-Y", str(auth)]).start()
        try:
            with tls_connect(server.port, client_context(certs)) as sock:
                replies.append(VERSION.sub(b"VERSION <v>", talk(sock, b"get a\r\n") + talk(
                    sock, b"set x 0 0 12\r\nalice secret\r\nversion\r\n")))
        finally:
            server.stop()
    assert replies[0] == replies[1] == b"CLIENT_ERROR unauthenticated\r\nSTORED\r\nVERSION <v>\r\n"


def test_many_tls_clients_at_once(pair, certs):
    _, candidate = pair
    context = client_context(certs)
    errors = []

    def worker(index):
        try:
            with tls_connect(candidate.port, context) as sock:
                for round_ in range(20):
                    value = f"{index}-{round_}".encode()
                    stream = b"set t%d 0 0 %d\r\n%s\r\nget t%d\r\n" % (index, len(value), value, index)
                    want = b"STORED\r\nVALUE t%d 0 %d\r\n%s\r\nEND\r\n" % (index, len(value), value)
                    sock.sendall(stream)
                    got = b""
                    sock.settimeout(5)
                    while len(got) < len(want):
                        chunk = sock.recv(4096)
                        if not chunk:
                            break
                        got += chunk
                    if got != want:
                        errors.append((index, got))
                        return
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append((index, repr(error)))

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not errors, errors[:3]


@pytest.mark.parametrize("options", [
    lambda certs: ["-Z"],
    lambda certs: ["-Z", "-o", f"ssl_chain_cert={certs.server_cert}"],
    lambda certs: tls_options(certs, "ssl_ciphers=BOGUS"),
    lambda certs: ["-Z", "-o", f"ssl_chain_cert={certs.server_cert},ssl_key={certs.other_server_key}"],
])
def test_unusable_tls_settings_refuse_to_start_as_memcached_does(certs, options):
    import subprocess
    statuses = []
    for make in (reference_command, candidate_command):
        argv = make(free_port()) + options(certs)
        try:
            statuses.append(subprocess.run(argv, capture_output=True, timeout=5).returncode)
        except subprocess.TimeoutExpired:
            statuses.append("running")
    # memcached exits EX_USAGE (64); dogpiled likewise, and never crashes.
    assert statuses == [64, 64], statuses


def test_slow_reader_gets_every_byte_over_tls(pair, certs):
    """A reply far larger than the socket buffers, read slowly: SSL_write is retried after
    WANT_WRITE while more replies queue behind (past the 4 MB output high-water), and every
    byte arrives in order."""
    _, candidate = pair
    value = bytes(range(256)) * 4000  # 1 MB
    with tls_connect(candidate.port, client_context(certs), timeout=60) as sock:
        assert talk(sock, b"set big 0 0 %d\r\n" % len(value) + value + b"\r\n") == b"STORED\r\n"
        sock.sendall(b"get big big big big big big\r\nversion\r\n")
        block = b"VALUE big 0 %d\r\n" % len(value) + value + b"\r\n"
        want = block * 6 + b"END\r\n"
        got = bytearray()
        sock.settimeout(60)
        while len(got) < len(want) or b"\r\n" not in got[len(want):]:
            chunk = sock.recv(16384)
            assert chunk, len(got)
            got += chunk
            if len(got) < 2 * len(block):
                time.sleep(0.002)  # slow at first, so the server's writes block
        assert bytes(got[:len(want)]) == want
        assert got[len(want):].startswith(b"VERSION ")


def test_parked_tls_client_that_hangs_up_is_released(pair, certs):
    _, candidate = pair
    context = client_context(certs)
    holder = tls_connect(candidate.port, context)
    try:
        granted = talk(holder, b"lockgen hang 10000\r\n")
        assert granted.startswith(b"GEN "), granted
        waiter = tls_connect(candidate.port, context)
        waiter.sendall(b"lockgen hang 10000 8000\r\n")
        deadline = time.monotonic() + 5
        while stats(candidate.port, context, b"locks").get(b"generation_waiters") != b"1":
            assert time.monotonic() < deadline, "the waiter never parked"
            time.sleep(0.05)
        waiter.close()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            locks = stats(candidate.port, context, b"locks")
            if locks.get(b"generation_waiters") == b"0":
                break
            time.sleep(0.1)
        assert locks.get(b"generation_waiters") == b"0", locks
    finally:
        holder.close()
