"""Style-transfer losses on hand-computed numbers."""

from __future__ import annotations

import pytest
import torch

from genlab.imageopt.style_losses import (content_loss, gram_matrix, match_luminance, rgb_to_yiq, style_loss,
                                 total_variation_loss, yiq_to_rgb)


def test_gram_matrix_on_numbers():
    f = torch.tensor([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 2, 1, 2)  # channel 0: (1, 2), channel 1: (3, 4)
    # F F^T = [[1+4, 3+8], [3+8, 9+16]], divided by C*H*W = 4
    assert gram_matrix(f)[0].tolist() == [[5 / 4, 11 / 4], [11 / 4, 25 / 4]]
    assert gram_matrix(torch.cat([f, 2 * f]))[1].tolist() == [[5.0, 11.0], [11.0, 25.0]]


def test_style_and_content_loss_on_numbers():
    f = torch.tensor([[1.0, 2.0], [3.0, 4.0]]).reshape(1, 2, 1, 2)
    assert style_loss(f, gram_matrix(f)).item() == 0.0
    target = torch.zeros(1, 2, 2)
    # mean of squared Gram entries: (1.25² + 2.75² + 2.75² + 6.25²) / 4
    assert style_loss(f, target).item() == pytest.approx((1.25**2 + 2 * 2.75**2 + 6.25**2) / 4)
    assert content_loss(f, torch.zeros_like(f)).item() == pytest.approx((1 + 4 + 9 + 16) / 4)


def test_total_variation_on_numbers():
    x = torch.tensor([[0.0, 1.0], [2.0, 4.0]]).reshape(1, 1, 2, 2)
    # one position: down (0-2)² = 4, right (0-1)² = 1 -> 5^1.25
    assert total_variation_loss(x).item() == pytest.approx(5**1.25)
    assert total_variation_loss(torch.ones(1, 3, 5, 5)).item() == 0.0


def test_yiq_round_trip_and_luminance_matching():
    x = torch.rand(1, 3, 4, 4, generator=torch.Generator().manual_seed(0))
    assert torch.allclose(yiq_to_rgb(rgb_to_yiq(x)), x, atol=1e-5)
    grey = torch.full((1, 3, 1, 1), 0.5)
    assert torch.allclose(rgb_to_yiq(grey)[0, :, 0, 0], torch.tensor([0.5, 0.0, 0.0]), atol=1e-6)
    s, c = torch.tensor([0.0, 1.0, 2.0, 3.0]), torch.tensor([10.0, 12.0, 14.0, 16.0])
    assert torch.allclose(match_luminance(s, c), c)
