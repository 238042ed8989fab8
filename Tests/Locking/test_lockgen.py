"""lockgen / setgen / unlockgen: the server-side dogpile lock (PROTOCOL.md section 1)."""

from __future__ import annotations

import threading
import time

import pytest

from lockclient import Conn, collect, none_readable, percentile

N_CLIENTS = 200


def open_conns(daemon, n: int) -> list[Conn]:
    return [daemon.conn() for _ in range(n)]


def close_all(conns) -> None:
    for c in conns:
        c.close()


def send_concurrently(conns, line: bytes) -> None:
    """Send ``line`` on every connection from several threads released together."""
    n_threads = 8
    barrier = threading.Barrier(n_threads)
    errors = []

    def run(part):
        try:
            barrier.wait(timeout=10)
            for c in part:
                c.send(line)
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=run, args=(conns[i::n_threads],)) for i in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert not errors, errors


def wait_for_stat(daemon, sub: str, name: str, value: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = int(daemon.stats(sub).get(name, "-1"))
        if last == value:
            return
        time.sleep(0.02)
    raise AssertionError(f"stats {sub} {name} stayed {last}, expected {value}")


def wait_expired(conn: Conn, key: str, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        r = conn.get(key)
        if r.line == "END" and not r.values:
            return
        time.sleep(0.05)
    raise AssertionError(f"{key} did not expire within {timeout}s")


# ---------------------------------------------------------------------------
# 1. 200 clients on a missing key
# ---------------------------------------------------------------------------

def test_stampede_on_missing_key_one_generator_waiters_get_hit(dogpiled):
    key = "stampede:missing"
    value = b"regenerated-value-" + b"x" * 100
    conns = open_conns(dogpiled, N_CLIENTS)
    try:
        send_concurrently(conns, f"lockgen {key} 10000 10000\r\n".encode())
        # exactly one GEN; find it.
        deadline = time.monotonic() + 10
        holder = None
        while holder is None and time.monotonic() < deadline:
            for c in none_readable(conns, 0.05):
                r = c.read_reply(timeout=5)
                assert r.word == "GEN" and not r.values, f"first reply must be GEN, got {r}"
                assert holder is None, "two connections were granted the lease"
                holder, grant = c, r
        assert holder is not None, "nobody got GEN"
        others = [c for c in conns if c is not holder]
        # every other request is parked on the server
        wait_for_stat(dogpiled, "locks", "generation_waiters", N_CLIENTS - 1)
        time.sleep(0.3)
        early = none_readable(others, 0.0)
        assert not early, f"{len(early)} waiters got a reply before the store"

        holder.send(f"setgen {key} {grant.token} 0 0 {len(value)}\r\n".encode() + value + b"\r\n")
        stored = holder.read_reply()
        t_stored = stored.at
        assert stored.line == "STORED"

        replies = collect(others, timeout=15)
        assert len(replies) == len(others), f"only {len(replies)}/{len(others)} waiters answered"
        lat = []
        for c, r in replies.items():
            assert r.line == "HIT", r
            assert len(r.values) == 1 and r.values[0].key == key
            assert r.values[0].data == value and r.values[0].flags == 0
            assert r.values[0].cas is not None
            lat.append(r.at - t_stored)
        p50, p99 = percentile(lat, 50) * 1000, percentile(lat, 99) * 1000
        print(f"\n200-client stampede: STORED -> waiter reply p50={p50:.2f} ms "
              f"p99={p99:.2f} ms max={max(lat) * 1000:.2f} ms")
        assert p99 < 1000.0
        # all waiters were woken by the one store; nobody else regenerated.
        assert not none_readable(conns, 0.1)
        assert int(dogpiled.stats()["lockgen_gen"]) == 1
    finally:
        close_all(conns)


# ---------------------------------------------------------------------------
# 2. 200 clients on a stale key
# ---------------------------------------------------------------------------

def test_stampede_on_stale_key_one_generator_others_stale_at_once(dogpiled):
    key = "stampede:stale"
    old = b"old-value"
    c0 = dogpiled.conn()
    assert c0.set(key, old, exptime=1).line == "STORED"
    wait_expired(c0, key)
    conns = open_conns(dogpiled, N_CLIENTS)
    results: dict[int, tuple] = {}
    barrier = threading.Barrier(N_CLIENTS)

    def client(i, c):
        barrier.wait(timeout=20)
        t0 = time.monotonic()
        c.send(f"lockgen {key} 10000 10000\r\n".encode())
        try:
            r = c.read_reply(timeout=10)
            results[i] = (r, time.monotonic() - t0)
        except Exception as e:
            results[i] = (e, time.monotonic() - t0)

    try:
        threads = [threading.Thread(target=client, args=(i, c)) for i, c in enumerate(conns)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
        assert len(results) == N_CLIENTS
        gens = [r for r, _ in results.values() if not isinstance(r, Exception) and r.word == "GEN"]
        stales = [r for r, _ in results.values() if not isinstance(r, Exception) and r.line == "STALE"]
        bad = [r for r, _ in results.values() if isinstance(r, Exception) or r.word not in ("GEN", "STALE")]
        assert not bad, bad[:5]
        assert len(gens) == 1, f"{len(gens)} GENs"
        assert len(stales) == N_CLIENTS - 1
        for r in gens + stales:
            assert len(r.values) == 1 and r.values[0].data == old, r
        lat = [t for _, t in results.values()]
        print(f"\nstale stampede: reply latency p50={percentile(lat, 50) * 1000:.2f} ms "
              f"p99={percentile(lat, 99) * 1000:.2f} ms max={max(lat) * 1000:.2f} ms")
        assert max(lat) < 1.0, f"a stale reply took {max(lat):.3f}s (someone waited)"
        st = dogpiled.stats()
        assert int(st["lockgen_waits"]) == 0
        assert int(st["lockgen_stale"]) == N_CLIENTS - 1
    finally:
        close_all(conns)
        c0.close()


# ---------------------------------------------------------------------------
# 3. the holder hangs up, goes silent, or is fenced out
# ---------------------------------------------------------------------------

def test_holder_disconnect_elects_waiter_at_once(dogpiled):
    a, b = dogpiled.conn(), dogpiled.conn()
    assert a.cmd("lockgen hang 10000").word == "GEN"
    b.send("lockgen hang 10000 5000\r\n")
    wait_for_stat(dogpiled, "locks", "generation_waiters", 1)
    assert not b.has_data(0.1)
    t_close = time.monotonic()
    a.close()
    r = b.read_reply(timeout=5)
    dt = r.at - t_close
    print(f"\nholder close -> waiter GEN in {dt * 1000:.1f} ms")
    assert r.word == "GEN" and not r.values
    assert dt < 0.3, f"waiter elected {dt * 1000:.0f} ms after the holder closed"
    assert b.setgen("hang", r.token, b"v").line == "STORED"


def test_silent_holder_lease_runs_out_then_fenced(dogpiled):
    a, b, c = dogpiled.conn(), dogpiled.conn(), dogpiled.conn()
    ga = a.cmd("lockgen silent 300")
    assert ga.word == "GEN"
    b.send("lockgen silent 10000 5000\r\n")
    rb = b.read_reply(timeout=10)
    dt = rb.at - ga.at
    print(f"\nlease 300 ms ran out -> waiter GEN after {dt * 1000:.1f} ms")
    assert rb.word == "GEN" and not rb.values
    assert 0.25 <= dt <= 1.5, f"waiter elected after {dt * 1000:.0f} ms"
    assert rb.token > ga.token
    # the old holder is fenced out; the new holder's value stands
    assert a.setgen("silent", ga.token, b"from-old-holder").line == "NOT_OWNER"
    assert c.get("silent").values == []
    assert b.setgen("silent", rb.token, b"from-new-holder").line == "STORED"
    assert a.setgen("silent", ga.token, b"from-old-holder").line == "NOT_OWNER"
    r = c.get("silent")
    assert [v.data for v in r.values] == [b"from-new-holder"]
    assert int(dogpiled.stats()["leases_expired"]) >= 1


# ---------------------------------------------------------------------------
# 4. lease endings, waiting, fencing, malformed lines
# ---------------------------------------------------------------------------

def test_unlockgen_elects_oldest_waiter_alone(dogpiled):
    holder = dogpiled.conn()
    g = holder.cmd("lockgen rel 10000")
    assert g.word == "GEN"
    waiters = []
    for i in range(4):
        w = dogpiled.conn()
        w.send("lockgen rel 10000 10000\r\n")
        wait_for_stat(dogpiled, "locks", "generation_waiters", i + 1)  # fixes the arrival order
        waiters.append(w)
    assert holder.cmd(f"unlockgen rel {g.token}").line == "RELEASED"
    assert holder.cmd(f"unlockgen rel {g.token}").line == "NOT_OWNER"
    r1 = waiters[0].read_reply(timeout=5)
    assert r1.word == "GEN" and r1.token > g.token
    time.sleep(0.3)
    assert not none_readable(waiters[1:]), "more than the oldest waiter was answered"
    # the next release elects the next-oldest
    assert waiters[0].cmd(f"unlockgen rel {r1.token}").line == "RELEASED"
    r2 = waiters[1].read_reply(timeout=5)
    assert r2.word == "GEN" and r2.token > r1.token
    time.sleep(0.2)
    assert not none_readable(waiters[2:])
    # a store by the holder answers the rest with HIT
    assert waiters[1].setgen("rel", r2.token, b"final").line == "STORED"
    for w in waiters[2:]:
        r = w.read_reply(timeout=5)
        assert r.line == "HIT" and r.values[0].data == b"final"


def test_delete_ends_the_lease(dogpiled):
    holder, waiter, other = dogpiled.conn(), dogpiled.conn(), dogpiled.conn()
    g = holder.cmd("lockgen del 10000")
    assert g.word == "GEN"
    waiter.send("lockgen del 10000 10000\r\n")
    wait_for_stat(dogpiled, "locks", "generation_waiters", 1)
    assert other.cmd("delete del").line == "NOT_FOUND"
    r = waiter.read_reply(timeout=5)
    assert r.word == "GEN" and not r.values and r.token > g.token
    assert holder.setgen("del", g.token, b"late").line == "NOT_OWNER"
    assert waiter.setgen("del", r.token, b"new").line == "STORED"


def test_wait_zero_busy_at_once_and_wait_timeout(dogpiled):
    holder, c = dogpiled.conn(), dogpiled.conn()
    assert holder.cmd("lockgen busy 10000").word == "GEN"
    t0 = time.monotonic()
    r = c.cmd("lockgen busy 10000 0")
    assert r.line == "BUSY" and not r.values
    assert r.at - t0 < 0.1
    t0 = time.monotonic()
    r = c.cmd("lockgen busy 10000 200")
    dt = r.at - t0
    print(f"\nwait_ms 200 -> BUSY after {dt * 1000:.1f} ms")
    assert r.line == "BUSY" and not r.values
    assert 0.18 <= dt <= 1.0
    # the connection is usable afterwards and the holder still holds
    assert c.cmd("version").word == "VERSION"
    assert int(dogpiled.stats()["lockgen_timeouts"]) >= 2


def test_connection_never_waits_on_itself(dogpiled):
    c = dogpiled.conn()
    g = c.cmd("lockgen self 10000")
    assert g.word == "GEN"
    t0 = time.monotonic()
    r = c.cmd("lockgen self 10000 5000")
    assert r.line == "BUSY" and not r.values
    assert r.at - t0 < 0.2
    # with a stale copy: STALE plus the copy, at once (soft invalidation of default)
    assert c.set("self2", b"old").line == "STORED"
    assert c.cmd("invalidate default soft").line == "OK"
    assert c.get("self2").values == []
    g2 = c.cmd("lockgen self2 10000 5000")
    assert g2.word == "GEN" and [v.data for v in g2.values] == [b"old"]
    t0 = time.monotonic()
    r = c.cmd("lockgen self2 10000 5000")
    assert r.line == "STALE" and [v.data for v in r.values] == [b"old"]
    assert r.at - t0 < 0.2


def test_plain_set_wakes_all_waiters_with_hit(dogpiled):
    holder, setter = dogpiled.conn(), dogpiled.conn()
    g = holder.cmd("lockgen plain 10000")
    assert g.word == "GEN"
    waiters = [dogpiled.conn() for _ in range(5)]
    for w in waiters:
        w.send("lockgen plain 10000 10000\r\n")
    wait_for_stat(dogpiled, "locks", "generation_waiters", 5)
    assert setter.set("plain", b"by-set", flags=7).line == "STORED"
    for w in waiters:
        r = w.read_reply(timeout=5)
        assert r.line == "HIT"
        assert [(v.data, v.flags) for v in r.values] == [(b"by-set", 7)]
    # the store ended the lease: the holder is fenced out, the set value stands
    assert holder.setgen("plain", g.token, b"by-holder").line == "NOT_OWNER"
    assert [v.data for v in setter.get("plain").values] == [b"by-set"]


def test_setgen_wrong_token_not_owner_nothing_stored(dogpiled):
    c, other = dogpiled.conn(), dogpiled.conn()
    # no lease at all
    assert c.setgen("fence", 12345, b"x").line == "NOT_OWNER"
    assert c.get("fence").values == []
    g = c.cmd("lockgen fence 10000")
    assert g.word == "GEN"
    for bad in (g.token + 1, g.token - 1, 1):
        assert c.setgen("fence", bad, b"bad").line == "NOT_OWNER"
        assert other.setgen("fence", bad, b"bad").line == "NOT_OWNER"
    assert other.get("fence").values == []
    # the right token still works (from any connection), once
    assert other.setgen("fence", g.token, b"good").line == "STORED"
    assert c.setgen("fence", g.token, b"again").line == "NOT_OWNER"
    assert [v.data for v in c.get("fence").values] == [b"good"]
    # unlockgen with a wrong token
    g2 = c.cmd("lockgen fence2 10000")
    assert c.cmd(f"unlockgen fence2 {g2.token + 1}").line == "NOT_OWNER"
    assert c.cmd(f"unlockgen fence2 {g2.token}").line == "RELEASED"


def test_tokens_strictly_increase_across_grants_and_restarts(dogpiled_factory):
    d = dogpiled_factory()
    conns = [d.conn() for _ in range(4)]
    tokens = []
    for i in range(30):
        c = conns[i % 4]
        kind = i % 3
        if kind == 0:
            r = c.cmd(f"lockgen tk{i} 10000")
        elif kind == 1:
            r = c.cmd(f"lock tm{i} 10000 0")
        else:
            rc = d.conn()  # shared: several grants of one name, each on its own connection
            conns.append(rc)
            r = rc.cmd("rlock trshared 10000 0")
        assert r.word in ("GEN", "LOCKED"), r
        tokens.append(r.token)
    # an elected waiter's grant continues the sequence
    g = conns[0].cmd("lockgen tkw 10000")
    conns[1].send("lockgen tkw 10000 5000\r\n")
    wait_for_stat(d, "locks", "generation_waiters", 1)
    conns[0].cmd(f"unlockgen tkw {g.token}")
    tokens += [g.token, conns[1].read_reply(timeout=5).token]
    assert all(t > 0 for t in tokens)
    assert all(a < b for a, b in zip(tokens, tokens[1:])), tokens
    last = tokens[-1]
    close_all(conns)
    d.stop()
    d2 = dogpiled_factory()
    c = d2.conn()
    first = c.cmd("lockgen after-restart 10000").token
    assert first > last, f"token after restart {first} <= {last}"


@pytest.mark.parametrize("line,expected", [
    (b"lockgen k\r\n", b"ERROR\r\n"),
    (b"lockgen\r\n", b"ERROR\r\n"),
    (b"lockgen k 5 5 5\r\n", b"ERROR\r\n"),
    (b"lockgen k abc\r\n", b"CLIENT_ERROR bad command line format\r\n"),
    (b"lockgen k 5 abc\r\n", b"CLIENT_ERROR bad command line format\r\n"),
    (b"lockgen k 0\r\n", b"CLIENT_ERROR bad command line format\r\n"),
    (b"lockgen k -1\r\n", b"CLIENT_ERROR bad command line format\r\n"),
    (b"lockgen k 3600001\r\n", b"CLIENT_ERROR bad command line format\r\n"),
    (b"lockgen k 5 600001\r\n", b"CLIENT_ERROR bad command line format\r\n"),
    (b"lockgen " + b"k" * 251 + b" 5\r\n", b"CLIENT_ERROR bad command line format\r\n"),
    (b"unlockgen k\r\n", b"ERROR\r\n"),
    (b"unlockgen k abc\r\n", b"CLIENT_ERROR bad command line format\r\n"),
    # a bad setgen line does not swallow its data block: it is read as a command
    (b"setgen k abc 0 0 3\r\nabc\r\n", b"CLIENT_ERROR bad command line format\r\nERROR\r\n"),
    (b"setgen k 1 0 0 -1\r\nabc\r\n", b"CLIENT_ERROR bad command line format\r\nERROR\r\n"),
    (b"setgen " + b"k" * 251 + b" 1 0 0 3\r\nabc\r\n",
     b"CLIENT_ERROR bad command line format\r\nERROR\r\n"),
    (b"setgen k 1 0 0\r\nabc\r\n", b"ERROR\r\nERROR\r\n"),
])
def test_malformed_lines(dogpiled, line, expected):
    c = dogpiled.conn()
    c.send(line + b"version\r\n")
    got = bytearray()
    deadline = time.monotonic() + 5
    while b"VERSION " not in got and time.monotonic() < deadline:
        if c.has_data(0.2):
            chunk = c.sock.recv(65536)
            if not chunk:
                break
            got += chunk
    assert b"VERSION " in got, f"no sentinel reply: {bytes(got)!r}"
    body = bytes(got[:got.index(b"VERSION ")])
    assert body == expected
    # limits at the edges are accepted
    assert c.cmd("lockgen edge 3600000 600000").word == "GEN"
    assert c.cmd("lockgen " + "e" * 250 + " 1 0").word == "GEN"
    # nothing was stored by the bad setgen lines
    assert c.get("k").values == []


def test_parked_request_blocks_its_connection(dogpiled):
    """A set pipelined behind a parked lockgen on the same connection is not read
    until the lockgen is answered, so it cannot wake it (replies stay in order)."""
    a, b = dogpiled.conn(), dogpiled.conn()
    g = a.cmd("lockgen pipe 10000")
    assert g.word == "GEN"
    t0 = time.monotonic()
    b.send(b"lockgen pipe 10000 300\r\nset pipe 0 0 1\r\nx\r\n")
    r1, r2 = b.read_reply(timeout=5), b.read_reply(timeout=5)
    assert r1.line == "BUSY" and 0.25 <= r1.at - t0 <= 1.5
    assert r2.line == "STORED"
    assert a.setgen("pipe", g.token, b"late").line == "NOT_OWNER"


def test_flush_all_ends_leases(dogpiled):
    a, b, c = dogpiled.conn(), dogpiled.conn(), dogpiled.conn()
    g = a.cmd("lockgen fl 10000")
    b.send("lockgen fl 10000 5000\r\n")
    wait_for_stat(dogpiled, "locks", "generation_waiters", 1)
    assert c.cmd("flush_all").line == "OK"
    r = b.read_reply(timeout=5)
    assert r.word == "GEN" and r.token > g.token
    assert a.setgen("fl", g.token, b"x").line == "NOT_OWNER"
