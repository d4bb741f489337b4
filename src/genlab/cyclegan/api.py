"""Train, sample, translate and evaluate CycleGANs: the functions behind ``genlab cyclegan ...``.

    >>> from genlab import cyclegan
    >>> result = cyclegan.train(cyclegan.CycleGANConfig(generator="resnet"), cyclegan.UnpairedDataConfig(),
    ...                         out="runs/cyclegan/digits")        # mnist <-> mnist-photo, the built-in pair
    >>> cyclegan.evaluate("runs/cyclegan/digits")                  # label preservation both ways, FID/KID, stego
    >>> cyclegan.sample("runs/cyclegan/digits")                    # original | translated | reconstructed
    >>> cyclegan.translate("runs/cyclegan/digits", ["x.png"], direction="a2b", out="translated/")
"""

from __future__ import annotations

import os
import sys
import time
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
from .data import (Domains, UnpairedDataConfig, UnpairedIndex, center_crop, describe_domains, load_domains,
                   to_channels)
from .models import CycleGAN, CycleGANConfig
from .trainer import CycleGANOptions, CycleGANTrainer

FAMILY = "cyclegan"
# The paper's optimiser (Adam 2e-4, beta1 0.5) and batch size 1; genlab's CPU recipes raise the batch (README).
DEFAULT_TRAIN = dict(epochs=1, batch_size=1, lr=2e-4, adam_beta1=0.5, adam_beta2=0.999, sample_every=1000,
                     checkpoint_every=1000, log_every=50)
STEGO_NOISE = 0.01  # std of the noise added to G(x) in the steganography check, in [0, 1] pixel units (~2.6/255)


def _say(msg: str) -> None:
    if os.environ.get("RANK", "0") in ("", "0"):
        print(msg, file=sys.stderr, flush=True)


def default_run_dir(model_config: CycleGANConfig, data_config: UnpairedDataConfig) -> Path:
    stamp = time.strftime("%Y%m%d-%H%M%S")
    names = "-".join(Path(n).name if n not in ("mnist", "mnist-photo") else n
                     for n in (data_config.domain_a, data_config.domain_b))
    return Path("runs") / FAMILY / f"{names}-{model_config.generator}-{stamp}"


def check_domains(domains: Domains, data_config: UnpairedDataConfig, batch_size: int) -> None:
    """Refuse a domain with fewer training images than one batch; warn about identical domains."""
    for letter, data in (("A", domains.a_train), ("B", domains.b_train)):
        if len(data) < batch_size:
            raise DataError(f"domain {letter} has {len(data)} training image(s), fewer than one batch of "
                            f"{batch_size}; pass --batch-size {max(1, len(data))} or add images")
    same = data_config.domain_a == data_config.domain_b and data_config.channels("a") == data_config.channels("b")
    if not same and domains.a_train.images.shape == domains.b_train.images.shape:
        same = bool(torch.equal(domains.a_train.images, domains.b_train.images))
    if same:
        _say(f"warning: domains A and B are the same images ({data_config.domain_a}); a CycleGAN between them can "
             f"only learn the identity")


def fitted_model_config(model_config: CycleGANConfig, data_config: UnpairedDataConfig) -> CycleGANConfig:
    """The model config with the image side and channels of the data."""
    return from_dict(CycleGANConfig, {**to_dict(model_config), "image_size": data_config.crop_size,
                                      "channels_a": data_config.channels("a"), "channels_b": data_config.channels("b")})


