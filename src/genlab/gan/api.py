"""Train, sample and evaluate GANs: the functions behind ``genlab gan ...``.

    >>> from genlab import gan
    >>> result = gan.train(gan.GANConfig(loss="hinge"), ImageDataConfig("fashion-mnist"), out="runs/gan/fashion")
    >>> gan.evaluate("runs/gan/fashion")        # FID and KID (with its std) on genlab's domain classifier
    >>> gan.sample("runs/gan/fashion", n=64)    # a PNG grid from the EMA generator

``model_or_run`` is a run folder (or saved-model folder) or a loaded :class:`GAN`; ``out`` is the file written (a run
folder gets ``RUN/samples/...png`` / ``RUN/eval.json`` by default; a model object writes only to ``out``).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import torch

from ..core.config import check_int, from_dict, to_dict
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
from .trainer import GANTrainer, GANTrainOptions

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


def default_train_config(loss: str = "hinge", arch: str = "dcgan", **overrides: Any) -> TrainConfig:
    from .arch import ARCH_TRAIN_DEFAULTS

    recipe = ARCH_TRAIN_DEFAULTS[arch] if arch != "dcgan" else LOSS_TRAIN_DEFAULTS.get(loss, {})
    return TrainConfig(**{**DEFAULT_TRAIN, **recipe, **overrides})


def model_class_for(model_config: Any) -> type[GAN]:
    """The model class of a GAN config: GAN (DCGAN), ProGAN or StyleGAN."""
    arch = getattr(model_config, "arch", "dcgan")
    if arch == "progan":
        from .progressive import ProGAN
        return ProGAN
    if arch == "stylegan":
        from .stylegan import StyleGAN
        return StyleGAN
    return GAN


def default_run_dir(model_config: GANConfig, data_config: ImageDataConfig) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    arch = getattr(model_config, "arch", "dcgan")
    prefix = "" if arch == "dcgan" else f"{arch}-"
    return Path("runs") / FAMILY / f"{prefix}{data_config.name}-{model_config.loss}-{model_config.size}px-{stamp}"


def _is_main() -> bool:
    return os.environ.get("RANK", "0") in ("", "0")  # rank 0 under torchrun, or no torchrun


def _say(msg: str) -> None:
    if _is_main():
        print(msg, file=sys.stderr, flush=True)


def _ema_sampler(model: GAN, *, ema: bool = True, bar: Any = None,
                 **kwargs: Any) -> Callable[[int, int], torch.Tensor]:
    """``sample(count, seed)`` for :func:`genlab.metrics.generation_scores` (one call per batch), ticking ``bar``."""
    def sample(count: int, seed: int) -> torch.Tensor:
        images = model.sample(count, seed=seed, ema=ema, **kwargs)
        if bar is not None:
            bar.update(count)
        return images
    return sample


def _diversity_ratio(scores: dict[str, Any], ref: Any) -> float:
    fake = scores.pop("_fake_features")
    return feature_diversity(fake[:500]) / max(feature_diversity(ref.features[:500]), 1e-12)


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
    fitted = from_dict(type(model_config), {**to_dict(model_config), **fields})
    if resume and to_dict(fitted) != to_dict(model_config):
        raise ConfigError(f"the data is now {c}x{h}x{w} but the run was trained on {model_config.image_channels} "
                          f"channel(s)")
    return fitted


def train(model_config: GANConfig | None = None, data_config: ImageDataConfig | None = None,
          train_config: TrainConfig | None = None, options: GANTrainOptions | None = None, *,
          out: str | Path | None = None, resume: bool = False, overrides: dict[str, Any] | None = None,
          figures: bool = True, trainer_class: type[GANTrainer] | None = None) -> TrainResult:
    """Train a GAN; returns the engine's :class:`TrainResult` (``result.run_dir`` holds everything).

    FID/KID against the test images run every ``train_config.eval_every`` steps and at the end (``options.fid_samples``
    EMA samples, genlab's domain classifier). With ``resume=True`` the run in ``out`` continues from its newest
    checkpoint with its saved configs; ``overrides`` (field -> value, as typed on the CLI) may change training ones.
    ``trainer_class`` may be a :class:`GANTrainer` subclass. FID/KID are skipped with a note where they could not
    mean anything (too few test images, a classifier near chance) and warned about where they mean little.
    """
    overrides = dict(overrides or {})
    if resume:
        arch = overrides.pop("arch", None)
        if arch is not None and out is not None:  # before resumed_configs says which options it applies
            from ..core.checkpoint import resumable_checkpoint
            from ..core.model import read_model_config

            saved_arch = read_model_config(resumable_checkpoint(Path(out)))["config"].get("arch", "dcgan")
            if arch != saved_arch:
                raise ConfigError(f"cannot change --arch when resuming: {out} is a {saved_arch} run; start a new "
                                  f"run instead")
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
        train_config = train_config or default_train_config(model_config.loss, getattr(model_config, "arch",
                                                                                       "dcgan"))
        options = options or GANTrainOptions()
    if not data_config.is_builtin and data_config.image_size is None:
        data_config = from_dict(ImageDataConfig, {**to_dict(data_config), "image_size": model_config.size})
    train_data = load_image_dataset(data_config, "train")
    test_data = load_image_dataset(data_config, "test")
    model_config = _fit_data(model_config, data_config, train_data, resume=resume)
    options = options.resolved(model_config)
    run_dir = Path(out) if out is not None else default_run_dir(model_config, data_config)

    ref = None
    if options.fid_samples and _is_main():  # under torchrun only rank 0 evaluates (the engine's eval hook)
        from ..metrics import fid_reference

        try:
            ref = fid_reference(data_config, test_data.images, device=train_config.device,
                                progress=train_config.progress)
            _say(f"FID/KID every {train_config.eval_every or 'end'} steps on {options.fid_samples} EMA samples vs "
                 f"{ref.description} (genlab domain classifier, test accuracy {ref.accuracy:.2%})")
            for w in ref.warnings:
                _say(f"warning: FID/KID not meaningful: {w}")
        except DataError as e:
            _say(f"note: FID/KID skipped: {e}")

    seed_everything(train_config.seed)  # weight init is part of "same seed, same run"
    model = model_class_for(model_config)(model_config)
    if trainer_class is None:
        trainer_class = GANTrainer
        if getattr(model_config, "arch", "dcgan") == "progan":
            from .progressive_trainer import ProGANTrainer
            trainer_class = ProGANTrainer
    run_config = {"family": FAMILY, "model_type": model.model_type, "model": to_dict(model_config),
                  "data": to_dict(data_config), "gan": to_dict(options)}
    fixed_seed = train_config.seed
    warned: set[str] = set()

    def eval_fn(m: GAN) -> dict[str, float]:
        if ref is None:
            return {}
        from ..metrics import generation_scores

        scores = generation_scores(_ema_sampler(m), ref, n=options.fid_samples, seed=fixed_seed + 1, kid_subsets=20,
                                   return_features=True)
        ratio = _diversity_ratio(scores, ref)
        msg = mode_collapse_warning(ratio, 1.0)
        if msg and "collapse" not in warned:
            warned.add("collapse")
            _say(f"warning: {msg}")
        return {"fid": scores["fid"], "kid_mean": scores["kid_mean"], "kid_std": scores["kid_std"],
                "diversity_ratio": ratio}

    def sample_fn(m: GAN, path: Path) -> None:
        save_image_grid(m.sample(64, seed=fixed_seed), path.with_suffix(".png"), nrow=8)

    trainer = trainer_class(model, train_data, train_config, run_dir, options=options, run_config=run_config,
                            eval_fn=eval_fn, sample_fn=sample_fn)
    result = trainer.fit(resume=resume)
    if figures and _is_main():
        make_figures(result.run_dir, model.eval())
    if ref is not None and ref.warnings and result.eval_metrics:
        _say(f"note: the FID/KID above are not meaningful ({'; '.join(ref.warnings)})")
    return result


def _model_and_run(model_or_run: Any, device: str) -> tuple[GAN, Path | None]:
    if isinstance(model_or_run, torch.nn.Module):
        if not isinstance(model_or_run, GAN):
            family = getattr(model_or_run, "family", type(model_or_run).__name__)
            raise ConfigError(f"this is a {family} model, not a GAN; use genlab.{family}")
        return model_or_run, None
    model = load(model_or_run, device=resolve_device(device), family=FAMILY)
    if not isinstance(model, GAN):
        raise CheckpointError(f"{model_or_run} does not hold a GAN")
    return model, Path(model_or_run)


def _file(out: str | Path | None, run_dir: Path | None, default: Path) -> Path | None:
    if out is not None:
        return Path(out)
    if run_dir is None:
        return None
    return run_dir / default


def sample(model_or_run: GAN | str | Path, n: int = 64, *, seed: int = 0, ema: bool = True,
           out: str | Path | None = None, device: str = "auto", nrow: int | None = None,
           truncation: float | None = None) -> Path:
    """Write a grid of ``n`` samples (EMA generator unless ``ema=False``) to ``out`` (default
    ``RUN/samples/sample_seed<seed>[_ema].png``); returns the PNG's path. ``truncation`` ψ (StyleGAN runs only):
    the truncation trick in w, w_avg + ψ (w - w_avg); 0 gives the mean w's image for every seed, > 1 is warned about,
    < 0 refused."""
    check_int("n", n, 1)
    if truncation is not None:
        from .stylegan import StyleGAN
        warning = StyleGAN.check_truncation(truncation)
    model, run_dir = _model_and_run(model_or_run, device)
    kwargs: dict[str, Any] = {}
    if truncation is not None:
        require_stylegan(model, model_or_run, "--truncation (the truncation trick in w)")
        if warning:
            _say(f"warning: {warning}")
        kwargs["truncation"] = float(truncation)
    tag = f"_psi{truncation:g}" if truncation is not None else ""
    path = _file(out, run_dir, Path("samples") / f"sample_seed{seed}{tag}{'_ema' if ema else ''}.png")
    if path is None:
        raise ConfigError("pass out=PATH.png when giving a model object rather than a run folder")
    return save_image_grid(model.sample(n, seed=seed, ema=ema, **kwargs), path, nrow=nrow)


def require_stylegan(model: GAN, where: Any, what: str):
    """The model as a StyleGAN, or a one-line error saying which arch the run is."""
    from .stylegan import StyleGAN

    if not isinstance(model, StyleGAN):
        arch = getattr(model.config, "arch", "dcgan")
        name = where if not isinstance(where, torch.nn.Module) else "this model"
        raise ConfigError(f"{what} needs a StyleGAN run (--arch stylegan); {name} is a {arch} run")
    return model


def _seeds(start: int, count: int, what: str) -> list[int]:
    check_int(what, count, 1)
    if count > 16:
        raise ConfigError(f"--{what.replace('_', '-')} must be at most 16 (got {count})")
    return list(range(start, start + count))


def mix(model_or_run: Any, *, out: str | Path | None = None, layers: str | None = None, n_a: int = 5,
        n_b: int = 5, seed_a: int = 0, seed_b: int = 100, truncation: float = 1.0, device: str = "auto",
        ema: bool = True) -> dict[str, Path]:
    """The style-mixing figure of Karras et al. 2019 (figure 3): the top row is source A (``n_a`` seeds from
    ``seed_a``), the left column source B (``n_b`` seeds from ``seed_b``), and cell (B_j, A_i) is A_i's image with the
    styles of ``layers`` copied from B_j. One PNG per group (``mix_coarse.png``, ``mix_middle.png``, ``mix_fine.png``)
    or one for ``layers`` (coarse / middle / fine / I-J), in ``out`` (default ``RUN/mix``). Returns name -> path."""
    from .stylegan import StyleGAN

    warning = StyleGAN.check_truncation(truncation)
    seeds_a, seeds_b = _seeds(seed_a, n_a, "n_a"), _seeds(seed_b, n_b, "n_b")
    model, run_dir = _model_and_run(model_or_run, device)
    model = require_stylegan(model, model_or_run, "gan mix")
    groups = {layers: model.layer_range(layers)} if layers is not None else \
        {k: r for k, r in model.layer_groups().items() if len(r)}
    folder = Path(out) if out is not None else (run_dir / "mix" if run_dir is not None else None)
    if folder is None:
        raise ConfigError("pass out=FOLDER when giving a model object rather than a run folder")
    if warning:
        _say(f"warning: {warning}")
    za = torch.cat([model.noise(1, seed=s) for s in seeds_a])
    zb = torch.cat([model.noise(1, seed=s) for s in seeds_b])
    img_a = model.sample(1, seed=seeds_a[0], ema=ema, truncation=truncation)  # shape / dtype of one image
    a_imgs = torch.cat([model.sample(1, seed=s, ema=ema, truncation=truncation) for s in seeds_a])
    b_imgs = torch.cat([model.sample(1, seed=s, ema=ema, truncation=truncation) for s in seeds_b])
    blank = torch.ones_like(img_a)
    written = {}
    for name, rng in groups.items():
        rows = [torch.cat([blank, a_imgs])]
        for j in range(len(seeds_b)):
            mixed = model.mix(za, zb[j:j + 1].expand_as(za), rng, ema=ema, truncation=truncation)
            rows.append(torch.cat([b_imgs[j:j + 1], mixed.cpu()]))
        label = name if name in ("coarse", "middle", "fine") else f"layers_{rng.start}-{rng.stop - 1}"
        written[label] = save_image_grid(torch.cat(rows), folder / f"mix_{label}.png", nrow=len(seeds_a) + 1)
    return written


def noise_figure(model_or_run: Any, *, out: str | Path | None = None, n: int = 4, seed: int = 0,
                 realisations: int = 32, device: str = "auto", ema: bool = True) -> dict[str, Any]:
    """The per-layer noise figures of Karras et al. 2019 (figures 4 and 5) for ``n`` seeds, in ``out`` (default
    ``RUN/noise``): ``noise_realisations.png`` (per seed: three noise draws, the per-pixel std over ``realisations``
    draws scaled to its maximum) and ``noise_layers.png`` (per seed: noise in all layers, none, fine layers only,
    coarse layers only). Returns the paths and the mean per-pixel std (how much the noise alone changes an image,
    in [0, 1] pixel units)."""
    check_int("n", n, 1)
    check_int("realisations", realisations, 2)
    model, run_dir = _model_and_run(model_or_run, device)
    model = require_stylegan(model, model_or_run, "gan noise")
    folder = Path(out) if out is not None else (run_dir / "noise" if run_dir is not None else None)
    if folder is None:
        raise ConfigError("pass out=FOLDER when giving a model object rather than a run folder")
    z = torch.cat([model.noise(1, seed=seed + i) for i in range(n)])
    ws = model.styles(z, ema=ema)
    groups = model.layer_groups()
    stds, real_rows, layer_rows = [], [], []
    for i in range(n):
        w_i = ws[i:i + 1].expand(realisations, -1, -1)
        draws = model.images_from_styles(w_i, ema=ema, noise=model.noise_maps(realisations, seed=seed * 7919 + i))
        std = draws.std(dim=0, keepdim=True)
        stds.append(float(std.mean()))
        real_rows.append(torch.cat([draws[:3], (std / std.max().clamp_min(1e-8))]))
        one = model.noise_maps(1, seed=seed * 7919 + i)
        variants = []
        for keep in (range(model.num_ws), range(0), groups["fine"], groups["coarse"]):
            maps = [m if k in keep else torch.zeros_like(m) for k, m in enumerate(one)]
            variants.append(model.images_from_styles(ws[i:i + 1], ema=ema, noise=maps))
        layer_rows.append(torch.cat(variants))
    paths = {
        "realisations": save_image_grid(torch.cat(real_rows), folder / "noise_realisations.png", nrow=4),
        "layers": save_image_grid(torch.cat(layer_rows), folder / "noise_layers.png", nrow=4)}
    return {**paths, "mean_pixel_std": sum(stds) / len(stds), "realisations_per_seed": realisations, "seeds": n}


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


def evaluate(model_or_run: GAN | str | Path, *, data_config: ImageDataConfig | None = None, fid_samples: int = 10000,
             seed: int = 0, ema: bool = True, out: str | Path | None = None, device: str = "auto",
             inception: bool = False, progress: bool = True, truncation: float | None = None) -> dict[str, Any]:
    """FID and KID (mean ± std over 100 subsets of 1000; raw, not x1000) between ``fid_samples`` samples and the test
    images (see :func:`genlab.metrics.fid_reference` for the reference rule), on genlab's domain classifier for the
    dataset; written to ``RUN/eval.json`` (or ``out``) and returned. ``"meaningful": false`` with ``"warnings"`` says
    when the numbers mean little (few images or samples, a weak classifier); where they could mean nothing this
    raises :class:`DataError`. With ``inception``, also Inception FID (see :func:`inception_fid`)."""
    from ..metrics import fid_reference, generation_scores

    check_int("fid_samples", fid_samples, 2)
    if inception:
        _torchmetrics_fid()  # fail before the slow part when torchmetrics is missing
    if truncation is not None:
        from .stylegan import StyleGAN
        warning = StyleGAN.check_truncation(truncation)
    model, run_dir = _model_and_run(model_or_run, device)
    kwargs: dict[str, Any] = {}
    if truncation is not None:
        require_stylegan(model, model_or_run, "--truncation (the truncation trick in w)")
        if warning:
            _say(f"warning: {warning}")
        kwargs["truncation"] = float(truncation)
    if data_config is None:
        data_config = saved_data_config(run_dir) if run_dir is not None else None
        if data_config is None:
            raise ConfigError("pass data_config= (--dataset) to say which test images to compare with: "
                              + (f"{run_dir} has no {RUN_CONFIG}" if run_dir is not None else "a model object "
                                 "does not know its data"))
    path = _file(out, run_dir, Path("eval.json"))
    test = load_image_dataset(data_config, "test")
    if test.image_shape[0] != model.config.image_channels:
        raise ConfigError(f"{data_config.dataset} images have {test.image_shape[0]} channel(s), the GAN makes "
                          f"{model.config.image_channels}")
    if progress:
        _say(f"FID/KID: embedding the {len(test)} {data_config.dataset} test images with the domain classifier")
    ref = fid_reference(data_config, test.images, device=str(model.device), progress=progress)
    bar = None
    if progress and sys.stderr.isatty():
        from tqdm.auto import tqdm
        bar = tqdm(total=fid_samples, desc="gan evaluate: sampling + features", unit="img", dynamic_ncols=True)
    try:
        scores = generation_scores(_ema_sampler(model, ema=ema, bar=bar, **kwargs), ref, n=fid_samples, seed=seed,
                                   progress=progress and bar is None, return_features=True)
    finally:
        if bar is not None:
            bar.close()
    scores["diversity_ratio"] = _diversity_ratio(scores, ref)
    if inception:
        scores["inception_fid"] = inception_fid(test.images, model.sample(fid_samples, seed=seed, ema=ema, **kwargs),
                                                device=str(model.device))
    result = {"dataset": data_config.dataset, "split": "test", "model_type": model.model_type,
              "generator": "ema" if ema else "trained", "seed": seed, **scores}
    if truncation is not None:
        result["truncation_psi"] = float(truncation)
    result.setdefault("inception_fid", "not computed (pass --inception where torchmetrics and the FID Inception "
                                       "weights are available)")
    if path is not None:
        write_json_atomic(path, result)
    return result


def analyze(model_or_run: Any, *, data_config: ImageDataConfig | None = None, samples: int = 2000,
            pairs: int = 500, psis: tuple[float, ...] = (0.0, 0.5, 0.7, 1.0), seed: int = 0,
            out: str | Path | None = None, device: str = "auto") -> dict[str, Any]:
    """The StyleGAN paper's measurements on genlab's domain features (:mod:`genlab.gan.analysis`): the path-length
    analogue in z (any GAN) and in w (StyleGAN), and for a StyleGAN the truncation sweep (FID/KID and diversity at
    each ψ on ``samples`` samples) and the style-mixing class-survival test. Written to ``RUN/analysis.json`` (or
    ``out``) and returned; every entry says what it was measured on."""
    from ..metrics import fid_reference
    from .analysis import mixing_class_survival, path_length, truncation_sweep
    from .stylegan import StyleGAN

    check_int("samples", samples, 2)
    check_int("pairs", pairs, 2)
    for psi in psis:
        StyleGAN.check_truncation(psi)
    model, run_dir = _model_and_run(model_or_run, device)
    if data_config is None:
        data_config = saved_data_config(run_dir) if run_dir is not None else None
        if data_config is None:
            raise ConfigError("pass data_config= (--dataset) to say which domain classifier to measure with")
    path = _file(out, run_dir, Path("analysis.json"))
    test = load_image_dataset(data_config, "test")
    ref = fid_reference(data_config, test.images, device=str(model.device))
    result: dict[str, Any] = {"dataset": data_config.dataset, "model_type": model.model_type, "seed": seed,
                              "classifier_test_accuracy": ref.accuracy,
                              "path_length_z": path_length(model, ref.classifier, space="z", n=pairs, seed=seed)}
    if isinstance(model, StyleGAN):
        result["path_length_w"] = path_length(model, ref.classifier, space="w", n=pairs, seed=seed)
        result["truncation_sweep"] = truncation_sweep(model, ref, psis=psis, n=samples, seed=seed)
        result["mixing_class_survival"] = mixing_class_survival(model, ref.classifier, n=min(samples, 1000),
                                                                seed=seed)
    if path is not None:
        write_json_atomic(path, result)
    return result
