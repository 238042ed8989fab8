"""lock / rlock / unlock / renew: the named mutex table (PROTOCOL.md section 2)."""

from __future__ import annotations

import threading
import time

from lockclient import none_readable


def wait_for_stat(daemon, sub, name, value, timeout=10.0):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = int(daemon.stats(sub).get(name, "-1"))
        if last == value:
            return
        time.sleep(0.02)
    raise AssertionError(f"stats {sub} {name} stayed {last}, expected {value}")


def test_mutex_contention_never_two_holders_tokens_increase(dogpiled):
    n_threads, loops = 24, 20
    conns = [dogpiled.conn() for _ in range(n_threads)]
    guard = threading.Lock()
    state = {"inside": 0, "max_inside": 0}
    grants: list[tuple[float, int]] = []
    errors: list[str] = []
    barrier = threading.Barrier(n_threads)

    def worker(c):
        try:
            barrier.wait(timeout=20)
            for _ in range(loops):
                r = c.cmd("lock M 2000 5000", timeout=10)
                if r.word != "LOCKED":
                    errors.append(f"lock -> {r.line}")
                    return
                with guard:
                    grants.append((r.at, r.token))
                    if state["inside"] != 0:
                        errors.append("two holders at once")
                    state["inside"] += 1
                time.sleep(0.001)
                with guard:
                    state["inside"] -= 1
                u = c.cmd(f"unlock M {r.token}", timeout=10)
                if u.line != "UNLOCKED":
                    errors.append(f"unlock -> {u.line}")
                    return
        except Exception as e:
            errors.append(repr(e))

    t0 = time.monotonic()
    threads = [threading.Thread(target=worker, args=(c,)) for c in conns]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    elapsed = time.monotonic() - t0
    print(f"\n{n_threads} x {loops} lock/unlock in {elapsed:.2f}s")
    assert not errors, errors[:5]
    assert len(grants) == n_threads * loops
    grants.sort()
    tokens = [t for _, t in grants]
    assert all(a < b for a, b in zip(tokens, tokens[1:])), "tokens not increasing in grant order"
    st = dogpiled.stats()
    assert int(st["mutex_locked"]) == n_threads * loops
    assert int(st["mutex_waits"]) > 0
    assert int(st["mutex_timeouts"]) == 0


def test_busy_on_wait_zero_and_release_on_disconnect(dogpiled):
    a, b, c = dogpiled.conn(), dogpiled.conn(), dogpiled.conn()
    la = a.cmd("lock D 10000 0")
    assert la.word == "LOCKED"
    t0 = time.monotonic()
    r = b.cmd("lock D 10000 0")
    assert r.line == "BUSY" and r.at - t0 < 0.1
    assert b.cmd("rlock D 10000 0").line == "BUSY"
    c.send("lock D 10000 5000\r\n")
    wait_for_stat(dogpiled, "locks", "mutex_waiters", 1)
    assert not c.has_data(0.1)
    t_close = time.monotonic()
    a.close()
    r = c.read_reply(timeout=5)
    dt = r.at - t_close
    print(f"\nholder close -> waiter LOCKED in {dt * 1000:.1f} ms")
    assert r.word == "LOCKED" and r.token > la.token
    assert dt < 0.3
    assert c.cmd(f"unlock D {r.token}").line == "UNLOCKED"


def test_readers_share(dogpiled):
    a, b, w = dogpiled.conn(), dogpiled.conn(), dogpiled.conn()
    ra = a.cmd("rlock S 10000 0")
    rb = b.cmd("rlock S 10000 0")
    assert ra.word == "LOCKED" and rb.word == "LOCKED"
    assert rb.token > ra.token
    assert w.cmd("lock S 10000 0").line == "BUSY"
    # unlock takes the token from any connection
    assert w.cmd(f"unlock S {ra.token}").line == "UNLOCKED"
    assert w.cmd("lock S 10000 0").line == "BUSY"
    assert a.cmd(f"unlock S {rb.token}").line == "UNLOCKED"
    assert w.cmd("lock S 10000 0").word == "LOCKED"


