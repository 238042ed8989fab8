"""Random command fields: keys, values, flags, exptimes and command lines.

The small pieces the command builders (command_builders.py) are made of.
Every choice is drawn from the seeded self.r, in a fixed order: changing the
order or the probabilities changes the stream generated for every seed.
"""

from __future__ import annotations

import random
import re
import string
import time

POOL = [b"k%d" % i for i in range(16)]
NUMERIC = [b"n%d" % i for i in range(3)]
KEY_250 = [b"K" * 250, (b"0123456789" * 25)]
KEY_251 = [b"K" * 251, (b"0123456789" * 25) + b"x"]
WEIRD_KEYS = [b"k\tx", b"k\rx", b"\xc3\xa9t\xc3\xa9", b"\xff\xfe\xfd", b"ctl\x01\x02\x7f", b"a:b/c?d=e"]

NUMERIC_VALUES = [b"0", b"1", b"9", b"10", b"99", b"100", b"42", b"1000",
                  b"18446744073709551615", b"18446744073709551614",
                  b"18446744073709551616", b"99999999999999999999",
                  b" 5", b"5 ", b"  7", b"007", b"-1", b"abc", b"12abc",
                  b"1.5", b"+3", b"0x10", b"4294967296", b""]
TRICKY_VALUES = [b"line1\r\nline2", b"\r\n", b"\r\n\r\n", b"END\r\n", b"VERSION 1.6.18\r\n",
                 b"VALUE k0 0 1\r\nx\r\nEND", b"STORED", b"ERROR\r\n", b"\n", b"\r",
                 b"a\x00b", b"\x00", b"noreply", b"get k0\r\n", b" ", b"\r\nEND\r\n"]

DELTAS = [b"1", b"1", b"1", b"2", b"10", b"0", b"100", b"18446744073709551615",
          b"18446744073709551614", b"4294967296"]
BAD_DELTAS = [b"-1", b"abc", b"18446744073709551616", b"1x", b"0x1", b"99999999999999999999", b"+1"]

BOGUS_CAS = [b"0", b"9999999999999", b"18446744073709551615", b"1"]

# Numbers >= 2**63 (and anything with as many digits): see
# command_stream.Generator.suspect
BIG_NUMBER = re.compile(rb"\A[\s+]*0*[0-9]{19}")

