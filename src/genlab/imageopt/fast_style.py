"""Fast neural style (Johnson, Alahi & Fei-Fei 2016): a feed-forward network trained for one style renders any
photo in one pass. Trained on an image folder with the genlab Trainer (run folder, progress, resume), with the
Gatys perceptual losses of :mod:`genlab.style.gatys` on a frozen feature network.

    >>> result = train_fast(FastStyleConfig(style_image="starry.jpg"), ImageDataConfig("photos/", image_size=256),
    ...                     TrainConfig(max_steps=2000), out="runs/style/starry")
    >>> apply_fast(result.run_dir, "photo.jpg", out="runs/style/photo-starry")
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..core.config import cfg_field, check_non_negative, check_positive, from_dict, to_dict
from ..core.device import resolve_device, seed_everything
from ..core.engine import RUN_CONFIG, TrainConfig, Trainer, TrainResult
from ..core.errors import ConfigError, DataError
from ..core.io import read_json
from ..core.model import GenlabModel, load, register_model
from ..core.runs import resumed_configs
from ..data.datasets import ImageDataConfig, load_image_dataset
from ..features.networks import load_feature_network, parse_layer_weights
from ..features.output import check_size, default_out_dir, load_input_image, save_image, save_row_figure, write_metadata
from ..features.weights import sha256_of
from ..viz.grid import save_image_grid
from .gatys import StyleConfig, StyleObjective

FAMILY = "style"
JOHNSON_STYLE_LAYERS = "block1_conv2:0.25,block2_conv2:0.25,block3_conv3:0.25,block4_conv3:0.25"
DEFAULT_TRAIN = dict(epochs=2, batch_size=4, lr=1e-3, sample_every=500, checkpoint_every=500, log_every=20)


@dataclass
class FastStyleConfig:
    style_image: str = cfg_field("", help="the style image the network learns (required)", metavar="PATH")
    model: str = cfg_field("vgg16", help="feature network of the perceptual loss (Johnson et al.: vgg16)")
    weights: str = cfg_field("imagenet", help="its weights: imagenet | random | a state_dict FILE")
    content_layer: str = cfg_field("block2_conv2", help="content layer (relu2_2 in the paper)")
    style_layers: str = cfg_field(JOHNSON_STYLE_LAYERS, help="style layers NAME:WEIGHT,...")
    content_weight: float = cfg_field(1.0, help="content loss weight")
    style_weight: float = cfg_field(1e6, help="style loss weight (Grams normalised by C*H*W)")
    tv_weight: float = cfg_field(1.0, help="total-variation weight")
    style_size: int = cfg_field(256, help="longer side of the style image when its Grams are computed")
    width: int = cfg_field(32, help="channels of the first conv (then 2x, 4x); the paper: 32")
    residual_blocks: int = cfg_field(5, help="residual blocks at the bottleneck; the paper: 5")

    def __post_init__(self) -> None:
        for name in ("content_weight", "style_weight", "tv_weight"):
            check_non_negative(name, getattr(self, name))
        check_positive("width", self.width)
        check_non_negative("residual_blocks", self.residual_blocks)
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
    residual blocks, two nearest-upsample convs, 9x9 conv; instance norm. Output in [0, 1] via a sigmoid."""

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
        self.objective: StyleObjective | None = None  # attached for training only; never saved

    def stylize(self, images: torch.Tensor) -> torch.Tensor:
        """``(B, 3, H, W)`` [0, 1] photos -> stylised images of the same size (H, W padded to multiples of 4)."""
        h, w = images.shape[-2:]
        ph, pw = (-h) % 4, (-w) % 4
        x = nn.functional.pad(images, (0, pw, 0, ph), mode="reflect") if ph or pw else images
        return torch.sigmoid(self.net(x * 2.0 - 1.0))[..., :h, :w]

    def forward(self, images: torch.Tensor, labels: Any = None) -> dict[str, torch.Tensor]:
        if self.objective is None:
            raise ConfigError("attach a StyleObjective (model.objective = ...) before computing training losses")
        y = self.stylize(images)
        with torch.no_grad():
            target = self.objective.features(images)[self.objective.content_layer]
        return self.objective(y, content_target=target)


