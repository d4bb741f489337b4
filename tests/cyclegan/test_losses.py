"""CycleGAN's losses on numbers worked out by hand, the image pool's rule, the LR schedule."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from genlab.cyclegan.losses import (bce_d_loss, bce_g_loss, cycle_loss, identity_loss, lsgan_d_loss,
                                    lsgan_g_loss)
from genlab.cyclegan.pool import ImagePool
from genlab.cyclegan.trainer import paper_decay


def test_lsgan_on_hand_numbers():
    real = torch.tensor([1.0, 0.5])  # (r - 1)^2: 0, 0.25 -> mean 0.125
    fake = torch.tensor([0.0, 1.0])  # f^2: 0, 1 -> mean 0.5
    assert lsgan_d_loss(real, fake).item() == pytest.approx(0.5 * (0.125 + 0.5))
    assert lsgan_g_loss(torch.tensor([0.0, 2.0])).item() == pytest.approx((1 + 1) / 2)
    assert lsgan_g_loss(torch.ones(3, 1, 2, 2)).item() == 0.0


def test_bce_on_hand_numbers():
    zero = torch.zeros(4)  # sigmoid(0) = 1/2: every term is log 2
    assert bce_d_loss(zero, zero).item() == pytest.approx(math.log(2))
    x = torch.tensor([2.0])
    assert bce_g_loss(x).item() == pytest.approx(math.log(1 + math.exp(-2.0)))
    assert bce_d_loss(x, -x).item() == pytest.approx(math.log(1 + math.exp(-2.0)))


def test_cycle_and_identity_l1():
    a = torch.tensor([[0.0, 1.0], [-1.0, 0.5]])
    b = torch.tensor([[0.5, 1.0], [0.0, 0.5]])
    assert cycle_loss(a, b).item() == pytest.approx((0.5 + 0 + 1 + 0) / 4)
    assert identity_loss(a, b).item() == pytest.approx(0.375)
    with pytest.raises(ValueError, match="channels"):
        identity_loss(torch.zeros(1, 1, 4, 4), torch.zeros(1, 3, 4, 4))


def test_cycle_loss_is_zero_for_identity_generators():
    g, f = nn.Identity(), nn.Identity()
    x = torch.rand(3, 3, 8, 8) * 2 - 1
    assert cycle_loss(f(g(x)), x).item() == 0.0
    assert identity_loss(g(x), x).item() == 0.0


def test_pool_fills_then_returns_new_or_stored_with_probability_half():
    pool = ImagePool(3)
    gen = torch.Generator().manual_seed(0)
    first = torch.arange(3.0).view(3, 1, 1, 1)
    assert torch.equal(pool.query(first, gen), first)  # not full yet: stored and returned as they are
    assert len(pool) == 3
    new_seen = stored_seen = 0
    for i in range(400):
        x = torch.full((1, 1, 1, 1), 100.0 + i)
        before = [t.clone() for t in pool.images]
        y = pool.query(x, gen)
        if torch.equal(y, x):
            new_seen += 1
            assert all(torch.equal(p, q) for p, q in zip(before, pool.images, strict=True))  # pool unchanged
        else:
            stored_seen += 1
            assert any(torch.equal(y[0], p) for p in before)  # a stored image ...
            assert any(torch.equal(x[0], p) for p in pool.images)  # ... whose slot the new image took
    assert 160 < new_seen < 240 and new_seen + stored_seen == 400  # 1/2 each: 200 +- 40 is > 5 std


def test_pool_state_round_trips_and_size_zero_is_a_no_op():
    pool = ImagePool(4)
    gen = torch.Generator().manual_seed(1)
    for _ in range(3):
        pool.query(torch.randn(2, 3, 4, 4), gen)
    copy = ImagePool(4)
    copy.load_state_dict(pool.state_dict())
    assert len(copy) == 4 and all(torch.equal(p, q) for p, q in zip(pool.images, copy.images, strict=True))
    g1, g2 = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    x = torch.randn(3, 3, 4, 4)
    assert torch.equal(pool.query(x, g1), copy.query(x, g2))
    off = ImagePool(0)
    assert torch.equal(off.query(x, g1), x) and len(off) == 0
    empty = ImagePool(2)
    empty.load_state_dict(ImagePool(2).state_dict())
    assert len(empty) == 0


def test_paper_schedule_constant_then_linear_to_zero():
    assert [paper_decay(s, total=10, decay_start=0.5) for s in (0, 4, 5, 6, 9, 10)] == \
        [1.0, 1.0, 1.0, pytest.approx(0.8), pytest.approx(0.2), 0.0]
    assert paper_decay(9, total=10, decay_start=1.0) == 1.0
