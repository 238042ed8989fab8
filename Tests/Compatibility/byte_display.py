"""Showing bytes to humans: Python bytes expressions and first differences.

Used by the command templates (command_model.Unit.template) and by the
failure messages and transcripts of the differential test.
"""

from __future__ import annotations

import re


def pyrepr(b: bytes, limit: int | None = None) -> str:
    """repr() of bytes as a Python expression, long runs of one byte collapsed."""
    pieces = []
    for m in re.finditer(rb"(.)\1{63,}|(?:(?!(.)\2{63,}).)+", b, re.S):
        s = m.group(0)
        if m.group(1) is not None:
            pieces.append(f"{m.group(1)!r} * {len(s)}")
        else:
            pieces.append(repr(s))
    text = " + ".join(pieces) if pieces else "b''"
    if limit is not None and len(text) > limit:
        text = text[:limit] + f"... <{len(text) - limit} more chars>"
    return text


def first_difference(a: bytes, b: bytes, context: int = 60) -> str:
    n = 0
    limit = min(len(a), len(b))
    while n < limit and a[n] == b[n]:
        n += 1
    lo = max(0, n - context)
    return (f"first difference at byte {n} (lengths {len(a)} vs {len(b)}):\n"
            f"  memcached: ...{a[lo:n + context]!r}\n"
            f"  dogpiled : ...{b[lo:n + context]!r}")
