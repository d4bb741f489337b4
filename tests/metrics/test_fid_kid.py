"""FID and KID maths: closed forms for Gaussians, hand-computed MMD², invariances and errors."""

from __future__ import annotations

import itertools
import math

import pytest
import torch

from genlab.core.errors import ConfigError
from genlab.metrics import feature_statistics, fid, frechet_distance, kid, mmd2_unbiased, trace_sqrt_product
from helpers import one_line


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def test_feature_statistics_known_values():
    x = torch.tensor([[1.0, 2.0], [3.0, 6.0], [5.0, 10.0]])
    mu, sigma = feature_statistics(x)
    assert mu.dtype == sigma.dtype == torch.float64
    torch.testing.assert_close(mu, torch.tensor([3.0, 6.0], dtype=torch.float64))
    # deviations (-2, -4), (0, 0), (2, 4); unbiased: divide by N - 1 = 2.
    torch.testing.assert_close(sigma, torch.tensor([[4.0, 8.0], [8.0, 16.0]], dtype=torch.float64))


def test_frechet_distance_isotropic_gaussians_exact():
    # N(0, I) vs N(m, s^2 I) in d dims: |m|^2 + d (1 - s)^2.
    d, s = 6, 2.5
    m = torch.arange(d, dtype=torch.float64) / 3
    expected = float(m @ m) + d * (1 - s) ** 2
    got = frechet_distance(torch.zeros(d), torch.eye(d), m, s * s * torch.eye(d, dtype=torch.float64))
    assert got == pytest.approx(expected, rel=1e-9, abs=1e-6)


def test_frechet_distance_non_commuting_2d_closed_form():
    # For 2x2 PSD A with eigenvalues l1, l2 >= 0: Tr(A^{1/2}) = sqrt(l1) + sqrt(l2) = sqrt(Tr A + 2 sqrt(det A)).
    # S1 S2 below is not symmetric (S1, S2 do not commute), so this checks the symmetric-form identity.
    s1 = torch.tensor([[2.0, 0.8], [0.8, 1.0]], dtype=torch.float64)
    s2 = torch.tensor([[1.0, -0.3], [-0.3, 3.0]], dtype=torch.float64)
    p = s1 @ s2
    assert not torch.allclose(p, p.T)
    tr_sqrt = math.sqrt(float(torch.trace(p)) + 2 * math.sqrt(float(torch.det(p))))
    assert trace_sqrt_product(s1, s2) == pytest.approx(tr_sqrt, rel=1e-12)
    mu1, mu2 = torch.tensor([0.5, -1.0]), torch.tensor([1.5, 1.0])
    expected = 1.0 + 4.0 + 2.0 + 1.0 + 1.0 + 3.0 - 2 * tr_sqrt
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(expected, rel=1e-9)


def test_frechet_distance_singular_covariance():
    # Rank-deficient covariances (dead ReLU units): diag(1, 0) vs diag(4, 1) -> (1 - 2)^2 + (0 - 1)^2 = 2.
    got = frechet_distance(torch.zeros(2), torch.diag(torch.tensor([1.0, 0.0])), torch.zeros(2),
                           torch.diag(torch.tensor([4.0, 1.0])))
    assert got == pytest.approx(2.0, abs=1e-9)


def test_fid_of_a_set_with_itself_is_zero():
    x = torch.randn(300, 20, generator=gen(0)) * 5 + 3
    x[:, 0] = 0.0  # a dead unit: singular covariance
    scale = float(feature_statistics(x)[1].trace())
    assert abs(fid(x, x)) < 1e-6 * scale
    assert fid(x, x.clone()) == fid(x, x)


def test_fid_from_samples_matches_closed_form():
    d, n, s = 4, 50_000, 2.0
    m = torch.tensor([1.0, 1.0, 0.0, 0.0])
    a = torch.randn(n, d, generator=gen(1), dtype=torch.float64)
    b = m + s * torch.randn(n, d, generator=gen(2), dtype=torch.float64)
    expected = 2.0 + d * (1 - s) ** 2  # 6.0
    assert fid(a, b) == pytest.approx(expected, rel=0.03)
    assert fid(a, b) == pytest.approx(fid(b, a), rel=1e-9)  # symmetric


def test_fid_grows_with_added_noise():
    x = torch.randn(2000, 8, generator=gen(3)) @ torch.randn(8, 8, generator=gen(4))
    noise = torch.randn(2000, 8, generator=gen(5))
    values = [fid(x, x + sigma * noise) for sigma in (0.0, 0.1, 0.3, 1.0, 3.0)]
    assert values[0] < 1e-6
    assert all(lo < hi for lo, hi in itertools.pairwise(values)), values