def train(model_config: CycleGANConfig | None = None, data_config: UnpairedDataConfig | None = None,
          train_config: TrainConfig | None = None, options: CycleGANOptions | None = None, *,
          out: str | Path | None = None, resume: bool = False, overrides: dict[str, Any] | None = None) -> TrainResult:
    """Train a CycleGAN; returns the engine's :class:`TrainResult`. With ``resume=True`` the run in ``out``
    continues from its newest checkpoint (pools included); ``overrides`` may change training options."""
    overrides = dict(overrides or {})
    if resume:
        saved_options = {}
        if out is not None and (Path(out) / RUN_CONFIG).exists():
            saved_options = read_json(Path(out) / RUN_CONFIG, what="run config").get("cyclegan", {})
        model_config, data_config, train_config = resumed_configs(
            out, family=FAMILY, data_class=UnpairedDataConfig, overrides=overrides, model_config=model_config,
            data_config=data_config, train_config=train_config, extra_saved=saved_options)
        fields = set(CycleGANOptions.__dataclass_fields__)
        try:
            options = options or from_dict(CycleGANOptions, {**saved_options,
                                                             **{k: v for k, v in overrides.items() if k in fields}})
        except ConfigError as e:
            raise CheckpointError(f"{Path(out) / RUN_CONFIG}: CycleGAN options unreadable ({e})") from None
    else:
        model_config = model_config or CycleGANConfig()
        data_config = data_config or UnpairedDataConfig()
        train_config = train_config or TrainConfig(**DEFAULT_TRAIN)
        options = options or CycleGANOptions()
        model_config = fitted_model_config(model_config, data_config)
    options = options.resolved(model_config.channels_a, model_config.channels_b)
    domains = load_domains(data_config, quiet=True)
    check_domains(domains, data_config, train_config.batch_size)
    describe_domains(domains, data_config)
    run_dir = Path(out) if out is not None else default_run_dir(model_config, data_config)

    if options.eval_samples and data_config.builtin_pair and os.environ.get("RANK", "0") in ("", "0"):
        # The judges are trained (once, cached) before the CycleGAN: frozen before any of its training, and never
        # inside the engine's no-grad evaluation hook.
        from .judges import judge_a, judge_b

        dev = "cpu" if train_config.device == "auto" else train_config.device
        _, acc_a = judge_a(data_config, device=dev)
        _, acc_b = judge_b(data_config, domains.b_train, domains.b_test, device=dev)
        _say(f"label-preservation judges: MNIST domain classifier ({acc_a:.2%} on MNIST test), domain-B judge "
             f"({acc_b:.2%} on mnist-photo test)")
    seed_everything(train_config.seed)
    model = CycleGAN(model_config)
    run_config = {"family": FAMILY, "model_type": model.model_type, "model": to_dict(model_config),
                  "data": to_dict(data_config), "cyclegan": to_dict(options)}
    seed = train_config.seed

    def eval_fn(m: CycleGAN) -> dict[str, float]:
        if not (options.eval_samples and data_config.builtin_pair):
            return {}
        r = label_preservation(m, domains, data_config, n=options.eval_samples, seed=seed,
                               device=str(train_config.device if train_config.device != "auto" else "cpu"))
        return {"label_a2b": r["a2b"]["accuracy"], "label_b2a": r["b2a"]["accuracy"]}

    def sample_fn(m: CycleGAN, path: Path) -> None:
        cycle_figure(m, domains, path.with_suffix(".png"), n=6, seed=seed)

    trainer = CycleGANTrainer(model, UnpairedIndex(domains), train_config, run_dir, domains=domains,
                              data_config=data_config, options=options, run_config=run_config, eval_fn=eval_fn,
                              sample_fn=sample_fn)
    return trainer.fit(resume=resume)


# ---- loading a run ----------------------------------------------------------------------------------------------------

def _model_and_run(model_or_run: Any, device: str) -> tuple[CycleGAN, Path | None]:
    if isinstance(model_or_run, torch.nn.Module):
        if not isinstance(model_or_run, CycleGAN):
            raise ConfigError(f"this is a {getattr(model_or_run, 'family', '?')} model, not a CycleGAN")
        return model_or_run, None
    model = load(model_or_run, device=resolve_device(device), family=FAMILY)
    if not isinstance(model, CycleGAN):
        raise CheckpointError(f"{model_or_run} does not hold a CycleGAN")
    return model, Path(model_or_run)


def run_data_config(run_dir: Path | None) -> UnpairedDataConfig | None:
    if run_dir is None or not (run_dir / RUN_CONFIG).exists():
        return None
    try:
        return from_dict(UnpairedDataConfig, read_json(run_dir / RUN_CONFIG, what="run config")["data"])
    except (KeyError, TypeError, ConfigError) as e:
        raise CheckpointError(f"{run_dir / RUN_CONFIG} has no usable data config ({e})") from None


