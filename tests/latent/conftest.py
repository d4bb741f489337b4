"""Tiny trained runs of each latent family, shared by the tool tests of this folder (trained once per module)."""

from __future__ import annotations

import pytest

from genlab.core.engine import TrainConfig
from genlab.data.datasets import ImageDataConfig

TINY_TRAIN = dict(max_steps=4, batch_size=32, warmup_steps=0, progress=False, tensorboard=False, sample_every=0,
                  checkpoint_every=1000, device="cpu", log_every=2)


def train_tiny(family: str, out, data_dir, *, latent_dim: int = 2, **model_kw):
    data = ImageDataConfig("mnist", data_dir=str(data_dir))
    if family == "vae":
        from genlab.vae import VAEConfig, train
        cfg = VAEConfig(latent_dim=latent_dim, hidden_dims=(32,), **model_kw)
    elif family == "ae":
        from genlab.ae import AEConfig, train
        cfg = AEConfig(latent_dim=latent_dim, hidden_dims=(32,), **model_kw)
    else:
        from genlab.aae import AAEConfig, train
        cfg = AAEConfig(latent_dim=latent_dim, hidden_dims=(32,), disc_hidden_dims=(16,), **model_kw)
    train(cfg, data, TrainConfig(**TINY_TRAIN), out=out)
    return out


@pytest.fixture(scope="module")
def runs(tiny_mnist, tmp_path_factory):
    """{"vae": run, "ae": run, "aae": run} with 2-D latents, and "ae32": a 32-D autoencoder."""
    root = tmp_path_factory.mktemp("latent_runs")
    out = {f: train_tiny(f, root / f, tiny_mnist) for f in ("vae", "ae", "aae")}
    out["ae32"] = train_tiny("ae", root / "ae32", tiny_mnist, latent_dim=32)
    return out
