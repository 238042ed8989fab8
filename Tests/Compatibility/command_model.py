"""What the differential test sends: commands (Unit) cut into batches (Batch).

A Unit holds the bytes of one command; cas uniques are CasRef placeholders
that each server side resolves to its own value at send time
(reply_compare.Side.resolve).  The generator lives in command_stream.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from byte_display import pyrepr


@dataclass(frozen=True)
class CasRef:
    """Placeholder for a cas unique, resolved per server at send time."""
    key: bytes
    mode: str              # last | stale | foreign | bogus
    other: bytes = b""     # foreign: take the cas of this key
    bogus: bytes = b"9999999999999"

    def describe(self) -> str:
        return f"<cas {self.mode} {self.other or self.key!r}>"


@dataclass
class Unit:
    """One command: bytes and CasRef placeholders; always ends with a newline."""
    parts: list
    tags: frozenset
    index: int = -1         # command index within the seed's stream
    solo: bool = False      # must be the only command in its batch
    last: bool = False      # must be the last command in its batch (quit)
    stats: bool = False     # compare by shape only
    starts_batch: bool = False  # must be the first command of its batch
    # get/gets/gat/gats with a key > 250 bytes: memcached then discards ALL
    # replies it has queued but not yet written on this connection (replies
    # of earlier pipelined commands since the last successful get, which
    # flushes).  What is still queued depends on how memcached's reads split
    # the batch, so such a command ends its batch, and that batch is small
    # and written in one piece.
    kills_pending: bool = False
    # bookkeeping for Generator.suspect: (kind, key) pairs this command may
    # make suspect, and keys it certainly rewrites or removes ("*" = all)
    suspect: frozenset = frozenset()
    clean: frozenset = frozenset()

    def template(self, limit: int = 300) -> str:
        out, run = [], b""
        for p in self.parts:
            if isinstance(p, CasRef):
                out += [pyrepr(run)] if run else []
                out.append(p.describe())
                run = b""
            else:
                run += p
        out += [pyrepr(run)] if run else []
        text = " + ".join(out)
        return text if len(text) <= limit else text[:limit] + "..."


@dataclass
class Batch:
    units: list
    fragments: list | None = None
    index: int = -1

    @property
    def tags(self) -> frozenset:
        t = set()
        for u in self.units:
            t |= u.tags
        if len(self.units) > 1:
            t.add("pipelined")
        if self.fragments:
            t.add("fragmented")
        return frozenset(t)

    @property
    def stats(self) -> bool:
        return any(u.stats for u in self.units)

    def first_cmd(self) -> int:
        return self.units[0].index

    def cmd_range(self) -> str:
        a, b = self.units[0].index, self.units[-1].index
        return f"#{a}" if a == b else f"#{a}-#{b}"


def unit_size(u: Unit) -> int:
    return sum(len(p) if isinstance(p, bytes) else 20 for p in u.parts)
