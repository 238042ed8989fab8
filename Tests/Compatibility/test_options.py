"""Every command-line option memcached 1.6.18 accepts, fed to the real dogpiled binary.

The list below comes from memcached.c at tag 1.6.18: main()'s getopt string
("a:AZp:s:U:m:Mc:khiVrvdl:u:P:f:n:t:D:LR:Cb:B:I:SFXWY:e:o:N:"), its long options, its
`-o` subopts_tokens table and the ext_* names storage.c reads from the same argument
(checked against Debian's memcached 1.6.18 binary: test_memcached_accepts_every_listed_name).

For each, dogpiled must do one of three things, never silently misread:
* implemented: it starts and the effect is observable (mostly `stats settings`);
* no effect:   it starts and logs exactly one notice naming the option (exact text);
* refused:     it exits non-zero with a reason on standard error.
Options another branch owns (-A -X -F -D -W, TLS's -Z -Y and ssl_*) are listed and skipped.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import tempfile
import time

import pytest

from conftest import HOST, dogpiled_path, free_port, memcached_path

SLABS = "dogpiled has no slab allocator: each item is allocated at its exact size"
SEGMENTS = "dogpiled keeps one LRU per shard, without hot/warm/cold/temp segments or a maintainer thread"
CRAWLER = "dogpiled has no LRU crawler thread: expired items are reclaimed when a lookup or an eviction finds them"
HASH = "dogpiled's hash table is sharded and resizes itself; its size and function are not settable"
EXTSTORE = "extstore (items on flash/disk) is not supported: dogpiled keeps every item in memory"
PROXY = "memcached's built-in proxy is not supported: dogpiled is a cache server only"
WATCHERS = "dogpiled has no log watchers ('watch')"

# -o names of memcached 1.6.18 (memcached.c subopts_tokens, storage.c ext_*), with the value
# used here and dogpiled's disposition: ("implemented", stats settings key, expected value),
# ("noeffect", reason) or ("refused", reason).
EXTENDED = {
    "maxconns_fast": (None, ("noeffect", "dogpiled always answers a connection over -c with 'ERROR Too many open connections' and closes it, as maxconns_fast does")),
    "hashpower": ("20", ("noeffect", HASH)),
    "no_hashexpand": (None, ("noeffect", HASH)),
    "slab_reassign": (None, ("noeffect", SLABS)),
    "slab_automove": ("1", ("noeffect", SLABS)),
    "slab_automove_ratio": ("0.8", ("noeffect", SLABS)),
    "slab_automove_window": ("30", ("noeffect", SLABS)),
    "tail_repair_time": ("60", ("noeffect", "items are reference counted, so none can be stuck at an LRU tail to repair")),
    "hash_algorithm": ("murmur3", ("noeffect", HASH)),
    "lru_crawler": (None, ("implemented", "lru_crawler", "yes")),
    "lru_crawler_sleep": ("100", ("noeffect", CRAWLER)),
    "lru_crawler_tocrawl": ("10", ("noeffect", CRAWLER)),
    "lru_maintainer": (None, ("noeffect", SEGMENTS)),
    "hot_lru_pct": ("20", ("noeffect", SEGMENTS)),
    "warm_lru_pct": ("40", ("noeffect", SEGMENTS)),
    "hot_max_factor": ("0.2", ("noeffect", SEGMENTS)),
    "warm_max_factor": ("2.0", ("noeffect", SEGMENTS)),
    "temporary_ttl": ("61", ("noeffect", SEGMENTS + " (short-TTL items are evicted like any other)")),
    "idle_timeout": ("17", ("implemented", "idle_timeout", "17")),
    "watcher_logbuf_size": ("256", ("noeffect", WATCHERS)),
    "worker_logbuf_size": ("64", ("noeffect", WATCHERS)),
    "slab_sizes": ("100-200-400", ("noeffect", SLABS)),
    "slab_chunk_max": ("524288", ("noeffect", SLABS + ", so no chunk size")),
    "track_sizes": (None, ("noeffect", "dogpiled does not keep the item size histogram of 'stats sizes'")),
    "no_inline_ascii_resp": (None, ("noeffect", "memcached 1.6.18 ignores it too")),
    "modern": (None, ("noeffect", "memcached 1.6.18's 'modern' changes nothing either")),
    "no_modern": (None, ("noeffect", "the 1.4-era defaults it restores are slab, LRU and hash tuning that dogpiled does not have")),
    "no_chunked_items": (None, ("noeffect", SLABS + ", never chunked")),
    "no_slab_reassign": (None, ("noeffect", SLABS)),
    "no_slab_automove": (None, ("noeffect", SLABS)),
    "no_maxconns_fast": (None, ("noeffect", "dogpiled always rejects a connection over -c at once instead of pausing accept()")),
    "inline_ascii_resp": (None, ("noeffect", "memcached 1.6.18 ignores it too")),
    "no_lru_crawler": (None, ("implemented", "lru_crawler", "no")),
    "no_lru_maintainer": (None, ("noeffect", SEGMENTS)),
    "no_drop_privileges": (None, ("noeffect", "dogpiled installs no seccomp sandbox to turn off")),
    "drop_privileges": (None, ("noeffect", "dogpiled installs no seccomp sandbox; use -u and systemd's sandboxing (systemd/dogpiled.service)")),
    "resp_obj_mem_limit": ("100", ("noeffect", "memcached 1.6.18 no longer uses it either (see read_buf_mem_limit)")),
    "read_buf_mem_limit": ("96", ("implemented", "input_buffer_limit", str(96 << 20))),
    "sock_cookie_id": ("7", ("refused", "socket marks (SO_MARK) for firewalls are not supported")),
    # Compiled in only with --enable-proxy (Debian's binary has no proxy).
    "proxy_config": ("/tmp/x.lua", ("refused", PROXY)),
    "proxy_uring": (None, ("refused", PROXY)),
    "ext_path": ("/tmp/extstore:64m", ("refused", EXTSTORE)),
    "ext_page_size": ("64", ("refused", EXTSTORE)),
    "ext_wbuf_size": ("4", ("refused", EXTSTORE)),
    "ext_threads": ("1", ("refused", EXTSTORE)),
    "ext_io_depth": ("1", ("refused", EXTSTORE)),
    "ext_item_size": ("512", ("refused", EXTSTORE)),
    "ext_item_age": ("10", ("refused", EXTSTORE)),
    "ext_low_ttl": ("10", ("refused", EXTSTORE)),
    "ext_recache_rate": ("2000", ("refused", EXTSTORE)),
    "ext_compact_under": ("4", ("refused", EXTSTORE)),
    "ext_drop_under": ("4", ("refused", EXTSTORE)),
    "ext_max_sleep": ("1000000", ("refused", EXTSTORE)),
    "ext_max_frag": ("0.8", ("refused", EXTSTORE)),
    "ext_drop_unread": (None, ("refused", EXTSTORE)),
    "slab_automove_freeratio": ("0.01", ("noeffect", SLABS)),
}

# TLS's -o names (branch dropin-tls): listed for completeness, not tested here.
TLS_EXTENDED = ["ssl_chain_cert", "ssl_key", "ssl_verify_mode", "ssl_keyformat", "ssl_ciphers",
                "ssl_ca_cert", "ssl_wbuf_size", "ssl_session_cache", "ssl_kernel_tls", "ssl_min_version"]

# Flags (short and long), from the getopt string and long options above:
# (argv, disposition) with the same three kinds plus ("exits0", text on stdout) and
# ("other", branch) for the ones another branch adds.
FLAGS = [
    (["-a", "644"], ("implemented", "umask", "644")),
    (["--unix-mask=600"], ("implemented", "umask", "600")),
    (["-A"], ("implemented", "shutdown_command", "yes")), (["--enable-shutdown"], ("implemented", "shutdown_command", "yes")),
    # -Z with no certificate: refused with memcached's words (Tests/Compatibility/test_tls.py runs it with one)
    (["-Z"], ("refused", "Error loading the certificate chain")), (["--enable-ssl"], ("refused", "Error loading the certificate chain")),
    (["-p", "{port}"], ("implemented", "tcpport", "{port}")),
    (["--port={port}"], ("implemented", "tcpport", "{port}")),
    (["-s", "{sock}"], ("implemented", "domain_socket", "{sock}")),
    (["--unix-socket={sock}"], ("implemented", "domain_socket", "{sock}")),
    (["-U", "0"], ("implemented", "udpport", "0")), (["--udp-port=0"], ("implemented", "udpport", "0")),
    (["-U", "11311"], ("refused", "UDP is not supported")),
    (["-m", "80"], ("implemented", "maxbytes", str(80 << 20))),
    (["--memory-limit=96"], ("implemented", "maxbytes", str(96 << 20))),
    (["-M"], ("implemented", "evictions", "off")), (["--disable-evictions"], ("implemented", "evictions", "off")),
    (["-c", "333"], ("implemented", "maxconns", "333")), (["--conn-limit=334"], ("implemented", "maxconns", "334")),
    (["-k"], ("implemented", "locked", None)), (["--lock-memory"], ("implemented", "locked", None)),
    (["-h"], ("exits0", "--disable-cas")), (["--help"], ("exits0", "--disable-cas")),
    (["-i"], ("exits0", "libevent")), (["--license"], ("exits0", "libevent")),
    (["-V"], ("exits0", "dogpiled")), (["--version"], ("exits0", "dogpiled")),
    (["-r"], ("implemented", "core", None)), (["--enable-coredumps"], ("implemented", "core", None)),
    (["-v"], ("implemented", "verbosity", "1")), (["-vv"], ("implemented", "verbosity", "2")),
    (["-vvv"], ("implemented", "verbosity", "2")), (["--verbose"], ("implemented", "verbosity", "1")),
    (["-d"], ("implemented", "daemon", None)), (["--daemon"], ("implemented", "daemon", None)),
    (["-l", "127.0.0.1"], ("implemented", "inter", "127.0.0.1")),
    (["--listen=127.0.0.1"], ("implemented", "inter", "127.0.0.1")),
    (["-u", "root"], ("implemented", "user", None)), (["--user=root"], ("implemented", "user", None)),
    (["-P", "{pid}"], ("implemented", "pidfile", None)), (["--pidfile={pid}"], ("implemented", "pidfile", None)),
    (["-f", "1.5"], ("noeffect", "-f has no effect in dogpiled: there are no slab classes to grow; each item is allocated at its exact size")),
    (["--slab-growth-factor=1.5"], ("noeffect", "-f has no effect in dogpiled: there are no slab classes to grow; each item is allocated at its exact size")),
    (["-f", "1.0"], ("refused", "the factor must be a number greater than 1")),
    (["-n", "64"], ("noeffect", "-n has no effect in dogpiled: there are no slab chunks; each item is allocated at its exact size")),
    (["--slab-min-size=64"], ("noeffect", "-n has no effect in dogpiled: there are no slab chunks; each item is allocated at its exact size")),
    (["-n", "0"], ("refused", "the chunk size must be an integer greater than 0")),
    (["-t", "3"], ("implemented", "num_threads", "3")), (["--threads=3"], ("implemented", "num_threads", "3")),
    (["-D", "#"], ("implemented", "stat_key_prefix", "#")),
    (["-L"], ("noeffect", "-L has no effect in dogpiled: items are allocated one by one, not from one preallocated arena that large pages could back")),
    (["--enable-largepages"], ("noeffect", "-L has no effect in dogpiled: items are allocated one by one, not from one preallocated arena that large pages could back")),
    (["-R", "7"], ("implemented", "reqs_per_event", "7")), (["--max-reqs-per-event=7"], ("implemented", "reqs_per_event", "7")),
    (["-C"], ("implemented", "cas_enabled", "no")), (["--disable-cas"], ("implemented", "cas_enabled", "no")),
    (["-b", "99"], ("implemented", "tcp_backlog", "99")), (["--listen-backlog=99"], ("implemented", "tcp_backlog", "99")),
    (["-B", "ascii"], ("implemented", "binding_protocol", "ascii")),
    (["--protocol=auto"], ("implemented", "binding_protocol", "ascii")),
    (["-B", "binary"], ("refused", "binary protocol is deprecated and not implemented")),
    (["-I", "2m"], ("implemented", "item_size_max", str(2 << 20))),
    (["--max-item-size=512k"], ("implemented", "item_size_max", str(512 << 10))),
    (["-S"], ("refused", "SASL needs memcached's binary protocol")),
    (["--enable-sasl"], ("refused", "SASL needs memcached's binary protocol")),
    (["-F"], ("implemented", "flush_enabled", "no")), (["--disable-flush-all"], ("implemented", "flush_enabled", "no")),
    (["-X"], ("implemented", "dump_enabled", "no")), (["--disable-dumping"], ("implemented", "dump_enabled", "no")),
    # -W has no stats settings line in memcached either: its effect is watch's reply
    (["-W"], ("implemented", "reply watch", "CLIENT_ERROR watch commands not allowed")),
    (["--disable-watch"], ("implemented", "reply watch", "CLIENT_ERROR watch commands not allowed")),
    # -Y with a file that cannot be read: refused with memcached's words (test_auth_differential.py runs it with one)
    (["-Y", "/nonexistent/dogpiled-auth"], ("refused", "Could not open authfile")),
    (["--auth-file=/nonexistent/dogpiled-auth"], ("refused", "Could not open authfile")),
    (["-e", "/tmp/dogpiled-memfile"], ("refused", "cannot restart warm from a memory file")),
    (["--memory-file=/tmp/dogpiled-memfile"], ("refused", "cannot restart warm from a memory file")),
    (["-N", "1"], ("noeffect", "-N has no effect in dogpiled: connections are spread over worker threads round-robin, not by NIC queue (NAPI ID)")),
    (["--napi-ids=2"], ("noeffect", "-N has no effect in dogpiled: connections are spread over worker threads round-robin, not by NIC queue (NAPI ID)")),
    (["-N", "9"], ("refused", "the number of NAPI IDs must be from 1 to the number of threads")),
]


def _binary() -> str:
    path = dogpiled_path()
    if path is None or not os.path.exists(path):
        pytest.fail("dogpiled binary not found (build it or set DOGPILED_BIN)", pytrace=False)
    return path


class Run:
    """dogpiled started with `extra` on top of a loopback port; stderr and stdout kept."""

    def __init__(self, extra: list[str], unix: str | None = None):
        self.port = free_port()
        self.unix = unix
        self.out = tempfile.TemporaryFile()
        argv = [_binary(), "-l", HOST, "-p", str(self.port), "-t", "2"]
        if os.geteuid() == 0 and not any(a == "-u" or a.startswith("--user") for a in extra):
            argv += ["-u", "root"]
        self.argv = argv + extra
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=self.out,
                                     stderr=subprocess.STDOUT, start_new_session=True)

    def serving(self, timeout: float = 10.0) -> bool:
        """True once it accepts connections; False if it exited first."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                self.connect().close()
                return True
            except OSError:
                if self.proc.poll() is not None and not self.daemonized():
                    return False
                time.sleep(0.02)
        return False

    def daemonized(self) -> bool:
        return self.proc.returncode == 0 and "-d" in self.argv or "--daemon" in self.argv

    def connect(self) -> socket.socket:
        if self.unix:
            s = socket.socket(socket.AF_UNIX)
            s.settimeout(5)
            s.connect(self.unix)
            return s
        return socket.create_connection((HOST, self.port), timeout=5)

    def settings(self) -> dict[str, str]:
        with self.connect() as s:
            s.sendall(b"stats settings\r\n")
            data = b""
            while not data.endswith(b"END\r\n"):
                chunk = s.recv(65536)
                assert chunk, "connection closed during stats settings"
                data += chunk
        return dict(line.split(" ", 2)[1:] for line in data.decode().splitlines() if line.startswith("STAT "))

    def output(self) -> str:
        self.out.seek(0)
        return self.out.read().decode("utf-8", "replace")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=10)
        self.out.close()