def test_waiting_writer_blocks_new_readers(dogpiled):
    r1, w, r2 = dogpiled.conn(), dogpiled.conn(), dogpiled.conn()
    g1 = r1.cmd("rlock W 10000 0")
    assert g1.word == "LOCKED"
    w.send("lock W 10000 5000\r\n")
    wait_for_stat(dogpiled, "locks", "mutex_waiters", 1)
    r2.send("rlock W 10000 5000\r\n")
    wait_for_stat(dogpiled, "locks", "mutex_waiters", 2)
    time.sleep(0.2)
    assert not none_readable([w, r2]), "a reader entered past a waiting writer"
    assert r1.cmd(f"unlock W {g1.token}").line == "UNLOCKED"
    gw = w.read_reply(timeout=5)
    assert gw.word == "LOCKED"
    time.sleep(0.2)
    assert not r2.has_data(), "a reader got in while the writer holds"
    assert w.cmd(f"unlock W {gw.token}").line == "UNLOCKED"
    g2 = r2.read_reply(timeout=5)
    assert g2.word == "LOCKED" and g2.token > gw.token


def test_writer_not_starved_by_overlapping_readers(dogpiled):
    n_readers = 6
    stop = threading.Event()
    writer_sent = [None]   # time the writer's request went out
    writer_granted = [None]
    late_grants: list[tuple[float, float]] = []   # (sent, granted) of reader requests
    errors: list[str] = []
    lock = threading.Lock()

    def reader(i):
        c = dogpiled.conn()
        try:
            time.sleep(i * 0.007)  # stagger so read holds overlap
            while not stop.is_set():
                t_sent = time.monotonic()
                r = c.cmd("rlock RW 2000 5000", timeout=10)
                if r.word != "LOCKED":
                    errors.append(f"rlock -> {r.line}")
                    return
                with lock:
                    late_grants.append((t_sent, r.at))
                time.sleep(0.02)
                u = c.cmd(f"unlock RW {r.token}", timeout=10)
                if u.line != "UNLOCKED":
                    errors.append(f"unlock -> {u.line}")
                    return
        except Exception as e:
            errors.append(repr(e))
        finally:
            c.close()

    threads = [threading.Thread(target=reader, args=(i,)) for i in range(n_readers)]
    for t in threads:
        t.start()
    try:
        time.sleep(0.3)  # readers now hold RW continuously, in overlapping fashion
        w = dogpiled.conn()
        writer_sent[0] = time.monotonic()
        r = w.cmd("lock RW 5000 5000", timeout=10)
        writer_granted[0] = r.at
        assert r.word == "LOCKED", r
        wait = writer_granted[0] - writer_sent[0]
        print(f"\nwriter among {n_readers} overlapping readers granted after {wait * 1000:.1f} ms")
        assert wait < 2.0
        time.sleep(0.05)
        assert w.cmd(f"unlock RW {r.token}").line == "UNLOCKED"
        time.sleep(0.2)
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=20)
    assert not errors, errors[:5]
    # a reader request sent well after the writer started waiting was not
    # granted before the writer (50 ms margin for the writer's request to arrive)
    jumped = [(s, g) for s, g in late_grants
              if s > writer_sent[0] + 0.05 and g < writer_granted[0]]
    assert not jumped, f"{len(jumped)} readers entered ahead of a waiting writer"
    assert any(s > writer_sent[0] + 0.05 for s, _ in late_grants), "no reader request in the window"


def test_no_reentry(dogpiled):
    c = dogpiled.conn()
    r = c.cmd("rlock RE 10000 0")
    assert r.word == "LOCKED"
    t0 = time.monotonic()
    assert c.cmd("lock RE 10000 5000").line == "BUSY"  # upgrade fails fast
    assert c.cmd("rlock RE 10000 5000").line == "BUSY"
    assert time.monotonic() - t0 < 0.3
    assert c.cmd(f"unlock RE {r.token}").line == "UNLOCKED"
    x = c.cmd("lock RE2 10000 0")
    assert x.word == "LOCKED"
    t0 = time.monotonic()
    assert c.cmd("lock RE2 10000 5000").line == "BUSY"
    assert c.cmd("rlock RE2 10000 5000").line == "BUSY"
    assert time.monotonic() - t0 < 0.3