# An absolute exptime 40-41 days in the future, stable for a whole UTC day.
FUTURE_ABS = b"%d" % ((int(time.time()) // 86400 + 41) * 86400)

SAFE_CHARS = string.ascii_lowercase + string.digits


class RandomFields:
    """Field choosers shared by the command builders.  The state below is set
    up by command_stream.Generator.__init__ (see there for `suspect`)."""
    r: random.Random
    random_keys: list[bytes]
    suspect: dict[str, set[bytes]]

    # -- small pieces -------------------------------------------------------
    def safe_data(self) -> bytes:
        """Short data that is harmless if a server parses it as a command line."""
        r = self.r
        return b"zz" + "".join(r.choice(SAFE_CHARS) for _ in range(r.randint(0, 20))).encode()

    def rand_bytes(self, n: int) -> bytes:
        return bytes(self.r.getrandbits(8) for _ in range(n))

    def newline_safe_blob(self, n: int) -> bytes:
        """n random-ish bytes containing a newline at least every ~1000 bytes."""
        r = self.r
        chunk = self.rand_bytes(min(n, 4096))
        out = bytearray()
        while len(out) < n:
            out += chunk[: n - len(out)]
        for pos in range(r.randint(0, 900), n, 1000):
            out[pos] = 0x0A
        return bytes(out)

    def key(self, tags: set, numeric_bias: bool = False, bad_ok: bool = True) -> tuple[bytes, bool]:
        """Returns (key, valid)."""
        r = self.r
        x = r.random()
        if numeric_bias and x < 0.75:
            return r.choice(NUMERIC), True
        if x < 0.45:
            return r.choice(POOL[:4]), True
        if x < 0.68:
            return r.choice(POOL), True
        if x < 0.78:
            return r.choice(NUMERIC), True
        if x < 0.90:
            tags.add("key_random")
            if self.random_keys and r.random() < 0.5:
                return r.choice(self.random_keys), True
            k = "".join(r.choice(string.ascii_letters + string.digits + "_-:.")
                        for _ in range(r.randint(1, 40))).encode()
            self.random_keys.append(k)
            del self.random_keys[:-50]
            return k, True
        if x < 0.95 or (x < 0.97 and not bad_ok):
            tags.add("key_250")
            return r.choice(KEY_250), True
        if x < 0.97:
            tags.add("key_251")
            return r.choice(KEY_251), False
        tags.add("key_weird")
        return r.choice(WEIRD_KEYS), True

    def value(self, tags: set, numeric: bool = False) -> bytes:
        r = self.r
        if numeric and r.random() < 0.8:
            return r.choice(NUMERIC_VALUES)
        x = r.random()
        if x < 0.08:
            return b""
        if x < 0.35:
            return "".join(r.choice(string.ascii_letters + string.digits)
                           for _ in range(r.randint(1, 20))).encode()
        if x < 0.55:
            parts = [self.rand_bytes(r.randint(0, 150)) for _ in range(r.randint(1, 3))]
            return b"\r\n".join(parts)
        if x < 0.68:
            return r.choice(NUMERIC_VALUES)
        if x < 0.82:
            return r.choice(TRICKY_VALUES)
        if x < 0.985:
            return self.newline_safe_blob(r.randint(300, 16000))
        tags.add("large_value")
        return self.newline_safe_blob(r.randint(50_000, 300_000))

    def flags(self, tags: set) -> tuple[bytes, bool]:
        r = self.r
        x = r.random()
        if x < 0.6:
            return b"0", True
        if x < 0.91:
            return r.choice([b"1", b"2", b"123", b"65535", b"4294967295", b"2147483648", b"00"]), True
        if x < 0.97:
            tags.add("flags_wrap")
            return r.choice([b"4294967296", b"4294967297", b"8589934593"]), True
        tags.add("flags_invalid")
        return r.choice([b"-1", b"abc", b"18446744073709551616", b"1x", b"0x1"]), False

    def exptime(self, tags: set) -> tuple[bytes, bool]:
        r = self.r
        x = r.random()
        if x < 0.65:
            return b"0", True
        if x < 0.82:
            return r.choice([b"1000", b"100000", b"2592000", b"86400"]), True
        if x < 0.87:
            tags.add("exptime_future_abs")
            return FUTURE_ABS, True
        if x < 0.91:
            tags.add("exptime_past_abs")
            return r.choice([b"1000000000", b"2592001"]), True
        if x < 0.95:
            tags.add("exptime_negative")
            return r.choice([b"-1", b"-1000"]), True
        if x < 0.97:
            tags.add("exptime_int32_wrap")
            return r.choice([b"9999999999", b"4294968296"]), True
        tags.add("exptime_invalid")
        return r.choice([b"abc", b"1x", b"0x10", b"99999999999999999999"]), False

    def noreply(self, tags: set, p: float = 0.2) -> list[bytes]:
        if self.r.random() < p:
            tags.add("noreply")
            return [b"noreply"]
        return []

    def line(self, tokens: list, tags: set) -> list:
        """Join tokens (bytes or CasRef) into a command line."""
        r = self.r
        parts: list = []
        spaced = r.random() < 0.05
        if spaced:
            tags.add("extra_spaces")
            parts.append(b" " * r.randint(0, 3))
        for i, t in enumerate(tokens):
            if i:
                parts.append(b" " * (r.randint(1, 3) if spaced else 1))
            parts.append(t)
        if spaced and r.random() < 0.5:
            parts.append(b" " * r.randint(1, 3))
        if r.random() < 0.05:
            tags.add("bare_lf")
            parts.append(b"\n")
        else:
            parts.append(b"\r\n")
        return parts
