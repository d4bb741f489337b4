"""Images in memory as one uint8 tensor: the dataset every image family trains on (MNIST, folders, ...)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch.utils.data import Dataset


class TensorImageDataset(Dataset):
    """Images held in memory as one uint8 tensor ``(N, C, H, W)``, served as float32 in [0, 1].

    ``__getitems__`` is the fast path: torch's DataLoader calls it with a whole batch of indices and hands its
    result to ``collate_fn``, so one indexing op builds a batch instead of N ``__getitem__`` calls plus a stack.
    Use ``DataLoader(ds, batch_size=B, collate_fn=ds.collate_fn)``: the default collate would mis-read the
    ready-made ``(images, labels)`` tuple as a batch of two samples.
    """

    def __init__(
        self,
        images: torch.Tensor,
        labels: torch.Tensor | None = None,
        *,
        class_names: Sequence[str] | None = None,
    ) -> None:
        if not isinstance(images, torch.Tensor) or images.dtype != torch.uint8 or images.ndim != 4:
            if isinstance(images, torch.Tensor):
                got = f"{images.dtype} tensor of shape {tuple(images.shape)}"
            else:
                got = type(images).__name__
            raise ValueError(f"images must be a uint8 tensor of shape (N, C, H, W), got {got}")
        if labels is not None:
            if not isinstance(labels, torch.Tensor) or labels.ndim != 1 or labels.shape[0] != images.shape[0]:
                got = tuple(labels.shape) if isinstance(labels, torch.Tensor) else type(labels).__name__
                raise ValueError(f"labels must be a 1-D tensor of length {images.shape[0]}, got {got}")
            labels = labels.to(torch.int64)
        self.images = images
        self.labels = labels
        self.class_names: list[str] | None = list(class_names) if class_names is not None else None
        if self.class_names is not None:
            self.num_classes: int | None = len(self.class_names)
        elif labels is not None and labels.numel():
            self.num_classes = int(labels.max()) + 1
        else:
            self.num_classes = None

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """``(C, H, W)`` of every image."""
        c, h, w = self.images.shape[1:]
        return int(c), int(h), int(w)

    def __len__(self) -> int:
        return int(self.images.shape[0])

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        image = self.images[index].to(torch.float32).div_(255.0)
        label = self.labels[index] if self.labels is not None else torch.tensor(0, dtype=torch.int64)
        return image, label

    def __getitems__(self, indices: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
        idx = torch.as_tensor(indices, dtype=torch.int64)
        images = self.images.index_select(0, idx).to(torch.float32).div_(255.0)
        if self.labels is not None:
            labels = self.labels.index_select(0, idx)
        else:
            labels = torch.zeros(len(idx), dtype=torch.int64)
        return images, labels

    @staticmethod
    def collate_fn(batch: Any) -> Any:
        """Identity collate: ``__getitems__`` already returns a stacked ``(images, labels)`` batch."""
        return batch

    def __repr__(self) -> str:
        return f"{type(self).__name__}(n={len(self)}, image_shape={self.image_shape}, num_classes={self.num_classes})"
