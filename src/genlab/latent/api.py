"""Train, sample and evaluate the latent models: one runner for the VAE, the autoencoder and the adversarial
autoencoder, and the functions ``genlab.vae`` / ``genlab.ae`` / ``genlab.aae`` offer.

    >>> from genlab import vae
    >>> result = vae.train(vae.VAEConfig(latent_dim=2), train_config=vae.default_train_config(epochs=5),
    ...                    out="runs/vae/z2")
    >>> vae.sample(result.run_dir, n=64, seed=0)         # runs/vae/z2/samples/sample_seed0.png
    >>> vae.evaluate(result.run_dir, iwae_k=5000)         # -ELBO, IWAE -log p(x): runs/vae/z2/eval.json

``model_or_run`` is a run folder (or saved-model folder) or a loaded model; ``out`` is the file written (a folder
gets the default file name). Every family has the same signatures: ``train(model_config, data_config, train_config,
*, out, resume, overrides)``, ``sample(model_or_run, n, *, seed, out, device)``, ``evaluate(model_or_run, *,
data_config, out, device, fid_samples, ...)``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader

from ..core.config import check_int, from_dict, to_dict
from ..core.device import seed_everything
from ..core.engine import TrainConfig, Trainer, TrainResult
from ..core.errors import ConfigError
from ..core.io import write_json_atomic
from ..core.model import GenlabModel
from ..core.runs import resumed_configs
from ..data.datasets import ImageDataConfig, load_image_dataset, saved_data_config
from ..viz import save_image_grid
from .config import AAEConfig, AEConfig, VAEConfig
from .inputs import load_model
from .models import VAE, build_aae, build_autoencoder, build_vae
from .trainers import AAETrainer, AETrainer, VAETrainer

# Engine defaults of each family (measured in benchmarks/vae_mnist.py and benchmarks/latent_mnist.py). beta1 = 0.5
# for the AAE, as usual for adversarial training (Radford et al. 2016); it also serves its reconstruction phase.
_COMMON_TRAIN = dict(batch_size=128, lr=1e-3, lr_schedule="cosine", min_lr_ratio=0.05, warmup_steps=200,
                     sample_every=1000, checkpoint_every=2000, log_every=100)
VAE_TRAIN = dict(epochs=20, **_COMMON_TRAIN)
AE_TRAIN = dict(epochs=10, **_COMMON_TRAIN)
AAE_TRAIN = dict(epochs=10, **_COMMON_TRAIN, adam_beta1=0.5)


# ---- what the runner is told about each model ----------------------------------------------------------------------

def evaluation_images(model: VAE, dataset, *, seed: int = 0) -> torch.Tensor:
    """The evaluation images as floats in [0, 1]; binarised with ``seed`` if the model was trained on binary data."""
    from ..metrics import binarize_images

    images = dataset.images
    return binarize_images(images, seed=seed) if model.config.binarize else images.float() / 255.0


@torch.no_grad()
def elbo_metrics(model: VAE, dataset, *, batch_size: int = 1000, seed: int = 0) -> dict[str, float]:
    """Test-set negative ELBO per image in nats, with its two terms (one z sample per image, seeded).

    A model trained with ``binarize`` is scored on one seeded binarisation of the test set (:func:`evaluation_images`).
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


@torch.no_grad()
def reconstruction_metrics(model, dataset, *, batch_size: int = 1000, seed: int = 0) -> dict[str, float]:
    """Test reconstruction error through the deterministic code: ``bce`` (nats/image), ``mse`` (per pixel), and the
    code statistics ``code_mean_abs`` (mean |per-dim mean|) and ``code_std`` (mean per-dim std) of the test set.
    (``seed`` is unused: nothing here is random.)"""
    was_training = model.training
    model.eval()
    totals = {"bce": 0.0, "mse": 0.0}
    codes = []
    loader = DataLoader(dataset, batch_size=batch_size, shuffle=False, collate_fn=getattr(dataset, "collate_fn", None))
    for x, _ in loader:
        x = x.to(model.device)
        z = model.encode(x)
        terms = model.reconstruction_terms(x, model.decode(z))
        for k in totals:
            totals[k] += float(terms[k]) * x.shape[0]
        codes.append(z.double().cpu())
    model.train(was_training)
    z = torch.cat(codes)
    n = len(z)
    std = z.std(0).mean() if n > 1 else torch.tensor(0.0)
    return {k: v / n for k, v in totals.items()} | {"code_mean_abs": float(z.mean(0).abs().mean()),
                                                    "code_std": float(std), "num_images": n}