def test_mmd2_hand_computed_1d():
    # k(x, y) = (x y / 1 + 1)^3. X = {0, 1, -1}, Y = {1, 2, 0}.
    # XX off-diagonal: k(0,1) = k(0,-1) = 1, k(1,-1) = 0 -> 2 * 2 / 6 = 2/3.
    # YY off-diagonal: k(1,2) = 27, k(1,0) = k(2,0) = 1 -> 2 * 29 / 6 = 29/3.
    # XY: x=0: 1+1+1; x=1: 8+27+1; x=-1: 0-1+1 -> 39; 2 * 39 / 9 = 26/3. MMD^2 = 2/3 + 29/3 - 26/3 = 5/3.
    x = torch.tensor([[0.0], [1.0], [-1.0]], dtype=torch.float64)
    y = torch.tensor([[1.0], [2.0], [0.0]], dtype=torch.float64)
    assert mmd2_unbiased(x, y) == pytest.approx(5 / 3, rel=1e-12)
    # kid with one subset holding every point is that same number (order does not matter), with std 0.
    mean, std = kid(x, y, num_subsets=1, subset_size=3, generator=gen(0))
    assert mean == pytest.approx(5 / 3, rel=1e-12) and std == 0.0


def test_kid_hand_computed_2d_uses_dimension_scaling():
    # k(x, y) = (x.y / 2 + 1)^3. X = {(2,0), (0,2), (0,0)}, Y = {(2,2), (0,0), (2,0)}.
    # XX: all dot products 0 -> k = 1 -> 1. YY: (2,2).(2,0) = 4 -> 27, others 1 -> 2 * 29 / 6 = 29/3.
    # XY: (2,0): 27 + 1 + 27; (0,2): 27 + 1 + 1; (0,0): 3 -> 87; 2 * 87 / 9 = 58/3. MMD^2 = 1 + 29/3 - 58/3 = -26/3.
    x = torch.tensor([[2.0, 0.0], [0.0, 2.0], [0.0, 0.0]])
    y = torch.tensor([[2.0, 2.0], [0.0, 0.0], [2.0, 0.0]])
    mean, std = kid(x, y, num_subsets=3, subset_size=10, generator=gen(0))  # clipped to 3: every subset is all
    assert mean == pytest.approx(-26 / 3, rel=1e-12) and std == pytest.approx(0.0, abs=1e-12)


def test_kid_same_distribution_near_zero_and_different_large():
    x = torch.randn(2000, 16, generator=gen(6))
    a, b = x[:1000], x[1000:]
    mean, std = kid(a, b, num_subsets=50, subset_size=500, generator=gen(7))
    assert std > 0
    assert abs(mean) < 2 * std, (mean, std)
    other = torch.randn(1000, 16, generator=gen(8)) * 1.5 + 0.5
    far, _ = kid(a, other, num_subsets=50, subset_size=500, generator=gen(7))
    assert far > 50 * max(abs(mean), std), (far, mean, std)


def test_kid_subsets_reproducible_with_generator():
    a = torch.randn(300, 5, generator=gen(9))
    b = torch.randn(200, 5, generator=gen(10)) + 0.2
    first = kid(a, b, num_subsets=5, subset_size=50, generator=gen(11))
    assert first == kid(a, b, num_subsets=5, subset_size=50, generator=gen(11))
    assert first != kid(a, b, num_subsets=5, subset_size=50, generator=gen(12))


@pytest.mark.parametrize("call,words", [
    (lambda: kid(torch.zeros(1, 3), torch.zeros(5, 3)), ("at least 2 samples",)),
    (lambda: fid(torch.zeros(5, 3), torch.zeros(1, 3)), ("at least 2 samples",)),
    (lambda: fid(torch.zeros(5, 3), torch.zeros(5, 4)), ("dimension",)),
    (lambda: fid(torch.zeros(5), torch.zeros(5, 4)), ("2-D",)),
    (lambda: kid(torch.zeros(5, 3), torch.zeros(5, 3), subset_size=1), ("subset_size",)),
    (lambda: kid(torch.zeros(5, 3), torch.zeros(5, 3), num_subsets=0), ("num_subsets",)),
    (lambda: fid(torch.full((5, 3), float("nan")), torch.zeros(5, 3)), ("NaN",)),
    (lambda: frechet_distance(torch.zeros(2), torch.eye(3), torch.zeros(2), torch.eye(2)), ("(D, D)",)),
])
def test_bad_inputs_are_config_errors(call, words):
    with pytest.raises(ConfigError) as err:
        call()
    one_line(err, *words)
