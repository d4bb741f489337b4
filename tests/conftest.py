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


# ---- the slow tier's summary: how many slow tests ran, how many skipped, and why (printed at the end of make test) --

_SLOW: dict[str, list] = {"passed": [], "failed": [], "skipped": []}


def pytest_runtest_logreport(report):
    if "slow" not in report.keywords:
        return
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        if report.outcome == "skipped":
            reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
            _SLOW["skipped"].append((report.nodeid, reason.removeprefix("Skipped: ")))
        else:
            _SLOW[report.outcome].append((report.nodeid, None))


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    ran = len(_SLOW["passed"]) + len(_SLOW["failed"])
    skipped = _SLOW["skipped"]
    if not ran and not skipped:
        return
    tr = terminalreporter
    tr.section("slow tier")
    tr.write_line(f"slow tests: {ran} ran ({len(_SLOW['passed'])} passed, {len(_SLOW['failed'])} failed), "
                  f"{len(skipped)} skipped")
    reasons: dict[str, int] = {}
    for _, reason in skipped:
        reasons[reason] = reasons.get(reason, 0) + 1
    for reason, count in sorted(reasons.items(), key=lambda kv: -kv[1]):
        tr.write_line(f"  {count} skipped: {reason}")
