"""Fast neural style (Johnson, Alahi & Fei-Fei 2016): a feed-forward network trained for one style renders any
photo in one pass. The network (:class:`FastStyleNet`, config :class:`FastStyleConfig`) is saved; the training
objective (:class:`StyleLossConfig`: the style image and the Gatys perceptual losses on a frozen loss network) lives
in :class:`FastStyleTrainer` and is recorded in the run's train_config.json, never in the model.

    >>> result = train(FastStyleConfig(), ImageDataConfig("photos/", image_size=256), TrainConfig(max_steps=2000),
    ...                StyleLossConfig(style_image="starry.jpg"), out="runs/style/starry")
    >>> apply(result.run_dir, "photo.jpg", out="runs/style/photo-starry")      # -> runs/style/photo-starry/result.png
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..core.config import cfg_field, check_int, check_non_negative, from_dict, to_dict
from ..core.device import autocast, resolve_device, seed_everything
from ..core.engine import RUN_CONFIG, TrainConfig, Trainer, TrainResult
from ..core.errors import CheckpointError, ConfigError, DataError
from ..core.clikit import check_output_file
from ..core.io import read_json, write_json_atomic
from ..core.model import GenlabModel, load, register_model, resolve_model_dir
from ..core.runs import resumed_configs
from ..data.datasets import ImageDataConfig, load_image_dataset
from ..features import load_feature_network, parse_layer_weights
from ..features.output import check_size, load_input_image, save_image, save_row_figure, write_metadata
from ..features.weights import sha256_of
from ..viz.grid import save_image_grid
from .common import check_image_fits, output_file, output_folder
from .gatys import StyleConfig, StyleObjective

FAMILY = "style"
JOHNSON_STYLE_LAYERS = "block1_conv2:0.25,block2_conv2:0.25,block3_conv3:0.25,block4_conv3:0.25"
DEFAULT_TRAIN = dict(epochs=2, batch_size=4, lr=1e-3, sample_every=500, checkpoint_every=500, log_every=20)

# Fields of the network config in runs saved before the training objective moved out of it (they are read, so those
# runs load and resume; new runs never write them): saved name -> StyleLossConfig field.
LEGACY_LOSS_FIELDS = {"style_image": "style_image", "model": "loss_network", "weights": "loss_network_weights",
                      "content_layer": "content_layer", "style_layers": "style_layers",
                      "content_weight": "content_weight", "style_weight": "style_weight", "tv_weight": "tv_weight",
                      "style_size": "style_size"}


@dataclass
class FastStyleConfig:
    """The image transformer's architecture: what config.json holds and all :class:`FastStyleNet` needs."""

    width: int = cfg_field(32, help="channels of the first conv (then 2x, 4x); the paper: 32")
    residual_blocks: int = cfg_field(5, help="residual blocks at the bottleneck; the paper: 5")
    # Read only from runs saved before the split (see LEGACY_LOSS_FIELDS); None otherwise, and never written.
    style_image: str | None = field(default=None, metadata={"cli": False})
    model: str | None = field(default=None, metadata={"cli": False})
    weights: str | None = field(default=None, metadata={"cli": False})
    content_layer: str | None = field(default=None, metadata={"cli": False})
    style_layers: str | None = field(default=None, metadata={"cli": False})
    content_weight: float | None = field(default=None, metadata={"cli": False})
    style_weight: float | None = field(default=None, metadata={"cli": False})
    tv_weight: float | None = field(default=None, metadata={"cli": False})
    style_size: int | None = field(default=None, metadata={"cli": False})

    def __post_init__(self) -> None:
        check_int("width", self.width, 1)
        check_int("residual_blocks", self.residual_blocks, 0)

    def legacy_loss(self) -> dict[str, Any]:
        """The training-objective fields an old run saved here, under :class:`StyleLossConfig`'s names."""
        return {new: getattr(self, old) for old, new in LEGACY_LOSS_FIELDS.items() if getattr(self, old) is not None}


