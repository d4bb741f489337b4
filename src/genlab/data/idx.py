"""Reader for IDX files, the binary format MNIST and Fashion-MNIST ship in.

Layout: two zero bytes, a dtype byte, an ndim byte, ``ndim`` big-endian uint32 dimensions, then the values
(big-endian for multi-byte types). Files may be gzipped; gzip is detected by its magic bytes, not by the name.
"""

from __future__ import annotations

import gzip
import os
import zlib
from pathlib import Path

import numpy as np
import torch

from genlab.core.io import read_user_file
from genlab.core.errors import DataError

__all__ = ["read_idx"]

_GZIP_MAGIC = b"\x1f\x8b"

# IDX type byte -> (big-endian numpy dtype as stored, human name).
_IDX_DTYPES: dict[int, tuple[str, str]] = {
    0x08: (">u1", "uint8"),
    0x09: (">i1", "int8"),
    0x0B: (">i2", "int16"),
    0x0C: (">i4", "int32"),
    0x0D: (">f4", "float32"),
    0x0E: (">f8", "float64"),
}

_FIX = "re-download it or point genlab at a good copy"


def _read_bytes(path: Path) -> bytes:
    """Return the file's decompressed content, turning every OS/gzip problem into a one-line DataError."""
    raw = read_user_file(path, what="IDX file", fix=f"check the path or pass --data-dir DIR ({_FIX})")
    if raw[:2] != _GZIP_MAGIC:
        return raw
    try:
        # gzip.decompress handles multi-member files and rejects trailing non-zero garbage.
        return gzip.decompress(raw)
    except EOFError:
        raise DataError(f"IDX file {path} is a truncated gzip file (it ends mid-stream); {_FIX}") from None
    except (gzip.BadGzipFile, zlib.error, OSError) as e:
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise DataError(f"IDX file {path} is a corrupt gzip file ({reason}); {_FIX}") from None


def read_idx(path: str | os.PathLike[str]) -> torch.Tensor:
    """Read an IDX file (raw or gzipped) into a tensor of the shape and dtype its header declares.

    Raises :class:`DataError` for a missing, unreadable, corrupt, truncated or over-long file.
    """
    path = Path(path)
    data = _read_bytes(path)
    if len(data) < 4:
        raise DataError(f"IDX file {path} is only {len(data)} bytes long, too short for an IDX header; {_FIX}")
    zero0, zero1, type_byte, ndim = data[0], data[1], data[2], data[3]
    if zero0 != 0 or zero1 != 0 or type_byte not in _IDX_DTYPES or ndim == 0:
        magic = " ".join(f"{b:02x}" for b in data[:4])
        raise DataError(
            f"IDX file {path} has bad magic bytes {magic} (expected 00 00, a type byte 08/09/0b/0c/0d/0e and a "
            f"non-zero dimension count), so it is not an IDX file; {_FIX}"
        )
    header_len = 4 + 4 * ndim
    if len(data) < header_len:
        raise DataError(
            f"IDX file {path} is truncated: its header needs {header_len} bytes but the file has {len(data)}; {_FIX}"
        )
    dims = tuple(int(d) for d in np.frombuffer(data, dtype=">u4", count=ndim, offset=4))
    dtype_str, dtype_name = _IDX_DTYPES[type_byte]
    dtype = np.dtype(dtype_str)
    count = 1
    for d in dims:
        count *= d
    expected = count * dtype.itemsize
    found = len(data) - header_len
    shape_txt = "x".join(str(d) for d in dims)
    if found < expected:
        raise DataError(
            f"IDX file {path} is truncated: header says {shape_txt} {dtype_name} = {expected} data bytes, "
            f"found {found}; {_FIX}"
        )
    if found > expected:
        raise DataError(
            f"IDX file {path} has {found - expected} bytes of trailing garbage after the {expected} data bytes its "
            f"header ({shape_txt} {dtype_name}) declares; {_FIX}"
        )
    arr = np.frombuffer(data, dtype=dtype, count=count, offset=header_len).reshape(dims)
    # frombuffer gives a read-only view of `data`; torch wants a writable, native-endian array. astype copies
    # once (and byte-swaps if needed), which is the only copy made.
    arr = arr.astype(dtype.newbyteorder("="), copy=True)
    return torch.from_numpy(arr)
