"""The README's promises: its two commands, .ci/run calling the test one, and its Python example running as shown."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from helpers import REPO, SHARED_DATA

README = (REPO / "README.md").read_text(encoding="utf-8")


def test_readme_starts_with_the_two_commands_and_ci_runs_the_test_one():
    first_block = re.search(r"```bash\n(.*?)```", README, re.S).group(1)
    commands = [line.split("#")[0].strip() for line in first_block.strip().splitlines()]
    assert commands == ["make demo", "make test"]
    ci = (REPO / ".ci" / "run").read_text()
    assert [line for line in ci.splitlines() if line and not line.startswith(("#", "set ", "cd "))] == ["make test"]
    makefile = (REPO / "Makefile").read_text()
    assert re.search(r"^demo:", makefile, re.M) and re.search(r"^test:", makefile, re.M)


PYTHON_BLOCKS = re.findall(r"```python\n(.*?)```", README, re.S)


def _run(code: str, cwd) -> str:
    code = code.replace("../shared/data", str(SHARED_DATA))  # the README runs from the repo root; tests from tmp
    proc = subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return proc.stdout


@pytest.mark.skipif(not (SHARED_DATA / "mnist").exists(), reason="needs ../shared/data (MNIST)")
def test_readme_vae_example_runs(tmp_path):
    out = _run(PYTHON_BLOCKS[0], tmp_path)
    match = re.search(r"test -ELBO ([\d.]+) nats, samples \(16, 1, 28, 28\)", out)
    assert match and 100 < float(match.group(1)) < 300, out
    assert (tmp_path / "runs" / "vae" / "readme" / "model.safetensors").exists()


@pytest.mark.skipif(not (SHARED_DATA / "tinyshakespeare").exists(), reason="needs ../shared/data")
def test_readme_text_example_runs(tmp_path):
    out = _run(PYTHON_BLOCKS[1], tmp_path)
    assert out.startswith("ROMEO:")
    match = re.search(r"val loss ([\d.]+) nats/char", out)
    assert match and 1.5 < float(match.group(1)) < 3.0, out
