"""Administrative commands and the options that gate them, dogpiled vs. memcached 1.6.18.

* test_restricted_differential: the differential stream (test_differential.py) with both
  servers started with -F -X -W: flush_all, every dump and every watch form is refused.
* test_admin_script: fixed sequences on fresh servers for what the random stream must avoid
  because memcached answers it depending on its background threads (crawls, dumps, crawler
  enable/disable, prefix statistics).  Replies are compared byte for byte after
  normalising what legitimately differs: metadump and `stats detail dump` lines are compared
  as sorted sets (memcached lists them in hash/LRU order) with times and cas values masked;
  `stats cachedump` only by its line format (memcached lists only its COLD LRU).
* -A (shutdown), -F, -D and `stats settings`.
"""

from __future__ import annotations

import re
import time

import pytest

from byte_display import pyrepr
from command_stream import Generator
from conftest import HOST, RawClient, Server, candidate_command, reference_command
from reply_compare import run_stream
from test_differential import DELIBERATE_DEVIATIONS, N_COMMANDS, seeds


def flagged(command, flags):
    return lambda port: command(port) + list(flags)


@pytest.fixture
def pair():
    """Call with extra flags to start memcached and dogpiled with them; stopped at teardown."""
    started: list[Server] = []

    def make(*flags: str) -> tuple[Server, Server]:
        ref = Server("memcached", flagged(reference_command, flags)).start()
        started.append(ref)
        cand = Server("dogpiled", flagged(candidate_command, flags)).start()
        started.append(cand)
        return ref, cand
    yield make
    for s in started:
        s.stop()


@pytest.mark.parametrize("seed", seeds()[:4])
def test_restricted_differential(seed, pair):
    ref, cand = pair("-F", "-X", "-W")
    disabled = {cat for cat, _reason in DELIBERATE_DEVIATIONS}
    batches = Generator(seed, disabled, restricted=True).batches(N_COMMANDS)
    m = run_stream(ref, cand, batches)
    if m is not None:
        pytest.fail(f"seed {seed}, command {m.batch.cmd_range()}: {m.why}\n"
                    f"sent      : {pyrepr(m.sent_ref, 300)}\n"
                    f"memcached : {pyrepr(m.ref_norm, 1500)}\n"
                    f"dogpiled  : {pyrepr(m.cand_norm, 1500)}\n"
                    f"rerun: DIFF_SEED_LIST={seed} pytest {__file__}", pytrace=False)


# --------------------------------------------------------------------------
# normalising dumps
# --------------------------------------------------------------------------

METADUMP_LINE = re.compile(rb"\Akey=\S+ exp=-?\d+ la=\d+ cas=\d+ fetch=(yes|no) cls=\d+ size=\d+\Z")
CACHEDUMP_LINE = re.compile(rb"\AITEM \S+ \[\d+ b; \d+ s\]\Z")


def normalise(reply: bytes, step: bytes = b"") -> bytes:
    """Metadump and prefix lines sorted, with times and cas masked; cachedump lines checked
    for format and reduced to a marker (memcached lists only the items its LRU maintainer
    has moved to COLD, so which ones it lists depends on timing; an empty list too)."""
    if step.startswith(b"stats cachedump") and reply == b"END\r\n":
        return b"<cachedump lines>END\r\n"
    if reply.startswith(b"key=") and reply.endswith(b"END\r\n"):
        lines = reply[:-5].split(b"\n")[:-1]
        out = []
        for line in lines:
            assert METADUMP_LINE.match(line), line
            fields = [re.sub(rb"\A(la|cas)=\d+\Z", rb"\1=?", f) for f in line.split(b" ")]
            fields = [f if f == b"exp=-1" else re.sub(rb"\Aexp=\d+\Z", b"exp=?", f) for f in fields]
            out.append(b" ".join(fields))
        return b"\n".join(sorted(out)) + b"\nEND\r\n"
    if reply.startswith(b"PREFIX "):
        return b"".join(sorted(reply[:-5].splitlines(keepends=True))) + b"END\r\n"
    if reply.startswith(b"ITEM "):
        for line in reply[:-5].split(b"\r\n")[:-1]:
            assert CACHEDUMP_LINE.match(line), line
        return b"<cachedump lines>END\r\n"
    return reply


def compare_script(ref: Server, cand: Server, steps: list, pause: float = 0.05) -> None:
    """Sends each step on one connection per server; a float step sleeps that long."""
    rc, cc = RawClient(HOST, ref.port), RawClient(HOST, cand.port)
    try:
        for index, step in enumerate(steps):
            if isinstance(step, float):
                time.sleep(step)
                continue
            if step.startswith(b"lru_crawler metadump"):
                # memcached hands the connection to its crawler thread and answers what was
                # pipelined behind a metadump only when more input arrives: no sentinel here.
                r = rc.exchange(step, sentinel=False, timeout=1.0)
                c = cc.exchange(step, sentinel=False, timeout=1.0)
                r.timed_out = c.timed_out = False
            else:
                r, c = rc.exchange(step), cc.exchange(step)
            nr, nc = normalise(r.outcome(), step), normalise(c.outcome(), step)
            assert nr == nc, (f"step {index} {step!r}:\nmemcached: {pyrepr(r.outcome(), 1500)}\n"
                              f"dogpiled : {pyrepr(c.outcome(), 1500)}")
            time.sleep(pause)
    finally:
        rc.close()
        cc.close()


