"""Running a batch stream against memcached and dogpiled and comparing replies.

Side sends batches to one server (resolving CasRef placeholders to that
server's own cas uniques) and normalises its replies; run_stream compares the
normalised replies of both servers batch by batch and returns the first
Mismatch, or None.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field

from command_model import Batch, CasRef
from conftest import RawClient, Reply, Server

PADDED_NUMBER = re.compile(rb"\A[0-9]+ +\r\n\Z")
# Meta replies: a two-letter code, then flags (or VA <n> and flags), or a ME debug line.
META_LINE = re.compile(rb"\A(?:(?:HD|EN|NF|NS|EX)(?: |\r?\n)|VA [0-9]+(?: |\r?\n)|ME )")
STATS_RE = re.compile(rb"\A(?:STAT [^\r\n]*\r\n)*END\r\n\Z")


class Side:
    def __init__(self, name: str, server: Server):
        self.name = name
        self.server = server
        self.client: RawClient = server.client()
        self.key_cas: dict[bytes, list[bytes]] = {}
        self.cas_index: dict[bytes, int] = {}

    def resolve(self, ref: CasRef) -> bytes:
        if ref.mode == "last":
            seen = self.key_cas.get(ref.key)
            return seen[-1] if seen else ref.bogus
        if ref.mode == "stale":
            seen = self.key_cas.get(ref.key)
            return seen[0] if seen else ref.bogus
        if ref.mode == "foreign":
            seen = self.key_cas.get(ref.other)
            return seen[-1] if seen else ref.bogus
        return ref.bogus

    def render(self, batch: Batch) -> bytes:
        out = bytearray()
        for u in batch.units:
            for p in u.parts:
                out += self.resolve(p) if isinstance(p, CasRef) else p
        return bytes(out)

    def meta_line(self, line: bytes) -> tuple[bytes, int | None]:
        """Normalises a meta reply line: cas values (c, me's cas=) renamed like VALUE cas
        uniques (and learned per key through the k flag), time-dependent numbers (t, l, me's
        exp= and la=) masked. Returns the line and the length of a VA data block."""
        body = line.rstrip(b"\r\n")
        ending = line[len(body):]
        toks = body.split(b" ")
        block = int(toks[1]) if toks[0] == b"VA" and len(toks) > 1 and toks[1].isdigit() else None
        if toks[0] == b"ME":
            for i, t in enumerate(toks[2:], 2):
                name, _, value = t.partition(b"=")
                if name in (b"exp", b"la") and value != b"-1":
                    toks[i] = name + b"=?"
                elif name == b"cas" and value.isdigit():
                    toks[i] = b"cas=#%d" % self.cas_index.setdefault(value, len(self.cas_index) + 1)
            return b" ".join(toks) + ending, None
        key = None
        for i, t in enumerate(toks[1:], 1):
            if t[:1] == b"k" and key is None:
                key = t[1:]
                if i + 1 < len(toks) and toks[i + 1] == b"b":
                    try:
                        key = base64.b64decode(key)
                    except ValueError:
                        pass
            elif t[:1] == b"c" and t[1:].isdigit():
                toks[i] = b"c#%d" % self.cas_index.setdefault(t[1:], len(self.cas_index) + 1)
            elif t[:1] in (b"t", b"l") and t[1:].isdigit():
                toks[i] = t[:1] + b"?"
        if key is not None and toks[0] in (b"HD", b"VA"):
            for t in body.split(b" ")[1:]:
                if t[:1] == b"c" and t[1:].isdigit() and t != b"c0":
                    seen = self.key_cas.setdefault(key, [])
                    if not seen or seen[-1] != t[1:]:
                        seen.append(t[1:])
        return b" ".join(toks) + ending, block

    def normalize(self, data: bytes) -> bytes:
        """Rename cas uniques in VALUE lines (remembering key -> cas) and strip
        incr/decr space padding from numeric values."""
        out = bytearray()
        pos, n = 0, len(data)
        while pos < n:
            nl = data.find(b"\n", pos)
            if nl < 0:
                out += data[pos:]
                break
            line = data[pos:nl + 1]
            pos = nl + 1
            if META_LINE.match(line):
                norm, size = self.meta_line(line)
                out += norm
                if size is not None:
                    block = data[pos:pos + size + 2]
                    pos += size + 2
                    if PADDED_NUMBER.match(block):
                        block = block[:-2].rstrip(b" ") + b"\r\n"
                        out[len(out) - len(norm):] = re.sub(rb"\AVA [0-9]+", b"VA %d" % (len(block) - 2), norm)
                    out += block
                continue
            if not line.startswith(b"VALUE "):
                out += line
                continue
            body = line.rstrip(b"\r\n")
            ending = line[len(body):]
            toks = body.split(b" ")
            if len(toks) == 5 and toks[4].isdigit():
                raw = toks[4]
                idx = self.cas_index.setdefault(raw, len(self.cas_index) + 1)
                seen = self.key_cas.setdefault(toks[1], [])
                if not seen or seen[-1] != raw:
                    seen.append(raw)
                toks[4] = b"#%d" % idx
            if len(toks) >= 4 and toks[3].isdigit() and len(toks[3]) < 12:
                end = pos + int(toks[3]) + 2
                block = data[pos:end]
                pos = end
                if PADDED_NUMBER.match(block):
                    # incr/decr padding is not deterministic in memcached
                    # (see Generator.suspect): compare without it
                    block = block[:-2].rstrip(b" ") + b"\r\n"
                    toks[3] = b"%d" % (len(block) - 2)
                out += b" ".join(toks) + ending + block
            else:
                out += b" ".join(toks) + ending
        return bytes(out)

    def run(self, batch: Batch) -> tuple[bytes, Reply]:
        sent = self.render(batch)
        reply = self.client.exchange(sent, fragments=batch.fragments)
        return sent, reply

    def reconnect(self) -> None:
        self.client.close()
        self.client = self.server.client()


@dataclass
class Mismatch:
    batch: Batch
    sent_ref: bytes
    sent_cand: bytes
    ref: Reply
    cand: Reply
    ref_norm: bytes
    cand_norm: bytes
    why: str
    history: list = field(default_factory=list)   # [(batch, sent_ref, sent_cand, ref_out, cand_out)]


def run_stream(ref_server: Server, cand_server: Server, batches: list[Batch],
               keep_history: bool = False) -> Mismatch | None:
    ref, cand = Side("memcached", ref_server), Side("dogpiled", cand_server)
    history = []
    try:
        for b in batches:
            sent_r, rep_r = ref.run(b)
            try:
                sent_c, rep_c = cand.run(b)
            except OSError as e:
                rep_c = Reply(f"<SEND FAILED: {e}>".encode(), closed=True)
                sent_c = cand.render(b)
            nr = ref.normalize(rep_r.data) + (rep_r.outcome()[len(rep_r.data):])
            nc = cand.normalize(rep_c.data) + (rep_c.outcome()[len(rep_c.data):])
            why = ""
            if b.stats:
                ok_r = bool(STATS_RE.match(rep_r.data)) and not rep_r.closed
                ok_c = bool(STATS_RE.match(rep_c.data)) and not rep_c.closed
                if ok_r and not ok_c:
                    why = "stats reply is not a sequence of 'STAT ...' lines ended by END"
                nr, nc = (b"<stats ok>" if ok_r else nr), (b"<stats ok>" if ok_c else nc)
            elif nr != nc:
                why = "replies differ"
            if keep_history:
                history.append((b, sent_r, sent_c, nr, nc))
            if why:
                if not cand_server.alive():
                    why += f"; dogpiled DIED (exit {cand_server.proc.returncode if cand_server.proc else '?'})" \
                           f"\n--- dogpiled output ---\n{cand_server.log_tail()}"
                return Mismatch(b, sent_r, sent_c, rep_r, rep_c, nr, nc, why, history)
            if rep_r.closed or rep_r.timed_out or rep_c.closed or rep_c.timed_out:
                ref.reconnect()
                try:
                    cand.reconnect()
                except OSError as e:
                    return Mismatch(b, sent_r, sent_c, rep_r, rep_c, nr, nc,
                                    f"cannot reconnect to dogpiled after this batch: {e}\n"
                                    f"--- dogpiled output ---\n{cand_server.log_tail()}", history)
        return None
    finally:
        ref.client.close()
        cand.client.close()
