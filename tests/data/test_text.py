"""Tests of genlab.data.text.read_text."""

from __future__ import annotations

import random
from pathlib import Path

from helpers import SHARED_DATA, one_line

import pytest

from genlab.core.errors import ConfigError, DataError
from genlab.data.text import read_text

SHARED = SHARED_DATA  # ../shared/data beside the repo, as in CI
NIETZSCHE = SHARED / "nietzsche" / "nietzsche.txt"
SHAKESPEARE = SHARED / "tinyshakespeare" / "input.txt"




def write(tmp_path: Path, data: bytes, name: str = "t.txt") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_plain_utf8(tmp_path: Path) -> None:
    text = "Grüße, 世界!\nsecond line\n"
    assert read_text(write(tmp_path, text.encode())) == text


def test_bom_and_line_endings(tmp_path: Path) -> None:
    path = write(tmp_path, b"\xef\xbb\xbfa\r\nb\rc\n")
    assert read_text(path) == "a\nb\nc\n"


def test_utf16_with_encoding(tmp_path: Path) -> None:
    path = write(tmp_path, "héllo\r\nwörld".encode("utf-16"))
    assert read_text(path, encoding="utf-16") == "héllo\nwörld"
    with pytest.raises(DataError) as err:
        read_text(path)
    one_line(err, str(path), "UTF-16", "--encoding utf-16")


def test_invalid_utf8_position_and_advice(tmp_path: Path) -> None:
    path = write(tmp_path, "abc\ndé".encode() + b"\xe9f\n")
    with pytest.raises(DataError) as err:
        read_text(path)
    one_line(err, str(path), "is not valid UTF-8: byte 0xe9 at offset 7 (line 2, column 3)",
             "--encoding latin-1 (or cp1252)", "--encoding-errors replace")
    assert read_text(path, encoding="latin-1") == "abc\ndÃ©éf\n"
    assert read_text(path, errors="replace") == "abc\ndé\ufffdf\n"
    assert read_text(path, errors="ignore") == "abc\ndéf\n"
    assert read_text(path, errors="backslashreplace") == "abc\ndé\\xe9f\n"


def test_other_8bit_encoding_is_not_called_binary(tmp_path: Path) -> None:
    path = write(tmp_path, ("Привет, как дела? " * 50).encode("cp1251"))
    with pytest.raises(DataError) as err:
        read_text(path)
    one_line(err, "is not valid UTF-8")
    assert read_text(path, encoding="cp1251").startswith("Привет")


def test_missing_and_directory(tmp_path: Path) -> None:
    with pytest.raises(DataError) as err:
        read_text(tmp_path / "none.txt")
    one_line(err, str(tmp_path / "none.txt"), "does not exist")
    with pytest.raises(DataError) as err:
        read_text(tmp_path)
    one_line(err, str(tmp_path), "directory")


def test_unreadable(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write(tmp_path, b"hello")

    def deny(self: Path) -> bytes:
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "read_bytes", deny)
    with pytest.raises(DataError) as err:
        read_text(path)
    one_line(err, str(path), "not readable")


@pytest.mark.parametrize("data", [b"", b"  \n\t\r\n  "])
def test_empty(tmp_path: Path, data: bytes) -> None:
    path = write(tmp_path, data)
    with pytest.raises(DataError) as err:
        read_text(path)
    one_line(err, f"{path} is empty")


def test_binary_with_nul(tmp_path: Path) -> None:
    path = write(tmp_path, b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "pic.txt")
    with pytest.raises(DataError) as err:
        read_text(path)
    one_line(err, f"{path} looks like a binary file, not text")


def test_binary_without_nul(tmp_path: Path) -> None:
    rng = random.Random(0)
    data = bytes(rng.randrange(1, 256) for _ in range(4000))  # random bytes, no NUL
    path = write(tmp_path, data, "blob.bin")
    with pytest.raises(DataError) as err:
        read_text(path)
    one_line(err, f"{path} looks like a binary file, not text")


def test_bad_options(tmp_path: Path) -> None:
    path = write(tmp_path, b"hi")
    with pytest.raises(ConfigError) as err:
        read_text(path, encoding="klingon-8")
    one_line(err, "klingon-8")
    with pytest.raises(ConfigError):
        read_text(path, encoding="base64")
    with pytest.raises(ConfigError) as err:
        read_text(path, errors="surrogateescape")
    one_line(err, "surrogateescape", "strict", "replace")


@pytest.mark.skipif(not NIETZSCHE.exists(), reason="shared nietzsche.txt not available")
def test_real_nietzsche_is_latin1() -> None:
    with pytest.raises(DataError) as err:
        read_text(NIETZSCHE)
    one_line(err, str(NIETZSCHE), "byte 0xe3 at offset 394533 (line 6275, column 56)")
    text = read_text(NIETZSCHE, encoding="latin-1")
    assert len(text) == 600902 and len(set(text)) == 59


@pytest.mark.skipif(not SHAKESPEARE.exists(), reason="shared tinyshakespeare not available")
def test_real_shakespeare() -> None:
    text = read_text(SHAKESPEARE)
    assert len(text) == 1115394 and text.startswith("First Citizen:")