@dataclass(frozen=True)
class LatentFamily:
    """One latent family for the runner: its config, builder, trainer, engine defaults and test metrics."""

    name: str
    config_class: type
    build: Callable[[Any], GenlabModel]
    trainer_class: type[Trainer]
    default_train: dict[str, Any]
    metrics: Callable[..., dict[str, float]]
    units: Any


FAMILIES = {
    "vae": LatentFamily("vae", VAEConfig, build_vae, VAETrainer, VAE_TRAIN, elbo_metrics, "nats per image"),
    "ae": LatentFamily("ae", AEConfig, build_autoencoder, AETrainer, AE_TRAIN, reconstruction_metrics,
                       {"bce": "nats per image", "mse": "per pixel, images in [0, 1]"}),
    "aae": LatentFamily("aae", AAEConfig, build_aae, AAETrainer, AAE_TRAIN, reconstruction_metrics,
                        {"bce": "nats per image", "mse": "per pixel, images in [0, 1]"}),
}


# ---- the runner ----------------------------------------------------------------------------------------------------

def default_run_dir(family: str, model_config: Any, data_config: ImageDataConfig) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return Path("runs") / family / f"{data_config.name}-{model_config.arch}-z{model_config.latent_dim}-{stamp}"


def train_latent(family: str, model_config: Any = None, data_config: ImageDataConfig | None = None,
                 train_config: TrainConfig | None = None, *, out: str | Path | None = None, resume: bool = False,
                 overrides: dict[str, Any] | None = None) -> TrainResult:
    """Build the family's model for the data's image shape, run its trainer, return the :class:`TrainResult`.

    The trainer gets an eval hook (the family's test metrics) and a sample hook (64 decoded latent draws, fixed seed).
    With ``resume=True`` the run in ``out`` continues from its newest checkpoint with its saved configs;
    ``overrides`` (field -> value, as typed on the CLI) may change the training ones (``max_steps``, ``epochs``...).
    """
    spec = FAMILIES[family]
    if resume:
        model_config, data_config, train_config = resumed_configs(
            out, family=family, data_class=ImageDataConfig, overrides=dict(overrides or {}),
            model_config=model_config, data_config=data_config, train_config=train_config)
    else:
        model_config = model_config or spec.config_class()
        data_config = data_config or ImageDataConfig()
        train_config = train_config or TrainConfig(**spec.default_train)
    if not isinstance(model_config, spec.config_class):
        raise ConfigError(f"{family}.train needs a {spec.config_class.__name__}, got {type(model_config).__name__}")
    train_data = load_image_dataset(data_config, "train")
    test_data = load_image_dataset(data_config, "test")
    c, h, w = train_data.image_shape
    if (model_config.image_channels, model_config.image_size) != (c, h):
        if resume:
            raise ConfigError(f"the data is now {c}x{h}x{w} but the run was trained on "
                              f"{model_config.image_channels}x{model_config.image_size}x{model_config.image_size}")
        model_config = from_dict(spec.config_class, {**to_dict(model_config), "image_channels": c, "image_size": h})
    run_dir = Path(out) if out is not None else default_run_dir(family, model_config, data_config)

    seed_everything(train_config.seed)  # weight init is part of "same seed, same run"
    model = spec.build(model_config)
    run_config = {"family": family, "model_type": model.model_type, "model": to_dict(model_config),
                  "data": to_dict(data_config)}
    seed = train_config.seed

    def eval_fn(m) -> dict[str, float]:
        return spec.metrics(m, test_data)

    def sample_fn(m, path: Path) -> None:
        m.fit_to_data(train_data)  # the autoencoder samples from a Gaussian fitted to its current codes
        save_image_grid(m.sample(64, seed=seed), path.with_suffix(".png"), nrow=8)

    trainer = spec.trainer_class(model, train_data, train_config, run_dir, run_config=run_config, eval_fn=eval_fn,
                                 sample_fn=sample_fn)
    return trainer.fit(resume=resume)


def _model_and_run(model_or_run: Any, family: str, device: str) -> tuple[GenlabModel, Path | None]:
    if isinstance(model_or_run, torch.nn.Module):
        if getattr(model_or_run, "family", None) != family:
            raise ConfigError(f"this is a {getattr(model_or_run, 'family', type(model_or_run).__name__)} model, "
                              f"not a {family} model; use genlab.{getattr(model_or_run, 'family', family)}")
        return model_or_run, None
    return load_model(model_or_run, family=family, device=device), Path(model_or_run)


