"""ASCII authentication (``-Y <authfile>``): memcached 1.6.18 and dogpiled, both started with the
same auth file, get the same byte streams and must answer the same bytes (and close the same
connections).

Before a connection authenticates, memcached answers every request ``CLIENT_ERROR
unauthenticated`` (quit, meta commands and lock verbs included) and keeps only the last reply
of a read: the streams here are sent whole, on a fresh connection each, and read until the
server is quiet or closes.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import time

import pytest

from conftest import HOST, Server, candidate_command, reference_command

VERSION = re.compile(rb"VERSION [^\r\n]*")
AUTH_FILE = b"alice:secret\nbob:pw2\ncarol:p:with:colons\n"

# One case per connection: the whole stream is sent at once.
CASES: list[bytes] = [
    b"get foo\r\n",
    b"version\r\n",
    b"stats\r\n",
    b"quit\r\n",
    b"mg foo v\r\n",
    b"ms foo 2\r\nhi\r\n",
    b"lockgen foo 100\r\n",
    b"lock foo\r\n",
    b"s\n",
    b"\x80\x00\x00\x00",
    b"set a 0 0 12\r\nalice secret\r\nget a\r\n",
    b"set a 0 0 12\r\nalice secreX\r\n",
    b"set a 0 0 12\r\nalice secreX\r\nversion\r\n",
    b"get a\r\nget b\r\n",
    b"set a 0 0 12\r\nalice secreX\r\nset a 0 0 12\r\nalice secret\r\nget a\r\nset a 0 0 1\r\nx\r\nget a\r\n",
    b"set a 0 0 5\r\nalice\r\n",
    b"set a 0 0 5\r\nalicexx",
    b"set a 0 0\r\n",
    b"set a 0 0 x\r\n",
    b"set a 0 0 -1\r\n",
    b"sets a 0 0 5\r\n",
    b"add a 0 0 12\r\nalice secret\r\n",
    b"set a 0 0 12 noreply\r\nalice secret\r\nversion\r\n",
    b"set a 0 0 16\r\nalice secret xyz\r\nversion\r\n",
    b"set a 0 0 13\r\nalice  secret\r\nversion\r\n",
    b"set a 0 0 12\nalice secret\r\nversion\r\n",
    b"set\tb 0 0 12\r\nalice secret\r\n",
    b"set b 0 0 12 \r\nalice secret\r\nversion\r\n",
    b"   set b 0 0 12\r\nalice secret\r\nversion\r\n",
    b"set b 0 0 12\r\nbob pw2\r\nversion\r\n",
    b"set b 0 0 7\r\nbob pw2\r\nversion\r\n",
    b"set b 0 0 18\r\ncarol p:with:colons\r\nversion\r\n",
    b"set a 0 0 12\r\nalice:secret\r\n",
    b"set a 0 0 12\r\n\x00lice secret\r\n",
    b"set a 0 0 15000\r\nalice secret" + b" " * 14988 + b"\r\nversion\r\n",
    b"set a 0 0 15000\r\n" + b"y" * 15000 + b"\r\n",
    b"x" * 2048,
    b"x" * 2049,
    b"set a 0 0 20000\r\n" + b"y" * 20000 + b"\r\n",
    b"set a 0 0 5\r\n\r\n\r\n\r\n\r\nversion\r\n",
    b"gets a\r\n\r\n",
]


def talk(port: int, data: bytes, quiet: float = 0.3, limit: float = 10.0, first_wait: float = 2.0) -> bytes:
    """Sends ``data`` and returns what came back until ``quiet`` seconds pass with nothing after
    the first bytes (up to ``first_wait`` for those, so a loaded machine does not cut a reply
    short), with ``<CLOSED>`` appended if the server closed or reset the connection."""
    with socket.create_connection((HOST, port), timeout=5) as sock:
        sock.sendall(data)
        out = b""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            sock.settimeout(quiet if out else first_wait)
            try:
                chunk = sock.recv(65536)
            except socket.timeout:
                return out
            except ConnectionResetError:
                return out + b"<CLOSED>"
            if not chunk:
                return out + b"<CLOSED>"
            out += chunk
        return out + b"<TIMEOUT>"


@pytest.fixture
def auth_file(tmp_path):
    path = tmp_path / "auth"
    path.write_bytes(AUTH_FILE)
    return path


@pytest.fixture
def servers(auth_file):
    reference = Server("memcached", lambda port: reference_command(port) + ["-Y", str(auth_file)]).start()
    candidate = Server("dogpiled", lambda port: candidate_command(port) + ["-Y", str(auth_file)]).start()
    yield reference, candidate
    reference.stop()
    candidate.stop()


def test_every_stream_gets_memcached_bytes(servers):
    reference, candidate = servers
    mismatches = []
    for case in CASES:
        want = VERSION.sub(b"VERSION <v>", talk(reference.port, case))
        got = VERSION.sub(b"VERSION <v>", talk(candidate.port, case))
        if want != got:
            mismatches.append(f"{case[:60]!r}: memcached {want[:200]!r} dogpiled {got[:200]!r}")
    assert not mismatches, "\n".join(mismatches)


def test_auth_counters_match(servers):
    reference, candidate = servers
    session = b"set a 0 0 12\r\nalice secreX\r\n"
    for server in servers:
        talk(server.port, session)
        talk(server.port, session)
    results = []
    for server in servers:
        reply = talk(server.port, b"set a 0 0 12\r\nalice secret\r\nstats\r\n")
        fields = dict(line.split(b" ")[1:3] for line in reply.split(b"\r\n") if line.startswith(b"STAT "))
        results.append((fields[b"auth_cmds"], fields[b"auth_errors"]))
    assert results[0] == results[1] == (b"3", b"2")


def test_lock_verbs_run_once_authenticated(servers):
    _, candidate = servers
    reply = talk(candidate.port, b"set a 0 0 12\r\nalice secret\r\nlockgen k 1000\r\n")
    assert reply.startswith(b"STORED\r\n")
    assert re.fullmatch(rb"STORED\r\nGEN \d+\r\n", reply), reply


def test_sighup_reloads_the_auth_file(servers, auth_file):
    reference, candidate = servers
    auth_file.write_bytes(b"dave:newpass\n")
    for server in servers:
        os.kill(server.proc.pid, signal.SIGHUP)
    time.sleep(1.5)  # memcached reloads on its next clock tick
    for server in servers:
        assert talk(server.port, b"set a 0 0 12\r\ndave newpass\r\n") == b"STORED\r\n", server.name
        assert talk(server.port, b"set a 0 0 12\r\nalice secret\r\n") == b"CLIENT_ERROR authentication failure\r\n", server.name
    # A file that no longer parses keeps the credentials in force.
    auth_file.write_bytes(b"no colon here\n")
    for server in servers:
        os.kill(server.proc.pid, signal.SIGHUP)
    time.sleep(1.5)
    for server in servers:
        assert talk(server.port, b"set a 0 0 12\r\ndave newpass\r\n") == b"STORED\r\n", server.name


@pytest.mark.parametrize("contents", [b"nocolon\n", b"alice:secret\n\n", None])
def test_unusable_auth_file_refuses_to_start_as_memcached_does(tmp_path, contents):
    import subprocess
    path = tmp_path / "auth"
    if contents is not None:
        path.write_bytes(contents)
    statuses = []
    for command in (reference_command(1), candidate_command(1)):
        try:
            done = subprocess.run(command + ["-Y", str(path)], capture_output=True, timeout=5)
        except subprocess.TimeoutExpired:
            statuses.append(("running", b""))
            continue
        statuses.append((done.returncode, done.stderr))
    assert statuses[0][0] == statuses[1][0] == 1
    # dogpiled prefixes its name; the sentence is memcached's.
    reference_text = statuses[0][1].decode().strip()
    assert reference_text.split(":")[0].split("[")[0] in statuses[1][1].decode()
