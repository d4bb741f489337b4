"""CycleGAN test fixtures: tiny networks and a private cache (the built-in pair and its judge) per session."""

from __future__ import annotations

import pytest

TINY = ["--ngf", "4", "--ndf", "4"]


@pytest.fixture(autouse=True, scope="session")
def _private_cache(tmp_path_factory):
    """The pair and the domain-B judge built from the synthetic MNIST go to a temporary cache, not ~/.cache."""
    import os

    old = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("xdg_cache"))
    yield
    if old is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = old
