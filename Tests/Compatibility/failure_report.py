"""Reporting a differential failure: command descriptions, shrinking the
stream to a minimal reproduction on fresh servers, and the transcript file.
"""

from __future__ import annotations

import time

from byte_display import first_difference, pyrepr
from command_model import Batch
from conftest import Server, candidate_command, reference_command
from reply_compare import Mismatch, run_stream


def describe_units(batch: Batch) -> str:
    return "\n".join(f"    cmd #{u.index} [{','.join(sorted(u.tags))}]: {u.template()}"
                     for u in batch.units)


def shrink(batches: list[Batch], deadline: float, extra: tuple[str, ...] = ()) -> tuple[list[Batch], Mismatch | None]:
    """Greedy delta-debugging on the batches before the failing one, each try on
    fresh servers (both started with the server flags ``extra``).  Returns (minimal
    batches, mismatch on them) or the input and None if the failure does not
    reproduce on fresh servers."""

    def servers():
        return (Server("memcached", lambda port: reference_command(port, extra)),
                Server("dogpiled", lambda port: candidate_command(port, extra)))

    def attempt(bs):
        reference, candidate = servers()
        with reference as rs, candidate as cs:
            return run_stream(rs, cs, bs)

    m = attempt(batches)
    if m is None:
        return batches, None
    cur = batches[: batches.index(m.batch) + 1]
    chunk = max(1, (len(cur) - 1) // 2)
    while chunk >= 1 and time.monotonic() < deadline:
        i, changed = 0, False
        while i < len(cur) - 1 and time.monotonic() < deadline:
            trial = cur[:i] + cur[i + chunk:] if i + chunk < len(cur) else None
            if trial is None:
                trial = cur[:i] + cur[-1:]
            mm = attempt(trial)
            if mm is not None:
                cur = trial[: trial.index(mm.batch) + 1]
                m, changed = mm, True
            else:
                i += chunk
        if not changed:
            chunk //= 2
    # then single commands inside the remaining batches (last batch included)
    bi = 0
    while bi < len(cur) and time.monotonic() < deadline:
        ui = 0
        while ui < len(cur[bi].units) and len(cur[bi].units) > 1 and time.monotonic() < deadline:
            b = cur[bi]
            smaller = Batch(b.units[:ui] + b.units[ui + 1:], b.fragments, b.index)
            trial = cur[:bi] + [smaller] + cur[bi + 1:]
            mm = attempt(trial)
            if mm is not None and trial.index(mm.batch) == len(trial) - 1:
                cur, m = trial, mm
            else:
                ui += 1
        bi += 1
    reference, candidate = servers()
    with reference as rs, candidate as cs:
        final = run_stream(rs, cs, cur, keep_history=True)
    return cur, final or m


def write_transcript(seed: int, full: list[Batch], orig: Mismatch, mm: Mismatch | None,
                     note: str, path: str, ref_desc: str, cand_desc: str) -> None:
    lines = [
        f"# dogpiled differential failure: seed {seed}, commands {orig.batch.cmd_range()} "
        f"(batch {orig.batch.index} of {len(full)})",
        f"# reference: {ref_desc}",
        f"# candidate: {cand_desc}",
        f"# reproduce the full stream: DIFF_SEED_LIST={seed} pytest Tests/Compatibility/test_differential.py",
        "#",
        "# Protocol of this transcript: start both servers fresh, open one connection",
        "# each, then for every batch write `sent` (a Python bytes expression) followed",
        "# by b'version\\r\\n' and read the reply up to the 'VERSION ...' line (stripped).",
        "# After a batch where a server closed the connection, both sides reconnect.",
        "# Cas uniques in replies are shown as #n (order of first appearance).",
        "",
    ]
    lines.append(f"# {note}")
    if mm is None or not mm.history:
        lines.append("# All batches up to the failing one follow; <cas last K> stands for the cas")
        lines.append("# unique of key K in that server's latest gets/gats reply.")
        lines.append("")
        for b in full[: orig.batch.index]:
            lines.append(f"--- batch {b.index} (commands {b.cmd_range()}) fragments={b.fragments}")
            lines += [f"    {u.template(10 ** 9)}" for u in b.units]
        mm_hist = [(orig.batch, orig.sent_ref, orig.sent_cand, orig.ref_norm, orig.cand_norm)]
    else:
        mm_hist = mm.history
    for b, sr, sc, nr, nc in mm_hist:
        lines.append(f"--- batch {b.index} (commands {b.cmd_range()}) fragments={b.fragments}")
        lines.append(describe_units(b))
        lines.append(f"sent            : {pyrepr(sr)}")
        if sc != sr:
            lines.append(f"sent (dogpiled) : {pyrepr(sc)}")
        lines.append(f"memcached reply : {pyrepr(nr, 8000)}")
        if nc != nr:
            lines.append(f"dogpiled reply  : {pyrepr(nc, 8000)}   <<<<<< MISMATCH")
            lines.append(first_difference(nr, nc))
        lines.append("")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")
