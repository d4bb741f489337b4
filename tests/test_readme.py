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


@pytest.mark.skipif(not (SHARED_DATA / "mnist").exists(), reason="needs ../shared/data (MNIST)")
def test_readme_python_example_runs(tmp_path):
    code = re.search(r"```python\n(.*?)```", README, re.S).group(1)
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    match = re.search(r"test -ELBO ([\d.]+) nats, samples \(16, 1, 28, 28\)", proc.stdout)
    assert match and 100 < float(match.group(1)) < 300, proc.stdout
    assert (tmp_path / "runs" / "vae" / "readme" / "model.safetensors").exists()
