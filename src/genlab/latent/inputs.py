"""What the latent tools read: the model (a run folder or a model object), its test set, images named on the command
line (``test:INDEX`` or files), and attribute files (CelebA's ``list_attr_celeba.txt`` or a CSV)."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..core.config import from_dict, to_dict
from ..core.errors import CheckpointError, ConfigError, DataError
from ..data.datasets import ImageDataConfig, load_image_dataset
from ..data.images import image_to_tensor, list_images, load_image, resize_center_crop

LATENT_FAMILIES = ("vae", "ae", "aae")


def note(message: str) -> None:
    print(f"note: {message}", file=sys.stderr, flush=True)


def article(word: str) -> str:
    """"an" before a vowel sound (an ae model, an aae model), else "a"."""
    return "an" if word[:1].lower() in "aeiou" else "a"


def load_model(run: str | Path, *, family: str | None, device: str = "auto"):
    """The model of a run folder (or saved-model folder), refusing (one line) a run of another family."""
    from ..core.device import resolve_device
    from ..core.model import load, read_model_config, resolve_model_dir

    directory = resolve_model_dir(run)
    cfg = read_model_config(directory)
    found = str(cfg.get("family", "?"))
    if family is not None and found != family:
        raise CheckpointError(f"{run} holds {article(found)} {found} model ({cfg.get('model_type', '?')}), not "
                              f"{article(family)} {family} model; use `genlab {found} ...` for it")
    return load(directory, device=resolve_device(device))


@dataclass
class Source:
    """A model and where it came from (``run_dir`` is None for a model object)."""

    model: Any
    run_dir: Path | None
    data_config: ImageDataConfig | None

    def out_path(self, out: str | Path | None, name: str) -> Path:
        """``out`` (a folder, or a name without a suffix, gets ``name``), else ``RUN/plots/name``."""
        if out is not None:
            out = Path(out)
            return out / name if out.is_dir() or not out.suffix else out
        if self.run_dir is None:
            raise ConfigError("pass out=PATH.png when giving a model object rather than a run folder")
        return self.run_dir / "plots" / name

    def test_data(self):
        if self.data_config is None:
            raise ConfigError("no dataset known for this model: pass --dataset (and --data-dir) / data_config=")
        test = load_image_dataset(self.data_config, "test")
        if test.image_shape != self.model.image_shape:
            raise ConfigError(f"{self.data_config.dataset} test images are {test.image_shape}, the model takes "
                              f"{self.model.image_shape}; pass the --dataset it was trained on")
        return test


def resolve(run_or_model: Any, *, family: str | None = None, device: str = "auto",
            data_config: ImageDataConfig | None = None, dataset: str | None = None,
            data_dir: str | None = None) -> Source:
    """Load the model of a run folder (checking its family) or take a model object; work out its test data."""
    from ..data.datasets import saved_data_config

    if isinstance(run_or_model, torch.nn.Module):
        model, run_dir, saved = run_or_model, None, None
    else:
        run_dir = Path(run_or_model)
        model = load_model(run_dir, family=family, device=device)
        saved = saved_data_config(run_dir)
    for attr in ("latent_dim", "encode_latent", "decode_images", "image_shape", "sample"):
        if not hasattr(model, attr):
            raise ConfigError(f"a {getattr(model, 'family', type(model).__name__)} model has no latent space for "
                              f"these tools (they work on {', '.join(LATENT_FAMILIES)} models)")
    if data_config is None and (saved is not None or dataset or data_dir):
        fields = {**to_dict(saved or ImageDataConfig()), **({"dataset": dataset} if dataset else {}),
                  **({"data_dir": data_dir} if data_dir else {})}
        data_config = from_dict(ImageDataConfig, fields)
    if data_config is not None and not data_config.is_builtin:
        c, s, _ = model.image_shape  # a folder is read at the model's size and channel count
        data_config = from_dict(ImageDataConfig, {**to_dict(data_config), "image_size": s, "channels": c})
    return Source(model, run_dir, data_config)


def image_file_tensor(path: str | Path, image_shape: tuple[int, int, int], *, quiet: bool = False) -> torch.Tensor:
    """One image file as a (C, H, W) float tensor at the model's shape, converted (with a note) where it differs."""
    from PIL import Image

    c, h, _ = image_shape
    img = load_image(path, mode="L" if c == 1 else "RGB")  # one-line DataError for missing/corrupt files
    with Image.open(path) as raw:
        size, mode = raw.size, raw.mode
    want = "grey (L)" if c == 1 else "RGB"
    changes = []
    if size != (h, h):
        changes.append(f"resized/cropped from {size[0]}x{size[1]} to {h}x{h}")
    if mode != img.mode:
        changes.append(f"converted from mode {mode} to {want}")
    if changes and not quiet:
        note(f"{path}: {' and '.join(changes)} for this model")
    return image_to_tensor(resize_center_crop(img, h))