def test_renew_extends_and_wrong_token(dogpiled):
    a, b = dogpiled.conn(), dogpiled.conn()
    t0 = time.monotonic()
    r = a.cmd("lock RN 300 0")
    assert r.word == "LOCKED"
    time.sleep(max(0.0, 0.2 - (time.monotonic() - t0)))
    assert a.cmd(f"renew RN {r.token + 1} 2000").line == "NOT_OWNER"
    assert b.cmd(f"renew RN {r.token} 2000").line == "RENEWED"  # any connection
    time.sleep(max(0.0, 0.6 - (time.monotonic() - t0)))
    assert b.cmd("lock RN 10000 0").line == "BUSY", "renewed hold ended early"
    assert b.cmd(f"unlock RN {r.token + 1}").line == "NOT_OWNER"
    assert b.cmd("unlock NOSUCH 1").line == "NOT_OWNER"
    assert a.cmd(f"unlock RN {r.token}").line == "UNLOCKED"
    assert a.cmd(f"unlock RN {r.token}").line == "NOT_OWNER"
    assert a.cmd(f"renew RN {r.token} 2000").line == "NOT_OWNER"


def test_lease_runs_out_lets_waiter_in(dogpiled):
    a, b = dogpiled.conn(), dogpiled.conn()
    r = a.cmd("lock EX 200 0")
    assert r.word == "LOCKED"
    b.send("lock EX 10000 5000\r\n")
    g = b.read_reply(timeout=10)
    dt = g.at - r.at
    print(f"\nmutex lease 200 ms ran out -> waiter LOCKED after {dt * 1000:.1f} ms")
    assert g.word == "LOCKED" and g.token > r.token
    assert 0.15 <= dt <= 1.5
    assert a.cmd(f"unlock EX {r.token}").line == "NOT_OWNER"
    assert int(dogpiled.stats()["mutex_expired"]) >= 1


def test_mutex_malformed_lines(dogpiled):
    c = dogpiled.conn()
    assert c.cmd("lock m").line == "ERROR"
    assert c.cmd("unlock m").line == "ERROR"
    assert c.cmd("renew m 1").line == "ERROR"
    for line in ("lock m abc", "lock m 0", "lock m 3600001", "lock m 5 600001", "rlock m 5 -1",
                 "unlock m abc", "renew m 1 0", "lock " + "m" * 251 + " 5"):
        assert c.cmd(line).line == "CLIENT_ERROR bad command line format", line


def test_waiters_first_come_first_served_and_readers_wake_together(dogpiled):
    a = dogpiled.conn()
    m = a.cmd("lock F 10000 0")
    ws = [dogpiled.conn() for _ in range(3)]
    for i, w in enumerate(ws):
        w.send("lock F 10000 5000\r\n")
        wait_for_stat(dogpiled, "locks", "mutex_waiters", i + 1)
    assert a.cmd(f"unlock F {m.token}").line == "UNLOCKED"
    tokens = []
    for i, w in enumerate(ws):
        r = w.read_reply(timeout=5)
        assert r.word == "LOCKED"
        tokens.append(r.token)
        time.sleep(0.1)
        assert not none_readable(ws[i + 1:]), "a later waiter was served first"
        assert w.cmd(f"unlock F {r.token}").line == "UNLOCKED"
    assert tokens == sorted(tokens)
    # readers queued behind a writer all enter when it unlocks
    lw = a.cmd("lock G 10000 0")
    rs = [dogpiled.conn() for _ in range(3)]
    for r in rs:
        r.send("rlock G 10000 5000\r\n")
    wait_for_stat(dogpiled, "locks", "mutex_waiters", 3)
    assert a.cmd(f"unlock G {lw.token}").line == "UNLOCKED"
    assert all(r.read_reply(timeout=5).word == "LOCKED" for r in rs)