def _file(out: str | Path | None, run_dir: Path | None, default: Path) -> Path | None:
    """``out`` as a file; a folder (an existing one, or a name without a suffix) gets ``default``'s file name.
    Without ``out``: ``default`` under the run folder (None for a model object)."""
    if out is not None:
        return as_file(out, default.name)
    return None if run_dir is None else run_dir / default


def as_file(out: str | Path, name: str) -> Path:
    """``out`` if it names a file (``x.png``), else ``out / name`` (an existing folder or a name without a suffix)."""
    out = Path(out)
    return out / name if out.is_dir() or not out.suffix else out


def sample_latent(family: str, model_or_run: Any, n: int = 64, *, seed: int = 0, out: str | Path | None = None,
                  device: str = "auto", nrow: int | None = None) -> Path:
    """Write a grid of ``n`` decoded latent draws (``model.sample``); returns the PNG's path."""
    check_int("n", n, 1)
    model, run_dir = _model_and_run(model_or_run, family, device)
    path = _file(out, run_dir, Path("samples") / f"sample_seed{seed}.png")
    if path is None:
        raise ConfigError("pass out=PATH.png when giving a model object rather than a run folder")
    return save_image_grid(model.sample(n, seed=seed), path, nrow=nrow)


def evaluate_latent(family: str, model_or_run: Any, *, data_config: ImageDataConfig | None = None,
                    out: str | Path | None = None, device: str = "auto", fid_samples: int = 0,
                    batch_size: int = 1000, seed: int = 0, progress: bool = True, iwae_k: int = 0,
                    iwae_images: int | None = None) -> dict[str, Any]:
    """The family's test metrics (``RUN/eval.json``, or ``out``; a model object writes only to ``out``), optionally
    the VAE's IWAE estimate (``iwae_k``) and FID/KID of ``fid_samples`` samples."""
    check_int("fid_samples", fid_samples, 0)
    check_int("batch_size", batch_size, 1)
    check_int("iwae_k", iwae_k, 0)
    check_int("iwae_images", iwae_images, 1, allow_none=True)
    if family != "vae" and (iwae_k or iwae_images is not None):
        raise ConfigError("the IWAE estimate is for VAEs (an autoencoder has no likelihood)")
    spec = FAMILIES[family]
    model, run_dir = _model_and_run(model_or_run, family, device)
    if data_config is None:
        data_config = saved_data_config(run_dir) if run_dir is not None else None
        if data_config is None and run_dir is None:
            raise ConfigError("pass data_config= when giving a model object rather than a run folder")
        data_config = data_config or ImageDataConfig()
    test = load_image_dataset(data_config, "test")
    if test.image_shape != model.image_shape:
        raise ConfigError(f"{data_config.dataset} images are {test.image_shape}, the model takes {model.image_shape}")
    result: dict[str, Any] = {"dataset": data_config.dataset, "split": "test", "model_type": model.model_type,
                              "seed": seed, **spec.metrics(model, test, batch_size=batch_size, seed=seed),
                              "units": spec.units}
    if family == "vae":
        result["binarized"] = bool(model.config.binarize)
    if iwae_k:
        from ..metrics import iwae_log_likelihood

        images = evaluation_images(model, test, seed=seed)[:iwae_images]
        result["iwae"] = iwae_log_likelihood(model, images, k=iwae_k, seed=seed, progress=progress)
    if fid_samples:
        from ..metrics import sample_fid_kid

        result["generation"] = sample_fid_kid(model, test, data_config, n=fid_samples, seed=seed, device=device,
                                              progress=progress)
    path = _file(out, run_dir, Path("eval.json"))
    if path is not None:
        write_json_atomic(path, result)
    return result


# ---- the functions of genlab.vae / genlab.ae / genlab.aae ---------------------------------------------------------

def train_vae(model_config: VAEConfig | None = None, data_config: ImageDataConfig | None = None,
              train_config: TrainConfig | None = None, *, out: str | Path | None = None, resume: bool = False,
              overrides: dict[str, Any] | None = None) -> TrainResult:
    """Train a VAE; returns the run's :class:`TrainResult` (``result.run_dir`` holds everything)."""
    return train_latent("vae", model_config, data_config, train_config, out=out, resume=resume, overrides=overrides)


def train_ae(model_config: AEConfig | None = None, data_config: ImageDataConfig | None = None,
             train_config: TrainConfig | None = None, *, out: str | Path | None = None, resume: bool = False,
             overrides: dict[str, Any] | None = None) -> TrainResult:
    """Train a plain autoencoder; returns the run's :class:`TrainResult`."""
    return train_latent("ae", model_config, data_config, train_config, out=out, resume=resume, overrides=overrides)


