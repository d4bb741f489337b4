"""Train, sample and evaluate GANs: the functions behind ``genlab gan ...``.

    >>> from genlab import gan
    >>> result = gan.train(gan.GANConfig(loss="hinge"), ImageDataConfig("fashion-mnist"), out="runs/gan/fashion")
    >>> gan.evaluate("runs/gan/fashion")        # FID and KID (with its std) on genlab's domain classifier
    >>> gan.sample("runs/gan/fashion", n=64)    # a PNG grid from the EMA generator
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..core.config import from_dict, to_dict
from ..core.device import resolve_device, seed_everything
from ..core.engine import RUN_CONFIG, TrainConfig, TrainResult
from ..core.errors import CheckpointError, ConfigError, DataError
from ..core.io import read_json, write_json_atomic
from ..core.model import load
from ..core.runs import resumed_configs
from ..data.datasets import ImageDataConfig, load_image_dataset, saved_data_config
from ..viz import save_image_grid
from .figures import make_figures
from .models import GAN, GANConfig
from .monitor import feature_diversity, mode_collapse_warning
from .trainer import GANTrainer, GANTrainOptions, to_data_size

FAMILY = "gan"

# genlab's default recipe, tuned at equal wall-clock on 2 CPU cores (benchmarks/gan_fashion.py): width 32 (G and D),
# hinge loss, spectral-norm D, EMA generator, Adam 5e-4 with betas (0, 0.99).
DEFAULT_TRAIN = dict(epochs=20, batch_size=64, lr=5e-4, adam_beta1=0.0, adam_beta2=0.99, sample_every=500,
                     checkpoint_every=1000, log_every=100, eval_every=2000)
# Each paper's optimiser settings where they differ (applied unless given): WGAN's RMSprop 5e-5 (Arjovsky et al.
# 2017), WGAN-GP's Adam 1e-4, betas (0, 0.9) (Gulrajani et al. 2017).
LOSS_TRAIN_DEFAULTS: dict[str, dict[str, Any]] = {
    "wgan": dict(lr=5e-5),
    "wgan-gp": dict(lr=1e-4, adam_beta1=0.0, adam_beta2=0.9),
}


def default_train_config(loss: str = "hinge", **overrides: Any) -> TrainConfig:
    return TrainConfig(**{**DEFAULT_TRAIN, **LOSS_TRAIN_DEFAULTS.get(loss, {}), **overrides})


def default_run_dir(model_config: GANConfig, data_config: ImageDataConfig) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    return Path("runs") / FAMILY / f"{data_config.name}-{model_config.loss}-{model_config.size}px-{stamp}"


@dataclass
class FIDReference:
    """Domain-classifier features of the real test images, computed once per run."""

    classifier: Any
    accuracy: float
    features: torch.Tensor
    diversity: float
    data_side: int


def fid_reference(data_config: ImageDataConfig, test_images: torch.Tensor, *, device: str = "cpu",
                  progress: bool = False) -> FIDReference:
    """The cached domain classifier for ``data_config`` (trained once) and the real test set's features."""
    from ..metrics import compute_features, get_domain_classifier

    classifier, accuracy = get_domain_classifier(data_config, device=device, progress=progress)
    features = compute_features(classifier, test_images)
    return FIDReference(classifier, accuracy, features, feature_diversity(features[:500]), test_images.shape[-1])


def generation_scores(model: GAN, ref: FIDReference, *, n: int, seed: int, ema: bool = True,
                      kid_subsets: int = 100) -> dict[str, float]:
    """FID, KID (mean, std) and the diversity ratio of ``n`` samples vs the real test features."""
    from ..metrics import compute_features, fid, kid

    fake = to_data_size(model.sample(n, seed=seed, ema=ema), ref.data_side)
    feats = compute_features(ref.classifier, fake.to(ref.classifier.device))
    kid_mean, kid_std = kid(ref.features, feats, num_subsets=kid_subsets,
                            subset_size=min(1000, n, ref.features.shape[0]),
                            generator=torch.Generator().manual_seed(seed))
    return {"fid": fid(ref.features, feats), "kid_mean": kid_mean, "kid_std": kid_std,
            "diversity_ratio": feature_diversity(feats[:500]) / max(ref.diversity, 1e-12),
            "n_fake": n, "n_real": int(ref.features.shape[0])}