@dataclass
class StyleLossConfig:
    """The training objective of a fast style network (Johnson et al.: relu2_2 content, four style layers of VGG16)."""

    style_image: str = cfg_field("", help="the style image the network learns (required)", metavar="PATH")
    loss_network: str = cfg_field("vgg16", help="feature network of the perceptual loss (Johnson et al.: vgg16)")
    loss_network_weights: str = cfg_field("imagenet", help="its weights: imagenet | random | a state_dict FILE")
    content_layer: str = cfg_field("block2_conv2", help="content layer (relu2_2 in the paper)")
    style_layers: str = cfg_field(JOHNSON_STYLE_LAYERS, help="style layers NAME:WEIGHT,...")
    content_weight: float = cfg_field(1.0, help="content loss weight")
    style_weight: float = cfg_field(1e6, help="style loss weight (Grams normalised by C*H*W)")
    tv_weight: float = cfg_field(1.0, help="total-variation weight")
    style_size: int = cfg_field(256, help="longer side of the style image when its Grams are computed")

    def __post_init__(self) -> None:
        for name in ("content_weight", "style_weight", "tv_weight"):
            check_non_negative(name, getattr(self, name))
        check_size(self.style_size, what="--style-size")
        parse_layer_weights(self.style_layers, what="--style-layers")


