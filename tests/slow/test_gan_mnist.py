"""Slow: genlab's default GAN on real MNIST; FID on the domain classifier must fall below a stated value.

Measured on 2 CPU cores (2026-11-24): 400 steps took 27 s on an idle machine (a few minutes when shared), and FID of
2000 EMA samples vs the 10,000 test images was 297.4 at step 200 and 214.4 at step 400 (domain classifier test
accuracy 98.49%). Re-measured 2026-12-01 after the EMA's BatchNorm statistics became standing statistics and the
trainer's noise a per-step stream: 578.5 at step 200, 233.8 at step 400 (5.5 min on a shared machine). The limit at
step 400, 280, is below both step-200 values (a run that stalls after step 200 fails) and ~20% above the latest
step-400 value, for other thread counts and BLAS builds.
"""

from __future__ import annotations

import pytest

from genlab.core.tracking import read_metrics
from genlab.data.datasets import ImageDataConfig
from genlab.gan import GANConfig, GANTrainOptions, default_train_config, train
from helpers import SHARED_DATA

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(not (SHARED_DATA / "mnist").exists(), reason="needs ../shared/data (MNIST)")]

STEPS = 400
FID_LIMIT = 280.0  # at step 400 (measured 214.4, then 233.8); below the step-200 values (297.4, 578.5)


def test_fid_on_mnist_falls_below_the_limit(tmp_path):
    result = train(GANConfig(), ImageDataConfig("mnist"),
                   default_train_config(max_steps=STEPS, eval_every=STEPS // 2, progress=False, tensorboard=False,
                                        sample_every=STEPS // 2, device="cpu"),
                   GANTrainOptions(fid_samples=2000), out=tmp_path / "run")
    fids = [(r["step"], r["eval/fid"]) for r in read_metrics(result.run_dir) if "eval/fid" in r]
    print(f"\nGAN MNIST FID by step: {fids}")
    assert [s for s, _ in fids] == [STEPS // 2, STEPS]
    assert fids[-1][1] < FID_LIMIT, fids
    assert fids[-1][1] < fids[0][1], fids  # still improving between the two evaluations
    assert (result.run_dir / "figures" / "fid.png").exists()
