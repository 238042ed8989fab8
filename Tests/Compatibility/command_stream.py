"""The seeded generator of differential command streams, and its category tags.

Generator(seed, disabled).batches(n) yields the same batches for the same
seed.  Every command carries category tags (TAG_DOCS); commands carrying a
disabled category -- the categories listed in DELIBERATE_DEVIATIONS in
test_differential.py -- are never generated (Generator.unit).

The pieces: command_model.py (Unit, Batch, CasRef), command_fields.py (keys,
values, flags, ...), command_builders.py (one command of each kind).
"""

from __future__ import annotations

import random

from admin_builders import AdminCommands
from command_builders import RandomCommands
from command_fields import SAFE_CHARS
from command_model import Batch, Unit, unit_size
from meta_builders import MetaCommands

# Category tags used by the generator (for DELIBERATE_DEVIATIONS in
# test_differential.py):
TAG_DOCS = {
    **{c: "the command itself" for c in (
        "set add replace append prepend cas get gets gat gats touch delete incr decr "
        "flush_all verbosity stats quit shutdown").split()},
    "noreply": "a command with the noreply token",
    "extra_token": "storage command with a trailing token that is not 'noreply' (accepted)",
    "key_250": "250-byte key (the maximum)",
    "key_251": "251-byte key (too long)",
    "key_random": "random printable key",
    "key_weird": "key with tab, CR, control characters or bytes >= 0x80",
    "nul_byte": "NUL inside a command line (memcached ends the line there)",
    "flags_wrap": "flags >= 2**32 (memcached keeps the low 32 bits)",
    "flags_invalid": "flags -1, abc, 2**64, ...",
    "exptime_past_abs": "absolute exptime in the past (> 30 days => absolute)",
    "exptime_negative": "negative exptime (expires immediately)",
    "exptime_future_abs": "absolute exptime 40 days ahead",
    "exptime_invalid": "non-numeric exptime",
    "exptime_int32_wrap": "exptime >= 2**31 (memcached truncates to int32)",
    "vlen_invalid": "byte count -1, abc, 1x, 2147483647",
    "vlen_wrap": "byte count 2**32+n (memcached truncates to int32 => n)",
    "bad_data_chunk": "data block longer/shorter than declared or badly terminated",
    "too_large": "value larger than the 1 MB item size limit",
    "large_value": "value of 50-300 KB",
    "cas_stale": "cas with an older cas unique of the key",
    "cas_foreign": "cas with the cas unique of another key",
    "cas_bogus": "cas with 0 / 1 / huge unique",
    "cas_invalid": "non-numeric cas unique",
    "delta_invalid": "bad incr/decr delta",
    "bare_lf": "command line ending in LF only",
    "extra_spaces": "leading / multiple / trailing spaces between tokens",
    "unknown_command": "unknown command",
    "uppercase": "upper-case command name",
    "empty_line": "empty or blank line",
    "wrong_token_count": "too few / too many tokens",
    "too_many_tokens": "more than 24 tokens",
    "long_get": "multi-get line longer than 2048 bytes",
    "long_get_key": "get with a 20000-byte key",
    "get_error_drops_pipelined": "a get with a too long key drops the replies still queued "
                                 "for earlier pipelined commands (listing it keeps such gets "
                                 "first in their batch and skips the script)",
    "long_line_close": "20000-byte line without newline: memcached closes the connection",
    "meta": "a meta command (mg, ms, md, ma, me, mn)",
    **{c: f"meta command {c}" for c in "mg ms md ma me mn".split()},
    "meta_base64": "meta command with a base64 key (b flag), sometimes one that does not decode",
    "meta_bad_token": "meta flag with a bad number (N, T, R, C, F, J, D)",
    "meta_invalid_flag": "meta command with an unknown flag",
    "meta_duplicate_flag": "meta command with a flag given twice",
    "meta_long_opaque": "meta command with an opaque (O) over 32 bytes",
    "meta_too_many_flags": "meta command with more than 20 tokens",
    "meta_bad_mode": "ms/ma with an unknown or malformed M mode",
    "meta_malformed": "malformed meta line (missing key, too long key, bad length, ...)",
    **{c: f"administrative command {c}" for c in "cache_memlimit lru_crawler lru slabs watch".split()},
    "stats_cachedump": "stats cachedump (malformed forms; every form under -X)",
    "pipelined": "several commands in one write",
    "fragmented": "a batch written in several pieces",
}
KNOWN_TAGS = set(TAG_DOCS)


