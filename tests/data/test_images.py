"""Tests of genlab.data.images: the robust image loader and the image-folder dataset."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from helpers import one_line
import torch
from PIL import Image

from genlab.core.errors import ConfigError, DataError
from genlab.data.images import (
    IMAGE_EXTENSIONS,
    ImageFolderDataset,
    image_to_tensor,
    list_images,
    load_image,
    resize_center_crop,
)




def noise(size: tuple[int, int] = (64, 48), seed: int = 0) -> Image.Image:
    w, h = size
    return Image.fromarray(np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8), "RGB")


def solid(color: tuple[int, int, int], size: tuple[int, int] = (10, 10)) -> Image.Image:
    return Image.new("RGB", size, color)


# ---------------------------------------------------------------- load_image: good paths


def test_rgb_png_round_trip_exact(tmp_path: Path) -> None:
    img = noise()
    img.save(tmp_path / "a.png")
    out = load_image(tmp_path / "a.png")
    assert out.mode == "RGB" and out.size == (64, 48)
    assert np.array_equal(np.asarray(out), np.asarray(img))


def test_greyscale_mode(tmp_path: Path) -> None:
    solid((10, 200, 30)).save(tmp_path / "c.png")
    out = load_image(tmp_path / "c.png", mode="L")
    assert out.mode == "L"
    assert np.asarray(out)[0, 0] == round(10 * 0.299 + 200 * 0.587 + 30 * 0.114)


def test_16bit_greyscale_scaled_not_clipped(tmp_path: Path) -> None:
    arr = np.array([[0, 257, 32896, 65535]], dtype=np.uint16)
    Image.fromarray(arr).save(tmp_path / "deep.png")
    with Image.open(tmp_path / "deep.png") as im:
        assert im.mode.startswith("I")
    out = load_image(tmp_path / "deep.png", mode="L")
    assert np.asarray(out).tolist() == [[0, 1, 128, 255]]
    rgb = load_image(tmp_path / "deep.png")
    assert rgb.mode == "RGB" and np.asarray(rgb)[0, 3].tolist() == [255, 255, 255]


def test_float_image_in_unit_range(tmp_path: Path) -> None:
    Image.fromarray(np.array([[0.0, 0.5, 1.0]], dtype=np.float32), "F").save(tmp_path / "f.tiff")
    assert np.asarray(load_image(tmp_path / "f.tiff", mode="L")).tolist() == [[0, 128, 255]]


def test_cmyk_jpeg_to_rgb(tmp_path: Path) -> None:
    Image.new("CMYK", (16, 16), (0, 255, 255, 0)).save(tmp_path / "cmyk.jpg")
    with Image.open(tmp_path / "cmyk.jpg") as im:
        assert im.mode == "CMYK"
    out = load_image(tmp_path / "cmyk.jpg")
    r, g, b = np.asarray(out)[8, 8].tolist()
    assert out.mode == "RGB" and r > 240 and g < 15 and b < 15  # pure red


def test_rgba_composited_on_white(tmp_path: Path) -> None:
    rgba = np.array([[[255, 0, 0, 0], [0, 0, 255, 255], [0, 0, 0, 128]]], dtype=np.uint8)
    Image.fromarray(rgba, "RGBA").save(tmp_path / "alpha.png")
    out = np.asarray(load_image(tmp_path / "alpha.png"))
    assert out[0, 0].tolist() == [255, 255, 255]  # fully transparent -> white, not red or black
    assert out[0, 1].tolist() == [0, 0, 255]
    assert all(126 <= v <= 128 for v in out[0, 2].tolist())  # half black over white -> mid grey


def test_la_to_greyscale(tmp_path: Path) -> None:
    la = np.array([[[0, 0], [0, 255]]], dtype=np.uint8)
    Image.fromarray(la, "LA").save(tmp_path / "la.png")
    assert np.asarray(load_image(tmp_path / "la.png", mode="L")).tolist() == [[255, 0]]


def test_palette_with_transparency(tmp_path: Path) -> None:
    pal = Image.new("P", (4, 1))
    pal.putpalette([0, 255, 0, 255, 0, 0] + [0] * (256 * 3 - 6))  # index 0 green, 1 red
    pal.putdata([0, 1, 0, 1])
    pal.save(tmp_path / "pal.png", transparency=0)
    out = np.asarray(load_image(tmp_path / "pal.png"))
    assert out[0].tolist() == [[255, 255, 255], [255, 0, 0], [255, 255, 255], [255, 0, 0]]
    pal.save(tmp_path / "opaque.png")
    assert np.asarray(load_image(tmp_path / "opaque.png"))[0, 0].tolist() == [0, 255, 0]


def test_animated_gif_first_frame(tmp_path: Path) -> None:
    frames = [solid((255, 0, 0)), solid((0, 0, 255)), solid((0, 255, 0))]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:], duration=50)
    with Image.open(tmp_path / "anim.gif") as im:
        assert im.n_frames == 3
    out = load_image(tmp_path / "anim.gif")
    assert out.mode == "RGB" and np.asarray(out)[5, 5].tolist() == [255, 0, 0]


def test_animated_webp_first_frame(tmp_path: Path) -> None:
    frames = [solid((255, 0, 0), (16, 16)), solid((0, 0, 255), (16, 16))]
    frames[0].save(tmp_path / "anim.webp", save_all=True, append_images=frames[1:], lossless=True)
    out = np.asarray(load_image(tmp_path / "anim.webp"))
    assert out[8, 8].tolist() == [255, 0, 0]


def test_exif_rotation_swaps_size(tmp_path: Path) -> None:
    img = Image.new("RGB", (40, 20), (255, 255, 255))
    img.paste((255, 0, 0), (0, 0, 8, 20))  # a red band on the left edge as stored
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    img.save(tmp_path / "rot.jpg", exif=exif, quality=95)
    out = load_image(tmp_path / "rot.jpg")
    assert out.size == (20, 40)
    arr = np.asarray(out).astype(int)
    assert arr[2, 10, 0] > 200 and arr[2, 10, 1] < 60  # the stored left edge is now the top


def test_result_is_independent_of_file(tmp_path: Path) -> None:
    solid((1, 2, 3)).save(tmp_path / "x.png")
    out = load_image(tmp_path / "x.png")
    (tmp_path / "x.png").unlink()  # the returned image must not need the file any more
    assert np.asarray(out)[0, 0].tolist() == [1, 2, 3]


# ---------------------------------------------------------------- load_image: errors


def test_missing_and_directory(tmp_path: Path) -> None:
    with pytest.raises(DataError) as err:
        load_image(tmp_path / "nope.png")
    one_line(err, str(tmp_path / "nope.png"), "does not exist")
    with pytest.raises(DataError) as err:
        load_image(tmp_path)
    one_line(err, str(tmp_path), "directory")


def test_bad_mode_and_max_pixels(tmp_path: Path) -> None:
    solid((0, 0, 0)).save(tmp_path / "x.png")
    with pytest.raises(ConfigError):
        load_image(tmp_path / "x.png", mode="CMYK")
    with pytest.raises(ConfigError):
        load_image(tmp_path / "x.png", max_pixels=0)


def test_text_file_with_png_name(tmp_path: Path) -> None:
    path = tmp_path / "notes.png"
    path.write_text("these are not pixels\n" * 10)
    with pytest.raises(DataError) as err:
        load_image(path)
    one_line(err, str(path), "is not an image PIL can read")


@pytest.mark.parametrize("fmt", ["png", "jpg", "webp"])
def test_truncated_file(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"cut.{fmt}"
    noise((128, 128)).save(path)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError) as err:
        load_image(path)
    one_line(err, str(path), "corrupt or truncated")


def test_corrupt_png_data(tmp_path: Path) -> None:
    path = tmp_path / "bad.png"
    noise((64, 64)).save(path)
    data = bytearray(path.read_bytes())
    for i in range(200, 400):
        data[i] ^= 0x5A
    path.write_bytes(bytes(data))
    with pytest.raises(DataError) as err:
        load_image(path)
    one_line(err, str(path), "corrupt or truncated")


def huge_png(path: Path, width: int, height: int) -> Path:
    """A real 8x8 greyscale PNG whose IHDR claims ``width`` x ``height`` (a decompression bomb's header)."""
    Image.new("L", (8, 8), 0).save(path)
    data = bytearray(path.read_bytes())
    ihdr = bytearray(data[12:29])  # b"IHDR" + 13 bytes of header data
    ihdr[4:12] = struct.pack(">II", width, height)
    data[12:29] = ihdr
    data[29:33] = struct.pack(">I", zlib.crc32(bytes(ihdr)))
    path.write_bytes(bytes(data))
    return path


def test_pixel_limit_checked_from_header(tmp_path: Path) -> None:
    path = huge_png(tmp_path / "bomb.png", 8000, 6000)
    with pytest.raises(DataError) as err:
        load_image(path)
    one_line(err, str(path), "is 8000x6000 = 48.0 MP, above the limit of 40.0 MP", "--max-pixels")
    before = Image.MAX_IMAGE_PIXELS
    bomb = huge_png(tmp_path / "giga.png", 100_000, 100_000)  # far above PIL's own bomb limit too
    with pytest.raises(DataError) as err:
        load_image(bomb)
    one_line(err, "100000x100000 = 10000.0 MP")
    assert Image.MAX_IMAGE_PIXELS == before  # PIL's global limit is restored


def test_small_max_pixels(tmp_path: Path) -> None:
    noise((300, 200)).save(tmp_path / "x.jpg")
    with pytest.raises(DataError) as err:
        load_image(tmp_path / "x.jpg", max_pixels=50_000)
    one_line(err, "300x200 = 0.1 MP", "limit of 0.1 MP")
    assert load_image(tmp_path / "x.jpg", max_pixels=60_000).size == (300, 200)


def test_large_limit_above_pil_default(tmp_path: Path) -> None:
    # 2 * PIL's default limit is ~179 MP; a caller limit above it must win over PIL's DecompressionBombError.
    path = huge_png(tmp_path / "big.png", 20_000, 10_000)
    with pytest.raises(DataError) as err:
        load_image(path, max_pixels=500_000_000)
    one_line(err, "corrupt or truncated")  # got past the size checks to the (fake) pixel data


# ---------------------------------------------------------------- helpers


def test_image_to_tensor_exact() -> None:
    arr = np.array([[[255, 0, 51], [0, 102, 255]]], dtype=np.uint8)
    t = image_to_tensor(Image.fromarray(arr, "RGB"))
    assert t.dtype == torch.float32 and t.shape == (3, 1, 2)
    assert torch.allclose(t[:, 0, 0], torch.tensor([1.0, 0.0, 0.2]))
    g = image_to_tensor(Image.fromarray(np.full((4, 5), 255, np.uint8), "L"))
    assert g.shape == (1, 4, 5) and float(g.min()) == 1.0


def test_resize_center_crop_sizes_and_centre() -> None:
    assert resize_center_crop(noise((100, 50)), 32).size == (32, 32)
    assert resize_center_crop(noise((50, 100)), 32).size == (32, 32)
    assert resize_center_crop(noise((10, 7)), 64).size == (64, 64)
    bands = Image.new("RGB", (60, 20), (255, 0, 0))
    bands.paste((0, 255, 0), (20, 0, 40, 20))
    bands.paste((0, 0, 255), (40, 0, 60, 20))
    out = np.asarray(resize_center_crop(bands, 20))
    assert (out == np.array([0, 255, 0], np.uint8)).all()  # only the middle band survives
    with pytest.raises(ConfigError):
        resize_center_crop(bands, 0)


def test_list_images(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / ".hidden").mkdir()
    for rel in ["z.PNG", "a.jpg", "b/c.WebP", "b/notes.txt", ".hidden/x.png", ".dot.png", "b/d.tiff"]:
        (tmp_path / rel).write_bytes(b"x")
    assert [p.relative_to(tmp_path).as_posix() for p in list_images(tmp_path)] == [
        "a.jpg", "b/c.WebP", "b/d.tiff", "z.PNG"]
    assert ".png" in IMAGE_EXTENSIONS and ".txt" not in IMAGE_EXTENSIONS


# ---------------------------------------------------------------- ImageFolderDataset


def test_folder_with_classes_mixed_sizes_and_modes(tmp_path: Path) -> None:
    (tmp_path / "dogs").mkdir()
    (tmp_path / "cats" / "inner").mkdir(parents=True)
    solid((255, 0, 0), (50, 30)).save(tmp_path / "dogs" / "1.png")
    solid((0, 0, 255), (17, 40)).save(tmp_path / "dogs" / "2.jpg", quality=100)
    Image.new("L", (20, 20), 128).save(tmp_path / "cats" / "3.bmp")
    Image.new("RGBA", (9, 9), (0, 0, 0, 0)).save(tmp_path / "cats" / "inner" / "4.png")
    ds = ImageFolderDataset(tmp_path, image_size=8)
    assert len(ds) == 4 and ds.image_shape == (3, 8, 8)
    assert ds.class_names == ["cats", "dogs"] and ds.num_classes == 2
    assert ds.labels.tolist() == [0, 0, 1, 1]
    assert [p.name for p in ds.files] == ["3.bmp", "4.png", "1.png", "2.jpg"]
    assert ds.images.dtype == torch.uint8 and ds.images.shape == (4, 3, 8, 8)
    assert (ds.images[0] == 128).all()  # grey stays grey
    assert (ds.images[1] == 255).all()  # transparent -> white
    assert ds.images[2, 0].min() == 255 and ds.images[2, 1:].max() == 0  # solid red stays exact
    x, y = ds[2]
    assert x.shape == (3, 8, 8) and int(y) == 1


def test_flat_folder_greyscale(tmp_path: Path) -> None:
    for i in range(3):
        noise((30, 20), seed=i).save(tmp_path / f"{i}.png")
    ds = ImageFolderDataset(tmp_path, image_size=16, channels=1)
    assert ds.image_shape == (1, 16, 16) and ds.labels is None
    assert ds.class_names is None and ds.num_classes is None and int(ds[0][1]) == 0


def test_mixed_flat_and_sub_folders(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    solid((0, 0, 0)).save(tmp_path / "top.png")
    solid((0, 0, 0)).save(tmp_path / "a" / "x.png")
    ds = ImageFolderDataset(tmp_path, image_size=4)
    assert ds.class_names == [".", "a"] and ds.labels.tolist() == [1, 0]


def test_folder_option_errors(tmp_path: Path) -> None:
    solid((0, 0, 0)).save(tmp_path / "x.png")
    with pytest.raises(ConfigError):
        ImageFolderDataset(tmp_path, image_size=8, channels=2)
    with pytest.raises(ConfigError):
        ImageFolderDataset(tmp_path, image_size=3)


def test_folder_missing_or_file(tmp_path: Path) -> None:
    with pytest.raises(DataError) as err:
        ImageFolderDataset(tmp_path / "nope", image_size=8)
    one_line(err, str(tmp_path / "nope"), "does not exist")
    (tmp_path / "f.png").write_bytes(b"x")
    with pytest.raises(DataError) as err:
        ImageFolderDataset(tmp_path / "f.png", image_size=8)
    one_line(err, str(tmp_path / "f.png"), "not a folder")


def test_folder_without_images(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("hi")
    (tmp_path / "b.csv").write_text("1,2")
    with pytest.raises(DataError) as err:
        ImageFolderDataset(tmp_path, image_size=8)
    one_line(err, f"no images in {tmp_path}", "found 2 other files, e.g. a.txt", ".png", ".jpg")


def test_folder_with_a_corrupt_image(tmp_path: Path) -> None:
    solid((0, 0, 0)).save(tmp_path / "a.png")
    noise((64, 64)).save(tmp_path / "b.jpg")
    (tmp_path / "b.jpg").write_bytes((tmp_path / "b.jpg").read_bytes()[:300])
    with pytest.raises(DataError) as err:
        ImageFolderDataset(tmp_path, image_size=8)
    one_line(err, str(tmp_path / "b.jpg"), "corrupt or truncated")