ITEMS = [b"set a:1 0 0 1\r\nx\r\n", b"set a:2 5 100 2\r\nxy\r\n", b"set sp%20c:x 0 0 1\r\nz\r\n",
         b"set big 0 0 600\r\n" + b"v" * 600 + b"\r\n", b"set nodelim 0 0 1\r\nq\r\n",
         b"set \xc3\xa9t\xc3\xa9 0 0 3\r\nabc\r\n", b"get a:2 nokey\r\n"]

SCRIPTS = {
    "metadump": ITEMS + [
        0.2, b"lru_crawler metadump all\r\n", b"lru_crawler metadump 1\r\n", b"lru_crawler metadump 10\r\n",
        b"lru_crawler metadump 1,10\r\n", b"lru_crawler metadump hash\r\n", b"lru_crawler metadump 5\r\n",
        b"lru_crawler metadump 64\r\n", b"lru_crawler metadump ,\r\n", b"stats cachedump 1 0\r\n",
        b"stats cachedump 1 1\r\n", b"stats cachedump 2 0\r\n", b"stats cachedump 0 0\r\n",
    ],
    "crawler_switch": [
        b"lru_crawler crawl all\r\n", 0.2, b"lru_crawler crawl 1,2\r\n", 0.2, b"lru_crawler crawl ,\r\n",
        b"lru_crawler crawl hash\r\n", b"lru_crawler enable\r\n", b"lru_crawler disable\r\n", 0.3,
        b"lru_crawler crawl all\r\n", b"lru_crawler metadump all\r\n", b"lru_crawler disable\r\n", 0.3,
        b"lru_crawler enable\r\n", 0.2, b"lru_crawler enable\r\n", b"lru_crawler crawl 3\r\n",
        b"lru_crawler tocrawl 5\r\n", b"lru_crawler sleep 0\r\n",
    ],
    "prefix_statistics": [
        b"stats detail dump\r\n", b"stats detail\r\n", b"stats detail x\r\n", b"stats detail on noreply\r\n",
    ] + ITEMS + [
        b"get a:1 a:3 b:1 nodelim\r\n", b"gets a:2\r\n", b"gat 0 a:2 c:1\r\n", b"delete a:1\r\n",
        b"delete b:1 noreply\r\n", b"incr a:9 1\r\n", b"touch a:2 0\r\n", b"stats detail dump\r\n",
        b"stats detail off\r\n", b"get a:2\r\n", b"stats detail dump\r\n", b"stats reset\r\n",
        b"stats detail dump\r\n",
    ],
    "slab_pages_on_a_fresh_server": [
        b"slabs reassign 1 2\r\n", b"slabs reassign 2 0\r\n", b"slabs reassign 0 2\r\n",
        b"slabs reassign 39 1\r\n", b"slabs reassign -1 1\r\n", b"slabs reassign 4294967297 1\r\n",
        b"slabs automove 2\r\n", b"slabs automove 0\r\n", b"slabs automove ratio 0.5 noreply\r\n",
    ],
}


@pytest.mark.parametrize("name", sorted(SCRIPTS))
def test_admin_script(name, pair):
    ref, cand = pair()
    compare_script(ref, cand, SCRIPTS[name])


def settings(server: Server) -> dict[bytes, bytes]:
    client = RawClient(HOST, server.port)
    try:
        reply = client.request(b"stats settings\r\n")
    finally:
        client.close()
    return dict(line.split(b" ", 2)[1:] for line in reply.split(b"\r\n") if line.startswith(b"STAT "))


MINE = [b"maxbytes", b"shutdown_command", b"stat_key_prefix", b"detail_enabled", b"slab_automove",
        b"slab_automove_ratio", b"lru_crawler", b"lru_crawler_sleep", b"lru_crawler_tocrawl",
        b"flush_enabled", b"dump_enabled", b"lru_segmented", b"hot_lru_pct", b"warm_lru_pct",
        b"hot_max_factor", b"warm_max_factor", b"temp_lru", b"temporary_ttl"]


@pytest.mark.parametrize("flags", [(), ("-A", "-X", "-F", "-D", "#")])
def test_settings_follow_options_and_commands(flags, pair):
    """The settings these options and commands govern read the same on both servers."""
    ref, cand = pair(*flags)
    for server in (ref, cand):
        client = RawClient(HOST, server.port)
        client.request(b"cache_memlimit 100\r\nlru_crawler sleep 250\r\nlru_crawler tocrawl 7\r\n"
                       b"lru tune 15 35 0.25 1.5\r\nlru mode flat\r\nlru temp_ttl 30\r\n"
                       b"slabs automove 0\r\nslabs automove ratio 0.125\r\n")
        client.close()
    mine_ref, mine_cand = settings(ref), settings(cand)
    for field in MINE:
        assert mine_cand.get(field) == mine_ref.get(field), (field, mine_ref.get(field), mine_cand.get(field))


