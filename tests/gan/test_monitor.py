"""Mode-collapse and divergence detection on synthetic inputs."""

from __future__ import annotations

import pytest
import torch

from genlab.gan.monitor import divergence_warning, feature_diversity, mode_collapse_warning


def test_feature_diversity_by_hand_and_collapse():
    # three points on a line at 0, 3, 4: pairwise distances 3, 4, 1 -> mean 8/3
    x = torch.tensor([[0.0], [3.0], [4.0]])
    assert feature_diversity(x) == pytest.approx(8 / 3)
    torch.manual_seed(0)
    real = torch.randn(200, 16)
    collapsed = real[:3].repeat(67, 1)[:200] + 0.01 * torch.randn(200, 16)  # three modes
    ratio = feature_diversity(collapsed) / feature_diversity(real)
    assert ratio < 1.0
    single = real[:1].repeat(200, 1) + 0.01 * torch.randn(200, 16)  # one mode
    r1 = feature_diversity(single) / feature_diversity(real)
    assert r1 < 0.05
    assert "mode collapse" in mode_collapse_warning(r1, 1.0)
    assert mode_collapse_warning(feature_diversity(torch.randn(200, 16)) / feature_diversity(real), 1.0) is None
    with pytest.raises(ValueError):
        feature_diversity(torch.zeros(1, 3))


def test_divergence_warning():
    ok_d, ok_g = [1.2, 1.1, 1.3, 1.0, 1.2], [0.9, 1.1, 0.8, 1.0, 1.2]
    for loss in ("ns", "hinge", "wgan", "wgan-gp"):
        assert divergence_warning(loss, ok_d, ok_g) is None
    assert divergence_warning("ns", ok_d[:3], ok_g[:3]) is None  # too few points to judge
    d_wins = [0.5, 0.004, 0.003, 0.001, 0.0005, 0.0002]
    assert "D wins" in divergence_warning("ns", d_wins, [5, 8, 9, 9, 9, 9])
    assert "D wins" in divergence_warning("hinge", d_wins, [2] * 6)
    assert "above 10" in divergence_warning("ns", ok_d, [12, 15, 20, 30, 40])
    assert "huge" in divergence_warning("wgan-gp", [-5e3] * 5, [2e3] * 5)
    assert "not finite" in divergence_warning("hinge", ok_d[:4] + [float("nan")], ok_g)
