"""Categorical CSV files for the naive-Bayes generator: read, check, bin numeric columns, write samples."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

from ..core.errors import ConfigError, DataError


def _is_number(v: str) -> bool:
    try:
        return math.isfinite(float(v))
    except ValueError:
        return False


def read_csv(path: str | Path) -> tuple[list[str], list[list[str]]]:
    """(header, rows) of a CSV with a header line; refuses one column, no rows, ragged rows and missing values."""
    from ..data.text import read_text  # missing, folder, binary, empty and non-UTF-8 files: one line each

    path = Path(path).expanduser()
    text = read_text(path)
    try:
        table = [r for r in csv.reader(io.StringIO(text))]
    except csv.Error as e:
        raise DataError(f"{path} is not a readable CSV ({e})") from None
    table = [r for r in table if r and any(c.strip() for c in r)]
    if not table:
        raise DataError(f"{path} is empty; it needs a header line and rows of categorical values")
    header = [h.strip() for h in table[0]]
    if len(header) < 2:
        raise DataError(f"{path} has one column ({header[0]!r}); naive Bayes models several features: give a CSV "
                        f"with two or more columns")
    if any(not h for h in header):
        raise DataError(f"{path}: column {header.index('') + 1} of the header has no name")
    if len(set(header)) != len(header):
        dup = next(h for h in header if header.count(h) > 1)
        raise DataError(f"{path}: the header names column {dup!r} twice")
    rows = [[c.strip() for c in r] for r in table[1:]]
    if not rows:
        raise DataError(f"{path} has a header but no rows; add data")
    for i, r in enumerate(rows, start=2):
        if len(r) != len(header):
            raise DataError(f"{path} line {i} has {len(r)} values but the header has {len(header)} columns")
        if "" in r:
            col = header[r.index("")]
            n_missing = sum("" in row for row in rows)
            raise DataError(f"{path} line {i}: column {col!r} is missing a value ({n_missing} row(s) have missing "
                            f"values); fill them in or drop those rows (or use a category such as 'none')")
    return header, rows


def numeric_columns(header: list[str], rows: list[list[str]]) -> list[str]:
    return [h for j, h in enumerate(header) if all(_is_number(r[j]) for r in rows)]


def quantile_edges(values: list[float], bins: int) -> list[float]:
    """Inner edges of ``bins`` equal-count bins (duplicates dropped)."""
    v = sorted(values)
    edges = []
    for q in range(1, bins):
        e = v[min(len(v) - 1, int(round(q * len(v) / bins)))]
        if not edges or e > edges[-1]:
            edges.append(e)
    return edges


def bin_label(x: float, edges: list[float]) -> str:
    k = sum(x >= e for e in edges)
    lo = "-inf" if k == 0 else f"{edges[k - 1]:g}"
    hi = "inf" if k == len(edges) else f"{edges[k]:g}"
    return f"[{lo}, {hi})"


def apply_bins(value: str, edges: list[float], *, column: str, row: int, what: str) -> str:
    if not _is_number(value):
        raise DataError(f"{what} row {row}, column {column!r}: {value!r} is not a number (the column was binned)")
    return bin_label(float(value), edges)


def prepare(header: list[str], rows: list[list[str]], *, bins: int | None, as_categories: bool,
            source: str) -> tuple[list[list[str]], dict[str, list[float]]]:
    """Rows with numeric columns binned (``bins``) or kept as labels (``as_categories``); refuses them otherwise."""
    numeric = numeric_columns(header, rows)
    if numeric and not bins and not as_categories:
        raise DataError(f"{source}: column(s) {', '.join(repr(c) for c in numeric)} hold numbers; naive Bayes here "
                        f"is categorical: pass --bins N to bin them into N equal-count bins, or --as-categories to "
                        f"treat each number as a label")
    if bins is not None and (isinstance(bins, bool) or bins < 2):
        raise ConfigError(f"--bins must be an integer >= 2 (got {bins})")
    edges: dict[str, list[float]] = {}
    if bins and not as_categories:
        for c in numeric:
            j = header.index(c)
            edges[c] = quantile_edges([float(r[j]) for r in rows], bins)
        rows = [[bin_label(float(v), edges[h]) if h in edges else v for h, v in zip(header, r, strict=True)]
                for r in rows]
    return rows, edges


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    from ..core.io import write_bytes_atomic

    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    write_bytes_atomic(path, buf.getvalue().encode("utf-8"))