def parse_image_refs(spec: str | list[str] | tuple[str, ...]) -> list[str]:
    """``"test:0,test:5,a.png"`` (or a list of such strings) -> ``["test:0", "test:5", "a.png"]``."""
    items = [spec] if isinstance(spec, str) else list(spec)
    refs = [r.strip() for item in items for r in str(item).split(",") if r.strip()]
    if not refs:
        raise ConfigError("no images given; name them as test:INDEX or image files")
    return refs


def load_image_refs(refs: list[str], source: Source) -> torch.Tensor:
    """Images named ``test:INDEX`` (the model's test set) or by file path, as (N, C, H, W) floats in [0, 1]."""
    test = None
    out = []
    for ref in refs:
        if ref.startswith("test:"):
            test = test or source.test_data()
            try:
                i = int(ref[5:])
            except ValueError:
                raise ConfigError(f"{ref!r}: expected test:INDEX with a whole number INDEX") from None
            if not 0 <= i < len(test):
                raise ConfigError(f"{ref!r}: the test set has {len(test)} images (indices 0..{len(test) - 1})")
            out.append(test.images[i].float() / 255.0)
        else:
            out.append(image_file_tensor(ref, source.model.image_shape))
    return torch.stack(out)


def read_attribute_file(path: str | Path) -> tuple[list[str], dict[str, list[float]]]:
    """Parse CelebA's ``list_attr_celeba.txt`` (count line, names line, ``file v1 v2 ...`` rows of 1/-1) or a CSV
    with a header row whose first column is the file name. Returns (attribute names, file name -> values)."""
    path = Path(path)
    if not path.is_file():
        raise DataError(f"attributes file {path} does not exist")
    lines = [line for line in path.read_text(errors="replace").splitlines() if line.strip()]
    if lines and lines[0].strip().isdigit():
        lines = lines[1:]  # CelebA: the number of images
    if len(lines) < 2:
        raise DataError(f"attributes file {path} has no header and rows; expected CelebA's list_attr_celeba.txt "
                        f"or a CSV with a header row")

    def split(line: str) -> list[str]:
        return [f.strip() for f in (line.split(",") if "," in line else line.split())]

    header, rows = split(lines[0]), {}
    width = len(split(lines[1]))
    names = header if len(header) == width - 1 else header[1:]  # CelebA's header has no file-name column
    if len(names) != width - 1:
        raise DataError(f"attributes file {path}: the header has {len(header)} names but rows have {width} fields")
    for n, line in enumerate(lines[1:], start=2):
        fields = split(line)
        try:
            rows[Path(fields[0]).name] = [float(v) for v in fields[1:]]
        except ValueError:
            raise DataError(f"attributes file {path}, line {n}: values must be numbers (1/-1 or 1/0)") from None
        if len(fields) != width:
            raise DataError(f"attributes file {path}, line {n}: {len(fields)} fields, expected {width}")
    return names, rows


def folder_with_attributes(folder: str | Path, attributes: str | Path, label: str, image_shape: tuple[int, int, int],
                           *, max_images: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Up to ``max_images`` images of ``folder`` listed in the attributes file, and whether each has ``label``."""
    names, rows = read_attribute_file(attributes)
    lookup = {n.lower(): i for i, n in enumerate(names)}
    if label.lower() not in lookup:
        raise ConfigError(f"attribute {label!r} is not in {attributes}; it has {', '.join(names[:12])}"
                          f"{', ...' if len(names) > 12 else ''}")
    col = lookup[label.lower()]
    files = [p for p in list_images(folder) if p.name in rows][:max_images]
    if not files:
        raise DataError(f"none of the images in {folder} is listed in {attributes}; check the folder and file")
    images = torch.stack([image_file_tensor(p, image_shape, quiet=True) for p in files])
    has = torch.tensor([rows[p.name][col] > 0 for p in files])
    return images, has


def label_index(label: str | int, class_names: list[str] | None, dataset: str) -> int:
    """A class given by name (case-insensitive) or index, as an index into ``class_names``."""
    if class_names is None:
        raise DataError(f"the {dataset} test images have no labels; use an image folder with class sub-folders "
                        f"or --attributes FILE")
    text = str(label).strip()
    lookup = {n.lower(): i for i, n in enumerate(class_names)}
    if text.lower() in lookup:
        return lookup[text.lower()]
    if text.lstrip("-").isdigit():
        i = int(text)
        if 0 <= i < len(class_names):
            return i
    raise ConfigError(f"unknown label {label!r} for {dataset}; use a class name ({', '.join(class_names)}) "
                      f"or an index 0..{len(class_names) - 1}")
