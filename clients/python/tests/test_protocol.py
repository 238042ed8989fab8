"""Unit tests of the lock-verb reply reader and command lines (no sockets)."""

import pytest

from dogpiled import protocol
from dogpiled.protocol import ProtocolError, ReplyReader, ServerError


def read_all(data: bytes, step: int):
    """Feed ``data`` ``step`` bytes at a time; return the replies in order."""
    reader, replies = ReplyReader(), []
    for i in range(0, len(data), step):
        reader.feed(data[i:i + step])
        while True:
            reply = reader.reply()
            if reply is None:
                break
            replies.append(reply)
    assert not reader.pending
    return replies


STREAM = (b"VALUE user:1 0 12 77\r\nHIT\r\nGEN 9\r\n\r\nHIT\r\n"     # data that looks like replies
          b"GEN 1883422112888127489\r\n"
          b"VALUE user:1 5 3 78\r\nold\r\nGEN 12\r\n"
          b"VALUE user:1 0 0 79\r\n\r\nSTALE\r\n"
          b"BUSY\r\nLOCKED 5\r\nUNLOCKED\r\nNOT_OWNER\r\nSTORED\r\nRELEASED\r\nOK\r\n"
          b"SERVER_ERROR too many locks\r\nCLIENT_ERROR bad command line format\r\nERROR\r\n")


@pytest.mark.parametrize("step", [1, 2, 7, 1000])
def test_replies_split_anywhere(step):
    replies = read_all(STREAM, step)
    assert [r.word for r in replies] == ["HIT", "GEN", "GEN", "STALE", "BUSY", "LOCKED", "UNLOCKED",
                                         "NOT_OWNER", "STORED", "RELEASED", "OK", "SERVER_ERROR",
                                         "CLIENT_ERROR", "ERROR"]
    hit, gen, gen_stale, stale = replies[:4]
    assert (hit.value, hit.flags, hit.cas, hit.token) == (b"HIT\r\nGEN 9\r\n", 0, 77, None)
    assert gen.value is None and gen.token == 1883422112888127489
    assert (gen_stale.value, gen_stale.flags, gen_stale.token) == (b"old", 5, 12)
    assert stale.value == b"" and stale.cas == 79
    assert replies[5].token == 5
    assert replies[11].line == "SERVER_ERROR too many locks"


def test_errors_raise_with_the_server_named():
    reply = read_all(b"SERVER_ERROR out of memory\r\n", 100)[0]
    with pytest.raises(ServerError, match="127.0.0.1:1: SERVER_ERROR out of memory"):
        protocol.raise_for_error(reply, "127.0.0.1:1")
    assert protocol.raise_for_error(read_all(b"HIT\r\n", 5)[0]).word == "HIT"


@pytest.mark.parametrize("bad", [b"GEN x\r\n", b"VALUE k 0\r\n", b"VALUE k 0 1 2\r\nxyz\r\n",
                                 b"HIT now\r\n",
                                 b"VALUE k 0 1\r\na\r\nVALUE k 0 1\r\na\r\nHIT\r\n"])
def test_malformed_replies_are_protocol_errors(bad):
    with pytest.raises(ProtocolError):
        read_all(bad, 100)


def test_incomplete_reply_is_pending():
    reader = ReplyReader()
    reader.feed(b"VALUE k 0 5 1\r\nab")
    assert reader.reply() is None and reader.pending


def test_command_lines():
    assert protocol.lockgen("user:1", 30000, 5000) == b"lockgen user:1 30000 5000\r\n"
    assert protocol.lockgen("user:1", 30000, 5000, early=True) == b"lockgen user:1 30000 5000 early\r\n"
    assert protocol.mlockgen(30000, ["user:1", "user:2"]) == b"mlockgen 30000 user:1 user:2\r\n"
    assert protocol.setgen("user:1", 7, 0, 300, b"ab") == b"setgen user:1 7 0 300 2\r\nab\r\n"
    assert protocol.unlockgen("user:1", 7) == b"unlockgen user:1 7\r\n"
    assert protocol.lock("n", 1000, 0) == b"lock n 1000 0\r\n"
    assert protocol.lock("n", 1000, 5, shared=True) == b"rlock n 1000 5\r\n"
    assert protocol.unlock("n", 3) == b"unlock n 3\r\n"
    assert protocol.renew("n", 3, 10) == b"renew n 3 10\r\n"
    assert protocol.invalidate("user", hard=False) == b"invalidate user soft\r\n"
    assert protocol.invalidate("user", hard=True) == b"invalidate user hard\r\n"


MULTI = (b"VALUE user:1 0 3 5\r\none\r\nHIT\r\n"
         b"VALUE user:2 0 3 6\r\nEND\r\nGEN 41\r\n"         # data that looks like END
         b"VALUE user:3 0 3 7\r\nold\r\nSTALE\r\n"
         b"GEN 42\r\nMISS\r\nSERVER_ERROR too many locks\r\nEND\r\n")


def read_multi(data: bytes, count: int, step: int):
    reader = protocol.MultiReader(count)
    for i in range(0, len(data), step):
        assert reader.read() is None
        reader.feed(data[i:i + step])
    return reader.read()


@pytest.mark.parametrize("step", [1, 3, 1000])
def test_mlockgen_blocks_in_order_then_end(step):
    hit, early, stale, gen, miss, full = read_multi(MULTI, 6, step)
    assert (hit.word, hit.value) == ("HIT", b"one")
    assert (early.word, early.value, early.token) == ("GEN", b"END", 41)
    assert (stale.word, stale.value) == ("STALE", b"old")
    assert (gen.word, gen.value, gen.token) == ("GEN", None, 42)
    assert miss.word == "MISS" and miss.value is None
    assert full.line == "SERVER_ERROR too many locks"


def test_mlockgen_whole_request_error_comes_alone():
    replies = read_multi(b"CLIENT_ERROR bad command line format\r\n", 3, 100)
    assert [r.word for r in replies] == ["CLIENT_ERROR"]


@pytest.mark.parametrize("bad", [b"MISS\r\nEND\r\n",                 # END too early
                                 b"MISS\r\nMISS\r\nMISS\r\n",       # no END
                                 b"MISS\r\nBUSY\r\nEND\r\n",         # not an mlockgen block
                                 b"MISS\r\nHIT\r\nEND\r\n",          # HIT without a value
                                 b"MISS\r\nMISS\r\nEND\r\nHIT\r\n"])  # bytes after END
def test_malformed_mlockgen_replies(bad):
    with pytest.raises(ProtocolError):
        reader = protocol.MultiReader(2)
        reader.feed(bad)
        assert reader.read() is not None
