"""Train / sample / evaluate for the deterministic latent models (``genlab ae``, ``genlab aae``): one runner, two
families. Each family supplies its config class, model builder, trainer class and engine defaults."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch
from torch.utils.data import DataLoader

from ..core.config import from_dict, to_dict
from ..core.device import resolve_device, seed_everything
from ..core.engine import TrainConfig, Trainer, TrainResult
from ..core.errors import ConfigError
from ..core.io import write_json_atomic
from ..core.model import GenlabModel, load
from ..core.runs import resumed_configs
from ..data.datasets import ImageDataConfig, load_image_dataset, saved_data_config
from ..viz import save_image_grid


def default_run_dir(family: str, model_config: Any, data_config: ImageDataConfig) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return Path("runs") / family / f"{data_config.name}-{model_config.arch}-z{model_config.latent_dim}-{stamp}"


def train_latent_model(*, family: str, config_class: type, build: Callable[[Any], GenlabModel],
                       trainer_class: type[Trainer], default_train: dict[str, Any], model_config: Any = None,
                       data_config: ImageDataConfig | None = None, train_config: TrainConfig | None = None,
                       out: str | Path | None = None, resume: bool = False,
                       overrides: dict[str, Any] | None = None,
                       evaluate_fn: Callable[..., dict[str, float]] | None = None) -> TrainResult:
    """Build the model for the data's image shape, run ``trainer_class`` on it, return the :class:`TrainResult`.

    The trainer gets an eval hook (``evaluate_fn(model, test_set)``, default :func:`evaluate_model`: test
    reconstruction error and code statistics) and a sample hook (64 decoded latent draws, fixed seed). ``resume``
    continues the run in ``out`` (see the VAE's train). Nothing here is specific to deterministic codes: the VAE's
    train() could run on it too, with its own ``evaluate_fn``.
    """
    overrides = dict(overrides or {})
    if resume:
        model_config, data_config, train_config = resumed_configs(
            out, family=family, data_class=ImageDataConfig, overrides=overrides, model_config=model_config,
            data_config=data_config, train_config=train_config)
    else:
        model_config = model_config or config_class()
        data_config = data_config or ImageDataConfig()
        train_config = train_config or TrainConfig(**default_train)
    train_data = load_image_dataset(data_config, "train")
    test_data = load_image_dataset(data_config, "test")
    c, h, w = train_data.image_shape
    if (model_config.image_channels, model_config.image_size) != (c, h):
        if resume:
            raise ConfigError(f"the data is now {c}x{h}x{w} but the run was trained on "
                              f"{model_config.image_channels}x{model_config.image_size}x{model_config.image_size}")
        model_config = from_dict(config_class, {**to_dict(model_config), "image_channels": c, "image_size": h})
    run_dir = Path(out) if out is not None else default_run_dir(family, model_config, data_config)

    seed_everything(train_config.seed)  # weight init is part of "same seed, same run"
    model = build(model_config)
    run_config = {"family": family, "model_type": model.model_type, "model": to_dict(model_config),
                  "data": to_dict(data_config)}
    seed = train_config.seed

    def eval_fn(m) -> dict[str, float]:
        return (evaluate_fn or evaluate_model)(m, test_data)

    def sample_fn(m, path: Path) -> None:
        if hasattr(m, "fit_code_distribution"):  # the AE samples from a Gaussian fitted to its current codes
            m.fit_code_distribution(train_data)
        save_image_grid(m.sample(64, seed=seed), path.with_suffix(".png"), nrow=8)

    trainer = trainer_class(model, train_data, train_config, run_dir, run_config=run_config, eval_fn=eval_fn,
                            sample_fn=sample_fn)
    return trainer.fit(resume=resume)


@torch.no_grad()
def evaluate_model(model, dataset, *, batch_size: int = 1000) -> dict[str, float]:
    """Test reconstruction error through the deterministic code: ``bce`` (nats/image), ``mse`` (per pixel), and the
    code statistics ``code_mean_abs`` (mean |per-dim mean|) and ``code_std`` (mean per-dim std) of the test set."""
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


def load_family_model(run: str | Path, family: str, device: str = "cpu") -> GenlabModel:
    return load(run, device=resolve_device(device), family=family)


def sample(run: str | Path, *, family: str, n: int = 64, out: str | Path | None = None, seed: int = 0,
           nrow: int | None = None, device: str = "cpu") -> Path:
    """Write a grid of ``n`` decoded latent draws (``model.sample``); returns the PNG's path."""
    model = load_family_model(run, family, device)
    out = Path(out) if out else Path(run) / "samples" / f"sample_seed{seed}.png"
    return save_image_grid(model.sample(n, seed=seed), out, nrow=nrow)


def evaluate(run: str | Path, *, family: str, data_config: ImageDataConfig | None = None, batch_size: int = 1000,
             seed: int = 0, out: str | Path | None = None, device: str = "cpu", fid_samples: int = 0) -> dict[str, Any]:
    """Test reconstruction error (see :func:`evaluate_model`), written to ``RUN/eval.json`` (or ``out``) and returned;
    with ``fid_samples`` > 0 also FID/KID of that many samples vs the test set."""
    if fid_samples < 0:
        raise ConfigError(f"--fid-samples must be >= 0 (got {fid_samples})")
    run = Path(run)
    model = load_family_model(run, family, device)
    data_config = data_config or saved_data_config(run) or ImageDataConfig()
    test = load_image_dataset(data_config, "test")
    if test.image_shape != model.image_shape:
        raise ConfigError(f"{data_config.dataset} images are {test.image_shape}, the model takes {model.image_shape}")
    result = {"dataset": data_config.dataset, "split": "test", "model_type": model.model_type, "seed": seed,
              **evaluate_model(model, test, batch_size=batch_size),
              "units": {"bce": "nats per image", "mse": "per pixel, images in [0, 1]"}}
    if fid_samples:
        from ..metrics import sample_fid_kid

        result["generation"] = sample_fid_kid(model, test, data_config, n=fid_samples, seed=seed, device=device)
    write_json_atomic(Path(out) if out else run / "eval.json", result)
    return result
