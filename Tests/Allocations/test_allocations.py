"""Heap allocations per request on the hot paths, counted in the real binary (valgrind DHAT).

Goals (issue 10): a `get` hit and a `lockgen` HIT allocate nothing, a `set` of an existing key
at most once (the new item), not counting libevent's own buffer chains for the reply, which
are reported beside them. Each count is the difference between a run of 2N requests and one
of N, so start-up and the connection cancel out; a real allocation per request shows as 1.0,
noise (timers, the log) stays well under 0.2."""

import os
import socket

import pytest

from dhat_run import connect, exchange, per_request, read_exactly

VALUE = b"x" * 100
N = 500


def binary() -> str:
    path = os.environ.get("DOGPILED_BIN") or os.path.join(
        os.path.dirname(__file__), "..", "..", ".build", "debug", "dogpiled")
    assert os.path.exists(path), f"no dogpiled binary at {path} (set DOGPILED_BIN)"
    return path


def store(conn):
    exchange(conn, b"set k 0 0 100\r\n" + VALUE + b"\r\n", b"STORED\r\n", 1)


def first_reply(conn, request, ending):
    conn.sendall(request)
    data = b""
    while not data.endswith(ending):
        data += conn.recv(4096)
    return data


def repeat(request, ending):
    """A step that sends `request` N times and expects the reply it got the first time."""
    def step(conn, port, times):
        reply = first_reply(conn, request, ending)
        exchange(conn, request, reply, times)
    return step


def report(name, ours, libevent, grown):
    print(f"\n{name}: {ours:.2f} allocations per request by dogpiled, {libevent:.2f} by "
          f"libevent's reply buffers")
    for stack, calls in list(grown.items())[:5]:
        print(f"    +{calls} {stack}")


@pytest.mark.parametrize("name,request_line,ending", [
    ("get hit", b"get k\r\n", b"END\r\n"),
    ("gets hit", b"gets k\r\n", b"END\r\n"),
    ("mg hit", b"mg k v c f t\r\n", VALUE + b"\r\n"),
    ("lockgen HIT", b"lockgen k 30000 0\r\n", b"HIT\r\n"),
])
def test_reads_allocate_nothing(name, request_line, ending):
    ours, libevent, grown = per_request(binary(), store, repeat(request_line, ending), N)
    report(name, ours, libevent, grown)
    assert ours < 0.3, f"{name}: {ours:.2f} allocations per request: {list(grown.items())[:3]}"


@pytest.mark.parametrize("name,request_line,ending", [
    ("get hit", b"get k\r\n", b"END\r\n"),
    ("lockgen HIT", b"lockgen k 30000 0\r\n", b"HIT\r\n"),
])
def test_reads_one_per_round_trip(name, request_line, ending):
    """Unpipelined, as most clients send: each reply drains the output, so libevent makes a
    new chain for the next one. dogpiled itself still allocates nothing; libevent's chain is
    bounded too, so a second allocation per reply would show."""
    def step(conn, port, times):
        reply = first_reply(conn, request_line, ending)
        for _ in range(times):
            conn.sendall(request_line)
            assert read_exactly(conn, len(reply)) == reply

    ours, libevent, grown = per_request(binary(), store, step, N)
    report(f"{name}, one per round trip", ours, libevent, grown)
    assert ours < 0.3, f"{name}: {ours:.2f} allocations per request: {list(grown.items())[:3]}"
    assert libevent < 1.3, f"{name}: {libevent:.2f} libevent allocations per request"


def test_set_of_an_existing_key_allocates_once():
    request = b"set k 0 0 100\r\n" + VALUE + b"\r\n"

    def step(conn, port, times):
        exchange(conn, request, b"STORED\r\n", times)

    ours, libevent, grown = per_request(binary(), store, step, N)
    report("set of an existing key", ours, libevent, grown)
    assert ours < 1.3, f"set: {ours:.2f} allocations per request: {list(grown.items())[:3]}"


WAITERS = 50


def test_wake_fan_out_allocations_per_waiter():
    """Waiters park on `lockgen` and are woken by `setgen`: allocations per parked-and-woken
    waiter (the connections are opened before, and count in both runs alike). Reported, and
    bounded: a waiter may not cost more than a few allocations."""
    parked = []

    def setup(conn):
        store(conn)

    def step(conn, port, rounds):
        parked[:] = [connect(port) for _ in range(WAITERS)]
        want = f"STAT generation_waiters {WAITERS}\r\n".encode()
        for r in range(rounds):
            key = b"w%d" % r
            gen = first_reply(conn, b"lockgen " + key + b" 30000 0\r\n", b"\r\n")
            assert gen.startswith(b"GEN "), gen
            for p in parked:
                p.sendall(b"lockgen " + key + b" 30000 60000\r\n")
            while want not in first_reply(conn, b"stats locks\r\n", b"END\r\n"):
                pass
            exchange(conn, b"setgen " + key + b" " + gen.split()[1] + b" 0 0 100\r\n" + VALUE + b"\r\n",
                     b"STORED\r\n", 1)
            for p in parked:
                assert first_reply(p, b"", b"HIT\r\n").endswith(b"HIT\r\n")
        for p in parked:
            p.close()

    ours, libevent, grown = per_request(binary(), setup, step, 10)
    ours, libevent = ours / WAITERS, libevent / WAITERS
    report("parked lockgen woken by setgen (per waiter)", ours, libevent, grown)
    assert ours < 4, f"{ours:.2f} allocations per woken waiter: {list(grown.items())[:3]}"