def test_shutdown_with_A(pair):
    ref, cand = pair("-A")
    steps = [b"shutdown x\r\n", b"shutdown graceful x\r\n", b"shutdown noreply\r\n"]
    compare_script(ref, cand, steps)
    for server in (ref, cand):
        client = RawClient(HOST, server.port)
        reply = client.exchange(b"shutdown\r\n", sentinel=False, timeout=5)
        assert reply.closed and reply.data == b"", (server.name, reply)
        client.close()
        server.proc.wait(timeout=10)


def test_shutdown_graceful_with_A(pair):
    ref, cand = pair("-A")
    for server in (ref, cand):
        client = RawClient(HOST, server.port)
        reply = client.exchange(b"shutdown graceful\r\n", sentinel=False, timeout=5)
        assert reply.closed and reply.data == b"", (server.name, reply)
        client.close()
        server.proc.wait(timeout=10)


def test_flush_all_refused_with_F_keeps_items(pair):
    ref, cand = pair("-F")
    compare_script(ref, cand, [b"set k 0 0 1\r\nx\r\n", b"flush_all\r\n", b"flush_all 0 noreply\r\n",
                               b"flush_all abc\r\n", b"flush_all 1 2 3\r\n", b"get k\r\n"])


def test_prefix_delimiter_D_turns_detail_on(pair):
    ref, cand = pair("-D", "#")
    compare_script(ref, cand, [b"set a#1 0 0 1\r\nx\r\n", b"set a:1 0 0 1\r\nx\r\n", b"get a#1 b#2\r\n",
                               b"stats detail dump\r\n"])


def conns_shape(reply: bytes) -> list[bytes]:
    """`stats conns` with descriptors numbered in order, ports and seconds masked."""
    order: dict[bytes, int] = {}
    out = []
    for line in reply.split(b"\r\n"):
        m = re.match(rb"\ASTAT (\d+):(\w+) (.*)\Z", line)
        if not m:
            out.append(line)
            continue
        fd, field, value = m.groups()
        index = order.setdefault(fd, len(order))
        if field in (b"addr", b"listen_addr"):
            value = re.sub(rb":\d+\Z", b":<port>", value)
        elif field == b"state" and value in (b"conn_read", b"conn_waiting", b"conn_new_cmd"):
            # memcached passes an idle connection through these as it finishes a request
            value = b"<idle>"
        elif field == b"secs_since_last_cmd":
            assert value.isdigit(), line
            value = b"<n>"
        out.append(b"STAT %d:%s %s" % (index, field, value))
    return out


def test_stats_conns_shape(pair):
    """One listener, one idle client, the asking client: the same fields, states and order."""
    ref, cand = pair()
    shapes = []
    for server in (ref, cand):
        idle = RawClient(HOST, server.port)
        idle.request(b"set x 0 0 1\r\ny\r\n")
        time.sleep(0.1)
        asking = RawClient(HOST, server.port)
        shapes.append(conns_shape(asking.request(b"stats conns\r\n")))
        assert asking.request(b"stats conns x\r\n") is not None
        idle.close()
        asking.close()
    assert shapes[0] == shapes[1], (shapes[0], shapes[1])


def test_stats_items_lists_memcached_classes(pair):
    """Items are counted under the class memcached puts them in: the same classes, numbers and
    mem_requested (memcached's item sizes) on both servers, so tools that walk the classes of
    `stats items` (with `stats cachedump`) find every item."""
    ref, cand = pair()
    figures = []
    for server in (ref, cand):
        client = RawClient(HOST, server.port)
        payload = b"".join(b"set k%d %d 0 %d\r\n%s\r\n" % (n, n % 3, size, b"v" * size)
                           for n, size in enumerate([1, 10, 100, 600, 5000, 20000, 100000, 700000, 3]))
        assert client.request(payload) == b"STORED\r\n" * 9
        client.request(b"delete k2\r\n")
        reply = client.request(b"stats items\r\n")
        client.close()
        figures.append(sorted(re.findall(rb"STAT (items:\d+:(?:number|mem_requested)) (\d+)", reply)))
    assert figures[0] == figures[1] and figures[0], figures


def test_long_option_names(pair):
    """memcached's long spellings start both servers with the same settings."""
    ref, cand = pair("--enable-shutdown", "--disable-dumping", "--disable-flush-all", "--disable-watch")
    mine_ref, mine_cand = settings(ref), settings(cand)
    for field in MINE:
        assert mine_cand.get(field) == mine_ref.get(field), (field, mine_ref.get(field), mine_cand.get(field))
    assert mine_cand[b"shutdown_command"] == b"yes" and mine_cand[b"dump_enabled"] == b"no"
    compare_script(ref, cand, [b"flush_all\r\n", b"stats cachedump 1 0\r\n", b"watch\r\n", b"shutdown x\r\n"])
