"""The text loader: every text corpus a user hands genlab is read by :func:`read_text`."""

from __future__ import annotations

import codecs
import os
from pathlib import Path

from genlab.core.io import read_user_file
from genlab.core.errors import ConfigError, DataError

__all__ = ["ENCODING_ERRORS", "read_text"]

ENCODING_ERRORS = ("strict", "replace", "ignore", "backslashreplace")

# Bytes that never occur in text (all C0 controls except \t \n \v \f \r and ESC). Used with the undecodable share
# so that text in another 8-bit encoding (e.g. cp1251 Cyrillic, mostly invalid as UTF-8) is not called binary.
_CONTROL = bytes(b for b in range(32) if b not in (9, 10, 11, 12, 13, 27))
_SAMPLE = 1 << 20  # the undecodable-share heuristic looks at the first MiB: enough to decide, cheap on huge files


def _codec_name(encoding: str) -> str:
    try:
        info = codecs.lookup(encoding)
    except LookupError:
        raise ConfigError(
            f"unknown encoding {encoding!r}; use a Python codec name such as utf-8, latin-1 or cp1252"
        ) from None
    # bytes-to-bytes codecs (base64, zlib, ...) exist in the registry but cannot produce text.
    if not getattr(info, "_is_text_encoding", True):
        raise ConfigError(f"{encoding!r} is not a text encoding; use one such as utf-8, latin-1 or cp1252")
    return info.name


def _looks_binary(data: bytes, codec: str, strict_utf8_failed: bool) -> bool:
    if codec.startswith(("utf-16", "utf-32")):
        return False  # NULs are normal there
    if b"\x00" in data:  # memchr: fast even on big files
        return True
    sample = data[:_SAMPLE]
    if not strict_utf8_failed or not sample:
        return False
    bad = sample.decode("utf-8", "replace").count("\ufffd")
    controls = len(sample) - len(sample.translate(None, _CONTROL))
    return bad / len(sample) > 0.3 and controls / len(sample) > 0.01


def _position(data: bytes, offset: int) -> tuple[int, int]:
    """1-based (line, column) of byte ``offset``; the column counts characters, decoding the line leniently."""
    line_start = data.rfind(b"\n", 0, offset) + 1
    line = data.count(b"\n", 0, offset) + 1
    column = len(data[line_start:offset].decode("utf-8", "replace")) + 1
    return line, column


def read_text(path: str | os.PathLike[str], *, encoding: str = "utf-8", errors: str = "strict") -> str:
    """Read a whole text file, strip a BOM and normalise line ends to ``\\n``.

    ``errors`` is one of strict/replace/ignore/backslashreplace. Raises :class:`ConfigError` for a bad encoding or
    errors value and :class:`DataError` for a missing, unreadable, binary, empty or wrongly encoded file.
    """
    if errors not in ENCODING_ERRORS:
        raise ConfigError(f"encoding errors mode {errors!r} is not supported; use one of {', '.join(ENCODING_ERRORS)}")
    codec = _codec_name(encoding)
    path = Path(path)
    data = read_user_file(path, what="text file")
    if not data:
        raise DataError(f"text file {path} is empty (0 bytes); use a file that holds text")

    if not codec.startswith(("utf-16", "utf-32")) and data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        raise DataError(
            f"{path} starts with a UTF-16 byte-order mark, so it is UTF-16 text, not {encoding}; pass --encoding utf-16"
        )
    if _looks_binary(data, codec, strict_utf8_failed=False):
        raise DataError(f"{path} looks like a binary file, not text (it contains NUL bytes); pass a plain-text file")

    try:
        text = data.decode(codec, errors)
    except UnicodeDecodeError as e:
        if codec == "utf-8" and _looks_binary(data, codec, strict_utf8_failed=True):
            raise DataError(
                f"{path} looks like a binary file, not text (most of its bytes are not valid UTF-8); "
                f"pass a plain-text file"
            ) from None
        line, column = _position(data, e.start)
        label = "UTF-8" if codec == "utf-8" else codec
        raise DataError(
            f"{path} is not valid {label}: byte 0x{data[e.start]:02x} at offset {e.start} "
            f"(line {line}, column {column}); pass --encoding latin-1 (or cp1252) if that is its encoding, "
            f"or --encoding-errors replace to substitute bad bytes"
        ) from None
    except LookupError:  # a codec that lookup() accepted but decode() refuses
        raise ConfigError(f"{encoding!r} is not a text encoding; use one such as utf-8, latin-1 or cp1252") from None

    if text.startswith("\ufeff"):
        text = text[1:]
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip():
        raise DataError(f"text file {path} is empty (it holds only whitespace); use a file that holds text")
    return text
