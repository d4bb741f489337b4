"""Tests of genlab.data.idx.read_idx on synthetic IDX files."""

from __future__ import annotations

import gzip
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

from genlab.core.errors import DataError
from genlab.data.idx import read_idx

TYPE_BYTES = {np.uint8: 0x08, np.int8: 0x09, np.int16: 0x0B, np.int32: 0x0C, np.float32: 0x0D, np.float64: 0x0E}


def idx_bytes(arr: np.ndarray) -> bytes:
    header = struct.pack(">BBBB", 0, 0, TYPE_BYTES[arr.dtype.type], arr.ndim)
    header += struct.pack(f">{arr.ndim}I", *arr.shape)
    return header + arr.astype(arr.dtype.newbyteorder(">")).tobytes()


def write_idx(path: Path, arr: np.ndarray, *, compress: bool | None = None) -> Path:
    data = idx_bytes(arr)
    if compress if compress is not None else path.suffix == ".gz":
        data = gzip.compress(data)
    path.write_bytes(data)
    return path


def assert_one_line(err: pytest.ExceptionInfo, path: Path, *words: str) -> str:
    msg = str(err.value)
    assert "\n" not in msg
    assert str(path) in msg
    for w in words:
        assert w in msg, msg
    return msg


@pytest.mark.parametrize("dtype", list(TYPE_BYTES))
@pytest.mark.parametrize("gz", [False, True])
def test_round_trip_every_dtype(tmp_path: Path, dtype: type, gz: bool) -> None:
    rng = np.random.default_rng(0)
    arr = (rng.standard_normal((3, 4, 5)) * 100).astype(dtype)
    path = write_idx(tmp_path / ("x.idx.gz" if gz else "x.idx"), arr)
    out = read_idx(path)
    assert out.shape == (3, 4, 5)
    assert out.dtype == torch.from_numpy(arr).dtype
    np.testing.assert_array_equal(out.numpy(), arr)


def test_mnist_like_uint8_and_1d(tmp_path: Path) -> None:
    images = np.arange(2 * 28 * 28, dtype=np.uint64).reshape(2, 28, 28).astype(np.uint8)
    labels = np.array([5, 0, 4], dtype=np.uint8)
    out = read_idx(write_idx(tmp_path / "i.gz", images))
    assert out.dtype == torch.uint8 and out.shape == (2, 28, 28)
    assert torch.equal(out, torch.from_numpy(images))
    assert read_idx(write_idx(tmp_path / "l", labels)).tolist() == [5, 0, 4]


def test_gzip_detected_by_magic_not_name(tmp_path: Path) -> None:
    arr = np.arange(10, dtype=np.uint8)
    assert read_idx(write_idx(tmp_path / "no-suffix", arr, compress=True)).tolist() == list(range(10))
    assert read_idx(write_idx(tmp_path / "raw.gz", arr, compress=False)).tolist() == list(range(10))


def test_result_is_writable_and_native(tmp_path: Path) -> None:
    out = read_idx(write_idx(tmp_path / "f", np.array([1.5, -2.0], dtype=np.float32)))
    out += 1  # would fail on a read-only buffer
    assert out.tolist() == [2.5, -1.0]


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nope.gz"
    with pytest.raises(DataError) as err:
        read_idx(path)
    assert_one_line(err, path, "does not exist")


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(DataError) as err:
        read_idx(tmp_path)
    assert_one_line(err, tmp_path, "directory")


def test_unreadable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_idx(tmp_path / "x", np.zeros(3, np.uint8))

    def deny(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", deny)
    with pytest.raises(DataError) as err:
        read_idx(path)
    assert_one_line(err, path, "permission denied")


def test_truncated_gzip(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    data = gzip.compress(idx_bytes(rng.integers(0, 255, (50, 28, 28), dtype=np.uint8)))
    path = tmp_path / "cut.gz"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataError) as err:
        read_idx(path)
    assert_one_line(err, path, "truncated gzip")


def test_corrupt_gzip(tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    data = bytearray(gzip.compress(idx_bytes(rng.integers(0, 255, (50, 28, 28), dtype=np.uint8))))
    for i in range(20, 60):
        data[i] ^= 0xFF
    path = tmp_path / "bad.gz"
    path.write_bytes(bytes(data))
    with pytest.raises(DataError) as err:
        read_idx(path)
    assert_one_line(err, path, "corrupt gzip")


def test_gzip_trailing_garbage(tmp_path: Path) -> None:
    path = tmp_path / "junk.gz"
    path.write_bytes(gzip.compress(idx_bytes(np.zeros(4, np.uint8))) + b"garbage!")
    with pytest.raises(DataError) as err:
        read_idx(path)
    assert_one_line(err, path, "corrupt gzip")


@pytest.mark.parametrize("head", [b"PK\x03\x04", b"\x00\x00\x07\x01", b"\x00\x00\x08\x00", b"\x01\x00\x08\x01"])
def test_bad_magic(tmp_path: Path, head: bytes) -> None:
    path = tmp_path / "bad"
    path.write_bytes(head + b"\x00" * 16)
    with pytest.raises(DataError) as err:
        read_idx(path)
    assert_one_line(err, path, "bad magic")


def test_too_short_and_truncated_header(tmp_path: Path) -> None:
    short = tmp_path / "short"
    short.write_bytes(b"\x00\x00")
    with pytest.raises(DataError) as err:
        read_idx(short)
    assert_one_line(err, short, "too short")
    header = tmp_path / "header"
    header.write_bytes(b"\x00\x00\x08\x03" + struct.pack(">I", 10))
    with pytest.raises(DataError) as err:
        read_idx(header)
    assert_one_line(err, header, "truncated", "16 bytes")


def test_truncated_data(tmp_path: Path) -> None:
    path = tmp_path / "t.gz"
    data = idx_bytes(np.zeros((10, 28, 28), np.uint8))
    path.write_bytes(gzip.compress(data[:-100]))
    with pytest.raises(DataError) as err:
        read_idx(path)
    assert_one_line(err, path, "truncated", "7840", "7740")


def test_trailing_garbage(tmp_path: Path) -> None:
    path = tmp_path / "g"
    path.write_bytes(idx_bytes(np.zeros((2, 3), np.int32)) + b"xyz")
    with pytest.raises(DataError) as err:
        read_idx(path)
    assert_one_line(err, path, "trailing garbage", "3 bytes")