def _expect_notice(run: Run, notice: str) -> None:
    assert run.serving(), f"{run.argv} did not start:\n{run.output()}"
    run.settings()  # the notices are logged before listening; this also proves it serves
    output = run.output()
    assert output.count(notice) == 1, f"expected the notice once:\n  {notice}\ngot:\n{output}"


def _expect_refusal(run: Run, reason: str) -> None:
    try:
        status = run.proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pytest.fail(f"{run.argv} kept running; expected a refusal: {reason}")
    assert status != 0, f"{run.argv} exited 0; expected a refusal"
    assert reason in run.output(), f"expected {reason!r} in:\n{run.output()}"


@pytest.mark.parametrize("name", sorted(EXTENDED))
def test_extended_option(name):
    value, disposition = EXTENDED[name]
    run = Run(["-o", name if value is None else f"{name}={value}"])
    try:
        kind = disposition[0]
        if kind == "noeffect":
            _expect_notice(run, f"-o {name} has no effect in dogpiled: {disposition[1]}")
        elif kind == "refused":
            _expect_refusal(run, f"-o {name}: {disposition[1]}")
        else:
            assert run.serving(), run.output()
            assert run.settings()[disposition[1]] == disposition[2]
    finally:
        run.stop()


def test_extended_options_in_one_list_each_noted_once():
    run = Run(["-o", "slab_reassign,slab_automove=2,slab_reassign", "-o", "modern,idle_timeout=9", "-L", "-L"])
    try:
        assert run.serving(), run.output()
        assert run.settings()["idle_timeout"] == "9"
        output = run.output()
        assert output.count(f"-o slab_reassign has no effect in dogpiled: {SLABS}") == 1
        assert output.count(f"-o slab_automove has no effect in dogpiled: {SLABS}") == 1
        assert output.count("-o modern has no effect") == 1 and output.count("-L has no effect") == 1
    finally:
        run.stop()


