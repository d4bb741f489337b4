"""GAN training under torchrun: 2 gloo processes with batch 4 each == one process with batch 8."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file

from genlab.core.tracking import read_metrics

REPO = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("ddp_gan_script.py")


def _script():
    spec = importlib.util.spec_from_file_location("ddp_gan_script", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_two_processes_match_one_process_with_the_doubled_batch(tmp_path, tiny_mnist):
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "tests"), str(REPO / "src")]),
           "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
                           str(SCRIPT), str(tmp_path / "ddp"), str(tiny_mnist), "4"], env=env, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    script = _script()
    for case in script.CASES:
        single = script.build(tmp_path / "single", tiny_mnist, 8, case)
        assert single.fit().step == 6
        a = load_file(str(tmp_path / "single" / case / "model.safetensors"))
        b = load_file(str(tmp_path / "ddp" / case / "model.safetensors"))
        assert a.keys() == b.keys()
        for k in a:  # G, D (both optimisers' averaged gradients), the EMA, spectral-norm vectors
            torch.testing.assert_close(a[k], b[k], rtol=1e-4, atol=1e-5, msg=f"{case}: {k}")
        init = script.build(tmp_path / "unused", tiny_mnist, 8, case).model.state_dict()
        assert not torch.equal(a["generator.body.0.weight"], init["generator.body.0.weight"])  # both nets trained
        moved = [k for k in a if k.startswith("discriminator.") and not torch.equal(a[k], init[k])]
        assert moved, case
        # rank 0 alone wrote the metrics: the mean over both ranks equals the one-process batch's mean
        rows_a = [r for r in read_metrics(tmp_path / "single" / case) if "train/d_loss" in r]
        rows_b = [r for r in read_metrics(tmp_path / "ddp" / case) if "train/d_loss" in r]
        assert [r["step"] for r in rows_b] == list(range(1, 7))
        for ra, rb in zip(rows_a, rows_b, strict=True):
            for k in ("train/d_loss", "train/g_loss", "train/gp"):
                assert (k in ra) == (k in rb)
                if k in ra:
                    assert abs(ra[k] - rb[k]) <= 1e-4 * max(1.0, abs(ra[k])), (case, k, ra[k], rb[k])
