"""Train, sample and evaluate VAEs: the functions behind ``genlab vae ...``.

    >>> from genlab import vae
    >>> result = vae.train(vae.VAEConfig(latent_dim=2), train_config=TrainConfig(epochs=5), out="runs/vae/z2")
    >>> model = genlab.load(result.run_dir); grid = model.sample(64, seed=0)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ..core.device import resolve_device
from ..core.engine import TrainConfig, Trainer, TrainResult
from ..core.errors import ConfigError
from ..core.io import write_json_atomic
from ..core.model import load
from ..data.datasets import ImageDataConfig, load_image_dataset, saved_data_config
from ..viz import save_image_grid
from .model import VAE, VAEConfig, build_vae

FAMILY = "vae"

# The VAE's own engine defaults (measured in benchmarks/vae_mnist.py): see the README.
DEFAULT_TRAIN = dict(epochs=20, batch_size=128, lr=1e-3, lr_schedule="cosine", min_lr_ratio=0.05,
                     warmup_steps=200, sample_every=1000, checkpoint_every=2000, log_every=100)


def default_train_config(**overrides: Any) -> TrainConfig:
    return TrainConfig(**{**DEFAULT_TRAIN, **overrides})


def train(model_config: VAEConfig | None = None, data_config: ImageDataConfig | None = None,
          train_config: TrainConfig | None = None, *, out: str | Path | None = None, resume: bool = False,
          overrides: dict[str, Any] | None = None) -> TrainResult:
    """Train a VAE; returns the run's :class:`TrainResult` (``result.run_dir`` holds everything).

    With ``resume=True`` the run in ``out`` continues from its newest checkpoint with its saved configs;
    ``overrides`` (field -> value, as typed on the CLI) may change the training ones (``max_steps``, ``epochs``...).
    The run is laid out like every latent model's (see :func:`genlab.latent.training.train_latent_model`).
    """
    from ..latent.training import train_latent_model

    return train_latent_model(family=FAMILY, config_class=VAEConfig, build=build_vae, trainer_class=VAETrainer,
                              default_train=DEFAULT_TRAIN, model_config=model_config, data_config=data_config,
                              train_config=train_config, out=out, resume=resume, overrides=overrides,
                              evaluate_fn=evaluate_model)


class VAETrainer(Trainer):
    """The engine plus KL warm-up: the KL weight ramps from 0 to beta over ``kl_warmup_steps``.

    Warm-up (Bowman et al. 2016; Sønderby et al. 2016) lets the decoder learn to use z before the KL term pushes
    q(z|x) onto the prior, which keeps more latent units active. The weight is a function of the step, so a resumed
    run continues the same ramp.
    """

    def forward_loss(self, batch):
        out = super().forward_loss(batch)
        cfg = self.model.config
        if cfg.kl_warmup_steps > 0:
            weight = cfg.beta * min(1.0, (self.step + 1) / cfg.kl_warmup_steps)
            out["loss"] = out["recon"] + weight * out["kl"]
            out["kl_weight"] = torch.tensor(weight)
        return out


def evaluation_images(model: VAE, dataset, *, seed: int = 0) -> torch.Tensor:
    """The evaluation images as floats in [0, 1]; binarised with ``seed`` if the model was trained on binary data."""
    from ..metrics import binarize_images

    images = dataset.images
    return binarize_images(images, seed=seed) if model.config.binarize else images.float() / 255.0


@torch.no_grad()
def evaluate_model(model: VAE, dataset, *, batch_size: int = 1000, seed: int = 0) -> dict[str, float]:
    """Test-set negative ELBO per image in nats, with its two terms (one z sample per image, seeded).

    A model trained with ``binarize`` is scored on one seeded binarisation of the test set (see ``evaluation_images``).
    """
    was_training = model.training
    model.eval()
    totals = {"nelbo": 0.0, "recon": 0.0, "kl": 0.0}
    n = 0
    images = evaluation_images(model, dataset, seed=seed)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for start in range(0, len(images), batch_size):
            x = images[start:start + batch_size].to(model.device)
            out = model(x)
            for k in totals:
                totals[k] += float(out[k]) * x.shape[0]
            n += x.shape[0]
    model.train(was_training)
    return {k: v / n for k, v in totals.items()} | {"num_images": n}


def _load_vae(run: str | Path, device: str = "cpu") -> VAE:
    model = load(run, device=resolve_device(device), family=FAMILY)
    assert isinstance(model, VAE)
    return model


def sample(run: str | Path, *, n: int = 64, out: str | Path | None = None, seed: int = 0, nrow: int | None = None,
           device: str = "cpu") -> Path:
    """Write a grid of ``n`` decoded prior samples; returns the PNG's path."""
    model = _load_vae(run, device)
    out = Path(out) if out else Path(run) / "samples" / f"sample_seed{seed}.png"
    return save_image_grid(model.sample(n, seed=seed), out, nrow=nrow)