@pytest.mark.parametrize("argv,value", [
    (["-o", "hashpower=5"], "'5' is not an integer from 12 to 32"),
    (["-o", "hashpower"], "needs a value"),
    (["-o", "slab_automove=3"], "'3' is not an integer from 0 to 2"),
    (["-o", "tail_repair_time=9"], "'9' is not an integer from 10"),
    (["-o", "hash_algorithm=sha1"], "one of jenkins, murmur3, xxh3"),
    (["-o", "hot_lru_pct=80"], "from 1 to 79"),
    (["-o", "slab_sizes=200-100"], "increasing sizes"),
    (["-o", "idle_timeout"], "needs a value"),
    (["-o", "lru_segmented"], "unknown or unsupported option"),
    (["-o", "no_such_option"], "unknown or unsupported option"),
])
def test_values_memcached_refuses_are_refused(argv, value):
    run = Run(argv)
    try:
        _expect_refusal(run, value)
    finally:
        run.stop()


def _flag_id(case) -> str:
    return " ".join(case[0])


@pytest.mark.parametrize("case", FLAGS, ids=_flag_id)
def test_flag(case, tmp_path):
    template, disposition = case
    sock, pid = str(tmp_path / "dogpiled.sock"), str(tmp_path / "dogpiled.pid")
    kind = disposition[0]
    if kind == "other":
        pytest.skip(f"added by branch {disposition[1]}")
    port = free_port()
    subst = lambda a: a.replace("{port}", str(port)).replace("{sock}", sock).replace("{pid}", pid)
    extra = [subst(a) for a in template]
    if kind == "exits0":
        argv = [_binary(), *extra]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=10)
        assert done.returncode == 0 and disposition[1] in done.stdout, (done.stdout, done.stderr)
        return
    daemon = "daemon" in disposition[1:]
    if daemon:
        extra += ["-P", pid]
    run = Run(extra, unix=sock if any("sock" in a for a in template) else None)
    if any("{port}" in a for a in template):
        run.port = port  # the flag's port comes after the default one and wins
    try:
        if kind == "noeffect":
            _expect_notice(run, disposition[1])
            return
        if kind == "refused":
            _expect_refusal(run, disposition[1])
            return
        if daemon:
            assert run.proc.wait(timeout=10) == 0, run.output()  # the parent returns once serving
            assert run.serving(), run.output()
            daemon_pid = int(open(pid).read())
            try:
                assert daemon_pid != run.proc.pid and os.getsid(daemon_pid) == daemon_pid
                assert run.settings()["num_threads"] == "2"
            finally:
                os.kill(daemon_pid, 9)
            return
        assert run.serving(), f"{run.argv}:\n{run.output()}"
        key, expected = disposition[1], disposition[2]
        settings = run.settings()
        if key == "locked":
            status = open(f"/proc/{run.proc.pid}/status").read()
            locked = int(re.search(r"VmLck:\s+(\d+)", status).group(1))
            assert locked > 0, status
        elif key == "core":
            limits = open(f"/proc/{run.proc.pid}/limits").read()
            line = next(l for l in limits.splitlines() if l.startswith("Max core file size"))
            soft, hard = line.split()[4:6]
            assert soft == hard and soft != "0", line
        elif key == "user":
            assert os.stat(f"/proc/{run.proc.pid}").st_uid == 0
        elif key == "pidfile":
            assert int(open(pid).read()) == run.proc.pid
        elif key.startswith("reply "):
            with run.connect() as s:
                s.sendall(key[len("reply "):].encode() + b"\r\n")
                data = b""
                while not data.endswith(b"\r\n"):
                    chunk = s.recv(4096)
                    assert chunk, "connection closed"
                    data += chunk
            assert data.decode() == expected + "\r\n", data
        else:
            assert settings[key] == subst(expected), settings
    finally:
        run.stop()


