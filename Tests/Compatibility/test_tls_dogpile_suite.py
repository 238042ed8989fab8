"""dogpile.cache 1.5's generic backend suite through its pymemcache backend with a
``tls_context``, against dogpiled started with ``-Z``: what dogpile.cache's own
tests/cache/test_memcached_backend.py runs as ``PyMemcacheTLSTest`` against a TLS memcached."""

from __future__ import annotations

import pytest
from dogpile.testing.fixtures import _GenericBackendTestSuite

from conftest import Server, candidate_command
from tls_certs import make_certificates
from test_tls import client_context, tls_options

# Filled in place by the module fixture before any class is set up (setup_class reads it).
ARGUMENTS: dict = {}


@pytest.fixture(scope="module", autouse=True)
def tls_dogpiled(tmp_path_factory):
    certs = make_certificates(tmp_path_factory.mktemp("tls-suite"))
    server = Server("dogpiled", lambda port: candidate_command(port) + tls_options(certs)).start()
    ARGUMENTS.update({"url": f"localhost:{server.port}", "tls_context": client_context(certs)})
    yield server
    server.stop()


class TestDogpiledPyMemcacheTLS(_GenericBackendTestSuite):
    backend = "dogpile.cache.pymemcache"
    # As dogpile.cache's own suite: memcached keys have no spaces.
    region_args = {"key_mangler": lambda x: x.replace(" ", "_")}
    config_args = {"arguments": ARGUMENTS}

    @classmethod
    def _check_backend_available(cls, backend):
        # Never skip: a TLS daemon that does not answer is a failure here.
        backend.set("dogpiled-tls-probe", "y")
        assert backend.get("dogpiled-tls-probe") == "y"
