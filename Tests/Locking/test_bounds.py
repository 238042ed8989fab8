"""Issue 8, item 1: a multi-get naming a large value thousands of times is held to a bound.

Before the fix, one 60 KB `get` line naming a 1-byte key 30,000 times, whose value is 16 KB,
queued the whole 480 MB reply (each value copied) and RSS grew by about that much. Now the
multi-get stops at the per-connection output high-water and runs on as the client reads, so the
line adds at most 20 MB of RSS whether or not the client reads.
"""

import socket
import time

from lockclient import HOST

VALUE = b"v" * (16 * 1024)
KEYS = 30_000


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise AssertionError("no VmRSS")


def settle_rss(pid: int) -> int:
    time.sleep(0.3)
    return rss_kib(pid)


def test_huge_multiget_is_bounded_and_complete(dogpiled_factory):
    d = dogpiled_factory("-m", "64")
    c = d.conn()
    assert c.set("a", VALUE).line == "STORED"
    idle = settle_rss(d.proc.pid)

    s = socket.create_connection((HOST, d.port))
    s.sendall(b"get" + b" a" * KEYS + b"\r\n")
    # A client that does not read: the server must stop queueing at its high-water.
    time.sleep(1.0)
    stalled = rss_kib(d.proc.pid)
    print(f"idle RSS {idle} KiB, with the reply stalled {stalled} KiB (+{(stalled - idle) / 1024:.1f} MiB)")
    assert stalled - idle <= 20 * 1024, f"RSS grew by {(stalled - idle) / 1024:.1f} MiB"

    # Now read the whole reply: every value, in order, then END.
    expected = KEYS * (len(b"VALUE a 0 16384\r\n") + len(VALUE) + 2) + len(b"END\r\n")
    received = 0
    tail = b""
    peak = stalled
    s.settimeout(30)
    while received < expected:
        chunk = s.recv(1 << 20)
        assert chunk, "connection closed early"
        received += len(chunk)
        tail = (tail + chunk)[-16:]
        if received % (64 << 20) < len(chunk):
            peak = max(peak, rss_kib(d.proc.pid))
    assert received == expected and tail.endswith(b"\r\nEND\r\n")
    print(f"read {received} bytes; peak RSS while reading {peak} KiB")
    assert peak - idle <= 20 * 1024
    s.close()
    after = settle_rss(d.proc.pid)
    print(f"RSS after the client left {after} KiB")
    assert after - idle <= 20 * 1024
    assert int(d.stats()["output_referenced_bytes"]) == 0
    # The connection still works after a paused multi-get, and stats add up.
    assert c.get("a").values[0].data == VALUE


def test_multiget_with_an_overlong_key_answers_the_error_alone(dogpiled):
    c = dogpiled.conn()
    assert c.set("a", b"1").line == "STORED"
    r = c.cmd("get a " + "k" * 251 + " a")
    assert r.line == "CLIENT_ERROR bad command line format" and r.values == [], r
    assert c.get("a").values[0].data == b"1"


def test_values_kept_alive_by_output_are_counted_and_capped(dogpiled_factory):
    """Large values go out by reference; what a stalled reader holds is visible and capped."""
    d = dogpiled_factory("-m", "64")
    c = d.conn()
    big = b"b" * (100 * 1024)
    assert c.set("big", big).line == "STORED"
    s = socket.create_connection((HOST, d.port))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.sendall(b"get" + b" big" * 1000 + b"\r\n")
    time.sleep(1.0)
    # The value is replaced: the old item now lives only through the queued output.
    assert c.set("big", b"small").line == "STORED"
    held = int(d.stats()["output_referenced_bytes"])
    print(f"referenced by a stalled reader's output: {held} bytes")
    assert 0 < held <= 4 * 1024 * 1024 + 2 * len(big), held
    s.close()
    deadline = time.monotonic() + 5
    while int(d.stats()["output_referenced_bytes"]) != 0:
        assert time.monotonic() < deadline, "references not released after the client left"
        time.sleep(0.05)


def test_mlockgen_of_a_large_value_many_times_is_bounded_and_complete(dogpiled_factory):
    """Found by an attack: mlockgen built its whole reply at once (200,000 repeats of a 500 KB
    value took RSS up by 992 MB). It now stops at the output high-water like a multi-get."""
    d = dogpiled_factory("-m", "64")
    c = d.conn()
    big = b"m" * 500_000
    assert c.set("big0", big).line == "STORED"
    idle = settle_rss(d.proc.pid)
    repeats = 20_000
    s = socket.create_connection((HOST, d.port))
    s.sendall(b"mlockgen 30000" + b" big0" * repeats + b"\r\nversion\r\n")
    time.sleep(1.0)
    stalled = rss_kib(d.proc.pid)
    print(f"mlockgen x{repeats} of a 500 KB value, not read: RSS +{(stalled - idle) / 1024:.1f} MiB")
    assert stalled - idle <= 20 * 1024
    # Read it all: every key answered HIT with the value, in order, then END, then the version.
    block = b"VALUE big0 0 500000 "
    seen = 0
    buffered = b""
    s.settimeout(30)
    while True:
        chunk = s.recv(1 << 20)
        assert chunk, "closed early"
        buffered += chunk
        # Count complete blocks and drop them, keeping memory small on this side too.
        while True:
            if buffered.startswith(b"END\r\nVERSION "):
                assert seen == repeats
                s.close()
                return
            if not buffered.startswith(block):
                # Not a whole block yet: either a prefix of one, or the start of END.
                assert len(buffered) < len(block) or buffered.startswith(b"END"), buffered[:60]
                break
            end_of_line = buffered.find(b"\r\n")
            if end_of_line < 0:
                break
            need = end_of_line + 2 + 500_000 + 2 + len(b"HIT\r\n")
            if len(buffered) < need:
                break
            assert buffered[end_of_line + 2 + 500_000:need] == b"\r\nHIT\r\n"
            buffered = buffered[need:]
            seen += 1
