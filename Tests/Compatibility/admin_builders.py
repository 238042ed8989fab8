"""Administrative commands for the differential stream: cache_memlimit, lru_crawler,
lru, slabs, watch, shutdown and stats cachedump, valid and malformed.

Only forms whose reply memcached 1.6.18 gives deterministically go into the random
stream (see AdminCommands.admin); the rest (crawls, dumps, crawler enable/disable,
slab page moves) are covered by the fixed scripts of test_admin_commands.py.
"""

from __future__ import annotations

from command_model import Unit

# memcached answers these the same way whatever state the cache is in.
MEMLIMIT = [b"64", b"128", b"1024", b"7", b"0", b"8x", b"x", b"-1", b"", b"1000000001",
            b"4294967295", b"18446744073709551616"]
CRAWLER = [
    [b"lru_crawler"], [b"lru_crawler", b"crawl"], [b"lru_crawler", b"crawl", b"0"],
    [b"lru_crawler", b"crawl", b"64"], [b"lru_crawler", b"crawl", b"x"],
    [b"lru_crawler", b"crawl", b"1,x"], [b"lru_crawler", b"crawl", b"1,64"],
    [b"lru_crawler", b"crawl", b"all", b"noreply"], [b"lru_crawler", b"metadump"],
    [b"lru_crawler", b"metadump", b"0"], [b"lru_crawler", b"metadump", b"x"],
    [b"lru_crawler", b"metadump", b"all", b"x"],
    [b"lru_crawler", b"tocrawl", b"10"], [b"lru_crawler", b"tocrawl", b"0"],
    [b"lru_crawler", b"tocrawl", b"x"], [b"lru_crawler", b"tocrawl", b"-1"],
    [b"lru_crawler", b"tocrawl", b"1", b"2"],
    [b"lru_crawler", b"sleep", b"100"], [b"lru_crawler", b"sleep", b"1000000"],
    [b"lru_crawler", b"sleep", b"1000001"], [b"lru_crawler", b"sleep", b"x"],
    [b"lru_crawler", b"foo"], [b"lru_crawler", b"foo", b"bar"], [b"lru_crawler", b"enable", b"x"],
]
LRU = [
    [b"lru"], [b"lru", b"x"], [b"lru", b"tune"], [b"lru", b"tune", b"10", b"10", b"0.1", b"2.0"],
    [b"lru", b"tune", b"20", b"40", b"0.2", b"2"], [b"lru", b"tune", b"50", b"40", b"0.1", b"2.0"],
    [b"lru", b"tune", b"10", b"10", b"0", b"2.0"], [b"lru", b"tune", b"10", b"10", b"0.1", b"-1"],
    [b"lru", b"tune", b"x", b"10", b"0.1", b"2.0"], [b"lru", b"tune", b"10", b"10", b"0.1x", b"2"],
    [b"lru", b"tune", b"10", b"10", b"0.1"], [b"lru", b"tune", b"4294967295", b"81", b"1", b"1"],
    [b"lru", b"tune", b"10", b"10", b"1e-3", b"2e0"],
    [b"lru", b"mode"], [b"lru", b"mode", b"segmented"], [b"lru", b"mode", b"x"],
    [b"lru", b"temp_ttl"], [b"lru", b"temp_ttl", b"-1"], [b"lru", b"temp_ttl", b"x"],
    [b"lru", b"temp_ttl", b"2147483648"],
]
SLABS = [
    [b"slabs"], [b"slabs", b"reassign"], [b"slabs", b"reassign", b"1", b"1"],
    [b"slabs", b"reassign", b"x", b"2"], [b"slabs", b"reassign", b"1", b"x"],
    [b"slabs", b"reassign", b"1", b"40"], [b"slabs", b"reassign", b"64", b"1"],
    [b"slabs", b"reassign", b"-2", b"1"], [b"slabs", b"reassign", b"1", b"2", b"3"],
    [b"slabs", b"reassign", b"1", b"2", b"noreply"],
    [b"slabs", b"automove"], [b"slabs", b"automove", b"0"], [b"slabs", b"automove", b"1"],
    [b"slabs", b"automove", b"3"], [b"slabs", b"automove", b"x"], [b"slabs", b"automove", b"ratio"],
    [b"slabs", b"automove", b"ratio", b"x"], [b"slabs", b"automove", b"-1"], [b"slabs", b"foo", b"bar"],
]
SHUTDOWN = [[b"shutdown"], [b"shutdown", b"graceful"], [b"shutdown", b"x"], [b"shutdown", b"graceful", b"x"],
            [b"shutdown", b"noreply"]]
