"""`lockstate <name>` and `genstate <key>`: read-only queries of the lock tables.

They answer who holds and waits, and change nothing: no entry in the table, no budget, no stat,
never a wait. (dogpile.cache's mutex interface has `locked()`; the Python client answers it
with `lockstate` for the whole fleet instead of only its own process.)
"""

import time


def test_mutex_states(dogpiled):
    a, b, c = dogpiled.conn(), dogpiled.conn(), dogpiled.conn()
    before = dogpiled.stats()
    assert a.cmd("lockstate m").line == "FREE"
    assert dogpiled.stats("locks")["entries"] == "0", "a query must not create an entry"
    held = a.cmd("lock m 10000")
    assert held.word == "LOCKED"
    assert b.cmd("lockstate m").line == "EXCLUSIVE 0"
    c.send("lock m 10000 5000\r\n")          # parks behind a
    time.sleep(0.1)
    assert b.cmd("lockstate m").line == "EXCLUSIVE 1"
    assert a.cmd(f"unlock m {held.token}").line == "UNLOCKED"
    assert c.read_reply().word == "LOCKED"
    assert b.cmd("lockstate m").line == "EXCLUSIVE 0"
    c.close()                                  # closing releases the hold
    time.sleep(0.1)
    assert b.cmd("lockstate m").line == "FREE"

    r1, r2 = a.cmd("rlock r 10000"), b.cmd("rlock r 10000")
    assert r1.word == r2.word == "LOCKED"
    assert dogpiled.conn().cmd("lockstate r").line == "SHARED 2 0"
    after = dogpiled.stats()
    # Queries count nowhere: only the three grants and one wait above moved the mutex stats.
    assert int(after["mutex_locked"]) - int(before["mutex_locked"]) == 4
    assert int(after["mutex_waits"]) - int(before["mutex_waits"]) == 1


def test_generation_states(dogpiled):
    a, b = dogpiled.conn(), dogpiled.conn()
    assert a.cmd("genstate k").line == "FREE"
    gen = a.cmd("lockgen k 500 0")
    assert gen.word == "GEN"
    assert b.cmd("genstate k").line == "LEASED 0"
    b.send("lockgen k 5000 5000\r\n")
    time.sleep(0.1)
    assert a.cmd("genstate k").line == "LEASED 1"
    # The lease runs out (500 ms): the waiter is elected, still LEASED, nobody waiting.
    assert b.read_reply(timeout=5).word == "GEN"
    assert a.cmd("genstate k").line == "LEASED 0"
    b.close()
    time.sleep(0.1)
    assert a.cmd("genstate k").line == "FREE"
    assert dogpiled.stats("locks")["entries"] == "0"