def _data_config(run_dir: Path | None, data_config: UnpairedDataConfig | None, model: CycleGAN) -> UnpairedDataConfig:
    cfg = data_config or run_data_config(run_dir)
    if cfg is None:
        raise ConfigError("pass data_config= (the domains) when giving a model object or a folder without "
                          "train_config.json")
    for letter in ("a", "b"):
        if cfg.channels(letter) != model.channels(letter):
            raise ConfigError(f"domain {letter.upper()} has {cfg.channels(letter)} channel(s) here but the model was "
                              f"trained on {model.channels(letter)}; pass --channels-{letter} {model.channels(letter)}")
    return cfg


def _test_images(data, n: int, seed: int, crop: int) -> tuple[torch.Tensor, torch.Tensor | None]:
    """``n`` test images (all, or a seeded random subset), centre-cropped to the model's side, in [0, 1]."""
    total = len(data)
    if n >= total:
        idx = torch.arange(total)
    else:
        idx = torch.randperm(total, generator=torch.Generator().manual_seed(seed))[:n].sort().values
    images = center_crop(data.images.index_select(0, idx), crop).float() / 255.0
    labels = data.labels.index_select(0, idx) if data.labels is not None else None
    return images, labels


# ---- figures ------------------------------------------------------------------------------------------------------

def cycle_figure(model: CycleGAN, domains: Domains, path: Path, *, n: int = 6, seed: int = 0) -> Path:
    """Foster's figure: each row original | translated | reconstructed, ``n`` rows of A -> B -> A beside ``n`` rows
    of B -> A -> B (grey shown as RGB)."""
    from ..viz import save_image_grid

    crop = model.config.image_size
    a, _ = _test_images(domains.a_test, n, seed, crop)
    b, _ = _test_images(domains.b_test, n, seed + 1, crop)
    n = min(len(a), len(b))
    a, b = a[:n], b[:n]
    fake_b = model.translate(a, "a2b")
    rec_a = model.translate(fake_b, "b2a")
    fake_a = model.translate(b, "b2a")
    rec_b = model.translate(fake_a, "a2b")
    rgb = [to_channels(x, 3) for x in (a, fake_b, rec_a, b, fake_a, rec_b)]
    rows = [torch.stack([rgb[0][i], rgb[1][i], rgb[2][i], rgb[3][i], rgb[4][i], rgb[5][i]]) for i in range(n)]
    return save_image_grid(torch.cat(rows), path, nrow=6)


def sample(model_or_run: CycleGAN | str | Path, *, n: int = 6, seed: int = 0, out: str | Path | None = None,
           data_config: UnpairedDataConfig | None = None, device: str = "auto") -> Path:
    """Write the figure (columns: A | G(A) | F(G(A)) | B | F(B) | G(F(B)); ``n`` test images each way) to ``out``
    (default ``RUN/samples/cycle_seed<seed>.png``); returns its path."""
    check_int("n", n, 1)
    model, run_dir = _model_and_run(model_or_run, device)
    cfg = _data_config(run_dir, data_config, model)
    path = Path(out) if out is not None else (run_dir / "samples" / f"cycle_seed{seed}.png" if run_dir else None)
    if path is None:
        raise ConfigError("pass out=PATH.png when giving a model object")
    domains = load_domains(cfg, quiet=True)
    return cycle_figure(model, domains, path, n=n, seed=seed)


# ---- translate -----------------------------------------------------------------------------------------------------