CACHEDUMP = [[b"stats", b"cachedump"], [b"stats", b"cachedump", b"1"], [b"stats", b"cachedump", b"x", b"0"],
             [b"stats", b"cachedump", b"1", b"x"], [b"stats", b"cachedump", b"64", b"0"],
             [b"stats", b"cachedump", b"-1", b"0"], [b"stats", b"cachedump", b"4294967296", b"1"]]
WATCH = [[b"watch"], [b"watch", b"fetchers"], [b"watch", b"x"], [b"watch", b"fetchers", b"noreply"],
         [b"watch", b"noreply"]]


class AdminCommands:
    """Mixed into command_stream.Generator (self.r, self.line, self.noreply)."""

    #: set by the generator when the servers run with -X / -W: every dump and watch
    #: form is then refused deterministically
    dumps_refused = False

    def admin(self) -> Unit:
        r = self.r
        x = r.random()
        if x < 0.25:
            tags = {"cache_memlimit"}
            toks = [b"cache_memlimit"] + ([r.choice(MEMLIMIT)] if r.random() < 0.95 else [])
            toks = [t for t in toks if t]
            y = r.random()
            if y < 0.2:
                toks.append(b"noreply")
                tags.add("noreply")
            elif y < 0.25:
                toks += [b"1", b"2"]
                tags.add("wrong_token_count")
            elif y < 0.3:
                toks.append(b"foo")
        elif x < 0.45:
            tags = {"lru_crawler"}
            toks = list(r.choice(CRAWLER))
        elif x < 0.65:
            tags = {"lru"}
            toks = list(r.choice(LRU))
            toks += self.noreply(tags, 0.15)
        elif x < 0.8:
            tags = {"slabs"}
            toks = list(r.choice(SLABS))
            if toks[1:2] == [b"automove"]:
                toks += self.noreply(tags, 0.15)
        elif x < 0.85:
            tags = {"stats"}
            line = r.choice([b"stats conns\r\n", b"stats conns x\r\n", b"stats detail\r\n",
                             b"stats detail x\r\n", b"stats detail dump\r\n"])
            # stats conns lists sockets, ports and seconds: compared by shape only.
            return Unit([line], frozenset(tags), solo=True, stats=b"conns" in line)
        elif x < 0.9:
            tags = {"shutdown"}
            toks = list(r.choice(SHUTDOWN))
        elif x < 0.97 or not self.dumps_refused:
            tags = {"stats_cachedump"}
            toks = list(r.choice(CACHEDUMP))
            if self.dumps_refused and r.random() < 0.5:
                toks = [b"stats", b"cachedump", b"1", b"0"]
        else:
            tags = {"watch"}
            toks = list(r.choice(WATCH))
        if b"noreply" in toks:
            tags.add("noreply")
        if self.dumps_refused and r.random() < 0.1:
            tags = {"lru_crawler"}
            toks = [b"lru_crawler", b"metadump", r.choice([b"all", b"1", b"hash", b"x"])]
        # memcached refuses a metadump with replies of earlier pipelined commands still queued
        # ("ERROR cannot pipeline ..."), which depends on how its reads split a batch.
        return Unit(self.line(toks, tags), frozenset(tags), solo=b"metadump" in toks)
