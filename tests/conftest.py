"""Shared fixtures: tiny synthetic datasets (so the fast tier needs no downloads) and an in-process CLI runner."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("GENLAB_OFFLINE", "1")  # tests never reach for the network

from helpers import make_image_folder, make_mnist_dir  # noqa: E402


@pytest.fixture(scope="session")
def tiny_mnist(tmp_path_factory) -> Path:
    """A folder with 512 train / 128 test synthetic 28x28 digits as IDX .gz files (pass as --data-dir)."""
    return make_mnist_dir(tmp_path_factory.mktemp("tiny_mnist"))


@pytest.fixture()
def image_folder(tmp_path) -> Path:
    """24 RGB 40x40 PNGs in two class sub-folders."""
    return make_image_folder(tmp_path / "images")


@pytest.fixture()
def cli(capsys):
    """Run ``genlab ARGS`` in-process; returns (exit code, stdout, stderr)."""
    from genlab.cli import main

    def run(*argv) -> tuple[int, str, str]:
        code = main([str(a) for a in argv])
        out = capsys.readouterr()
        return code, out.out, out.err

    return run
