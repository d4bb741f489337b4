"""The one image loader of genlab: every image file a user hands us goes through :func:`load_image`.

It checks the pixel count from the header before decoding (so a 50000x50000 PNG cannot eat the machine), turns
every PIL failure into a one-line :class:`DataError`, and normalises the zoo of modes PIL can return (16-bit grey,
CMYK, palettes, alpha, animation, EXIF rotation) into plain 8-bit "RGB" or "L".
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
from PIL import ExifTags, Image, ImageOps, UnidentifiedImageError

from genlab.core.errors import ConfigError, DataError
from genlab.data.tensor import TensorImageDataset

__all__ = [
    "DEFAULT_MAX_PIXELS",
    "IMAGE_EXTENSIONS",
    "ImageFolderDataset",
    "image_to_tensor",
    "list_images",
    "load_image",
    "resize_center_crop",
]

DEFAULT_MAX_PIXELS = 40_000_000
IMAGE_EXTENSIONS = {".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff"}
_EXT_TEXT = "/".join(sorted(IMAGE_EXTENSIONS))

_MODES = ("RGB", "L")
_HIGH_DEPTH_MODES = ("I", "F")  # plus every "I;16*" variant
_ALPHA_MODES = ("RGBA", "LA", "PA", "RGBa", "La")

# PIL's own bomb check in Image.open uses the global Image.MAX_IMAGE_PIXELS (warns above it, raises above twice
# it), which would override the caller's max_pixels. We switch it off just while parsing the header (cheap) and do
# our own check right after; the lock keeps two threads from restoring each other's value. Decoding runs outside
# the lock so threads can decode in parallel.
_PIL_LIMIT_LOCK = threading.Lock()


def _mp(pixels: int) -> str:
    return f"{pixels / 1e6:.1f} MP"


def _too_big(path: Path, width: int, height: int, max_pixels: int) -> DataError:
    return DataError(
        f"image {path} is {width}x{height} = {_mp(width * height)}, above the limit of {_mp(max_pixels)}; "
        f"resize it or raise --max-pixels"
    )


def _corrupt(path: Path, exc: BaseException) -> DataError:
    reason = " ".join(str(exc).split()) or type(exc).__name__
    if len(reason) > 120:
        reason = reason[:117] + "..."
    return DataError(f"image {path} is corrupt or truncated ({reason}); re-export it or remove it from the data")


def _high_depth_to_l(img: Image.Image) -> Image.Image:
    """Scale a 16/32-bit integer or float greyscale image to 8-bit by its real range instead of clipping at 255.

    The full scale is the type's range when the values fit it (16-bit: 65535 -> 255; floats in [0, 1]: 1.0 -> 255;
    values already in 0..255 stay as they are); otherwise (negative or larger values) min..max is stretched to 0..255.
    """
    arr = np.asarray(img).astype(np.float64)
    lo = float(arr.min()) if arr.size else 0.0
    hi = float(arr.max()) if arr.size else 0.0
    if img.mode.startswith("I;16"):
        offset, scale = 0.0, 65535.0
    elif lo >= 0 and img.mode == "F" and hi <= 1.0:
        offset, scale = 0.0, 1.0
    elif lo >= 0 and hi <= 255:
        offset, scale = 0.0, 255.0
    elif lo >= 0 and hi <= 65535:
        offset, scale = 0.0, 65535.0
    else:
        offset, scale = lo, (hi - lo) or 1.0
    out = np.clip(np.rint((arr - offset) * (255.0 / scale)), 0, 255).astype(np.uint8)
    return Image.fromarray(out, mode="L")


def _normalise(img: Image.Image, mode: str) -> Image.Image:
    """Convert any decoded PIL image to 8-bit ``mode`` ("RGB" or "L"), compositing alpha onto white."""
    if img.mode.startswith("I;16") or img.mode in _HIGH_DEPTH_MODES:
        img = _high_depth_to_l(img)
    if img.mode == "1":
        img = img.convert("L")
    has_alpha = img.mode in _ALPHA_MODES or "transparency" in img.info
    if img.mode == "P" and not has_alpha:
        img = img.convert("RGB")
    if has_alpha:
        # Transparent pixels become white (not black, PIL's default when dropping alpha): a transparent
        # background in a logo or sprite is meant to be "paper".
        rgba = img.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        img = Image.alpha_composite(white, rgba).convert("RGB")
    if img.mode not in ("RGB", "L"):
        img = img.convert("RGB")  # CMYK, YCbCr, RGBX, HSV, ...
    if img.mode != mode:
        img = img.convert(mode)
    return img


def load_image(
    path: str | os.PathLike[str],
    *,
    mode: str = "RGB",
    max_pixels: int | None = DEFAULT_MAX_PIXELS,
    draft_size: int | None = None,
) -> Image.Image:
    """Open, check, fully decode and normalise one image file into an 8-bit PIL image of ``mode`` ("RGB" or "L").

    Applies EXIF orientation, takes the first frame of animations, scales 16-bit grey by its range, converts CMYK
    and palettes, and composites any transparency onto white. ``max_pixels`` (None: no limit) is checked from the
    header before decoding. ``draft_size`` lets JPEG decode at a reduced scale whose both sides stay >= that size
    (a large speed-up when the image will be shrunk anyway). Every problem with the file raises :class:`DataError`.
    """
    if mode not in _MODES:
        raise ConfigError(f"image mode {mode!r} is not supported; use one of {', '.join(_MODES)}")
    if max_pixels is not None and (isinstance(max_pixels, bool) or not isinstance(max_pixels, int) or max_pixels <= 0):
        raise ConfigError(f"max_pixels must be a positive integer (or None for no limit), got {max_pixels!r}")
    path = Path(path)
    if not path.exists():
        raise DataError(f"image {path} does not exist; check the path")
    if path.is_dir():
        raise DataError(f"image {path} is a directory, not an image file; pass the file itself")

    img = _open(path, max_pixels)
    with img:
        return _decode(img, path, mode, max_pixels, draft_size)


def _open(path: Path, max_pixels: int | None) -> Image.Image:
    """Parse the header only (PIL opens lazily) and check the pixel count before anything is decoded."""
    try:
        with _PIL_LIMIT_LOCK:
            saved_limit = Image.MAX_IMAGE_PIXELS
            Image.MAX_IMAGE_PIXELS = None
            try:
                img = Image.open(path)
            finally:
                Image.MAX_IMAGE_PIXELS = saved_limit
    except UnidentifiedImageError:
        raise DataError(
            f"{path} is not an image PIL can read; remove it or convert it to one of {_EXT_TEXT}"
        ) from None
    except PermissionError:
        raise DataError(f"image {path} is not readable (permission denied); fix its permissions") from None
    except FileNotFoundError:
        raise DataError(f"image {path} does not exist; check the path") from None
    except Image.DecompressionBombError:
        raise DataError(
            f"image {path} is above the pixel limit of {_mp(max_pixels or 0)}; resize it or raise --max-pixels"
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError) as e:
        raise _corrupt(path, e) from None

    width, height = img.size
    if max_pixels is not None and width * height > max_pixels:
        img.close()
        raise _too_big(path, width, height, max_pixels)
    return img


def _decode(img: Image.Image, path: Path, mode: str, max_pixels: int | None, draft_size: int | None) -> Image.Image:
    width, height = img.size
    try:
        if getattr(img, "n_frames", 1) > 1:
            img.seek(0)  # animated GIF/WebP/APNG: the first frame stands for the file
        if draft_size is not None and img.format == "JPEG":
            img.draft(None, (draft_size, draft_size))
        img.load()
    except Image.DecompressionBombError as e:  # PIL's own per-frame/tile check (GIF, TIFF) during decoding
        raise DataError(
            f"image {path} ({width}x{height}) was refused by PIL as a possible decompression bomb "
            f"({' '.join(str(e).split())}); resize or re-export it"
        ) from None
    except Exception as e:  # noqa: BLE001 - PIL plugins raise many types for bad bytes; all mean a bad file
        raise _corrupt(path, e) from None

    try:
        orientation = img.getexif().get(ExifTags.Base.Orientation, 1)
    except Exception:  # noqa: BLE001 - unreadable EXIF is only metadata: keep the pixels as stored
        orientation = 1
    if orientation not in (1, None):
        try:
            img_t = ImageOps.exif_transpose(img)
        except Exception:  # noqa: BLE001 - same reasoning: a bad orientation tag must not reject the image
            img_t = img
    else:
        img_t = img
    try:
        out = _normalise(img_t, mode)
    except (ValueError, OSError) as e:
        raise DataError(
            f"image {path} has colour mode {img_t.mode}, which genlab cannot convert to {mode} ({e}); "
            f"save it as 8-bit RGB or greyscale"
        ) from None
    # The result must not share pixels/file handles with the image we are about to close.
    return out.copy() if out is img else out


def image_to_tensor(img: Image.Image) -> torch.Tensor:
    """An 8-bit PIL image ("L", "RGB", "RGBA", "LA") as a float32 tensor ``(C, H, W)`` in [0, 1]."""
    if img.mode == "1":
        img = img.convert("L")
    if img.mode not in ("L", "RGB", "RGBA", "LA"):
        raise ConfigError(f"image_to_tensor needs an 8-bit L/RGB image, got mode {img.mode}; load it with load_image")
    arr = np.array(img, dtype=np.uint8)  # np.array (not asarray) gives a writable copy torch can own
    if arr.ndim == 2:
        arr = arr[:, :, None]
    return torch.from_numpy(arr).permute(2, 0, 1).contiguous().to(torch.float32).div_(255.0)


def resize_center_crop(img: Image.Image, size: int) -> Image.Image:
    """Resize so the shorter side is ``size`` (Lanczos), then crop the centre ``size`` x ``size`` square."""
    if isinstance(size, bool) or not isinstance(size, int) or size < 1:
        raise ConfigError(f"image size must be a positive integer, got {size!r}")
    width, height = img.size
    if (width, height) != (size, size):
        scale = size / min(width, height)
        new_w = max(size, round(width * scale))
        new_h = max(size, round(height * scale))
        if (new_w, new_h) != (width, height):
            # reducing_gap first shrinks by an integer factor (fast), then finishes with Lanczos (sharp).
            img = img.resize((new_w, new_h), Image.Resampling.LANCZOS, reducing_gap=3.0)
        left = (new_w - size) // 2
        top = (new_h - size) // 2
        img = img.crop((left, top, left + size, top + size))
    return img


def _walk_error(err: OSError) -> None:
    raise DataError(
        f"cannot read folder {err.filename} ({err.strerror or err}); fix its permissions or remove it"
    )


def _walk(root: Path) -> Iterator[Path]:
    """Every non-hidden file under ``root`` (hidden folders are not entered), in sorted order."""
    for dirpath, dirnames, filenames in os.walk(root, onerror=_walk_error):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if not name.startswith("."):
                yield Path(dirpath) / name


def _check_root(root: Path) -> None:
    if not root.exists():
        raise DataError(f"image folder {root} does not exist; check the path")
    if not root.is_dir():
        raise DataError(f"image folder {root} is a file, not a folder; pass the folder holding the images")


def list_images(root: str | os.PathLike[str]) -> list[Path]:
    """All image files under ``root`` (recursive, sorted, hidden files and folders skipped, by extension)."""
    root = Path(root)
    _check_root(root)
    files = [p for p in _walk(root) if p.suffix.lower() in IMAGE_EXTENSIONS]
    return sorted(files, key=lambda p: p.relative_to(root).parts)


class ImageFolderDataset(TensorImageDataset):
    """Every image under ``root``, decoded once up front into a uint8 tensor ``(N, C, image_size, image_size)``.

    Images of any size, mode or format are accepted: each is normalised by :func:`load_image` (to "L" for
    ``channels=1``, "RGB" for 3) and shrunk/enlarged by :func:`resize_center_crop`. Memory is
    ``N * channels * image_size**2`` bytes. A single unreadable image fails the whole load with a
    :class:`DataError` naming it.

    Labels follow torchvision's ImageFolder: when images lie in sub-folders, the class of an image is its top-level
    sub-folder (``class_names`` = sorted folder names, label = index). When all images lie directly in ``root``
    there are no classes (every label is 0, ``class_names`` is None). When both occur, the images directly in
    ``root`` form a class named ``"."``.
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        image_size: int,
        channels: int = 3,
        max_pixels: int | None = DEFAULT_MAX_PIXELS,
    ) -> None:
        if channels not in (1, 3) or isinstance(channels, bool):
            raise ConfigError(f"channels must be 1 (greyscale) or 3 (RGB), got {channels!r}")
        if isinstance(image_size, bool) or not isinstance(image_size, int) or image_size < 4:
            raise ConfigError(f"image size must be an integer >= 4, got {image_size!r}")
        root = Path(root)
        _check_root(root)
        files = list_images(root)
        if not files:
            others = list(_walk(root))
            example = f", e.g. {others[0].relative_to(root)}" if others else ""
            raise DataError(
                f"no images in {root} (found {len(others)} other files{example}); images must be {_EXT_TEXT}"
            )

        groups = [p.relative_to(root).parts[0] if len(p.relative_to(root).parts) > 1 else "." for p in files]
        if all(g == "." for g in groups):
            labels, class_names = None, None
        else:
            class_names = sorted(set(groups))
            index = {name: i for i, name in enumerate(class_names)}
            labels = torch.tensor([index[g] for g in groups], dtype=torch.int64)

        mode = "L" if channels == 1 else "RGB"
        images = torch.empty((len(files), channels, image_size, image_size), dtype=torch.uint8)
        out = images.numpy()  # shares memory with `images`: each image is copied exactly once
        for i, path in enumerate(self._progress(files, root)):
            img = load_image(path, mode=mode, max_pixels=max_pixels, draft_size=image_size)
            arr = np.asarray(resize_center_crop(img, image_size), dtype=np.uint8)
            out[i] = arr[None] if arr.ndim == 2 else arr.transpose(2, 0, 1)

        super().__init__(images, labels, class_names=class_names)
        self.root = root
        self.files = files
        listed = set(files)
        self.skipped = [p for p in _walk(root) if p not in listed]  # non-image files, reported by the loader

    @staticmethod
    def _progress(files: list[Path], root: Path) -> Iterator[Path] | list[Path]:
        if len(files) <= 500:
            return files
        from tqdm import tqdm  # only needed for big folders

        return tqdm(files, desc=f"decoding images in {root}", unit="img", disable=not sys.stderr.isatty())
