"""The latent-space arithmetic on hand-checkable numbers."""

from __future__ import annotations

import math

import pytest
import torch

from genlab.core.errors import DataError
from genlab.latent import attribute_vector, lerp, normal_quantiles, plane_grid, slerp
from helpers import one_line


def test_lerp_and_slerp_endpoints_equal_the_inputs():
    gen = torch.Generator().manual_seed(0)
    a, b = torch.randn(16, generator=gen), torch.randn(16, generator=gen)
    for fn in (lerp, slerp):
        path = fn(a, b, 7)
        assert path.shape == (7, 16)
        assert torch.equal(path[0], a) and torch.equal(path[-1], b)
    assert torch.allclose(lerp(a, b, 3)[1], (a + b) / 2)


def test_slerp_keeps_the_norm_on_an_arc_and_halves_the_angle():
    a, b = torch.tensor([2.0, 0.0]), torch.tensor([0.0, 2.0])  # orthogonal, equal norms
    path = slerp(a, b, 5)
    assert torch.allclose(path.norm(dim=1), torch.full((5,), 2.0), atol=1e-6)  # lerp's midpoint has norm sqrt(2)
    assert torch.allclose(path[2], torch.tensor([math.sqrt(2), math.sqrt(2)]), atol=1e-6)
    assert lerp(a, b, 5)[2].norm() == pytest.approx(math.sqrt(2))


def test_slerp_of_parallel_codes_falls_back_to_lerp():
    a = torch.tensor([1.0, 1.0])
    assert torch.allclose(slerp(a, 3 * a, 3), lerp(a, 3 * a, 3))


def test_attribute_vector_recovers_a_known_shift():
    gen = torch.Generator().manual_seed(0)
    n, d = 4000, 8
    has = torch.rand(n, generator=gen) < 0.3
    shift = torch.tensor([2.0, -1.0, 0.0, 0.5, 0.0, 0.0, 3.0, 0.0])
    codes = torch.randn(n, d, generator=gen) + has[:, None] * shift
    v = attribute_vector(codes, has)
    assert torch.allclose(v, shift, atol=0.12), v
    # Exactly the difference of the two group means.
    assert torch.allclose(v, codes[has].mean(0) - codes[~has].mean(0), atol=1e-5)


def test_attribute_vector_needs_both_groups():
    codes = torch.zeros(4, 2)
    with pytest.raises(DataError) as err:
        attribute_vector(codes, torch.zeros(4, dtype=torch.bool), name="label 'Bag'")
    one_line(err, "no images have label 'Bag'")
    with pytest.raises(DataError) as err:
        attribute_vector(codes, torch.ones(4, dtype=torch.bool))
    one_line(err, "every image has")


def test_normal_quantiles_and_grid_orientation():
    q = normal_quantiles(3)
    assert q.tolist() == pytest.approx([-1.6448536, 0.0, 1.6448536], abs=1e-5)
    z = plane_grid(torch.tensor([0.0, 1.0]), torch.tensor([10.0, 20.0]))
    # Row by row from the top: high y first; columns from low x to high x (the VAE manifold figure).
    assert z.tolist() == [[0.0, 20.0], [1.0, 20.0], [0.0, 10.0], [1.0, 10.0]]
    # The same points as genlab.vae's original manifold grid.
    q = normal_quantiles(4)
    old = torch.stack(torch.meshgrid(q.flip(0), q, indexing="ij")[::-1], dim=-1).reshape(-1, 2)
    assert torch.equal(plane_grid(q, q), old)