def translate(model_or_run: CycleGAN | str | Path, images: list[str | Path], *, direction: str = "a2b",
              out: str | Path, size: int | None = None, device: str = "auto") -> list[Path]:
    """Translate image files with G (``a2b``) or F (``b2a``) into ``out`` as ``<name>_<direction>.png``.

    Each image is read through genlab's loader in the source domain's mode (an image of the other mode is converted,
    with a note), resized (shorter side) and centre-cropped to ``size`` (default: the run's load size)."""
    from ..data.images import load_image, resize_center_crop
    from ..data.images import image_to_tensor
    from ..viz.grid import tensor_to_pil
    from ..core.io import atomic_write

    model, run_dir = _model_and_run(model_or_run, device)
    model.generator_for(direction)
    if not images:
        raise ConfigError("give at least one image to translate")
    cfg = run_data_config(run_dir)
    side = size or (cfg.load_size if cfg is not None else model.config.image_size)
    check_int("size", side, 8)
    src = "a" if direction == "a2b" else "b"
    channels = model.channels(src)
    mode = "L" if channels == 1 else "RGB"
    if model.config.generator == "unet" and side % 2 ** model.config.unet_depth:
        raise ConfigError(f"this U-Net takes sides that are multiples of {2 ** model.config.unet_depth} (got {side})")
    if model.config.generator == "resnet" and side % 4:
        raise ConfigError(f"the ResNet generator takes sides that are multiples of 4 (got {side})")
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    loaded = []
    for p in images:
        p = Path(p)
        from PIL import Image
        try:
            with Image.open(p) as probe:
                native = probe.mode
        except Exception:  # noqa: BLE001 - load_image below gives the one-line error
            native = mode
        img = load_image(p, mode=mode)
        if (native in ("L", "1", "I;16", "I", "F", "LA")) != (mode == "L"):
            _say(f"note: {p} is {native}; converted to {'grey' if mode == 'L' else 'RGB'} for domain "
                 f"{src.upper()} ({channels} channel{'s' if channels != 1 else ''})")
        loaded.append((p, image_to_tensor(resize_center_crop(img, side))))
    written = []
    for p, x in loaded:
        y = model.translate(x[None], direction)[0]
        path = folder / f"{p.stem}_{direction}.png"
        with atomic_write(path) as tmp:
            tensor_to_pil(y).save(tmp, format="PNG")
        written.append(path)
    return written


# ---- evaluate ------------------------------------------------------------------------------------------------------

def label_preservation(model: CycleGAN, domains: Domains, cfg: UnpairedDataConfig, *, n: int, seed: int = 0,
                       device: str = "cpu", with_baselines: bool = False) -> dict[str, Any]:
    """Accuracy of the target domain's judge on translated test images (the source labels), each direction."""
    from .judges import accuracy_of, for_judge_a, for_judge_b, judge_a, judge_b

    ja, acc_a = judge_a(cfg, device=device)
    jb, acc_b = judge_b(cfg, domains.b_train, domains.b_test, device=device)
    crop = model.config.image_size
    a, la = _test_images(domains.a_test, n, seed, crop)
    b, lb = _test_images(domains.b_test, n, seed + 1, crop)
    out: dict[str, Any] = {
        "a2b": {"accuracy": accuracy_of(jb, for_judge_b(model.translate(a, "a2b")), la), "n": len(a),
                "judge": "domain-B judge", "judge_test_accuracy": acc_b},
        "b2a": {"accuracy": accuracy_of(ja, for_judge_a(model.translate(b, "b2a")), lb), "n": len(b),
                "judge": "MNIST domain classifier", "judge_test_accuracy": acc_a}}
    if with_baselines:
        out["a2b"]["source_only"] = accuracy_of(jb, for_judge_b(a), la)
        out["a2b"]["ceiling"] = accuracy_of(jb, for_judge_b(b), lb)
        out["b2a"]["source_only"] = accuracy_of(ja, for_judge_a(b), lb)
        out["b2a"]["ceiling"] = accuracy_of(ja, for_judge_a(a), la)
        out["_judges"] = (ja, jb)
        out["_images"] = (a, b)
    return out