def test_disable_cas_replies():
    """-C: gets and lock verbs carry CAS 0, cas never matches, stats say so."""
    run = Run(["-C"])
    try:
        assert run.serving(), run.output()
        with run.connect() as s:
            s.sendall(b"set a 0 0 1\r\nx\r\ngets a\r\ncas a 0 0 1 0\r\ny\r\nmg a c v\r\nlockgen a 1000\r\nmn\r\n")
            data = b""
            while not data.endswith(b"MN\r\n"):
                chunk = s.recv(65536)
                assert chunk
                data += chunk
        assert data == (b"STORED\r\nVALUE a 0 1 0\r\nx\r\nEND\r\nEXISTS\r\nVA 1 c0\r\nx\r\n"
                        b"VALUE a 0 1 0\r\nx\r\nHIT\r\nMN\r\n"), data
        assert run.settings()["cas_enabled"] == "no"
    finally:
        run.stop()


def test_memcached_accepts_every_listed_name():
    """The list is memcached 1.6.18's: its binary starts with every -o name (proxy_* aside,
    compiled only with --enable-proxy) and refuses one it does not know."""
    path = memcached_path()
    if path is None:
        pytest.skip("memcached not installed")
    base = [path, "-l", HOST, "-U", "0"] + (["-u", "root"] if os.geteuid() == 0 else [])
    for name, (value, _) in EXTENDED.items():
        if name.startswith("proxy_") or name == "ext_path":
            continue  # ext_path would create the file; it is accepted (see docs)
        option = name if value is None else f"{name}={value}"
        proc = subprocess.Popen(base + ["-p", str(free_port()), "-o", option],
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        try:
            proc.wait(timeout=0.5)
            pytest.fail(f"memcached refused -o {option}: {proc.stdout.read()!r}")
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    done = subprocess.run(base + ["-p", str(free_port()), "-o", "lru_segmented"], capture_output=True, timeout=5)
    assert b"Illegal suboption" in done.stdout + done.stderr