def manifold(run: str | Path, *, grid_size: int = 20, out: str | Path | None = None, device: str = "cpu") -> Path:
    """The seeds' figure: decode a grid over the 2-D latent plane at standard-normal quantiles 0.05..0.95."""
    model = _load_vae(run, device)
    if model.config.latent_dim != 2:
        raise ConfigError(f"--manifold needs a 2-D latent, this model has {model.config.latent_dim}; train one with "
                          f"--latent-dim 2 (or plot samples without --manifold)")
    if grid_size < 2:
        raise ConfigError(f"--grid-size must be >= 2 (got {grid_size})")
    q = torch.distributions.Normal(0.0, 1.0).icdf(torch.linspace(0.05, 0.95, grid_size))
    # Rows go from high z2 (top) to low z2, columns from low z1 to high z1, as in the Keras example's figure.
    z = torch.stack(torch.meshgrid(q.flip(0), q, indexing="ij")[::-1], dim=-1).reshape(-1, 2)
    with torch.no_grad():
        images = torch.sigmoid(model.decode(z.to(model.device)))
    out = Path(out) if out else Path(run) / "samples" / f"manifold_{grid_size}x{grid_size}.png"
    return save_image_grid(images, out, nrow=grid_size, padding=0)


def evaluate(run: str | Path, *, data_config: ImageDataConfig | None = None, batch_size: int = 1000, seed: int = 0,
             out: str | Path | None = None, device: str = "cpu", fid_samples: int = 0, iwae_k: int = 0,
             iwae_images: int | None = None) -> dict[str, Any]:
    """Test −ELBO (nats/image) with its terms; written to ``RUN/eval.json`` (or ``out``) and returned.

    With ``iwae_k`` > 0, also the importance-weighted estimate of -log p(x) with that many samples per image
    (Burda et al. 2016; k = 5000 is the usual reporting setting) on the first ``iwae_images`` test images (all by
    default) — the honest likelihood number, which the ELBO only bounds.
    With ``fid_samples`` > 0, also FID and KID between that many prior samples and the test images, on features of
    genlab's domain classifier for the dataset (trained once and cached; its test accuracy is reported alongside).
    """
    run = Path(run)
    if fid_samples < 0:
        raise ConfigError(f"--fid-samples must be >= 0 (got {fid_samples})")
    if iwae_k < 0:
        raise ConfigError(f"--iwae-k must be >= 0 (got {iwae_k})")
    if iwae_images is not None and iwae_images < 1:
        raise ConfigError(f"--iwae-images must be >= 1 (got {iwae_images})")
    model = _load_vae(run, device)
    data_config = data_config or saved_data_config(run) or ImageDataConfig()
    test = load_image_dataset(data_config, "test")
    if test.image_shape != model.image_shape:
        raise ConfigError(f"{data_config.dataset} images are {test.image_shape}, the model takes {model.image_shape}")
    metrics = evaluate_model(model, test, batch_size=batch_size, seed=seed)
    result = {"dataset": data_config.dataset, "split": "test", "model_type": model.model_type,
              "seed": seed, **metrics, "units": "nats per image",
              "binarized": bool(model.config.binarize)}
    if iwae_k:
        from ..metrics import iwae_log_likelihood

        images = evaluation_images(model, test, seed=seed)[:iwae_images]
        result["iwae"] = iwae_log_likelihood(model, images, k=iwae_k, seed=seed)
    if fid_samples:
        from ..metrics import sample_fid_kid

        result["generation"] = sample_fid_kid(model, test, data_config, n=fid_samples, seed=seed, device=device)
    write_json_atomic(Path(out) if out else run / "eval.json", result)
    return result

