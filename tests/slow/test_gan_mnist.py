"""Slow: genlab's default GAN on real MNIST; FID on the domain classifier must fall below a stated value.

Measured on 2 CPU cores (2026-11-24): 400 steps took 27 s on an idle machine (a few minutes when shared), and FID of
2000 EMA samples vs the 10,000 test images was 297.4 at step 200 and 214.4 at step 400 (domain classifier test
accuracy 98.49%). The limit leaves ~40% margin for other thread counts and BLAS builds.
"""

from __future__ import annotations

import pytest

from genlab.core.tracking import read_metrics
from genlab.data.datasets import ImageDataConfig
from genlab.gan import GANConfig, GANTrainOptions, default_train_config, train

pytestmark = pytest.mark.slow

STEPS = 400
FID_LIMIT = 300.0  # stated limit at step 400 (measured: 214.4)


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