def train_aae(model_config: AAEConfig | None = None, data_config: ImageDataConfig | None = None,
              train_config: TrainConfig | None = None, *, out: str | Path | None = None, resume: bool = False,
              overrides: dict[str, Any] | None = None) -> TrainResult:
    """Train an adversarial autoencoder; returns the run's :class:`TrainResult`."""
    return train_latent("aae", model_config, data_config, train_config, out=out, resume=resume, overrides=overrides)


def sample_vae(model_or_run: Any, n: int = 64, *, seed: int = 0, out: str | Path | None = None,
               device: str = "auto", nrow: int | None = None) -> Path:
    """Decode ``n`` draws from the prior N(0, I); returns the PNG's path (default ``RUN/samples/sample_seedS.png``)."""
    return sample_latent("vae", model_or_run, n, seed=seed, out=out, device=device, nrow=nrow)


def sample_ae(model_or_run: Any, n: int = 64, *, seed: int = 0, out: str | Path | None = None,
              device: str = "auto", nrow: int | None = None) -> Path:
    """Decode ``n`` draws from N(mean, cov) of the training codes (an AE has no prior); returns the PNG's path."""
    return sample_latent("ae", model_or_run, n, seed=seed, out=out, device=device, nrow=nrow)


def sample_aae(model_or_run: Any, n: int = 64, *, seed: int = 0, out: str | Path | None = None,
               device: str = "auto", nrow: int | None = None) -> Path:
    """Decode ``n`` draws from the prior the codes were matched to; returns the PNG's path."""
    return sample_latent("aae", model_or_run, n, seed=seed, out=out, device=device, nrow=nrow)


def evaluate_vae(model_or_run: Any, *, data_config: ImageDataConfig | None = None, out: str | Path | None = None,
                 device: str = "auto", fid_samples: int = 0, batch_size: int = 1000, seed: int = 0,
                 iwae_k: int = 0, iwae_images: int | None = None, progress: bool = True) -> dict[str, Any]:
    """Test -ELBO (nats/image) with its terms, written to ``RUN/eval.json`` (or ``out``) and returned.

    With ``iwae_k`` > 0, also the importance-weighted estimate of -log p(x) with that many samples per image
    (Burda et al. 2016; k = 5000 is the usual reporting setting) on the first ``iwae_images`` test images (all by
    default): the honest likelihood number, which the ELBO only bounds. With ``fid_samples`` > 0, also FID and KID
    of that many prior samples against the test images, on genlab's domain classifier for the dataset.
    """
    return evaluate_latent("vae", model_or_run, data_config=data_config, out=out, device=device,
                           fid_samples=fid_samples, batch_size=batch_size, seed=seed, progress=progress,
                           iwae_k=iwae_k, iwae_images=iwae_images)


def evaluate_ae(model_or_run: Any, *, data_config: ImageDataConfig | None = None, out: str | Path | None = None,
                device: str = "auto", fid_samples: int = 0, batch_size: int = 1000, seed: int = 0,
                progress: bool = True) -> dict[str, Any]:
    """Test reconstruction error (BCE nats/image, MSE per pixel) and code statistics; with ``fid_samples`` > 0 also
    FID/KID of that many samples. Written to ``RUN/eval.json`` (or ``out``) and returned."""
    return evaluate_latent("ae", model_or_run, data_config=data_config, out=out, device=device,
                           fid_samples=fid_samples, batch_size=batch_size, seed=seed, progress=progress)


def evaluate_aae(model_or_run: Any, *, data_config: ImageDataConfig | None = None, out: str | Path | None = None,
                 device: str = "auto", fid_samples: int = 0, batch_size: int = 1000, seed: int = 0,
                 progress: bool = True) -> dict[str, Any]:
    """Test reconstruction error and how close the codes are to the prior (code mean / std); with ``fid_samples``
    > 0 also FID/KID of that many samples. Written to ``RUN/eval.json`` (or ``out``) and returned."""
    return evaluate_latent("aae", model_or_run, data_config=data_config, out=out, device=device,
                           fid_samples=fid_samples, batch_size=batch_size, seed=seed, progress=progress)


def default_train_config(family: str = "vae", **overrides: Any) -> TrainConfig:
    """The family's engine defaults (``VAE_TRAIN`` ...) with ``overrides``."""
    return TrainConfig(**{**FAMILIES[family].default_train, **overrides})
