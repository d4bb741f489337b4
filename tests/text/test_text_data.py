"""Tests of genlab.text.data: the contiguous split and the block dataset with its batched fast path."""

from __future__ import annotations

import pytest
import torch
from helpers import one_line
from torch.utils.data import DataLoader

from genlab.core.errors import ConfigError, DataError
from genlab.text.data import TokenBlockDataset, split_ids


def test_items_exact() -> None:
    ids = torch.arange(10, 20)
    ds = TokenBlockDataset(ids, block_size=4)
    assert len(ds) == 6 and ds.block_size == 4
    x, y = ds[0]
    assert x.tolist() == [10, 11, 12, 13] and y.tolist() == [11, 12, 13, 14]
    x, y = ds[5]  # the last window ends on the last token
    assert x.tolist() == [15, 16, 17, 18] and y.tolist() == [16, 17, 18, 19]
    assert x.dtype == torch.int64
    with pytest.raises(IndexError):
        ds[6]


def test_getitems_equals_stacked_getitem() -> None:
    ids = torch.tensor([5, 3, 8, 1, 9, 2, 7, 4, 6, 0, 3, 3], dtype=torch.int32)  # converted to int64
    ds = TokenBlockDataset(ids, block_size=3)
    indices = [8, 0, 4, 4, 2]
    X, Y = ds.__getitems__(indices)
    assert X.shape == Y.shape == (5, 3) and X.dtype == Y.dtype == torch.int64
    assert X.is_contiguous() and Y.is_contiguous()
    assert torch.equal(X, torch.stack([ds[i][0] for i in indices]))
    assert torch.equal(Y, torch.stack([ds[i][1] for i in indices]))
    assert X[0].tolist() == [6, 0, 3] and Y[0].tolist() == [0, 3, 3]
    with pytest.raises(IndexError):
        ds.__getitems__([0, 9])


def test_dataloader_batches() -> None:
    ids = torch.arange(103) + 1000  # distinct tokens: a window's first token tells its start
    ds = TokenBlockDataset(ids, block_size=8)
    loader = DataLoader(ds, batch_size=4, shuffle=True, collate_fn=ds.collate_fn,
                        generator=torch.Generator().manual_seed(1))
    batches = list(loader)
    assert len(batches) == 24  # 95 windows -> 23 full batches of 4 and one of 3
    for X, Y in batches[:-1]:
        assert X.shape == Y.shape == (4, 8)
        assert torch.equal(X[:, 1:], Y[:, :-1])  # y is x shifted by one
        assert torch.equal(Y[:, -1], X[:, -1] + 1)
    assert batches[-1][0].shape == (3, 8)
    starts = torch.cat([X[:, 0] for X, _ in batches]) - 1000
    assert sorted(starts.tolist()) == list(range(95))  # each window once per epoch
    assert starts.tolist() != list(range(95))  # and shuffled


def test_dataset_errors() -> None:
    with pytest.raises(DataError) as err:
        TokenBlockDataset(torch.arange(8), block_size=8)
    one_line(err, "8 tokens", "fewer than one block", "block_size+1 = 9", "--block-size")
    assert len(TokenBlockDataset(torch.arange(9), block_size=8)) == 1
    with pytest.raises(ConfigError) as err:
        TokenBlockDataset(torch.arange(8), block_size=0)
    one_line(err, "--block-size", ">= 1")
    with pytest.raises(ValueError):
        TokenBlockDataset(torch.zeros(3, 4, dtype=torch.int64), block_size=2)
    with pytest.raises(ValueError):
        TokenBlockDataset(torch.zeros(30), block_size=2)  # float ids are a bug in the caller


def test_split_sizes() -> None:
    ids = torch.arange(1000)
    train, val = split_ids(ids, block_size=64)
    assert train.numel() == 900 and val.numel() == 100
    assert torch.equal(torch.cat([train, val]), ids)  # contiguous: train first, validation last
    assert val[0].item() == 900
    train, val = split_ids(torch.arange(1115394), val_fraction=0.1, block_size=256)
    assert train.numel() == 1003854 and val.numel() == 111540  # nanoGPT's int(n * 0.9)
    train, val = split_ids(torch.arange(11), val_fraction=0.5, block_size=4)
    assert (train.numel(), val.numel()) == (5, 6)


def test_split_errors() -> None:
    with pytest.raises(DataError) as err:
        split_ids(torch.arange(500), block_size=64)
    msg = one_line(err, "the corpus has 500 tokens", "validation split needs at least block_size+1 = 65",
                   "it has 50", "--block-size", "larger --val-fraction")
    assert msg.endswith("use a longer text, a smaller --block-size or a larger --val-fraction")
    with pytest.raises(DataError) as err:
        split_ids(torch.arange(100), val_fraction=0.5, block_size=50)
    one_line(err, "training and validation splits", "(they have 50 and 50)", "smaller --block-size")
    with pytest.raises(DataError) as err:  # train 5 < 6 <= val 6
        split_ids(torch.arange(11), val_fraction=0.5, block_size=5)
    one_line(err, "training split needs at least block_size+1 = 6", "it has 5", "smaller --val-fraction")
    for bad in (0, 0.0, -0.1, 0.6, 1.0, float("nan")):
        with pytest.raises(ConfigError) as err:
            split_ids(torch.arange(1000), val_fraction=bad, block_size=4)
        one_line(err, "--val-fraction must be in (0, 0.5]", f"got {bad!r}")
    with pytest.raises(ConfigError) as err:
        split_ids(torch.arange(1000), block_size=-3)
    one_line(err, "--block-size", "got -3")
