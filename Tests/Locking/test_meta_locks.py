"""Meta commands and lock verbs on one key (docs/protocol.md, "Meta and lock verbs on one key").

memcached's stale-while-revalidate marks (W/X/Z on the item) and lockgen's generation leases
meet on the same keys: a meta win (W) takes the key's generation lease, so lockgen callers wait
behind it exactly as behind a lockgen regenerator (and are answered by the winner's store, by
the win's lease running out, by the winner disconnecting, or by their own wait_ms); a lockgen
regeneration in progress turns a meta client's would-be win into Z. An `mg N` placeholder is
missing to lockgen; an `md I` item is a stale copy to lockgen (and still a value to get).
"""

from __future__ import annotations

import time

from lockclient import collect, none_readable


def ms(conn, key: str, value: bytes, flags: str = ""):
    conn.send(f"ms {key} {len(value)} {flags}".rstrip().encode() + b"\r\n" + value + b"\r\n")
    return conn.read_reply()


def test_lockgen_waits_behind_a_vivify_win_and_gets_the_winners_value(dogpiled):
    winner, waiter = dogpiled.conn(), dogpiled.conn()
    assert winner.cmd("mg mk1 N30 s").line == "HD s0 W"
    waiter.send(b"lockgen mk1 10000 5000\r\n")
    assert not none_readable([waiter], 0.3), "lockgen must wait behind the meta win"
    assert ms(winner, "mk1", b"fresh").line == "HD"
    r = waiter.read_reply(timeout=5)
    assert r.line == "HIT" and r.values[0].data == b"fresh"
    # The meta win was no lockgen regeneration.
    assert int(dogpiled.stats()["lockgen_gen"]) == 0


def test_winner_disconnecting_elects_the_oldest_lockgen_waiter(dogpiled):
    winner, first, second = dogpiled.conn(), dogpiled.conn(), dogpiled.conn()
    assert winner.cmd("mg mk2 N30").line == "HD W"
    first.send(b"lockgen mk2 10000 5000\r\n")
    time.sleep(0.1)
    second.send(b"lockgen mk2 10000 5000\r\n")
    assert not none_readable([first, second], 0.2)
    winner.close()
    r = first.read_reply(timeout=5)
    assert r.word == "GEN" and not r.values, r
    assert not none_readable([second], 0.2), "only the oldest waiter is elected"
    assert first.setgen("mk2", r.token, b"v").line == "STORED"
    assert second.read_reply(timeout=5).line == "HIT"


def test_a_win_holds_waiters_for_the_placeholders_ttl_at_most(dogpiled):
    winner, waiter = dogpiled.conn(), dogpiled.conn()
    assert winner.cmd("mg mk3 N1").line == "HD W"
    t0 = time.monotonic()
    r = waiter.cmd("lockgen mk3 10000 5000", timeout=5)
    elapsed = time.monotonic() - t0
    assert r.word == "GEN", r
    assert 0.5 < elapsed < 3.0, f"the win's lease should end with its 1 s TTL, took {elapsed:.2f}s"


def test_a_waiter_still_gives_up_at_its_own_wait(dogpiled):
    winner, waiter = dogpiled.conn(), dogpiled.conn()
    assert winner.cmd("mg mk4 N30").line == "HD W"
    t0 = time.monotonic()
    assert waiter.cmd("lockgen mk4 10000 200").line == "BUSY"
    assert time.monotonic() - t0 < 2.0


def test_md_invalidate_is_a_stale_copy_for_lockgen_and_meta_sees_Z(dogpiled):
    a, b = dogpiled.conn(), dogpiled.conn()
    assert a.set("mk5", b"old").line == "STORED"
    assert a.cmd("md mk5 I").line == "HD"
    # Classic verbs still see the value, as memcached serves an md-I item.
    assert a.get("mk5").values[0].data == b"old"
    r = b.cmd("lockgen mk5 10000 5000")
    assert r.word == "GEN" and r.values[0].data == b"old", r
    # A meta reader learns someone else regenerates: stale, win already handed out.
    assert a.cmd("mg mk5 s").line == "HD s3 Z X"
    assert b.setgen("mk5", r.token, b"new").line == "STORED"
    assert a.cmd("mg mk5 s").line == "HD s3"


def test_lockgen_on_a_missing_key_turns_a_meta_win_into_Z(dogpiled):
    gen, meta, late = dogpiled.conn(), dogpiled.conn(), dogpiled.conn()
    r = gen.cmd("lockgen mk6 10000 5000")
    assert r.word == "GEN"
    # memcached alone would answer W (vivified); the lockgen regeneration wins instead.
    assert meta.cmd("mg mk6 N30").line == "HD Z"
    assert meta.cmd("mg mk6 N30").line == "HD Z"
    # The placeholder is no value for lockgen: a later caller waits for the holder.
    late.send(b"lockgen mk6 10000 5000\r\n")
    assert not none_readable([late], 0.2)
    assert gen.setgen("mk6", r.token, b"v6").line == "STORED"
    assert late.read_reply(timeout=5).line == "HIT"


def test_lockgen_gets_the_stale_copy_at_once_behind_a_stale_win(dogpiled):
    a, b = dogpiled.conn(), dogpiled.conn()
    assert a.set("mk7", b"old").line == "STORED"
    assert a.cmd("md mk7 I").line == "HD"
    assert a.cmd("mg mk7").line == "HD X W"
    r = b.cmd("lockgen mk7 10000 5000", timeout=2)
    assert r.line == "STALE" and r.values[0].data == b"old"


def test_one_regeneration_for_lockgen_clients_behind_a_meta_win(dogpiled):
    winner = dogpiled.conn()
    assert winner.cmd("mg mk8 N30").line == "HD W"
    clients = [dogpiled.conn() for _ in range(50)]
    for c in clients:
        c.send(b"lockgen mk8 10000 10000\r\n")
    time.sleep(0.3)
    assert not none_readable(clients, 0.0), "every lockgen client waits"
    assert ms(winner, "mk8", b"value").line == "HD"
    replies = collect(clients, timeout=10)
    assert len(replies) == 50 and all(r.line == "HIT" for r in replies.values())
    assert int(dogpiled.stats()["lockgen_gen"]) == 0
