"""Token streams for language-model training: a train/validation split and a dataset of shifted blocks.

The corpus is one long 1-D tensor of token ids. Training examples are all its windows of ``block_size + 1`` tokens:
input ``x = ids[i:i+T]`` and target ``y = ids[i+1:i+T+1]`` (next-token prediction at every position), as in
Karpathy's nanoGPT ``get_batch`` and the char-LSTM of Chollet's *Deep Learning with Python* (which steps its
windows by 3 characters; here every offset is an example and the sampler picks them).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import torch
from torch.utils.data import Dataset

from genlab.core.errors import ConfigError, DataError

__all__ = ["TokenBlockDataset", "split_ids"]


def _check_ids(ids: Any) -> torch.Tensor:
    """``ids`` as a 1-D int64 tensor; a wrong type or shape is a bug in the caller, hence ValueError."""
    ids = torch.as_tensor(ids)
    if ids.ndim != 1 or ids.is_floating_point() or ids.is_complex() or ids.dtype == torch.bool:
        raise ValueError(f"ids must be a 1-D integer tensor, got {ids.dtype} of shape {tuple(ids.shape)}")
    return ids.to(torch.int64)


def _check_block_size(block_size: Any) -> int:
    if isinstance(block_size, bool) or not isinstance(block_size, int) or block_size < 1:
        raise ConfigError(f"--block-size must be an integer >= 1 (got {block_size!r})")
    return block_size


def split_ids(
    ids: torch.Tensor, *, val_fraction: float = 0.1, block_size: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Split the corpus contiguously: the first ``1 - val_fraction`` for training, the rest for validation.

    A contiguous split (nanoGPT's ``data[:int(n*0.9)]`` / ``data[int(n*0.9):]``) keeps validation text unseen;
    a random split of overlapping windows would leak almost every validation token into training. Both parts are
    views of ``ids`` and must hold at least one block of ``block_size + 1`` tokens (:class:`DataError` otherwise).
    """
    ids = _check_ids(ids)
    block_size = _check_block_size(block_size)
    if (isinstance(val_fraction, bool) or not isinstance(val_fraction, (int, float))
            or not math.isfinite(val_fraction) or not 0 < val_fraction <= 0.5):
        raise ConfigError(f"--val-fraction must be in (0, 0.5] (got {val_fraction!r})")
    n = int(ids.numel())
    n_train = int(n * (1 - val_fraction))  # nanoGPT's rounding: the validation part gets the remainder
    n_val = n - n_train
    need = block_size + 1
    head = f"the corpus has {n} tokens"
    if n_train < need and n_val < need:
        raise DataError(f"{head}; the training and validation splits need at least block_size+1 = {need} each "
                        f"(they have {n_train} and {n_val}); use a longer text or a smaller --block-size")
    if n_val < need:
        raise DataError(f"{head}; the validation split needs at least block_size+1 = {need} (it has {n_val}); "
                        f"use a longer text, a smaller --block-size or a larger --val-fraction")
    if n_train < need:
        raise DataError(f"{head}; the training split needs at least block_size+1 = {need} (it has {n_train}); "
                        f"use a longer text, a smaller --block-size or a smaller --val-fraction")
    return ids[:n_train], ids[n_train:]


class TokenBlockDataset(Dataset):
    """Every window of a token stream: item ``i`` is ``(ids[i:i+T], ids[i+1:i+T+1])`` with ``T = block_size``.

    ``__getitems__`` is the fast path: torch's DataLoader calls it with a whole batch of indices and hands its
    result to ``collate_fn``, so one gather builds a ``(B, T)`` batch instead of B ``__getitem__`` calls plus a
    stack. Use ``DataLoader(ds, batch_size=B, shuffle=True, collate_fn=ds.collate_fn)``: the default collate would
    mis-read the ready-made ``(X, Y)`` tuple as a batch of two samples.
    """

    def __init__(self, ids: torch.Tensor, block_size: int) -> None:
        ids = _check_ids(ids)
        block_size = _check_block_size(block_size)
        if ids.numel() <= block_size:
            raise DataError(
                f"the text has {ids.numel()} tokens, fewer than one block of block_size+1 = {block_size + 1} "
                f"tokens; use a longer text or a smaller --block-size"
            )
        self.ids = ids
        self.block_size = block_size
        self._offsets = torch.arange(block_size + 1)  # reused by every __getitems__ call

    def __len__(self) -> int:
        return int(self.ids.numel()) - self.block_size

    def _check_range(self, lo: int, hi: int) -> None:
        if lo < 0 or hi >= len(self):
            bad = lo if lo < 0 else hi
            raise IndexError(f"index {bad} out of range for {type(self).__name__} of length {len(self)}")

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        i = int(index)
        self._check_range(i, i)
        chunk = self.ids[i: i + self.block_size + 1]
        return chunk[:-1], chunk[1:]  # views: slices of a 1-D tensor are contiguous

    def __getitems__(self, indices: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
        idx = torch.as_tensor(indices, dtype=torch.int64).reshape(-1)
        if idx.numel():
            self._check_range(int(idx.min()), int(idx.max()))
        rows = self.ids[idx[:, None] + self._offsets]  # (B, T+1): one gather for the whole batch
        # contiguous: a loss that calls .view(-1) on the targets (as nanoGPT's does) needs it.
        return rows[:, :-1].contiguous(), rows[:, 1:].contiguous()

    @staticmethod
    def collate_fn(batch: Any) -> Any:
        """Identity collate: ``__getitems__`` already returns a stacked ``(X, Y)`` batch."""
        return batch

    def __repr__(self) -> str:
        return f"{type(self).__name__}(n={len(self)}, block_size={self.block_size}, tokens={self.ids.numel()})"
