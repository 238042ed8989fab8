"""Random meta commands (mg, ms, md, ma, me, mn) for the differential stream.

Flags are drawn from everything memcached 1.6.18's meta parser accepts, in a
random order (replies answer in request order), with duplicates, unknown
flags, bad numbers, over-long opaques and bad base64 keys mixed in.  TTLs are
0, far in the future or already past (never ones that could run out during a
run); recache thresholds (R) are kept far from those TTLs so a win does not
depend on the clock.  Replies carry time-dependent numbers (t, l, me's exp and
la), which reply_compare masks; cas values (c, me's cas) are renamed as in
VALUE lines, and learned per key for C flags via the k flag.
"""

from __future__ import annotations

import base64

from command_fields import BIG_NUMBER, NUMERIC, RandomFields
from command_model import CasRef, Unit

META_TTLS = [b"0", b"1000", b"100000", b"2592000", b"-1", b"1000000000"]
RECACHE = [b"30", b"2000", b"200000", b"0", b"-1"]
BAD_NUMBERS = [b"", b"x", b"1x", b"99999999999999999999", b"0x10"]
OPAQUES = [b"O1", b"Oabc", b"O" + b"9" * 31, b"Oq", b"OO"]
LONG_OPAQUE = b"O" + b"x" * 32
INVALID_FLAGS = [b"x", b"E", b"S2", b"a", b"\xff", b"=", b"\tv"]
MS_MODES = [b"ME", b"MA", b"MP", b"MR", b"MS", b"Ms", b"MX", b"M", b"MEE"]
MA_MODES = [b"MI", b"M+", b"MD", b"M-", b"Mi", b"MX", b"M"]
BAD_B64 = [b"Zm9", b"Zm9v=", b"====", b"Z", b"Zm9vYg"]