def _conv(cin: int, cout: int, k: int, stride: int = 1) -> nn.Sequential:
    return nn.Sequential(nn.ReflectionPad2d(k // 2), nn.Conv2d(cin, cout, k, stride))


class _Residual(nn.Module):
    def __init__(self, c: int) -> None:
        super().__init__()
        self.block = nn.Sequential(_conv(c, c, 3), nn.InstanceNorm2d(c, affine=True), nn.ReLU(),
                                   _conv(c, c, 3), nn.InstanceNorm2d(c, affine=True))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.block(x)


@register_model
class FastStyleNet(GenlabModel):
    """Johnson et al.'s image transformer (pytorch/examples' fast_neural_style layout): 9x9 conv, two stride-2 convs,
    residual blocks, two nearest-upsample convs, 9x9 conv; instance norm. Output in [0, 1] via a sigmoid.

        >>> y = model(photos)          # (B, 3, H, W) [0, 1] -> stylised, same size
    """

    model_type = "fast-style"
    family = FAMILY
    config_class = FastStyleConfig

    def __init__(self, config: FastStyleConfig) -> None:
        super().__init__(config)
        c = config.width
        norm = lambda n: nn.InstanceNorm2d(n, affine=True)  # noqa: E731
        self.net = nn.Sequential(
            _conv(3, c, 9), norm(c), nn.ReLU(), _conv(c, 2 * c, 3, 2), norm(2 * c), nn.ReLU(),
            _conv(2 * c, 4 * c, 3, 2), norm(4 * c), nn.ReLU(),
            *[_Residual(4 * c) for _ in range(config.residual_blocks)],
            nn.Upsample(scale_factor=2, mode="nearest"), _conv(4 * c, 2 * c, 3), norm(2 * c), nn.ReLU(),
            nn.Upsample(scale_factor=2, mode="nearest"), _conv(2 * c, c, 3), norm(c), nn.ReLU(), _conv(c, 3, 9))

    def config_dict(self) -> dict[str, Any]:
        d = super().config_dict()  # the legacy loss fields only when this model came from an old run
        d["config"] = {k: v for k, v in d["config"].items() if k not in LEGACY_LOSS_FIELDS or v is not None}
        return d

    def stylize(self, images: torch.Tensor) -> torch.Tensor:
        """``(B, 3, H, W)`` [0, 1] photos -> stylised images of the same size (H, W padded to multiples of 4)."""
        h, w = images.shape[-2:]
        ph, pw = (-h) % 4, (-w) % 4
        x = nn.functional.pad(images, (0, pw, 0, ph), mode="reflect") if ph or pw else images
        return torch.sigmoid(self.net(x * 2.0 - 1.0))[..., :h, :w]

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.stylize(images)

    def min_input_size(self, *, limit: int = 256) -> int:
        """The smallest image side (px) :meth:`stylize` takes (its reflection pads must be smaller than the input),
        found by shape-only passes on the meta device."""
        import copy

        meta = copy.deepcopy(self).to("meta")

        def fits(side: int) -> bool:
            try:
                with torch.no_grad():
                    meta.stylize(torch.empty(1, 3, side, side, device="meta"))
                return True
            except RuntimeError:
                return False

        return next(side for side in range(1, limit + 1) if fits(side))


class FastStyleTrainer(Trainer):
    """The engine with Johnson et al.'s objective: stylise the batch, then the Gatys content loss against the batch
    itself plus the style loss against the style image's Grams and TV, on a frozen loss network (``objective``)."""

    def __init__(self, model: FastStyleNet, train_data, config: TrainConfig, run_dir, *, objective: StyleObjective,
                 **kwargs: Any) -> None:
        super().__init__(model, train_data, config, run_dir, **kwargs)
        self.objective = objective

    def forward_loss(self, batch: Any) -> dict[str, torch.Tensor]:
        images = batch[0] if isinstance(batch, (tuple, list)) else batch
        with autocast(self.device, self.config.precision):
            stylised = self.ddp_model(images)
            with torch.no_grad():
                target = self.objective.features(images)[self.objective.content_layer]
            return self.objective(stylised, content_target=target)


def build_objective(loss: StyleLossConfig, device: torch.device, seed: int) -> StyleObjective:
    layers = [loss.content_layer, *parse_layer_weights(loss.style_layers, what="--style-layers")]
    net = load_feature_network(loss.loss_network, weights=loss.loss_network_weights, layers=layers, seed=seed,
                               device=device)
    style = load_input_image(loss.style_image, size=loss.style_size).to(device)
    check_image_fits(net, *style.shape[-2:], what="the style image", hint="use a larger --style-size")
    scfg = StyleConfig(model=loss.loss_network, weights=loss.loss_network_weights, content_layer=loss.content_layer,
                       style_layers=loss.style_layers, content_weight=loss.content_weight,
                       style_weight=loss.style_weight, tv_weight=loss.tv_weight, channels_last=False)
    return StyleObjective(net, scfg, style, [style], [1.0])


def _resumed_options(out: str | Path | None, overrides: dict[str, Any]) -> StyleLossConfig:
    """The run's objective (train_config.json "options"; an old run's: the loss fields of its model config) with
    the typed changes; checked before anything else of the resume happens."""
    if out is None:
        raise ConfigError("--resume needs --out RUN_DIR (the run to continue)")
    saved = _run_options(Path(out))
    if saved and "style_image" in overrides and overrides["style_image"] != saved.get("style_image"):
        raise ConfigError("cannot change --style-image when resuming; start a new run instead")
    try:
        return from_dict(StyleLossConfig, {**saved, **overrides})
    except ConfigError as e:
        raise CheckpointError(f"{Path(out) / RUN_CONFIG}: fast-style options unreadable ({e})") from None


def train(model_config: FastStyleConfig | None = None, data_config: ImageDataConfig | None = None,
          train_config: TrainConfig | None = None, options: StyleLossConfig | None = None, *,
          out: str | Path | None = None, resume: bool = False, overrides: dict[str, Any] | None = None) -> TrainResult:
    """Train a :class:`FastStyleNet` for ``options.style_image`` on the photos of ``data_config`` (a folder).

    With ``resume=True`` the run in ``out`` continues from its newest checkpoint; ``overrides`` (field -> value, as
    typed) may change training and loss options, not the network or the style image.
    """
    if resume:
        overrides = dict(overrides or {})
        loss_names = {f for f in StyleLossConfig.__dataclass_fields__}
        loss_overrides = {k: v for k, v in overrides.items() if k in loss_names}
        resumed = options or _resumed_options(out, loss_overrides)
        model_config, data_config, train_config = resumed_configs(
            out, family=FAMILY, data_class=ImageDataConfig,
            overrides={k: v for k, v in overrides.items() if k not in loss_names},
            model_config=model_config, data_config=data_config, train_config=train_config)
        options = resumed
    model_config = model_config or FastStyleConfig()
    if not resume and model_config.legacy_loss():  # the first release's call: the loss options in the model config
        options = options or StyleLossConfig(**model_config.legacy_loss())
        model_config = FastStyleConfig(width=model_config.width, residual_blocks=model_config.residual_blocks)
    options = options or StyleLossConfig()
    if not options.style_image:
        raise ConfigError("--style-image is required: the style the network learns")
    data_config = data_config or ImageDataConfig(dataset="")
    if not data_config.dataset or data_config.is_builtin or data_config.channels not in (None, 3):
        raise ConfigError("fast style training needs a folder of RGB photos: --dataset FOLDER")
    train_config = train_config or TrainConfig(**DEFAULT_TRAIN)
    run_dir = output_folder(out, kind="style", stem=f"fast-{Path(options.style_image).stem}")
    device = resolve_device(train_config.device)
    objective = build_objective(options, device, train_config.seed)  # bad style/weights fail before data
    data = load_image_dataset(data_config, "train")
    if len(data) == 0:
        raise DataError(f"no training images in {data_config.dataset}")
    seed_everything(train_config.seed)
    model = FastStyleNet(model_config)
    preview = data.images[:4].float() / 255.0
    run_config = {"family": FAMILY, "model_type": model.model_type, "model": to_dict(model_config),
                  "data": to_dict(data_config), "options": to_dict(options),
                  "loss_network": objective.net.weights_info.to_dict()}

    def sample_fn(m: FastStyleNet, path: Path) -> None:
        out_images = m.stylize(preview.to(m.device)).cpu()
        save_image_grid(torch.cat([preview, out_images]), path.with_suffix(".png"), nrow=len(preview))

    print(f"loss network {options.loss_network}: {objective.net.weights_info.describe()}")
    trainer = FastStyleTrainer(model, data, train_config, run_dir, objective=objective, run_config=run_config,
                               sample_fn=sample_fn)
    return trainer.fit(resume=resume)


def apply(model_or_run: FastStyleNet | str | Path, image: str | Path, *, out: str | Path | None = None,
          output: str | Path | None = None, size: int | None = None, device: str = "auto") -> Path:
    """Stylise ``image`` in one pass with a trained fast style network (a loaded model, a run folder or a
    saved-model folder). Writes ``out/`` (result.png, figure.png, metadata.json; default
    ``runs/style/<image>-fast-<time>``), or the result at exactly ``output``; returns the result's path."""
    check_size(size)
    image_path = output_file(output)  # outputs first: a bad path fails before the work
    out_dir = output_folder(out, kind="style", stem=f"{Path(image).stem}-fast")
    if isinstance(model_or_run, FastStyleNet):
        model, model_dir = model_or_run.to(resolve_device(device)).eval(), None
    else:
        model = load(model_or_run, device=resolve_device(device), family=FAMILY)
        if not isinstance(model, FastStyleNet):
            raise CheckpointError(f"{model_or_run} holds a {model.model_type} model, not a fast-style network")
        model_dir = resolve_model_dir(model_or_run)
    x = load_input_image(image, size=size).to(model.device)
    minimum = model.min_input_size()
    if min(x.shape[-2:]) < minimum:
        raise ConfigError(f"image too small for the fast style network (min {minimum} px): {image} is "
                          f"{x.shape[-1]}x{x.shape[-2]} px; use a larger image or --size")
    t0 = time.perf_counter()
    with torch.no_grad():
        y = model.stylize(x).cpu()
    seconds = time.perf_counter() - t0
    out_dir.mkdir(parents=True, exist_ok=True)
    image_path = image_path or out_dir / "result.png"
    image_path.parent.mkdir(parents=True, exist_ok=True)
    save_image(y, image_path)
    options = _run_options(Path(model_or_run)) if model_dir is not None else {}
    style_name = Path(options.get("style_image") or model.config.style_image or "unknown style").name
    save_row_figure([x.cpu(), y], ["content", f"fast style: {style_name}"], out_dir / "figure.png")
    write_metadata(out_dir, {"kind": "fast-style", "input": str(image), "image": str(image_path),
                             "model_dir": str(model_dir) if model_dir else None,
                             "model_sha256": sha256_of(model_dir / "model.safetensors") if model_dir else None,
                             "config": to_dict(model.config), "options": options,
                             "weights": _run_weights(Path(model_or_run)) if model_dir else
                             {"description": "unknown (a model passed in memory)"},
                             "device": str(model.device), "seconds": round(seconds, 4)})
    return image_path


@torch.no_grad()
def evaluate(model_or_run: FastStyleNet | str | Path, *, data_config: ImageDataConfig | None = None,
             out: str | Path | None = None, device: str = "auto", options: StyleLossConfig | None = None,
             batch_size: int = 8, seed: int = 0) -> dict[str, Any]:
    """The training objective on photos the network did not train on: mean content, style and TV losses and their
    weighted total over the test split of the run's data (or ``data_config``), with the run's loss options (or
    ``options``). Written to ``RUN/eval.json`` (or ``out``, a .json file) and returned."""
    check_int("batch_size", batch_size, 1)
    path = check_output_file(out, suffixes=(".json",)) if out is not None else None  # before the work
    run_dir = None
    if isinstance(model_or_run, FastStyleNet):
        model = model_or_run.to(resolve_device(device)).eval()
        if options is None or data_config is None:
            raise ConfigError("pass options= and data_config= when giving a model object rather than a run folder")
    else:
        model = load(model_or_run, device=resolve_device(device), family=FAMILY)
        run_dir = Path(model_or_run)
        saved = _run_config(run_dir)
        options = options or from_dict(StyleLossConfig, saved.get("options") or model.config.legacy_loss())
        if data_config is None and "data" in saved:
            data_config = from_dict(ImageDataConfig, saved["data"])
        if data_config is None:
            raise ConfigError(f"{run_dir} has no run config saying which photos it trained on; pass --dataset FOLDER")
    objective = build_objective(options, model.device, seed)
    test = load_image_dataset(data_config, "test")
    if len(test) == 0:
        raise DataError(f"no held-out images in {data_config.dataset} (its --holdout split is empty)")
    sums: dict[str, float] = {}
    for i in range(0, len(test), batch_size):
        images = test.images[i:i + batch_size].float().div(255).to(model.device)
        target = objective.features(images)[objective.content_layer]
        terms = objective(model(images), content_target=target)
        for k, v in terms.items():
            sums[k] = sums.get(k, 0.0) + float(v) * len(images)
    result = {"dataset": data_config.dataset, "split": "test", "images": len(test), "model_type": model.model_type,
              "style_image": options.style_image, **{k: v / len(test) for k, v in sums.items()},
              "weights": {"content": options.content_weight, "style": options.style_weight, "tv": options.tv_weight},
              "loss_network": objective.net.weights_info.to_dict()}
    path = path or (run_dir / "eval.json" if run_dir is not None else None)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        write_json_atomic(path, result)
        result["path"] = str(path)
    return result


def _run_config(run: Path) -> dict:
    try:
        return read_json(run / RUN_CONFIG, what="run config")
    except Exception:  # noqa: BLE001 - a bare saved-model folder has no run config
        return {}


def _run_options(run: Path) -> dict:
    """The objective the network was trained with (an old run's: from its model config)."""
    saved = _run_config(run)
    return saved.get("options") or {LEGACY_LOSS_FIELDS[k]: v for k, v in saved.get("model", {}).items()
                                    if k in LEGACY_LOSS_FIELDS and v is not None}


def _run_weights(run: Path) -> dict:
    """The loss network's weights the style network was trained with (from the run's config)."""
    return _run_config(run).get("loss_network") or {"description": "unknown (no run config beside the model)"}


# the names of the first release
train_fast = train
apply_fast = apply
