"""DeepDream / visualisation objectives on hand-computed numbers, and exact tiled gradients."""

from __future__ import annotations

import pytest
import torch

from features.imageopt import random_image
from genlab.imageopt.dream import make_objective, octave_shapes
from genlab.imageopt.dream_losses import channel_objective, dream_loss, guide_score_map, normalize_gradient
from genlab.imageopt.tiling import full_gradient, tiled_gradient
from genlab.features import load_feature_network, parse_layer_weights


def test_dream_loss_cuts_the_border_but_divides_by_the_whole_size():
    act = torch.arange(36.0).reshape(1, 1, 6, 6)
    # border 2 leaves the centre 2x2: 14, 15, 20, 21 -> 196 + 225 + 400 + 441 = 1262, over 36 elements
    assert dream_loss(act, border=2).item() == pytest.approx(1262 / 36)
    assert dream_loss(act, border=2, weight=2.0).item() == pytest.approx(2 * 1262 / 36)
    assert dream_loss(act, border=0).item() == pytest.approx(sum(i * i for i in range(36)) / 36)
    two = torch.cat([act, act], dim=1)  # channels add up, the size doubles
    assert dream_loss(two, border=2).item() == pytest.approx(2 * 1262 / 72)


def test_guide_score_takes_the_best_matching_guide_vector():
    act = torch.tensor([[1.0, 0.0], [0.0, 2.0]]).reshape(1, 2, 1, 2)  # positions (1, 0) and (0, 2)
    guide = torch.tensor([[3.0, -1.0], [1.0, 1.0]]).reshape(1, 2, 1, 2)  # guide vectors (3, 1) and (-1, 1)
    # position 1: max(1*3 + 0*1, 1*-1 + 0*1) = 3; position 2: max(0*3 + 2*1, 0*-1 + 2*1) = 2
    assert guide_score_map(act, guide).flatten().tolist() == [3.0, 2.0]


def test_channel_objective_and_gradient_normalisation():
    act = torch.arange(8.0).reshape(1, 2, 2, 2)
    assert channel_objective(act, 1).item() == pytest.approx((4 + 5 + 6 + 7) / 4)
    assert channel_objective(torch.tensor([[1.0, 5.0, 2.0]]), 1).item() == 5.0  # a class logit
    g = torch.tensor([1.0, -3.0, 2.0, -2.0])
    assert normalize_gradient(g).tolist() == [0.5, -1.5, 1.0, -1.0]  # mean |g| = 2


def test_octave_shapes_follow_the_seeds():
    assert octave_shapes(400, 300, 3, 1.4) == [(204, 153), (286, 214), (400, 300)]
    assert octave_shapes(64, 64, 1, 1.4) == [(64, 64)]


def test_layer_weights_parsing():
    assert parse_layer_weights("mixed2:0.2, mixed3:3,mixed4") == {"mixed2": 0.2, "mixed3": 3.0, "mixed4": 1.0}
    for bad in ("mixed2:-1", "mixed2:abc", "mixed2:0", ""):
        with pytest.raises(Exception, match="--layers"):
            parse_layer_weights(bad)


@pytest.fixture(scope="module")
def vgg_block2():
    return load_feature_network("vgg16", weights="random", layers=["block2_conv2"], seed=0)


@pytest.mark.parametrize("guided", [False, True])
def test_tiled_gradient_equals_untiled(vgg_block2, guided):
    """block2_conv2 of VGG sees 14 input pixels (3x3, 3x3, pool, 3x3, 3x3), so a 16-pixel margin gives every
    activation a tile owns its full context: tiled == untiled up to float rounding, on a non-square image with
    partial edge tiles. Without the margin the tiles' edges see zero padding and the gradients differ."""
    net = vgg_block2
    weights = {"block1_conv2": 0.5, "block2_conv2": 2.0}
    x = net.normalize(random_image(64, seed=1))[..., :56]
    guide = None
    if guided:
        with torch.no_grad():
            guide = net(net.normalize(random_image(32, seed=2)), list(weights))
    obj = make_objective(net, weights, border=2, guide_feats=guide)
    loss, grad = full_gradient(net, x, obj)
    t_loss, t_grad = tiled_gradient(net, x, obj, tile_size=20, margin=16)
    assert t_loss == pytest.approx(loss, rel=1e-5)
    assert torch.allclose(t_grad, grad, rtol=1e-4, atol=1e-6 * grad.abs().max())
    _, rough = tiled_gradient(net, x, obj, tile_size=20, margin=0)
    assert not torch.allclose(rough, grad, rtol=1e-3, atol=1e-3 * grad.abs().max())
