"""Real memcached tools against dogpiled, each also run against memcached 1.6.18:

* pymemcache 4.0.0's own integration suite (pymemcache/test/test_integration.py from its
  PyPI sdist; scripts/test fetches it into .build/pymemcache-sdist, or this test does with
  pip download): the same tests pass against both servers.
* Debian's memcached-tool (/usr/share/memcached/scripts/memcached-tool, package memcached):
  `dump` lists every key and value, `stats` and `settings` show the same field names,
  `display` runs.
* memcstat (package libmemcached-tools): runs and shows the same field names.

A missing tool or sdist is an error, not a skip.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest

from conftest import HOST, REPO_ROOT, RawClient

PYMEMCACHE = "pymemcache-4.0.0"
MEMCACHED_TOOL = os.environ.get("MEMCACHED_TOOL", "/usr/share/memcached/scripts/memcached-tool")


@pytest.fixture
def both(reference_factory, candidate_factory):
    return {"memcached": reference_factory(), "dogpiled": candidate_factory()}


def pymemcache_tests() -> str:
    """The unpacked sdist's directory, downloading it from PyPI if it is not there yet."""
    root = os.environ.get("PYMEMCACHE_SDIST") or str(REPO_ROOT / ".build" / "pymemcache-sdist")
    unpacked = os.path.join(root, PYMEMCACHE)
    if not os.path.isdir(unpacked):
        os.makedirs(root, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-binary", ":all:", "--no-deps",
                        "pymemcache==4.0.0", "-d", root], check=True, timeout=300)
        subprocess.run(["tar", "xzf", os.path.join(root, PYMEMCACHE + ".tar.gz"), "-C", root], check=True)
    return unpacked


def run_pymemcache(directory: str, port: int) -> tuple[dict[str, int], str]:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-o", "addopts=",
         "pymemcache/test/test_integration.py", "--server", HOST, "--port", str(port)],
        cwd=directory, capture_output=True, text=True, timeout=600)
    summary = result.stdout.strip().splitlines()[-1] if result.stdout.strip() else ""
    counts = {kind: int(n) for n, kind in re.findall(r"(\d+) (passed|failed|skipped|errors?)", summary)}
    return counts, result.stdout[-3000:] + result.stderr[-2000:]


def test_pymemcache_integration_suite(both):
    directory = pymemcache_tests()
    ref_counts, ref_log = run_pymemcache(directory, both["memcached"].port)
    cand_counts, cand_log = run_pymemcache(directory, both["dogpiled"].port)
    assert ref_counts.get("passed", 0) >= 90, ref_log
    assert cand_counts == ref_counts, f"memcached {ref_counts}, dogpiled {cand_counts}\n{cand_log}"


def tool(*arguments: str) -> subprocess.CompletedProcess:
    if not os.path.exists(MEMCACHED_TOOL):
        pytest.fail(f"{MEMCACHED_TOOL} not found: apt-get install -y memcached (or set MEMCACHED_TOOL)",
                    pytrace=False)
    return subprocess.run(["perl", MEMCACHED_TOOL, *arguments], capture_output=True, timeout=60)


ITEMS = {b"plain": (0, b"abc"), b"a:1": (5, b"with flags"), b"sp%20c": (0, b"percent"),
         b"big": (0, b"v" * 5000), b"\xc3\xa9t\xc3\xa9": (7, b"\x00\x01bin\r\nary")}


def fill(port: int) -> None:
    client = RawClient(HOST, port)
    payload = b"".join(b"set %s %d 0 %d\r\n%s\r\n" % (k, f, len(v), v) for k, (f, v) in ITEMS.items())
    assert client.request(payload) == b"STORED\r\n" * len(ITEMS)
    client.close()


def parse_dump(output: bytes) -> dict[bytes, tuple[int, bytes]]:
    """memcached-tool dump: `add <key> <flags> <exptime> <bytes>\\r\\n<data>\\r\\n` per item."""
    items, pos = {}, output.index(b"add ") if b"add " in output else len(output)
    while pos < len(output):
        end = output.index(b"\r\n", pos)
        _, key, flags, _exptime, size = output[pos:end].split(b" ")
        value = output[end + 2:end + 2 + int(size)]
        items[key] = (int(flags), value)
        pos = end + 2 + int(size) + 2
    return items


@pytest.mark.parametrize("target", ["dogpiled", "memcached"])
def test_memcached_tool_dump_lists_every_item(target, both):
    server = both[target]
    fill(server.port)
    result = tool(f"{HOST}:{server.port}", "dump")
    assert result.returncode == 0, result.stderr
    assert parse_dump(result.stdout) == ITEMS


def field_names(output: bytes) -> set[bytes]:
    return {line.split()[0] for line in output.splitlines()[1:] if line.split()}


@pytest.mark.parametrize("mode", ["stats", "settings"])
def test_memcached_tool_shows_memcached_field_names(mode, both):
    ref = tool(f"{HOST}:{both['memcached'].port}", mode)
    cand = tool(f"{HOST}:{both['dogpiled'].port}", mode)
    assert ref.returncode == 0 and cand.returncode == 0, (ref.stderr, cand.stderr)
    missing = field_names(ref.stdout) - field_names(cand.stdout)
    assert not missing, f"memcached-tool {mode}: dogpiled lacks {sorted(missing)}"


def test_memcached_tool_display_runs(both):
    for server in both.values():
        fill(server.port)
        result = tool(f"{HOST}:{server.port}", "display")
        assert result.returncode == 0, result.stderr
        assert result.stdout.startswith(b"  #  Item_Size"), result.stdout


def test_memcstat_shows_memcached_field_names(both):
    path = os.environ.get("MEMCSTAT_BIN") or shutil.which("memcstat")
    if not path:
        pytest.fail("memcstat not found: apt-get install -y libmemcached-tools (or set MEMCSTAT_BIN)",
                    pytrace=False)
    names = {}
    for name, server in both.items():
        result = subprocess.run([path, f"--servers={HOST}:{server.port}"], capture_output=True, timeout=60)
        assert result.returncode == 0, result.stderr
        names[name] = {line.split(b":")[0].strip() for line in result.stdout.splitlines()[1:]}
    missing = names["memcached"] - names["dogpiled"]
    assert not missing, f"memcstat: dogpiled lacks {sorted(missing)}"
