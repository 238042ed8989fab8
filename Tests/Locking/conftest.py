"""Fixtures for the dogpiled locking suite (helpers live in lockclient.py).

* ``dogpiled``          -- a fresh dogpiled (``-t 4 -m 64``) on a free loopback
                           port, stopped after the test.
* ``dogpiled_factory``  -- ``dogpiled_factory("--region", "soft:...")`` starts
                           one with extra arguments; all are stopped afterwards.

Environment: ``DOGPILED_BIN`` overrides the binary (default:
<repo>/.build/debug/dogpiled, computed from this file's location).  A missing
binary FAILS the tests; it never skips them.
"""

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lockclient import Daemon  # noqa: E402

# --------------------------------------------------------------------------
# fixtures
# --------------------------------------------------------------------------

@pytest.fixture
def dogpiled_factory():
    started: list[Daemon] = []

    def make(*extra) -> Daemon:
        d = Daemon(extra)
        started.append(d)
        return d.start()

    yield make
    for d in started:
        d.stop()


@pytest.fixture
def dogpiled(dogpiled_factory) -> Daemon:
    return dogpiled_factory()
