"""dogpile.cache's own generic suites against the ``dogpiled`` backend, subclassed
as dogpile.cache 1.5's tests/cache/test_memcached_backend.py subclasses them for
pymemcache -- here on three real dogpiled daemons (weights 1, 2, 3)."""

import pytest
from dogpile.testing.fixtures import _GenericBackendTestSuite, _GenericMutexTestSuite

from conftest import start_daemon

# Filled in place by the fixture below before any class is set up: the suites read
# config_args in setup_class.
URLS: list = []


@pytest.fixture(scope="module", autouse=True)
def fleet():
    started = [start_daemon() for _ in range(3)]
    URLS[:] = [f"127.0.0.1:{d.port}:{w}" for d, w in zip(started, (1, 2, 3))]
    yield URLS
    for d in started:
        d.stop()


class _DogpiledConn:
    @classmethod
    def _check_backend_available(cls, backend):
        # Never skip: a fleet that does not work is a failure here.
        backend.set("dogpiled-suite-probe", b"y")
        assert backend.get("dogpiled-suite-probe") == b"y"


class DogpiledBackendTest(_DogpiledConn, _GenericBackendTestSuite):
    backend = "dogpiled"
    config_args = {"arguments": {"url": URLS}}


class DogpiledBackendWithRegionTest(_DogpiledConn, _GenericBackendTestSuite):
    """The same, with keys filed into the daemons' region ``user``."""
    backend = "dogpiled"
    config_args = {"arguments": {"url": URLS, "region": "user"}}


class DogpiledMutexTest(_DogpiledConn, _GenericMutexTestSuite):
    backend = "dogpiled"
    config_args = {"arguments": {"url": URLS}}
