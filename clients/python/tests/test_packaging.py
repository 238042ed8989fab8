"""The installed package: dogpile.cache finds the backend by its entry point alone."""

import subprocess
import sys
from importlib.metadata import entry_points

from conftest import url


def test_entry_point_is_registered():
    eps = entry_points()
    group = eps.select(group="dogpile.cache") if hasattr(eps, "select") else eps.get("dogpile.cache", [])
    assert [ep.value for ep in group if ep.name == "dogpiled"] == ["dogpiled.backend:DogpiledBackend"]


def test_plain_region_loads_the_backend_without_importing_dogpiled(daemon):
    code = ("import sys; from dogpile.cache import make_region\n"
            "r = make_region().configure('dogpiled', arguments={'url': sys.argv[1]})\n"
            "assert 'dogpiled' in sys.modules\n"        # loaded through the entry point
            "r.set('k', 'v'); print(r.get('k'))")
    out = subprocess.run([sys.executable, "-c", code, url(daemon)], capture_output=True,
                         text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "v"
