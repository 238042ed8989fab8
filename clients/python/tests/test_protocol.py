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
    assert protocol.setgen("user:1", 7, 0, 300, b"ab") == b"setgen user:1 7 0 300 2\r\nab\r\n"
    assert protocol.unlockgen("user:1", 7) == b"unlockgen user:1 7\r\n"
    assert protocol.lock("n", 1000, 0) == b"lock n 1000 0\r\n"
    assert protocol.lock("n", 1000, 5, shared=True) == b"rlock n 1000 5\r\n"
    assert protocol.unlock("n", 3) == b"unlock n 3\r\n"
    assert protocol.renew("n", 3, 10) == b"renew n 3 10\r\n"
    assert protocol.invalidate("user", hard=False) == b"invalidate user soft\r\n"
    assert protocol.invalidate("user", hard=True) == b"invalidate user hard\r\n"
