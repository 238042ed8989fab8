"""One random command of each kind: storage, retrieval, touch, delete, incr/decr,
flush_all, verbosity and malformed lines.

Each builder returns a Unit tagged with its categories (command_stream.TAG_DOCS)
and with the keys it makes suspect or clean (see command_stream.Generator).
command_stream.Generator.one picks which builder runs.
"""

from __future__ import annotations

from command_fields import (BAD_DELTAS, BIG_NUMBER, BOGUS_CAS, DELTAS, NUMERIC, POOL,
                            RandomFields)
from command_model import CasRef, Unit


class RandomCommands(RandomFields):
    """Command builders.  The state is set up by command_stream.Generator.__init__;
    `queue` holds units that must come before the one being built."""
    queue: list[Unit]

    # -- commands -------------------------------------------------------------
    def storage(self, cmd: bytes) -> Unit:
        r = self.r
        tags = {cmd.decode()}
        key, kvalid = self.key(tags, numeric_bias=r.random() < 0.25)
        if cmd in (b"append", b"prepend"):
            key, kvalid = self.avoid("padded", key, kvalid, tags)
        flags, fvalid = self.flags(tags)
        exp, evalid = self.exptime(tags)
        cas = self.cas_ref(key, tags, kvalid) if cmd == b"cas" else None
        valid = kvalid and fvalid and evalid and not isinstance(cas, bytes)
        data = self.value(tags, numeric=key in NUMERIC) if valid else self.safe_data()
        toks = [cmd, key, flags, exp]
        nbytes = b"%d" % len(data)
        x = r.random()
        mode = "normal"
        if x < 0.03:
            tags.add("vlen_invalid")
            nbytes = r.choice([b"-1", b"abc", b"1x", b"2147483647", b"-0x1"])
            valid = False
            data = self.safe_data()
        elif x < 0.045 and valid:
            tags.add("vlen_wrap")
            nbytes = b"%d" % (len(data) + 4294967296)
        elif x < 0.09 and valid:
            mode = "mismatch"
        elif x < 0.095 and valid and "large_value" not in tags:
            tags.add("too_large")
            mode = "too_large"
        toks.append(nbytes)
        if cas is not None:
            toks.append(cas)
        y = r.random()
        if y < 0.04:
            tags.add("extra_token")
            toks.append(r.choice([b"norepl", b"NOREPLY", b"x", b"0"]))
        else:
            toks += self.noreply(tags)
        clean = frozenset([key]) if cmd == b"set" and valid else frozenset()
        suspect = set()
        if valid and (BIG_NUMBER.match(data) or data.isspace()):
            suspect.add(("big", key))
        if cmd in (b"append", b"prepend"):
            suspect.add(("big", key))
        if mode == "too_large":
            n = r.randint(1_100_000, 2_000_000)
            toks[4] = b"%d" % n
            return Unit(self.line(toks, tags) + [b"x" * n + b"\r\n"], frozenset(tags), solo=True,
                        clean=clean)   # a failed set unlinks the old value
        if mode == "mismatch":
            return self.mismatch_unit(toks, data, tags)
        # If the server rejects the header, the data line is parsed as a
        # command; data is then always short, harmless safe_data().
        return Unit(self.line(toks, tags) + [data + b"\r\n"], frozenset(tags),
                    suspect=frozenset(suspect), clean=clean)

    def avoid(self, kind: str, key: bytes, valid: bool, tags: set) -> tuple[bytes, bool]:
        for _ in range(20):
            if key not in self.suspect[kind]:
                return key, valid
            key, valid = self.key(tags)
        return b"fresh%d" % self.r.randint(0, 10 ** 6), True

    def mismatch_unit(self, toks: list, data: bytes, tags: set) -> Unit:
        """Data block that disagrees with the declared length or terminator.
        The server consumes exactly declared+2 bytes; the bytes are arranged so
        that whatever is left over consists of complete lines."""
        r = self.r
        tags.add("bad_data_chunk")
        data = self.safe_data()
        follow = r.choice([b"", b"", b"get k0\r\n", b"delete k1\r\n", b"zzjunk\r\n"])
        term = r.choice([b"\r\n", b"\n", b"", b"\r", b"\n\r"])
        payload = data + term + follow
        n = max(0, len(data) + r.randint(-len(data) - 1, len(follow) + 3))
        if r.random() < 0.3:
            n = max(0, len(payload) - 2)
        toks[4] = b"%d" % n
        need = n + 2
        if len(payload) < need:
            payload += b"z" * (need - len(payload))
        if len(payload) > need and not payload.endswith(b"\n"):
            payload += b"\r\n"
        return Unit(self.line(toks, tags) + [payload], frozenset(tags))

    def cas_ref(self, key: bytes, tags: set, key_valid: bool = True):
        r = self.r
        x = r.random()
        if x < 0.65:
            if r.random() < 0.6 and key_valid:
                self.queue.append(Unit(self.line([b"gets", key], tags.copy() | {"gets"}),
                                       frozenset(tags | {"gets"})))
            return CasRef(key, "last")
        if x < 0.8:
            tags.add("cas_stale")
            return CasRef(key, "stale")
        if x < 0.88:
            tags.add("cas_foreign")
            return CasRef(key, "foreign", other=r.choice(POOL + NUMERIC))
        if x < 0.96:
            tags.add("cas_bogus")
            return CasRef(key, "bogus", bogus=r.choice(BOGUS_CAS))
        tags.add("cas_invalid")
        return r.choice([b"abc", b"-1", b"18446744073709551616", b"1x"])

    def retrieval(self, cmd: bytes) -> Unit:
        r = self.r
        tags = {cmd.decode()}
        toks = [cmd]
        if cmd in (b"gat", b"gats"):
            exp, _ = self.exptime(tags)
            if r.random() < 0.03:
                tags.add("wrong_token_count")
                return Unit(self.line(toks, tags), frozenset(tags))
            toks.append(exp)
        x = r.random()
        if x < 0.02:
            tags.add("wrong_token_count")
            n = 0
        elif x < 0.55:
            n = 1
        elif x < 0.9:
            n = r.randint(2, 5)
        else:
            n = r.randint(6, 40)
        valid = True
        for i in range(n):
            key, kvalid = self.key(tags, bad_ok=(i == 0 or r.random() < 0.05))
            toks.append(key)
            valid = valid and kvalid
        return Unit(self.line(toks, tags), frozenset(tags), kills_pending=not valid)

    def long_get(self) -> Unit:
        r = self.r
        tags = {"get", "long_get"}
        cmd = r.choice([b"get", b"gets"])
        keys = [r.choice(POOL + NUMERIC + self.random_keys[:5]) if r.random() < 0.3
                else b"miss%d" % r.randint(0, 10 ** 9) for _ in range(r.randint(300, 2500))]
        return Unit([cmd + b" " + b" ".join(keys) + b"\r\n"], frozenset(tags))

    def touch(self) -> Unit:
        r = self.r
        tags = {"touch"}
        key, _ = self.key(tags)
        exp, _ = self.exptime(tags)
        toks = [b"touch", key, exp] + self.noreply(tags)
        if r.random() < 0.04:
            tags.add("wrong_token_count")
            toks = r.choice([[b"touch", key], [b"touch"], [b"touch", key, exp, b"noreply", b"x"]])
        return Unit(self.line(toks, tags), frozenset(tags))

    def delete(self) -> Unit:
        r = self.r
        tags = {"delete"}
        key, _ = self.key(tags)
        toks = [b"delete", key]
        x = r.random()
        if x < 0.1:
            toks.append(b"0")
        elif x < 0.15:
            tags.add("wrong_token_count")
            toks.append(r.choice([b"5", b"x", b"-1"]))
        elif x < 0.17:
            tags.add("wrong_token_count")
            toks = [b"delete"]
        toks += self.noreply(tags)
        clean = frozenset() if "wrong_token_count" in tags else frozenset([key])
        return Unit(self.line(toks, tags), frozenset(tags), clean=clean)

    def arith(self, cmd: bytes) -> Unit:
        r = self.r
        tags = {cmd.decode()}
        key, kvalid = self.key(tags, numeric_bias=True)
        key, _ = self.avoid("big", key, kvalid, tags)
        if r.random() < 0.08:
            tags.add("delta_invalid")
            delta = r.choice(BAD_DELTAS)
        else:
            delta = r.choice(DELTAS)
        toks = [cmd, key, delta] + self.noreply(tags)
        if r.random() < 0.03:
            tags.add("wrong_token_count")
            toks = r.choice([[cmd, key], [cmd], [cmd, key, delta, b"noreply", b"x"]])
        suspect = {("padded", key)}
        if BIG_NUMBER.match(delta):
            suspect.add(("big", key))
        return Unit(self.line(toks, tags), frozenset(tags), suspect=frozenset(suspect))

    def flush_all(self) -> Unit:
        tags = {"flush_all"}
        toks = self.r.choice([[b"flush_all"], [b"flush_all", b"0"], [b"flush_all", b"noreply"],
                              [b"flush_all", b"0", b"noreply"], [b"flush_all", b"abc"]])
        if b"noreply" in toks:
            tags.add("noreply")
        refused = b"abc" in toks or getattr(self, "flush_refused", False)
        clean = frozenset() if refused else frozenset([b"*"])
        return Unit(self.line(toks, tags), frozenset(tags), clean=clean)

    def verbosity(self) -> Unit:
        tags = {"verbosity"}
        toks = self.r.choice([[b"verbosity", b"1"], [b"verbosity", b"0"],
                              [b"verbosity", b"0", b"noreply"], [b"verbosity", b"1", b"noreply"],
                              [b"verbosity"], [b"verbosity", b"abc"], [b"verbosity", b"1", b"2"],
                              [b"verbosity", b"-1"], [b"verbosity", b"99999999999"],
                              [b"verbosity", b"noreply"], [b"verbosity", b"abc", b"noreply"],
                              [b"verbosity", b"1", b"2", b"3"], [b"verbosity", b"4294967301"],
                              [b"verbosity", b"1x"], [b"verbosity", b"+1"]])
        if b"noreply" in toks:
            tags.add("noreply")
        return Unit(self.line(toks, tags), frozenset(tags))

    def malformed(self) -> Unit:
        r = self.r
        x = r.random()
        if x < 0.2:
            tags = {"unknown_command"}
            line = r.choice([b"foo", b"bogus a b c", b"gett k0", b"sets k0 0 0 1", b"getx",
                             b"increment k0 1", b"del k0", b"mget k0", b"get\tk0", b"set\tk0 0 0 1",
                             b"\x01\x02", b"~!@#$%^&*()", b"getsx k0"])
            return Unit(self.line([line], tags), frozenset(tags))
        if x < 0.35:
            tags = {"uppercase"}
            line = r.choice([b"GET k0", b"Get k0", b"DELETE k0", b"INCR n0 1", b"FLUSH_ALL",
                             b"SET k0 0 0 1", b"Gets k0", b"VERBOSITY 1", b"QUIT"])
            extra = [b"zzdata\r\n"] if line.startswith(b"SET") else []
            return Unit(self.line([line], tags) + extra, frozenset(tags))
        if x < 0.5:
            tags = {"empty_line"}
            return Unit([r.choice([b"\r\n", b"\n", b"   \r\n", b" \n", b"\t\r\n", b"\r\r\n"])],
                        frozenset(tags))
        if x < 0.8:
            tags = {"wrong_token_count"}
            line, data = r.choice([
                (b"set k0", None), (b"set k0 0 0", None), (b"set", None), (b"add k0 0", None),
                (b"set k0 0 0 1 noreply extra", b"x"), (b"append k0 0 0 1 2 3", b"y"),
                (b"cas k0 0 0 1", b"x"), (b"cas k0 0 0 1 2 noreply extra", b"x"),
                (b"get", None), (b"gets", None), (b"gat", None), (b"gats 0", None),
                (b"touch k0", None), (b"incr", None), (b"incr k0", None),
                (b"decr n0 1 2 3", None), (b"delete", None), (b"delete k0 0 noreply x", None),
                (b"flush_all 0 noreply x", None), (b"verbosity", None),
            ])
            extra = [data + b"\r\n"] if data is not None else []
            return Unit(self.line([line], tags) + extra, frozenset(tags))
        if x < 0.9:
            tags = {"too_many_tokens"}
            cmd = r.choice([b"set k0", b"incr n0", b"touch k0", b"delete k0", b"verbosity"])
            toks = [cmd] + [b"%d" % r.randint(0, 9) for _ in range(r.randint(24, 40))]
            return Unit(self.line(toks, tags) + ([b"zzdata\r\n"] if cmd.startswith(b"set") else []),
                        frozenset(tags))
        tags = {"nul_byte"}
        lines = [b"get k0\x00junk", b"get k\x00", b"set k0\x00 0 0 1", b"\x00get k0",
                 b"delete k0\x00 noreply", b"incr n0 1\x00"]
        if b"n0" in self.suspect["big"]:
            lines.pop()   # memcached's incr reads past a big number (see Generator.suspect)
        line = r.choice(lines)
        extra = [b"zzdata\r\n"] if line.startswith(b"set") else []
        return Unit([line + b"\r\n"] + extra, frozenset(tags),
                    suspect=frozenset([("padded", b"n0")]))