class Generator(RandomCommands, MetaCommands, AdminCommands):
    """The command stream of one seed: one() picks a command kind, unit()
    drops the disabled categories and tracks suspect keys, batches() cuts the
    stream into batches."""

    def __init__(self, seed: int, disabled: set[str] | None = None, restricted: bool = False):
        """`restricted`: the servers run with -F -X -W, so flush_all removes nothing and every
        dump and watch form is refused."""
        self.seed = seed
        self.flush_refused = restricted
        self.dumps_refused = restricted
        self.r = random.Random(seed)
        self.disabled = set(disabled or ())
        self.random_keys: list[bytes] = []
        self.queue: list[Unit] = []     # units that must come before the next one
        # Keys on which memcached 1.6.18 itself is not deterministic:
        #
        # "padded": the value may have been rewritten by incr/decr.  memcached
        #   rewrites in place (padding a shorter number with spaces: "10"
        #   decr 1 -> "9 ") only if nobody else holds a reference to the item,
        #   else it allocates a new item ("9").  That races with its LRU
        #   threads and with not yet transmitted GET replies.  Replies are
        #   compared with "<digits><spaces>" values stripped
        #   (reply_compare.Side.normalize)
        #   and append/prepend are not sent to such keys (that would turn the
        #   difference into "9 x" vs "9x").
        # "big": incr/decr would make memcached read past the value.  Item
        #   data is not NUL terminated, and memcached parses it with
        #   strtoull(): (a) for a number >= 2**63 safe_strtoull() looks for a
        #   minus sign with strchr(), which runs past the value into whatever
        #   bytes follow in slab memory; (b) a value made only of whitespace
        #   (" ", "\r\n", ...) is skipped as leading whitespace and the digits
        #   parsed come from the memory after it.  Either way incr/decr
        #   answer depends on stale memory.  incr/decr are not sent to such
        #   keys here; test_scripted_edge_cases covers 2**64 wrap-around on
        #   fresh items.
        self.suspect: dict[str, set[bytes]] = {"padded": set(), "big": set()}

    def one(self) -> Unit:
        r = self.r
        if r.random() < 0.15:
            return self.meta()
        x = r.random() * 100
        if x < 14:
            return self.storage(b"set")
        if x < 19:
            return self.storage(b"add")
        if x < 24:
            return self.storage(b"replace")
        if x < 28:
            return self.storage(b"append")
        if x < 32:
            return self.storage(b"prepend")
        if x < 40:
            return self.storage(b"cas")
        if x < 52:
            return self.retrieval(b"get")
        if x < 60:
            return self.retrieval(b"gets")
        if x < 63:
            return self.retrieval(b"gat")
        if x < 66:
            return self.retrieval(b"gats")
        if x < 70:
            return self.touch()
        if x < 76:
            return self.delete()
        if x < 81:
            return self.arith(b"incr")
        if x < 86:
            return self.arith(b"decr")
        if x < 86.25:
            return self.flush_all()
        if x < 87.6:
            return self.verbosity()
        if x < 95.5:
            return self.malformed()
        if x < 96:
            return Unit([b"stats\r\n"], frozenset({"stats"}), solo=True, stats=True)
        if x < 96.5:
            tags = {"quit"}
            return Unit(self.line([b"quit"], tags), frozenset(tags), last=True)
        if x < 96.7:
            return Unit([b"shutdown\r\n"], frozenset({"shutdown"}))
        if x < 97.2:
            return self.long_get()
        if x < 97.4:
            return Unit([b"get " + b"k" * 20000 + b"\r\n"], frozenset({"get", "long_get_key"}),
                        kills_pending=True)
        if x < 97.6:
            junk = "".join(r.choice(SAFE_CHARS + " ") for _ in range(64)).encode() * 313
            return Unit([r.choice([b"set ", b"", b"bogus "]) + junk + b"\r\n"],
                        frozenset({"long_line_close"}), solo=True)
        if x < 99.6:
            return self.admin()
        # a few extra plain gets keep the hit rate up
        return self.retrieval(b"get")

    def unit(self) -> Unit:
        if not self.queue:
            for _ in range(200):
                self.queue.clear()
                u = self.one()
                if not (u.tags & self.disabled):
                    if self.queue:
                        # e.g. the gets whose cas a following cas command uses:
                        # the cas must start a new batch to see that reply.
                        u.starts_batch = True
                    self.queue.append(u)
                    break
            else:
                raise RuntimeError("DELIBERATE_DEVIATIONS exclude nearly everything")
        u = self.queue.pop(0)
        for keys in self.suspect.values():
            if b"*" in u.clean:
                keys.clear()
            keys -= u.clean
        for kind, key in u.suspect:
            self.suspect[kind].add(key)
        return u

    def batches(self, n_commands: int) -> list[Batch]:
        r = self.r
        out: list[Batch] = []
        count = 0
        pending: Unit | None = None
        while count < n_commands:
            size = 1 if r.random() < 0.7 else r.randint(2, 6)
            if "pipelined" in self.disabled:
                size = 1
            units: list[Unit] = []
            while len(units) < size and count < n_commands:
                u = pending or self.unit()
                pending = None
                if units and (u.solo or u.starts_batch or (u.kills_pending and (
                        "get_error_drops_pipelined" in self.disabled
                        or sum(unit_size(x) for x in units + [u]) > 8000))):
                    pending = u
                    break
                u.index = count
                count += 1
                units.append(u)
                if u.solo or u.last or u.kills_pending:
                    break
            if not units:
                continue
            b = Batch(units, index=len(out))
            if r.random() < 0.04 and "fragmented" not in self.disabled \
                    and not any("long_line_close" in u.tags for u in units) \
                    and not any(u.kills_pending for u in units[1:]):
                total = sum(len(p) for u in units for p in u.parts if isinstance(p, bytes)) + 24
                b.fragments = [r.randint(1, max(1, total // 3)) for _ in range(r.randint(1, 6))]
            out.append(b)
        return out