def evaluate(model_or_run: CycleGAN | str | Path, *, n: int = 2000, seed: int = 0, out: str | Path | None = None,
             data_config: UnpairedDataConfig | None = None, stego_noise: float = STEGO_NOISE,
             stego_n: int = 500, device: str = "auto") -> dict[str, Any]:
    """The metrics of issue 14, written to ``out`` (default ``RUN/eval.json``) and returned.

    On the built-in pair: label preservation both ways beside source-only and ceiling, FID/KID of translations vs
    the target test images on each target judge's features, and the steganography check. On folder domains (no
    labels, no judge): the cycle error and the steganography check only.
    """
    from .judges import FEATURES_A, FEATURES_B, fid_kid_on, for_judge_a, for_judge_b, steganography

    check_int("n", n, 2)
    if not stego_noise > 0:
        raise ConfigError(f"--stego-noise must be > 0 (got {stego_noise})")
    model, run_dir = _model_and_run(model_or_run, device)
    cfg = _data_config(run_dir, data_config, model)
    path = Path(out) if out is not None else (run_dir / "eval.json" if run_dir else None)
    domains = load_domains(cfg, quiet=True)
    crop = model.config.image_size
    dev = str(model.device)
    result: dict[str, Any] = {"run": str(run_dir) if run_dir else None, "domain_a": cfg.domain_a,
                              "domain_b": cfg.domain_b, "split": "test", "image_size": crop,
                              "generator": model.config.generator, "step": _step_of(run_dir)}
    if cfg.builtin_pair:
        lp = label_preservation(model, domains, cfg, n=n, seed=seed, device=dev, with_baselines=True)
        ja, jb = lp.pop("_judges")
        a, b = lp.pop("_images")
        result["label_preservation"] = lp
        fake_b, fake_a = model.translate(a, "a2b"), model.translate(b, "b2a")
        result["fid_kid"] = {
            "a2b": {**fid_kid_on(jb, for_judge_b(b), for_judge_b(fake_b), seed=seed), "features": FEATURES_B,
                    "untranslated_fid": fid_kid_on(jb, for_judge_b(b), for_judge_b(a), seed=seed)["fid"],
                    "what": "G(A test) vs B test"},
            "b2a": {**fid_kid_on(ja, for_judge_a(a), for_judge_a(fake_a), seed=seed), "features": FEATURES_A,
                    "untranslated_fid": fid_kid_on(ja, for_judge_a(a), for_judge_a(b), seed=seed)["fid"],
                    "what": "F(B test) vs A test"},
            "kid_scale": "raw (not x1000)"}
        if n < 2000:
            result["fid_kid"]["warning"] = f"only {n} images per side (recommended >= 2000): compare only at equal n"
    else:
        result["label_preservation"] = None
        result["fid_kid"] = None
        result["note"] = ("label preservation and FID/KID need labelled domains with a judge (the built-in mnist <-> "
                          "mnist-photo pair); folders get the cycle error and the steganography check")
    a, _ = _test_images(domains.a_test, stego_n, seed, crop)
    b, _ = _test_images(domains.b_test, stego_n, seed + 1, crop)
    result["steganography"] = {"a2b": steganography(model, a, "a2b", noise=stego_noise, seed=seed),
                               "b2a": steganography(model, b, "b2a", noise=stego_noise, seed=seed + 1),
                               "what": "mean L1 of F(G(x)) - x in [0, 1] pixels, clean and with N(0, noise_std^2) "
                                       "added to G(x) (Chu et al. 2017)"}
    result["anchors"] = ANCHORS
    if path is not None:
        write_json_atomic(path, result)
        result["path"] = str(path)
    return result


ANCHORS = ("an analogy, not a comparison: on Cityscapes the paper's FCN scores (per-pixel accuracy) are labels -> "
           "photo 0.52 for CycleGAN vs 0.71 for paired pix2pix, photo -> labels 0.58 vs 0.85, ground truth 0.80; "
           "an unpaired model falls well short of a paired one. Different data, task and judge: not comparable with "
           "the digit numbers here.")


def _step_of(run_dir: Path | None) -> int | None:
    if run_dir is None:
        return None
    from ..core.model import resolve_model_dir
    folder = resolve_model_dir(run_dir)
    try:
        from safetensors import safe_open
        with safe_open(str(folder / "model.safetensors"), "pt") as f:
            step = (f.metadata() or {}).get("step")
        return int(step) if step is not None else None
    except Exception:  # noqa: BLE001 - the step is informative only
        return None