def _say(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def _fit_data(model_config: GANConfig, data_config: ImageDataConfig, train_data, *, resume: bool) -> GANConfig:
    c, h, w = train_data.image_shape
    if h != w:
        raise DataError(f"{data_config.dataset} images are {h}x{w}; GANs here take square images")
    fields: dict[str, Any] = {"image_channels": c}
    if model_config.conditional:
        if train_data.num_classes is None or train_data.num_classes < 2 or train_data.labels is None:
            raise DataError(f"--conditional needs class labels; {data_config.dataset} has none (put the images in "
                            f"one sub-folder per class)")
        fields["num_classes"] = int(train_data.num_classes)
    fitted = from_dict(GANConfig, {**to_dict(model_config), **fields})
    if resume and to_dict(fitted) != to_dict(model_config):
        raise ConfigError(f"the data is now {c}x{h}x{w} but the run was trained on {model_config.image_channels} "
                          f"channel(s)")
    return fitted


def train(model_config: GANConfig | None = None, data_config: ImageDataConfig | None = None,
          train_config: TrainConfig | None = None, options: GANTrainOptions | None = None, *,
          out: str | Path | None = None, resume: bool = False, overrides: dict[str, Any] | None = None,
          figures: bool = True, trainer_class: type[GANTrainer] = GANTrainer) -> TrainResult:
    """Train a GAN; returns the engine's :class:`TrainResult` (``result.run_dir`` holds everything).

    FID/KID against the test images run every ``train_config.eval_every`` steps and at the end (``options.fid_samples``
    EMA samples, genlab's domain classifier). With ``resume=True`` the run in ``out`` continues from its newest
    checkpoint with its saved configs; ``overrides`` (field -> value, as typed on the CLI) may change training ones.
    ``trainer_class`` may be a :class:`GANTrainer` subclass (the benchmark's adds a wall-clock stop).
    """
    overrides = dict(overrides or {})
    if resume:
        model_config, data_config, train_config = resumed_configs(
            out, family=FAMILY, data_class=ImageDataConfig, overrides=overrides, model_config=model_config,
            data_config=data_config, train_config=train_config)
        saved = read_json(Path(out) / RUN_CONFIG, what="run config").get("gan", {})  # type: ignore[arg-type]
        fields = {f for f in GANTrainOptions.__dataclass_fields__}
        try:
            options = options or from_dict(GANTrainOptions, {**saved, **{k: v for k, v in overrides.items()
                                                                        if k in fields}})
        except ConfigError as e:
            raise CheckpointError(f"{Path(out) / RUN_CONFIG}: GAN options unreadable ({e})") from None
    else:
        model_config = model_config or GANConfig()
        data_config = data_config or ImageDataConfig()
        train_config = train_config or default_train_config(model_config.loss)
        options = options or GANTrainOptions()
    if not data_config.is_builtin and data_config.image_size is None:
        data_config = from_dict(ImageDataConfig, {**to_dict(data_config), "image_size": model_config.size})
    train_data = load_image_dataset(data_config, "train")
    test_data = load_image_dataset(data_config, "test")
    model_config = _fit_data(model_config, data_config, train_data, resume=resume)
    options = options.resolved(model_config)
    run_dir = Path(out) if out is not None else default_run_dir(model_config, data_config)

    ref = None
    if options.fid_samples:
        try:
            ref = fid_reference(data_config, test_data.images, device=train_config.device,
                                progress=train_config.progress)
            _say(f"FID/KID every {train_config.eval_every or 'end'} steps on {options.fid_samples} EMA samples vs "
                 f"{len(test_data)} test images (genlab domain classifier, test accuracy {ref.accuracy:.2%})")
        except DataError as e:
            _say(f"note: FID/KID skipped: {e}")

    seed_everything(train_config.seed)  # weight init is part of "same seed, same run"
    model = GAN(model_config)
    run_config = {"family": FAMILY, "model_type": model.model_type, "model": to_dict(model_config),
                  "data": to_dict(data_config), "gan": to_dict(options)}
    fixed_seed = train_config.seed
    warned: set[str] = set()

    def eval_fn(m: GAN) -> dict[str, float]:
        if ref is None:
            return {}
        scores = generation_scores(m, ref, n=options.fid_samples, seed=fixed_seed + 1, kid_subsets=20)
        msg = mode_collapse_warning(scores["diversity_ratio"], 1.0)
        if msg and "collapse" not in warned:
            warned.add("collapse")
            _say(f"warning: {msg}")
        return {k: v for k, v in scores.items() if k in ("fid", "kid_mean", "kid_std", "diversity_ratio")}

    def sample_fn(m: GAN, path: Path) -> None:
        save_image_grid(m.sample(64, seed=fixed_seed), path.with_suffix(".png"), nrow=8)

    trainer = trainer_class(model, train_data, train_config, run_dir, options=options, run_config=run_config,
                         eval_fn=eval_fn, sample_fn=sample_fn)
    result = trainer.fit(resume=resume)
    if figures:
        make_figures(result.run_dir, model.eval())
    return result


def _load_gan(run: str | Path, device: str = "cpu") -> GAN:
    model = load(run, device=resolve_device(device), family=FAMILY)
    if not isinstance(model, GAN):
        raise CheckpointError(f"{run} does not hold a GAN")
    return model


def sample(run: str | Path, *, n: int = 64, out: str | Path | None = None, seed: int = 0, ema: bool = True,
           nrow: int | None = None, device: str = "cpu") -> Path:
    """Write a grid of ``n`` samples (EMA generator unless ``ema=False``); returns the PNG's path."""
    model = _load_gan(run, device)
    out = Path(out) if out else Path(run) / "samples" / f"sample_seed{seed}{'_ema' if ema else ''}.png"
    return save_image_grid(model.sample(n, seed=seed, ema=ema), out, nrow=nrow)


def _torchmetrics_fid() -> type:
    try:
        from torchmetrics.image.fid import FrechetInceptionDistance
    except ImportError:
        raise ConfigError("Inception FID needs torchmetrics with torch-fidelity (pip install 'torchmetrics[image]') "
                          "and the FID Inception weights; they are not installed here") from None
    return FrechetInceptionDistance


def inception_fid(real: torch.Tensor, fake: torch.Tensor, *, device: str = "cpu") -> float:
    """FID on Inception-v3 pool features through torchmetrics (which uses torch-fidelity's FID Inception weights).

    Needs ``torchmetrics[image]`` and the weights (downloaded once by torch-fidelity); without them this raises a
    one-line :class:`ConfigError` rather than report a number from other weights.
    """
    FrechetInceptionDistance = _torchmetrics_fid()
    try:
        metric = FrechetInceptionDistance(feature=2048, normalize=True).to(resolve_device(device))
    except Exception as e:  # no network / no cached weights: torch-fidelity's download fails
        first = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise ConfigError(f"the FID Inception weights could not be loaded ({first}); Inception FID needs them "
                          f"downloaded once") from None
    for images, is_real in ((real, True), (fake, False)):
        for batch in images.split(100):
            batch = batch.float() / 255.0 if batch.dtype == torch.uint8 else batch
            metric.update(batch.expand(-1, 3, -1, -1).to(metric.device), real=is_real)  # grey -> RGB
    return float(metric.compute())


def evaluate(run: str | Path, *, n: int = 10000, data_config: ImageDataConfig | None = None, seed: int = 0,
             ema: bool = True, out: str | Path | None = None, device: str = "cpu",
             inception: bool = False) -> dict[str, Any]:
    """FID and KID (mean ± std over 100 subsets of 1000) between ``n`` samples and the test images, on genlab's
    domain classifier for the dataset; written to ``RUN/eval.json`` (or ``out``) and returned. With ``inception``,
    also Inception FID (see :func:`inception_fid`; an error where the weights are not available)."""
    run = Path(run)
    if isinstance(n, bool) or not isinstance(n, int) or n < 2:
        raise ConfigError(f"--n must be a whole number >= 2 (got {n})")
    if inception:
        _torchmetrics_fid()  # fail before the slow part when torchmetrics is missing
    model = _load_gan(run, device)
    data_config = data_config or saved_data_config(run)
    if data_config is None:
        raise ConfigError(f"{run} has no {RUN_CONFIG} saying which data it was trained on; give --dataset")
    test = load_image_dataset(data_config, "test")
    if test.image_shape[0] != model.config.image_channels:
        raise ConfigError(f"{data_config.dataset} images have {test.image_shape[0]} channel(s), the GAN makes "
                          f"{model.config.image_channels}")
    ref = fid_reference(data_config, test.images, device=device)
    scores = generation_scores(model, ref, n=n, seed=seed, ema=ema)
    if inception:
        scores["inception_fid"] = inception_fid(test.images, model.sample(n, seed=seed, ema=ema), device=device)
    result = {"dataset": data_config.dataset, "split": "test", "model_type": model.model_type,
              "generator": "ema" if ema else "trained", "seed": seed, **scores,
              "features": "genlab domain classifier (penultimate layer); not Inception features",
              "classifier_test_accuracy": ref.accuracy}
    result.setdefault("inception_fid", "not computed (pass --inception where torchmetrics and the FID Inception "
                                       "weights are available)")
    write_json_atomic(Path(out) if out else run / "eval.json", result)
    return result
