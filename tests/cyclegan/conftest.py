"""CycleGAN test fixtures: a private cache (the built-in pair and its judges built from the synthetic MNIST),
shared by this folder's tests and set only while each of them runs (other families' tests keep their own)."""

from __future__ import annotations

import pytest


@pytest.fixture(scope="session")
def _cyclegan_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("xdg_cache")


@pytest.fixture(autouse=True)
def _private_cache(_cyclegan_cache, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(_cyclegan_cache))
