"""libmemcached's protocol checker, ASCII tests only, against dogpiled.

Needs `memccapable` (Debian: apt-get install -y libmemcached-tools, or set
MEMCCAPABLE_BIN).  A missing memccapable is an error, not a skip.

Against memcached 1.6.18 the output is 27 lines like
    ascii version                           [pass]
followed by "All tests passed".
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

import pytest

from conftest import HOST

EXPECTED_TESTS = [
    "version", "quit", "verbosity", "set", "set noreply", "get", "gets", "mget",
    "flush", "flush noreply", "add", "add noreply", "replace", "replace noreply",
    "cas", "cas noreply", "delete", "delete noreply", "incr", "incr noreply",
    "decr", "decr noreply", "append", "append noreply", "prepend",
    "prepend noreply", "stat",
]
RESULT_RE = re.compile(r"^ascii (\S.*?)\s+\[(\w+)\]\s*$", re.M)


def memccapable_path() -> str:
    path = os.environ.get("MEMCCAPABLE_BIN") or shutil.which("memccapable")
    if not path or not os.path.exists(path):
        pytest.fail("memccapable not found: apt-get install -y libmemcached-tools "
                    "(or set MEMCCAPABLE_BIN)", pytrace=False)
    return path


@pytest.mark.parametrize("target", ["dogpiled", "memcached"])
def test_memccapable_ascii(target, request):
    """The memcached run only validates the tool and this parser."""
    server = request.getfixturevalue("dogpiled_server" if target == "dogpiled" else "memcached_server")
    argv = [memccapable_path(), "-a", "-h", HOST, "-p", str(server.port)]
    # memccapable reports failures on stderr and passes on (buffered) stdout:
    # unbuffer stdout so that the merged output stays in order.
    prefix = ["stdbuf", "-o0", "-e0"] if shutil.which("stdbuf") else []
    try:
        proc = subprocess.run(prefix + argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True, errors="replace", timeout=120)
    except subprocess.TimeoutExpired as e:
        out = (e.stdout or b"").decode("utf-8", "replace") if isinstance(e.stdout, bytes) else (e.stdout or "")
        pytest.fail(f"memccapable hung (> 120 s): {' '.join(argv)}\n--- output ---\n{out}", pytrace=False)
    output = proc.stdout
    results = dict(RESULT_RE.findall(output))
    failed = {name: status for name, status in results.items() if status != "pass"}
    passed = [name for name, status in results.items() if status == "pass"]
    missing = [name for name in EXPECTED_TESTS if name not in results]
    problems = []
    if failed:
        problems.append(f"not passed: {failed}")
    if missing:
        problems.append(f"no result for: {missing}")
    if len(passed) != 27:
        problems.append(f"{len(passed)} tests passed, expected 27")
    if proc.returncode != 0:
        problems.append(f"exit status {proc.returncode}")
    if not server.alive():
        problems.append(f"{target} died\n--- {target} output ---\n" + server.log_tail())
    if problems:
        pytest.fail(f"memccapable -a against {target}: " + "; ".join(problems)
                    + f"\n$ {' '.join(argv)}\n--- memccapable output ---\n{output}", pytrace=False)
    assert "All tests passed" in output
