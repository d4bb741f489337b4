"""Run by tests/gan/test_ddp.py under torchrun (2 gloo processes), and imported by it for the one-process run.

Trains two tiny GANs (hinge with spectral norm; WGAN-GP with layer norm, whose gradient penalty needs the double
backward DistributedDataParallel does not support) for a few steps with n_critic 2. G's BatchNorm layers are replaced
by identities here: BatchNorm normalises each rank's own batch (no SyncBatchNorm on CPU), which would make 2 x batch b
differ from 1 x batch 2b by design; everything else must match exactly.

    python -m torch.distributed.run --standalone --nproc_per_node 2 ddp_gan_script.py OUT DATA_DIR BATCH
"""

from __future__ import annotations

import sys
from pathlib import Path

import torch
from torch import nn

from genlab.core.engine import TrainConfig
from genlab.data.datasets import ImageDataConfig, load_image_dataset
from genlab.gan import GAN, GANConfig, GANTrainer, GANTrainOptions

CASES = {
    "hinge": dict(loss="hinge", spectral_norm=True),
    "wgan-gp": dict(loss="wgan-gp", spectral_norm=False, d_norm="layer"),
}


def drop_batchnorm(module: nn.Module) -> None:
    for name, child in module.named_children():
        if isinstance(child, nn.BatchNorm2d):
            setattr(module, name, nn.Identity())
        else:
            drop_batchnorm(child)


def build(out: str | Path, data_dir: str | Path, batch_size: int, case: str) -> GANTrainer:
    torch.manual_seed(0)
    model = GAN(GANConfig(g_channels=8, d_channels=8, latent_dim=16, **CASES[case]))
    drop_batchnorm(model.generator)
    drop_batchnorm(model.generator_ema)
    data = load_image_dataset(ImageDataConfig("mnist", data_dir=str(data_dir)), "train")
    config = TrainConfig(batch_size=batch_size, lr=1e-3, adam_beta1=0.0, adam_beta2=0.9, max_steps=6, log_every=1,
                         checkpoint_every=100, sample_every=0, progress=False, tensorboard=False, seed=0,
                         device="cpu")
    return GANTrainer(model, data, config, Path(out) / case, options=GANTrainOptions(n_critic=2, fid_samples=0))


if __name__ == "__main__":
    from genlab.core.distributed import shutdown_distributed

    out, data_dir, batch = sys.argv[1], sys.argv[2], int(sys.argv[3])
    for case in CASES:
        build(out, data_dir, batch, case).fit()
    shutdown_distributed()