class MetaCommands(RandomFields):
    """Meta command builders, mixed into command_stream.Generator."""

    def meta(self) -> Unit:
        r = self.r
        x = r.random()
        if x < 0.38:
            return self.meta_get()
        if x < 0.62:
            return self.meta_set()
        if x < 0.74:
            return self.meta_delete()
        if x < 0.87:
            return self.meta_arith()
        if x < 0.91:
            return self.meta_debug()
        if x < 0.95:
            tags = {"meta", "mn"}
            toks = r.choice([[b"mn"], [b"mn"], [b"mn", b"x", b"y"]])
            return Unit(self.line(toks, tags), frozenset(tags))
        return self.meta_malformed()

    # -- pieces ---------------------------------------------------------------
    def meta_key(self, tags: set, numeric_bias: bool = False, avoid: str | None = None) -> tuple[bytes, bytes, bool, bool]:
        """Returns (token sent, key as stored, base64 flag, valid)."""
        r = self.r
        key, valid = self.key(tags, numeric_bias=numeric_bias)
        if avoid:
            key, valid = self.avoid(avoid, key, valid, tags)
        if r.random() < 0.1 and valid:
            tags.add("meta_base64")
            if r.random() < 0.15:
                return r.choice(BAD_B64), key, True, False
            return base64.b64encode(key), key, True, len(base64.b64encode(key)) <= 250
        return key, key, False, valid

    def meta_ttl(self, letter: bytes, tags: set) -> tuple[bytes, bool]:
        r = self.r
        if r.random() < 0.04:
            tags.add("meta_bad_token")
            return letter + r.choice(BAD_NUMBERS), False
        return letter + r.choice(META_TTLS), True

    def meta_extras(self, flags: list, tags: set) -> bool:
        """Adds the occasional broken flag; returns whether the line stays valid."""
        r = self.r
        valid = True
        if r.random() < 0.03:
            tags.add("meta_invalid_flag")
            flags.insert(r.randint(0, len(flags)), r.choice(INVALID_FLAGS))
            valid = False
        if r.random() < 0.03 and flags:
            tags.add("meta_duplicate_flag")
            flags.append(r.choice(flags)[:1] or b"v")
            valid = False
        if r.random() < 0.02:
            tags.add("meta_long_opaque")
            flags.insert(r.randint(0, len(flags)), LONG_OPAQUE)
            valid = False
        if r.random() < 0.02:
            tags.add("meta_too_many_flags")
            flags += [b"P%d" % i for i in range(r.randint(16, 24))]
            valid = False
        return valid

    def meta_cas(self, key: bytes, tags: set, valid: bool) -> list:
        """A C flag: 'C' followed by a CasRef (the key's own cas, an old one, a bogus one)."""
        ref = self.cas_ref(key, tags, valid)
        if isinstance(ref, bytes):
            tags.add("meta_bad_token")
        return [b"C", ref]

    def meta_line(self, head: list, flags: list, tags: set) -> list:
        """The command line: CasRef-bearing flags are lists of parts, joined without spaces."""
        toks: list = list(head)
        for f in flags:
            toks.append(f)
        parts: list = []
        for p in self.line([b"\x00"] * len(toks), tags):
            parts.append(p)
        # line() laid out separators around placeholder tokens; put the real ones in
        out: list = []
        i = 0
        for p in parts:
            if p == b"\x00":
                t = toks[i]
                i += 1
                out += t if isinstance(t, list) else [t]
            else:
                out.append(p)
        return out

    # -- commands -------------------------------------------------------------
    def meta_get(self) -> Unit:
        r = self.r
        tags = {"meta", "mg"}
        # Not on a key incr/decr/ma may have rewritten: whether memcached updated it in place
        # (keeping h, X and Z, and the padded size) depends on other threads' references.
        token, key, b64, valid = self.meta_key(tags, avoid="padded")
        flags: list = [b"b"] if b64 else []
        choices = [b"v", b"v", b"s", b"f", b"t", b"c", b"k", b"h", b"l", b"q", b"u", b"P", b"Lpath/",
                   b"T", b"N", b"R", b"O"]
        for f in r.sample(choices, r.randint(0, 7)):
            if f in (b"T", b"N"):
                f, ok = self.meta_ttl(f, tags)
                valid = valid and ok
            elif f == b"R":
                f = b"R" + r.choice(RECACHE)
            elif f == b"O":
                f = r.choice(OPAQUES)
            if f in flags:
                continue
            flags.append(f)
        valid = self.meta_extras(flags, tags) and valid
        return Unit(self.meta_line([b"mg", token], flags, tags), frozenset(tags))

    def meta_set(self) -> Unit:
        r = self.r
        tags = {"meta", "ms"}
        token, key, b64, valid = self.meta_key(tags, numeric_bias=r.random() < 0.2)
        flags: list = [b"b"] if b64 else []
        mode = None
        if r.random() < 0.35:
            mode = r.choice(MS_MODES)
            flags.append(mode)
            if mode not in (b"ME", b"MA", b"MP", b"MR", b"MS"):
                tags.add("meta_bad_mode")
                valid = False
        if mode in (b"MA", b"MP"):
            if key in self.suspect["padded"]:
                key = token = b"fresh%d" % r.randint(0, 10 ** 6)
                b64 = False
                flags = [f for f in flags if f != b"b"]
        for f in r.sample([b"T", b"F", b"C", b"I", b"k", b"c", b"q", b"O", b"P"], r.randint(0, 5)):
            if f == b"T":
                f, ok = self.meta_ttl(b"T", tags)
                valid = valid and ok
            elif f == b"F":
                fl, ok = self.flags(tags)
                f = b"F" + fl
                valid = valid and ok
            elif f == b"C":
                f = self.meta_cas(key, tags, valid)
                valid = valid and not isinstance(f[1], bytes)
            elif f == b"O":
                f = r.choice(OPAQUES)
            flags.append(f)
        valid = self.meta_extras(flags, tags) and valid
        data = self.value(tags, numeric=key in NUMERIC) if valid else self.safe_data()
        nbytes = b"%d" % len(data)
        x = r.random()
        if x < 0.03:
            tags.add("vlen_invalid")
            nbytes = r.choice([b"-1", b"abc", b"1x", b"2147483647"])
            data = self.safe_data()
            valid = False
        elif x < 0.06 and valid:
            tags.add("bad_data_chunk")
            data = self.safe_data()
            line = self.meta_line([b"ms", token, b"%d" % (len(data) + 2)], flags, tags)
            return Unit(line + [data + b"\r\n\r\n"], frozenset(tags))
        elif x < 0.07 and valid and "large_value" not in tags:
            tags.add("too_large")
            n = r.randint(1_100_000, 1_300_000)
            line = self.meta_line([b"ms", token, b"%d" % n], flags, tags)
            return Unit(line + [b"x" * n + b"\r\n"], frozenset(tags), solo=True, clean=frozenset([key]))
        suspect = set()
        if BIG_NUMBER.match(data) or data.isspace():
            suspect.add(("big", key))
        if mode in (b"MA", b"MP"):
            suspect.add(("big", key))
        clean = frozenset([key]) if valid and mode in (None, b"MS") and b"C" not in [
            f[0] if isinstance(f, list) else None for f in flags] else frozenset()
        line = self.meta_line([b"ms", token, nbytes], flags, tags)
        return Unit(line + [data + b"\r\n"], frozenset(tags), suspect=frozenset(suspect), clean=clean)

    def meta_delete(self) -> Unit:
        r = self.r
        tags = {"meta", "md"}
        token, key, b64, valid = self.meta_key(tags)
        flags: list = [b"b"] if b64 else []
        for f in r.sample([b"q", b"I", b"T", b"C", b"k", b"O", b"L"], r.randint(0, 4)):
            if f == b"T":
                f, _ = self.meta_ttl(b"T", tags)
            elif f == b"C":
                f = self.meta_cas(key, tags, valid)
            elif f == b"O":
                f = r.choice(OPAQUES)
            flags.append(f)
        valid = self.meta_extras(flags, tags) and valid
        # Only a plain delete certainly removes the value (I keeps it, C may not match).
        plain = valid and not any(isinstance(f, list) or f[:1] in (b"I", b"C") for f in flags)
        return Unit(self.meta_line([b"md", token], flags, tags), frozenset(tags),
                    clean=frozenset([key]) if plain else frozenset())

    def meta_arith(self) -> Unit:
        r = self.r
        tags = {"meta", "ma"}
        token, key, b64, valid = self.meta_key(tags, numeric_bias=True)
        if key in self.suspect["big"]:
            key = token = b"fresh%d" % r.randint(0, 10 ** 6)
            b64 = False
        flags: list = [b"b"] if b64 else []
        suspect = {("padded", key)}
        # No T: memcached applies it only when it updates the item in place, which it does only
        # when no other reference (a reply not yet released, an LRU thread) holds the item --
        # not deterministic; test_scripted_edge_cases covers T on fresh items.
        for f in r.sample([b"N", b"J", b"D", b"M", b"q", b"t", b"c", b"v", b"v", b"k", b"O", b"C"],
                          r.randint(0, 6)):
            if f in (b"N", b"T"):
                f, _ = self.meta_ttl(f, tags)
            elif f == b"J":
                f = b"J" + r.choice([b"0", b"5", b"100", b"18446744073709551615", b"x"])
                if BIG_NUMBER.match(f[1:]):
                    suspect.add(("big", key))
            elif f == b"D":
                f = b"D" + r.choice([b"1", b"2", b"10", b"0", b"18446744073709551615", b"abc", b"-1"])
                if BIG_NUMBER.match(f[1:]):
                    suspect.add(("big", key))
            elif f == b"M":
                f = r.choice(MA_MODES)
            elif f == b"O":
                f = r.choice(OPAQUES)
            elif f == b"C":
                f = self.meta_cas(key, tags, valid)
            if f in flags:
                continue
            flags.append(f)
        self.meta_extras(flags, tags)
        return Unit(self.meta_line([b"ma", token], flags, tags), frozenset(tags), suspect=frozenset(suspect))

    def meta_debug(self) -> Unit:
        r = self.r
        tags = {"meta", "me"}
        token, key, b64, _ = self.meta_key(tags)
        if key in self.suspect["padded"]:
            key = token = r.choice([b"k0", b"k1"]) if r.random() < 0.5 else b"miss"
            b64 = False
            if key in self.suspect["padded"]:
                key = token = b"miss"
        toks = [b"me", token] + ([b"b"] if b64 else []) + ([r.choice([b"x", b"b b"])] if r.random() < 0.1 else [])
        return Unit(self.line(toks, tags), frozenset(tags))

    def meta_malformed(self) -> Unit:
        r = self.r
        tags = {"meta", "meta_malformed"}
        line, data = r.choice([
            (b"mg", None), (b"ms", None), (b"md", None), (b"ma", None), (b"me", None),
            (b"ms k0", None), (b"ms k0 x", None), (b"ms k0 -1", None), (b"mz k0", None),
            (b"mgg k0", None), (b"MG k0", None), (b"mg " + b"K" * 251 + b" v", None),
            (b"ms " + b"K" * 251 + b" 1", None), (b"md " + b"K" * 251, None),
            (b"ma " + b"K" * 251, None), (b"me " + b"K" * 251, None),
            (b"ms k0 2 T", b"zz"), (b"ms k0 2 Fx", b"zz"), (b"ms k0 2 MX Ox", b"zz"),
            (b"mg k0 Nx Tx Mxy", None), (b"mg k0 Mxy Fx", None), (b"ma k0 D1 Dx", None),
        ])
        extra = [data + b"\r\n"] if data is not None else []
        return Unit(self.line([line], tags) + extra, frozenset(tags))
