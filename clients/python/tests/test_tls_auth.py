"""The client against daemons started with ``-Z`` (TLS: ``tls_context``) and ``-Y``
(memcached's ASCII authentication: ``username``/``password``), through the backend and
a ``dogpiled`` region: classic commands, lockgen and the mutex all go over the same
authenticated TLS connections."""

from __future__ import annotations

import ssl
import sys
import threading

import pytest
from dogpile.cache import make_region
from pymemcache.exceptions import MemcacheClientError

import dogpiled
from dogpiled.connection import AuthenticationFailed

from conftest import REPO_ROOT, start_daemon, url

sys.path.insert(0, str(REPO_ROOT / "Tests" / "Compatibility"))
from tls_certs import make_certificates  # noqa: E402


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return make_certificates(tmp_path_factory.mktemp("client-tls"))


@pytest.fixture(scope="module")
def auth_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("client-auth") / "auth"
    path.write_text("app:s3cret\n")
    return path


@pytest.fixture(scope="module")
def secure_daemon(certs, auth_file):
    d = start_daemon("-Z", "-o", f"ssl_chain_cert={certs.server_cert},ssl_key={certs.server_key}",
                     "-Y", str(auth_file))
    yield d
    d.stop()


def context(certs) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(certs.ca))


def backend_arguments(d, certs, **extra):
    # The certificate names localhost and 127.0.0.1; pymemcache connects by address.
    return {"url": url(d), "tls_context": context(certs), "username": "app", "password": "s3cret", **extra}


def test_backend_over_tls_with_authentication(secure_daemon, certs):
    region = make_region().configure("dogpiled", arguments=backend_arguments(secure_daemon, certs))
    region.set("k", {"a": 1})
    assert region.get("k") == {"a": 1}
    calls = []

    def create():
        calls.append(1)
        return "made"

    assert region.get_or_create("g", create) == "made"
    assert region.get_or_create("g", create) == "made"
    assert len(calls) == 1
    region.delete("k")
    assert region.get("k") is dogpile_no_value()


def dogpile_no_value():
    from dogpile.cache.api import NO_VALUE
    return NO_VALUE


def test_dogpiled_region_lockgen_stampede_over_tls(secure_daemon, certs):
    region = dogpiled.make_region(name="user").configure(
        "dogpiled", expiration_time=60, arguments=backend_arguments(secure_daemon, certs, wait_ms=5000))
    calls = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)
    results = []

    def create():
        with lock:
            calls.append(1)
        import time
        time.sleep(0.3)
        return "value"

    def worker():
        barrier.wait()
        results.append(region.get_or_create("stampede", create))

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert results == ["value"] * 8
    assert len(calls) == 1


def test_wrong_password_is_refused(secure_daemon, certs):
    arguments = backend_arguments(secure_daemon, certs)
    arguments["password"] = "wrong"
    region = make_region().configure("dogpiled", arguments=arguments)
    with pytest.raises(AuthenticationFailed):
        region.set("k", "v")


def test_without_credentials_the_daemon_refuses(secure_daemon, certs):
    arguments = backend_arguments(secure_daemon, certs)
    del arguments["username"], arguments["password"]
    region = make_region().configure("dogpiled", arguments=arguments)
    # The set itself is taken as an authentication attempt (its data is no "user pass").
    with pytest.raises(MemcacheClientError, match="authentication"):
        region.set("k", "v")


@pytest.mark.parametrize("username,password", [("app", None), ("a b", "x"), ("a", "x\r\ny")])
def test_credentials_are_checked_before_connecting(username, password):
    with pytest.raises(ValueError):
        dogpiled.Cluster("127.0.0.1:1", username=username, password=password)