def build_objective(cfg: FastStyleConfig, device: torch.device, seed: int) -> StyleObjective:
    layers = [cfg.content_layer, *parse_layer_weights(cfg.style_layers, what="--style-layers")]
    net = load_feature_network(cfg.model, weights=cfg.weights, layers=layers, seed=seed, device=device)
    style = load_input_image(cfg.style_image, size=cfg.style_size).to(device)
    scfg = StyleConfig(model=cfg.model, weights=cfg.weights, content_layer=cfg.content_layer,
                       style_layers=cfg.style_layers, content_weight=cfg.content_weight,
                       style_weight=cfg.style_weight, tv_weight=cfg.tv_weight, channels_last=False)
    return StyleObjective(net, scfg, style, [style], [1.0])


def train_fast(model_config: FastStyleConfig | None = None, data_config: ImageDataConfig | None = None,
               train_config: TrainConfig | None = None, *, out: str | Path | None = None, resume: bool = False,
               overrides: dict[str, Any] | None = None) -> TrainResult:
    """Train a :class:`FastStyleNet` for ``model_config.style_image`` on the photos of ``data_config``."""
    if resume:
        model_config, data_config, train_config = resumed_configs(
            out, family=FAMILY, data_class=ImageDataConfig, overrides=dict(overrides or {}),
            model_config=model_config, data_config=data_config, train_config=train_config)
    model_config = model_config or FastStyleConfig()
    if not model_config.style_image:
        raise ConfigError("--style-image is required: the style the network learns")
    data_config = data_config or ImageDataConfig(dataset="")
    if data_config.is_builtin or data_config.channels not in (None, 3):
        raise ConfigError("fast style training needs a folder of RGB photos (--dataset FOLDER)")
    train_config = train_config or TrainConfig(**DEFAULT_TRAIN)
    device = resolve_device(train_config.device)
    objective = build_objective(model_config, device, train_config.seed)  # bad style/weights fail before data
    data = load_image_dataset(data_config, "train")
    if len(data) == 0:
        raise DataError(f"no training images in {data_config.dataset}")
    run_dir = Path(out) if out else default_out_dir("style", f"fast-{Path(model_config.style_image).stem}")
    seed_everything(train_config.seed)
    model = FastStyleNet(model_config)
    model.objective = objective
    preview = data.images[:4].float() / 255.0
    run_config = {"family": FAMILY, "model_type": model.model_type, "model": to_dict(model_config),
                  "data": to_dict(data_config), "loss_network": objective.net.weights_info.to_dict()}

    def sample_fn(m: FastStyleNet, path: Path) -> None:
        out_images = m.stylize(preview.to(m.device)).cpu()
        save_image_grid(torch.cat([preview, out_images]), path.with_suffix(".png"), nrow=len(preview))

    print(f"loss network {model_config.model}: {objective.net.weights_info.describe()}")
    return Trainer(model, data, train_config, run_dir, run_config=run_config, sample_fn=sample_fn).fit(resume=resume)


def apply_fast(run: str | Path, image: str | Path, *, out: str | Path | None = None, size: int | None = None,
               device: str = "cpu") -> Path:
    """Stylise ``image`` with a trained fast style network (a run or saved-model folder) in one pass."""
    check_size(size)
    model = load(run, device=resolve_device(device), family=FAMILY)
    assert isinstance(model, FastStyleNet)
    x = load_input_image(image, size=size).to(model.device)
    t0 = time.perf_counter()
    with torch.no_grad():
        y = model.stylize(x).cpu()
    seconds = time.perf_counter() - t0
    out_dir = Path(out) if out else default_out_dir("style", f"{Path(image).stem}-fast")
    out_dir.mkdir(parents=True, exist_ok=True)
    save_image(y, out_dir / "result.png")
    save_row_figure([x.cpu(), y], ["content", f"fast style: {Path(model.config.style_image).name}"],
                    out_dir / "figure.png")
    from ..core.model import resolve_model_dir
    model_dir = resolve_model_dir(run)
    saved = _run_weights(Path(run))
    write_metadata(out_dir, {"kind": "fast-style", "input": str(image), "model_dir": str(model_dir),
                             "model_sha256": sha256_of(model_dir / "model.safetensors"), "config": to_dict(model.config),
                             "weights": saved, "seconds": round(seconds, 4)})
    return out_dir / "result.png"


def _run_weights(run: Path) -> dict:
    """The loss network's weights the style network was trained with (from the run's config)."""
    try:
        info = read_json(run / RUN_CONFIG, what="run config").get("loss_network")
    except Exception:  # noqa: BLE001 - a bare saved-model folder has no run config
        info = None
    return info or {"description": "unknown (no run config beside the model)"}


def saved_data_config(run: Path) -> ImageDataConfig | None:
    try:
        return from_dict(ImageDataConfig, read_json(run / RUN_CONFIG, what="run config")["data"])
    except Exception:  # noqa: BLE001
        return None
